"""The guard: no page states a measured outcome by hand.

The rule, applied to the prose of every page (docs/*.md, docs/lectures/*.md),
that is the Markdown outside fenced code blocks, inline code, Jinja
expressions and tags (`{{ ... }}`, `{% ... %}`), link targets and HTML tags:

1. No number typed in the prose, except the constants of the problem and of
   the frameworks' definitions listed in CONSTANTS (each with its reason),
   version numbers, issue numbers, and the numbering of headings, lists and
   exercises. A measured number comes through a macro.
2. A sentence with a word that states an outcome (OUTCOME_WORDS: "same
   accuracy", "faster", "drops", "hardest", "levels off", "about a
   minute"...) also contains a value read from the results (a `{{ ... }}`
   expression) or a link to an outside source; a question is not a claim.
3. In the code blocks typed on a page (not those included from code/), a
   comment holds no number: a value printed by the code belongs in its output,
   read from the results.
4. No phrase in UNSHOWN: claims that no run of the course can show (two
   frameworks' concepts mapping "one to one") and ratios spelled out in words
   ("twice as long", "three times faster"), which are numbers typed by hand
   that rule 1 cannot see; SPELLED_CONSTANTS lists the few that are settings.

And three checks of what a page says about a run, against the run itself:
a `make` target whose Makefile help says it writes into runs/ is named on a
page only with that path (the page does not change when the reader runs it);
a typed example that exports a model into a folder creates the folder first;
a damaged-file error line that says a file was not found, for a file that
`make export` made, is called misleading where the page shows it.
"""

import re

import pytest

from helpers import PROJECT_DIR

DOCS_DIR = PROJECT_DIR / "docs"
PAGES = sorted(DOCS_DIR.glob("*.md")) + sorted((DOCS_DIR / "lectures").glob("*.md"))

# Phrases with numbers that are not results: constants of MNIST, of the
# models' definitions, of the demonstrations' inputs, or formulas.
CONSTANTS = (
    "lecture 02",  # the origin lecture's name, as its note gives it
    "784",  # 28 × 28 pixels per image
    "28 × 28",
    "20 × 20",  # MNIST's digits are size-normalised into a 20 × 20 box
    "(60000, 28, 28)",  # MNIST's training set, as loaded
    "(60000, 784)",
    "10,000 test",  # MNIST's test set
    "10 outputs",  # ten digits
    "× 10 weights and 10",
    "0 to 255",  # uint8 pixels
    "0 to 1",
    "[0, 1]",
    "by 255",
    "8 bits",  # the Playground's export format
    "√(6 / (fan_in + fan_out))",  # the initialisers' formulas
    "√(1 / fan_in)",
    "a = √5",
    "log(1 + 9/e)",  # the Pitfalls page's bound, for ten classes
    "10⁻⁶",  # the Adam demonstration's gradient, set in code/*_pitfalls.py
    "4 × batch × parameters",  # rules of thumb for the arithmetic of a step
    "6 × batch × parameters",
    "2048 × 2048",  # the size of the benchmark's matrix product
    "10,000 training images",  # the benchmark's original-lecture comparison
    "loss on 1,000 test images",  # the pitfalls' evaluation subset
    "exit code 1",
    "worker 0",  # worker indices in TF_CONFIG
    "= 0 on the first machine and 1 on the second",
    "√(3 × scale / fan_in)",  # Keras' VarianceScaling and PyTorch's Kaiming
    "gain × √(3 / fan_in)",  # uniform bounds, and the latter's gain for a = √5
    "√(2 / (1 + a²)) = √(1 / 3)",
    "√(6 / fan_in)",
)
ALLOWED_PATTERNS = (
    r"^#+ \d+\.",  # numbered headings: "# 1. Data"
    r"^\s*\d+\. ",  # ordered lists
    r"\*\*\d+\.\d+\*\*",  # exercise numbers: **1.1**
    r"[Ee]xercise \d+\.\d+",
    r"(?:Python|PyTorch|Keras|TensorFlow|Keras') \d+(?:\.\d+)*",  # versions
    r"#\d+",  # issue numbers
    r", (?:19|20)\d\d\]",  # the year of a cited paper: [Author, 2010](...)
)
NUMBER = re.compile(r"(?<![\w.\-/#])\d+(?:[.,]\d+)*(?![\w])")

OUTCOME_WORDS = (
    "same accuracy",
    "same test accuracy",
    "reach the same",
    "faster",
    "slower",
    "slows",
    "drops",
    "hardest",
    "levels off",
    "level off",
    "unstable",
    "minute",
    "far more",
    "by less than",
    "drift apart",
    "drifts apart",
    "none on accuracy",
    "hardly matters",
    "wins",
    "puzzle",
    "invisible",
    "blank",
    "no digit touches",
    # what the seed study's ablation decides, read from its results only
    "accounts for",
    "account for",
    "closes the gap",
    "explains the gap",
)

