"""The Porting page (`make porting`, docs/porting/porting.json): what changes
meaning between Keras and PyTorch, as both programs and Keras' hand-written
training step measured it."""

from tools.course import KERAS_BACKENDS

from .formatting import backend_list, percent, table
from .shared import macro

# Each weight-decay variant: its framework, the call as the page shows it
# (WEIGHT_DECAY for the rate) and whether it decays decoupled from the
# gradient. The names are the keys of porting.json.
DECAY_VARIANTS = {
    ("keras", "adam"): ("Adam(weight_decay=WEIGHT_DECAY)", True),
    ("keras", "adamw"): ("AdamW(weight_decay=WEIGHT_DECAY)", True),
    ("keras", "adam_l2"): ("Adam(), L2(WEIGHT_DECAY / 2) on every weight", False),
    ("pytorch", "adam"): ("Adam(weight_decay=WEIGHT_DECAY)", False),
    ("pytorch", "adam_decoupled"): (
        "Adam(weight_decay=WEIGHT_DECAY, decoupled_weight_decay=True)",
        True,
    ),
    ("pytorch", "adamw"): ("AdamW(weight_decay=WEIGHT_DECAY)", True),
}
NAMES = {"keras": "Keras", "pytorch": "PyTorch"}
RESUMES = {
    "uninterrupted": "not stopped",
    "checkpoint": "the whole checkpoint",
    "weights_only": "the weights only",
}


def call(porting, framework, name):
    text, _ = DECAY_VARIANTS[framework, name]
    rate = porting[framework]["config"]["weight_decay"]
    return (
        "`"
        + text.replace("WEIGHT_DECAY / 2", f"{rate / 2:g}").replace(
            "WEIGHT_DECAY", f"{rate:g}"
        )
        + "`"
    )


def porting_weight_decay_table(porting):
    """Each optimizer's weight decay: what one epoch left of the weights that
    no gradient moves, test accuracy, and the distance to the same
    framework's AdamW."""
    rows = []
    for (framework, name), _ in DECAY_VARIANTS.items():
        found = porting[framework]["weight_decay"][name]
        rows.append(
            [
                NAMES[framework],
                call(porting, framework, name),
                f"{found['black_pixel_weights_left']:.4g}",
                percent(found["test_accuracy"]),
                f"{found['against_adamw']:.3g}",
            ]
        )
    return table(
        [
            "framework",
            "optimizer",
            "left of the black pixels' weights",
            "test accuracy",
            "largest weight difference from its AdamW",
        ],
        ["---", "---", "---:", "---:", "---:"],
        rows,
    )


def porting_weight_decay_verdict(porting):
    """What the decoupled and the coupled decays did, against the schedule's
    prediction."""
    expected = porting["decay_left_by_schedule"]
    decoupled, coupled = [], []
    for (framework, name), (_, is_decoupled) in DECAY_VARIANTS.items():
        left = porting[framework]["weight_decay"][name]["black_pixel_weights_left"]
        (decoupled if is_decoupled else coupled).append(left)
    agree = all(abs(left - expected) < 1e-5 for left in decoupled)
    same = all(
        porting[framework]["weight_decay"][name]["against_adamw"] == 0
        for (framework, name), (_, is_decoupled) in DECAY_VARIANTS.items()
        if is_decoupled
    )
    prediction = (
        f"{'as' if agree else 'against'} the {expected:.4%} that the schedule "
        "alone predicts (the product of 1 − learning rate × decay over the "
        "epoch's steps)"
    )
    low, high = f"{min(decoupled):.4%}", f"{max(decoupled):.4%}"
    left = f"all left {low}" if low == high else f"left {low} to {high}"
    return (
        f"The {len(decoupled)} decoupled decays {left} of the weights that no "
        f"gradient moves, {prediction}; "
        + (
            "each framework's Adam with decoupled decay ended with exactly the "
            "weights of its AdamW. "
            if same
            else "Adam with decoupled decay did not end with exactly its "
            "AdamW's weights. "
        )
        + f"The {len(coupled)} penalties on the gradient left at most "
        f"{max(coupled):.2g} of them: Adam divides each gradient by the square "
        "root of its running mean square, so a gradient made of the penalty "
        "alone, however small, gives steps of up to the learning rate."
    )


def porting_resume_table(porting):
    """Each framework's training stopped and resumed, against not stopping."""
    rows = []
    for framework in NAMES:
        for name, label in RESUMES.items():
            found = porting[framework]["resume"][name]
            resumed = name != "uninterrupted"
            rows.append(
                [
                    NAMES[framework],
                    label,
                    found["step"] if resumed else "",
                    f"{found['learning_rate']:.3g}" if resumed else "",
                    f"{found['last_epoch_loss']:.4f}",
                    percent(found["test_accuracy"]),
                    f"{found['against_uninterrupted']:.3g}" if resumed else "",
                ]
            )
    return table(
        [
            "framework",
            "resumed from",
            "optimizer's step at resuming",
            "learning rate at resuming",
            "last epoch's training loss",
            "test accuracy",
            "largest weight difference from not stopping",
        ],
        ["---", "---", "---:", "---:", "---:", "---:", "---:"],
        rows,
    )


