"""The Exercises page's solutions, each run for real (`make exercises`,
docs/exercises/exercises.json), by exercise number ("1.1", "2.1", ...)."""

from tools.course import FRAMEWORKS

from .formatting import percent, table
from .shared import macro


def exercise_standardise_table(exercises):
    """1.1: test accuracy with the inputs scaled to [0, 1] and standardised."""
    rows = []
    for framework, label in FRAMEWORKS.items():
        run = exercises["1.1"][framework]
        change = (run["standardised"] - run["scaled"]) * 100
        rows.append(
            [
                label,
                percent(run["scaled"]),
                percent(run["standardised"]),
                f"{change:+.2f} points",
            ]
        )
    return table(
        ["", "scaled to [0, 1]", "standardised", "change"],
        ["---"] + ["---:"] * 3,
        rows,
    )


def exercise_width_table(exercises):
    """2.1: test accuracy and seconds per epoch at each hidden size."""
    keras, pytorch = exercises["2.1"]["keras"], exercises["2.1"]["pytorch"]
    rows = [
        [
            units,
            percent(keras[units]["accuracy"]),
            f"{keras[units]['seconds_per_epoch']:.2f}",
            percent(pytorch[units]["accuracy"]),
            f"{pytorch[units]['seconds_per_epoch']:.2f}",
        ]
        for units in keras
    ]
    return table(
        [
            "hidden units",
            "Keras accuracy",
            "Keras s/epoch",
            "PyTorch accuracy",
            "PyTorch s/epoch",
        ],
        ["---:"] * 5,
        rows,
    )


def exercise_depth_table(exercises):
    """2.2: test accuracy with one hidden layer and with two."""
    rows = [
        [
            label,
            percent(exercises["2.2"][framework]["one"]),
            percent(exercises["2.2"][framework]["two"]),
        ]
        for framework, label in FRAMEWORKS.items()
    ]
    return table(
        ["", "one hidden layer", "two hidden layers"], ["---", "---:", "---:"], rows
    )


def exercise_sgd_table(exercises):
    """3.1: each framework's test accuracy at each learning rate tried, in
    increasing order until one passed ("—": not tried)."""
    keras = exercises["3.1"]["keras"]["tried"]
    pytorch = exercises["3.1"]["pytorch"]["tried"]
    rates = pytorch if len(pytorch) >= len(keras) else keras
    rows = [
        [
            rate,
            percent(keras[rate]) if rate in keras else "—",
            percent(pytorch[rate]) if rate in pytorch else "—",
        ]
        for rate in rates
    ]
    return table(["learning rate", "Keras", "PyTorch"], ["---:"] * 3, rows)


def exercise_zero_grad_table(exercises):
    """3.2: PyTorch's loss and training accuracy per epoch, with
    `zero_grad()` and without."""
    found = exercises["3.2"]
    kept, dropped = found["zero_grad"], found["none"]
    rows = [
        [
            epoch,
            f"{loss:.4f}",
            f"{dropped['loss'][epoch - 1]:.4f}",
            percent(kept["accuracy"][epoch - 1]),
            percent(dropped["accuracy"][epoch - 1]),
        ]
        for epoch, loss in enumerate(kept["loss"], start=1)
    ]
    return table(
        [
            "epoch",
            "loss, with `zero_grad()`",
            "loss, without",
            "training accuracy, with",
            "training accuracy, without",
        ],
        ["---:"] * 5,
        rows,
    )


def exercise_early_stopping_table(exercises):
    """3.3: with early stopping (patience 3), how many epochs each framework
    ran, the epoch it kept and its test accuracy."""
    rows = [
        [
            label,
            exercises["3.3"][framework]["epochs_run"],
            exercises["3.3"][framework]["best_epoch"],
            percent(exercises["3.3"][framework]["test_accuracy"]),
        ]
        for framework, label in FRAMEWORKS.items()
    ]
    return table(
        ["", "epochs run", "epoch kept", "test accuracy"], ["---"] + ["---:"] * 3, rows
    )


def exercise_per_digit_table(exercises):
    """4.1: each digit's test accuracy in each framework."""
    keras = exercises["4.1"]["keras"]["per_digit"]
    pytorch = exercises["4.1"]["pytorch"]["per_digit"]
    rows = [
        [digit, percent(value), percent(pytorch[digit])]
        for digit, value in enumerate(keras)
    ]
    return table(["digit", "Keras", "PyTorch"], ["---:"] * 3, rows)


MACROS = (
    exercise_standardise_table,
    exercise_width_table,
    exercise_depth_table,
    exercise_sgd_table,
    exercise_zero_grad_table,
    exercise_early_stopping_table,
    exercise_per_digit_table,
)


def register(env, results):
    env.variables["exercises"] = results.exercises
    for function in MACROS:
        macro(env, function, results.exercises)