# Rule 4: each pattern (case-insensitive), and why it is not allowed.
UNSHOWN = (
    (
        r"\bone[- ](?:to|for)[- ]one\b",
        "no run shows a one-to-one mapping (the concept map itself has cells "
        "that one framework does for you): say what the map shows",
    ),
    (
        r"\b(?:twice|half|(?:a )?(?:two|three|four|five|six|seven|eight|nine|ten"
        r"|hundred|thousand)) times\b|\b(?:twice|half) as (?:long|fast|large|many"
        r"|much|big|slow)\b",
        "a ratio spelled out in words is a number typed by hand: read it from "
        "the results",
    ),
)
SPELLED_CONSTANTS = (
    # code/parity.py: the large-step experiment's learning rate, 0.1 against 0.01
    "ten times larger step",
)


def strip_markup(text):
    """The page's prose: what a reader reads as typed text."""
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.DOTALL)
    text = re.sub(r"\{%.*?%\}", " ", text, flags=re.DOTALL)
    text = re.sub(r"\{\{.*?\}\}", " {{VALUE}} ", text, flags=re.DOTALL)
    lines, fence = [], None
    for line in text.splitlines():
        stripped = line.strip()
        if fence:
            if stripped.startswith(fence):
                fence = None
            lines.append("")
            continue
        if match := re.match(r"(`{3,}|~{3,})", stripped):
            fence = match.group(1)
            lines.append("")
            continue
        lines.append(line)
    text = "\n".join(lines)
    text = re.sub(r"``.*?``|`[^`\n]*`", " CODE ", text)
    text = re.sub(r"\]\((https?://[^)]*)\)", r"] {{SOURCE}} ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return text


def hand_numbers(text):
    """Numbers typed in the prose that no rule allows."""
    found = []
    for line in strip_markup(text).splitlines():
        for constant in sorted(CONSTANTS, key=len, reverse=True):
            line = line.replace(constant, " ")
        for pattern in ALLOWED_PATTERNS:
            line = re.sub(pattern, " ", line)
        found += [
            f"{match.group(0)} in: {line.strip()}" for match in NUMBER.finditer(line)
        ]
    return found


def sentences(text):
    """The prose's sentences, paragraph by paragraph (table rows count as one)."""
    for paragraph in re.split(r"\n\s*\n|\n(?=\s*[|-] )", strip_markup(text)):
        yield from re.split(r"(?<=[.!:;])\s+(?=[A-Z(])", " ".join(paragraph.split()))


def hand_outcomes(text):
    """Sentences stating an outcome without a value from the results or a source."""
    found = []
    for sentence in sentences(text):
        lowered = sentence.lower()
        if not any(word in lowered for word in OUTCOME_WORDS):
            continue
        if "{{VALUE}}" in sentence or "{{SOURCE}}" in sentence:
            continue
        if sentence.rstrip(' *"').endswith("?"):
            continue
        found.append(sentence)
    return found


def commented_numbers(text):
    """Comments with numbers in the code blocks typed on the page."""
    found, fence = [], None
    for line in text.splitlines():
        stripped = line.strip()
        if match := re.match(r"(`{3,}|~{3,})", stripped):
            fence = None if fence else match.group(1)
            continue
        if not fence or "--8<--" in line or "{{" in line:
            continue
        comment = re.search(r"(?:^|\s)#\s(.*)", line)
        if comment:
            without_addresses = re.sub(r"\S+://\S+", " ", comment.group(1))
            if re.search(r"\d", without_addresses):
                found.append(stripped)
    return found


def unshown_claims(text):
    """Phrases of UNSHOWN in the prose, with the reason each is refused."""
    prose = " ".join(strip_markup(text).split())
    for constant in SPELLED_CONSTANTS:
        prose = prose.replace(constant, " ")
    return [
        f"{match.group(0)!r}: {reason}"
        for pattern, reason in UNSHOWN
        for match in re.finditer(pattern, prose, re.IGNORECASE)
    ]


def violations(text):
    return (
        hand_numbers(text)
        + hand_outcomes(text)
        + commented_numbers(text)
        + unshown_claims(text)
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_no_measured_outcome_typed_by_hand(page):
    found = violations(page.read_text(encoding="utf-8"))
    assert not found, (
        f"{page.relative_to(PROJECT_DIR)} states what looks like a measured outcome "
        "by hand; read it from the results through tools/macros/, cite a source, "
        "or add a true constant to CONSTANTS in tests/test_claims.py:\n"
        + "\n".join(found)
    )


# The statements of issue 16, as they stood: each must fail the rule.
BAD_EXAMPLES = (
    "Adam drifts apart because its epsilon differs ([Parity](parity.md)).",
    "The border pixels are blank in every MNIST digit, so their weights never "
    "get a gradient.",
    "Building a tensor one image at a time costs far more than the training itself.",
    "With the same data, the frameworks reach the same accuracy: a gap that the "
    "random initial weights can produce.",
    "| initial weights | Glorot | Kaiming | none on accuracy |",
    "Adam adapts its step per weight, so the accuracy changes by less than another "
    "seed would.",
    "Gradients add up: training becomes unstable and accuracy drops.",
    "SGD needs a much larger step than Adam: try a learning rate of 0.1.",
    "```python\nprint(x_train.mean(), x_train.std())  # about 0.13 and 0.31\n```",
    "Training loss keeps falling while validation loss levels off.",
    "Keras slows to 0.23x with two workers.",
    "It trains the two models first (about a minute).",
    "Both reach the same accuracy on this task: 98.26% and 98.20%.",
    "Titled *true → predicted*. Many would puzzle a person too.",
    "The second-hidden-layer model reaches 98.1% after 5 epochs.",
    # and of a later review: an unshown equivalence, spelled-out ratios
    "Knowing both is the point: the concepts map one to one.",
    "A per-sample `Dataset` made an epoch twice as long.",
    "Keras on JAX trained three times faster than on PyTorch.",
    # and of the second truth pass: a cause credited without the ablation
    "The initial weights account for the gap between the frameworks.",
)
GOOD_EXAMPLES = (
    "Each hidden unit has 784 input weights, drawn as a 28 × 28 image.",
    "Keras reached {{ results.keras.test.accuracy | percent }}, the same accuracy "
    "as {{ x }}.",
    "Which digit is hardest?",
    "Taking a softmax and a log separately is slower "
    "([the docs](https://docs.pytorch.org/docs/stable/)).",
    "## 1. Data",
    '```python\n--8<-- "code/pytorch_mlp.py:data"\n```',
    "A ten times larger step starts from the same rounding differences.",
    "An epoch took {{ ratio }} times as long on {{ images }} images.",
    "One row per concept, one for each framework, many times over.",
)


@pytest.mark.parametrize("example", BAD_EXAMPLES)
def test_the_rule_catches_hand_typed_outcomes(example):
    assert violations(example), example


@pytest.mark.parametrize("example", GOOD_EXAMPLES)
def test_the_rule_lets_values_from_results_and_constants_through(example):
    assert not violations(example), violations(example)


def targets_writing_runs():
    """The `make` targets whose help (`## ...`) says they write into runs/,
    with the path it names."""
    found = {}
    for name in ("Makefile", "results.mk"):
        text = (PROJECT_DIR / name).read_text()
        for target, path in re.findall(
            r"^([a-z][a-z-]*):[^\n]*##[^\n]*?\b(runs/\S+)", text, re.MULTILINE
        ):
            found[target] = path.rstrip(".,;)")
    return found


def test_the_makefile_help_is_read():
    assert targets_writing_runs().get("parity") == "runs/parity.json"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_a_target_that_writes_into_runs_is_named_with_its_path(page):
    """A reader who runs such a target finds the page unchanged: the page
    says where the results went instead."""
    text = page.read_text(encoding="utf-8")
    for target, path in targets_writing_runs().items():
        if re.search(rf"\bmake {target}\b", text):
            assert path in text, f"{page.name} names `make {target}`, not {path}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_a_typed_export_example_creates_its_folder_first(page):
    """Neither `model.save` nor `torch.save` creates a missing folder, so the
    export_model of code/*_export.py fails on one: a page's example that
    calls it (an included block only defines it) makes the folder first."""
    text = page.read_text(encoding="utf-8")
    for call in re.finditer(r"\bexport_model\(", text):
        assert "mkdir(" in text[: call.start()], (
            f"{page.name}: export_model(...) with no mkdir(...) before it"
        )


def test_a_damaged_file_error_naming_a_missing_file_is_called_misleading():
    """`make export` truncates files that exist: an error line that says one
    was not found misleads, and the Deployment page must say so."""
    import json

    deployment = json.loads(
        (DOCS_DIR / "deployment" / "deployment.json").read_text(encoding="utf-8")
    )
    prose = " ".join(
        strip_markup((DOCS_DIR / "deployment.md").read_text(encoding="utf-8")).split()
    )
    for name, form in deployment["formats"].items():
        error = form["damaged_file_error"]
        for phrase in re.findall(r"[\w ]*\bnot found\b", error, re.IGNORECASE):
            phrase = phrase.split(": ")[-1].strip()
            assert phrase in prose and "misleading" in prose, (
                f"{name}'s error says {phrase!r} of a file that exists: the "
                "Deployment page must call the message misleading"
            )


def test_figure_alt_texts_state_no_outcome_by_hand():
    """The alt texts are written by tools/result_figures.py from the results;
    an outcome word in them would be a conclusion typed into the code."""
    import json

    alt = json.loads((DOCS_DIR / "generated" / "figures.json").read_text())["alt"]
    for name, text in alt.items():
        found = [word for word in OUTCOME_WORDS if word in text.lower()]
        found += [word for word in ("many are", "no digit") if word in text.lower()]
        assert not found, f"alt text of {name}: {found}"