def porting_resume_verdict(porting):
    """Whether the whole checkpoint resumed exactly, in both frameworks."""
    parts = []
    for framework, name in NAMES.items():
        checkpoint = porting[framework]["resume"]["checkpoint"]
        weights_only = porting[framework]["resume"]["weights_only"]
        difference = checkpoint["against_uninterrupted"]
        exact = (
            "the very weights of the run that never stopped"
            if difference == 0
            else f"weights at most {difference:.3g} from the run that never stopped"
        )
        parts.append(
            f"in {name}, the whole checkpoint went on from step "
            f"{checkpoint['step']} and ended with {exact}; the weights alone "
            f"started the optimizer over at step {weights_only['step']} and "
            f"learning rate {weights_only['learning_rate']:.3g}, and ended "
            f"{weights_only['against_uninterrupted']:.3g} away"
        )
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def spread(seconds):
    return f"{min(seconds):.2f}–{max(seconds):.2f} s"


def porting_determinism_table(porting):
    """Two runs with and without the framework's determinism switch."""
    rows = []
    for framework in NAMES:
        found = porting[framework]["determinism"]
        for setting in ("off", "on"):
            rows.append(
                [
                    NAMES[framework],
                    setting,
                    spread(found[setting]["seconds"]),
                    f"{found[setting]['difference']:.3g}",
                ]
            )
    return table(
        [
            "framework",
            "determinism",
            "one epoch, two runs",
            "largest weight difference between the two runs",
        ],
        ["---", "---", "---:", "---:"],
        rows,
    )


# Timings on the machine that made the results move by tens of percent with
# the load of other work: with two runs per setting, a gap below this share
# of the faster setting's slowest run is no difference, nor is one smaller
# than the spread of a setting's own two runs.
MEANINGFUL_GAP = 0.10


def time_difference(on, off):
    """The switch's cost in words, from two runs with and without it."""
    slower, faster = (on, off) if min(on) > max(off) else (off, on)
    gap = min(slower) / max(faster) - 1
    noise = max(max(runs) / min(runs) - 1 for runs in (on, off))
    ranges = f"{spread(on)} with it, {spread(off)} without"
    if min(slower) <= max(faster):
        return f"took no measurably different time ({ranges}, two runs each)"
    if gap < max(MEANINGFUL_GAP, noise):
        return (
            f"took no measurably different time ({ranges}, two runs each: the "
            f"ranges are {gap:.0%} apart, while one setting's own two runs "
            f"differ by up to {noise:.0%})"
        )
    return (
        f"{'was slower' if slower is on else 'was faster'} in both runs "
        f"({ranges}): two runs each, an indication rather than a measurement"
    )


def porting_determinism_verdict(porting):
    """What the switch changed here, on the CPU: results and time."""
    parts = []
    for framework, name in NAMES.items():
        found = porting[framework]["determinism"]
        off, on = found["off"], found["on"]
        same = off["difference"] == 0 and on["difference"] == 0
        cost = time_difference(on["seconds"], off["seconds"])
        parts.append(
            f"{name} gave "
            + (
                "identical weights twice with the switch and without it"
                if same
                else "different weights in two runs"
            )
            + f", and with the switch {cost}"
        )
    return "On this machine's CPU, " + "; ".join(parts) + "."


def porting_train_step_verdict(porting):
    """The hand-written train_step against fit's own, on each backend."""
    found = porting["train_step"]
    exact = [
        backend
        for backend, run in found.items()
        if run["largest_weight_difference"] == 0
    ]
    others = [
        f"{KERAS_BACKENDS[backend]} {run['largest_weight_difference']:.3g}"
        for backend, run in found.items()
        if backend not in exact
    ]
    text = (
        f"On {backend_list(exact)}, the hand-written step ended the epoch with "
        "exactly the weights of fit's own step"
        if exact
        else "On no backend did the hand-written step end with fit's weights"
    )
    if others:
        text += "; the largest weight differences elsewhere: " + ", ".join(others)
    return text + "."


def register(env, results):
    env.variables["porting"] = results.porting
    for function in (
        porting_weight_decay_table,
        porting_weight_decay_verdict,
        porting_resume_table,
        porting_resume_verdict,
        porting_determinism_table,
        porting_determinism_verdict,
        porting_train_step_verdict,
    ):
        macro(env, function, results.porting)
