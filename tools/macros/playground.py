"""The Playground (`make artifacts`, docs/generated/playground/): both models
in 8 bits for the page's own arithmetic, checked on the test set."""

from tools.course import FRAMEWORKS

from .formatting import thousands
from .shared import macro

# One bar of the page's chart, which playground.js fills in.
CHART_ITEM = (
    '<li><span class="playground-digit">{digit}</span><span class="playground-track">'
    '<span class="playground-bar"></span></span><span class="playground-value">–'
    "</span></li>"
)


def playground_chart():
    """The empty bars of a model's chart, one per digit, on one line."""
    return "".join(CHART_ITEM.format(digit=digit) for digit in range(10))


def playground_agreement(playground):
    """A list item per framework: where the page's 8-bit arithmetic gave the
    framework's own answer on the test set, and by how much it moved."""
    items = []
    for framework, label in FRAMEWORKS.items():
        check = playground[framework]["test_set_agreement"]
        swaps = ""
        if check["disagreements"]:
            margin = max(found["model_margin"] for found in check["disagreements"])
            swaps = (
                f"; on\n  the other {len(check['disagreements'])}, {label}'s own "
                "first two\n  choices are at most\n"
                f"  {100 * margin:.1f}\n"
                "  percentage points apart, and the rounding swaps them"
            )
        items.append(
            f"- **{label}**: the same digit on {thousands(check['agree'])} of\n"
            f"  {thousands(check['images'])} test images{swaps}. No\n"
            "  probability moves by more than\n"
            f"  {100 * check['max_probability_difference']:.1f} points."
        )
    return "\n\n".join(items)


def register(env, results):
    env.variables["playground"] = results.playground
    macro(env, playground_chart)
    macro(env, playground_agreement, results.playground)
