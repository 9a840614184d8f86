"""The exercises step (`make exercises`): run every solution of the Exercises page.

Each solution is a section of code/keras_exercises.py or
code/pytorch_exercises.py that replaces, or goes before or after, a section of
the framework's program. This step applies it to a copy of the program, runs
the copy in its own process (tools/variants.py) with the options the page
names, and writes what each run measured to
docs/exercises/exercises.json, which the page reads.

MNIST comes from the `MNIST_DIR` environment variable (or the cache, or a
download), as for every step.
"""

import argparse
import re
import tempfile
from pathlib import Path

from tools import fingerprint
from tools.course import FRAMEWORKS
from tools.results import RESULT_SETS
from tools.variants import Change, Variant, run

RESULTS = RESULT_SETS["exercises"]
# Fewer epochs than the course's 20 where the question allows: the page says so.
SHORT_EPOCHS = 3
SGD_LEARNING_RATES = (0.1, 0.2, 0.5)  # tried in this order until one passes 97%
SGD_TARGET = 0.97


# Where each solution goes: a section of the program (its markers name it).
SOLUTIONS = "{framework}_exercises.py"
STANDARDISE = Change("standardise", "after", "split", SOLUTIONS)
PER_DIGIT = Change("per_digit", "after", "predict", SOLUTIONS)
TWO_LAYERS = Change("two_hidden_layers", "replace", "exercise_model", SOLUTIONS)
NO_LONG = Change("no_long", "replace", "labels", SOLUTIONS)
INT32_LABELS = Change("int32_labels", "replace", "labels", SOLUTIONS)
GLOROT = Change("glorot", "after", "exercise_model", SOLUTIONS)
NO_ZERO_GRAD = Change("no_zero_grad", "replace", "exercise_training", SOLUTIONS)
EARLY_STOPPING = {
    "keras": (Change("early_stopping", "replace", "selection", SOLUTIONS),),
    "pytorch": (
        Change("early_stopping_setup", "before", "train", SOLUTIONS),
        # At the end of each epoch, after its log line.
        Change("early_stopping", "after", "epoch_log", SOLUTIONS),
    ),
}
MANUAL_EVALUATE = Change("manual_evaluate", "after", "evaluate", SOLUTIONS)


def short(framework, *changes, options=(), label):
    return Variant(
        framework, changes, ("--epochs", SHORT_EPOCHS, *options), label=label
    )


def data_exercises(go, baseline):
    """1.1: the pixels' statistics, and standardised inputs; 1.2: labels
    without .long() (uint8, as read), and int32 labels."""
    standardised = {}
    for name in FRAMEWORKS:
        found = go(short(name, STANDARDISE, label=f"1.1 {name}"))
        stats = re.search(r"mean (\S+), standard deviation (\S+)", found["stdout"])
        standardised[name] = {
            "mean": float(stats.group(1)),
            "std": float(stats.group(2)),
            "scaled": baseline[name]["test_accuracy"],
            "standardised": found["test_accuracy"],
        }
    one_epoch = ("--epochs", 1)
    labels = {
        "long": go(Variant("pytorch", (), one_epoch, label="1.2 long")),
        "uint8": go(Variant("pytorch", (NO_LONG,), one_epoch, label="1.2 uint8")),
    }
    int32 = Variant(
        "pytorch", (INT32_LABELS,), one_epoch, expect_failure=True, label="1.2 int32"
    )
    return {
        "1.1": standardised,
        "1.2": {
            **{name: found["test_accuracy"] for name, found in labels.items()},
            "int32_error": go(int32)["error"],
        },
    }


def model_exercises(go, baseline):
    """2.1: the hidden layer's width; 2.2: a second hidden layer; 2.3: Keras'
    initialisation in PyTorch."""
    widths = {}
    for name in FRAMEWORKS:
        rows = {}
        for units in (32, 128, 512, 1024):
            options = ("--hidden-units", units)
            found = (
                baseline[name]
                if units == 512
                else go(short(name, options=options, label=f"2.1 {name} {units}"))
            )
            rows[str(units)] = {
                "accuracy": found["test_accuracy"],
                "seconds_per_epoch": found["seconds_per_epoch"],
            }
        widths[name] = rows
    two_layers = {
        name: {
            "one": baseline[name]["test_accuracy"],
            "two": go(short(name, TWO_LAYERS, label=f"2.2 {name}"))["test_accuracy"],
        }
        for name in FRAMEWORKS
    }
    glorot = go(short("pytorch", GLOROT, label="2.3 glorot"))
    return {
        "2.1": widths,
        "2.2": two_layers,
        "2.3": {
            "pytorch_default": baseline["pytorch"]["test_accuracy"],
            "glorot": glorot["test_accuracy"],
        },
    }


def training_exercises(go, baseline):
    """3.1: plain SGD, the course's epochs, learning rates in increasing
    order; 3.2: no zero_grad(), against the baseline run (the question's three
    epochs are SHORT_EPOCHS); 3.3: early stopping with patience 3."""
    sgd = {"target": SGD_TARGET}
    for name in FRAMEWORKS:
        tried = {}
        for rate in SGD_LEARNING_RATES:
            options = ("--optimizer", "sgd", "--learning-rate", rate)
            found = go(Variant(name, (), options, label=f"3.1 {name} {rate}"))
            tried[str(rate)] = found["test_accuracy"]
            if found["test_accuracy"] > SGD_TARGET:
                break
        passing = [rate for rate, value in tried.items() if value > SGD_TARGET]
        sgd[name] = {
            "tried": tried,
            "first_passing": float(passing[0]) if passing else None,
        }
    without = go(short("pytorch", NO_ZERO_GRAD, label="3.2 no zero_grad"))
    zero_grad = {
        version: {
            "loss": found["history"]["loss"],
            "accuracy": found["history"]["accuracy"],
            "test_accuracy": found["test_accuracy"],
        }
        for version, found in (("zero_grad", baseline["pytorch"]), ("none", without))
    }
    early = {}
    for name in FRAMEWORKS:
        found = go(Variant(name, EARLY_STOPPING[name], (), label=f"3.3 {name}"))
        early[name] = {
            key: found[key] for key in ("epochs_run", "best_epoch", "test_accuracy")
        }
    return {"3.1": sgd, "3.2": zero_grad, "3.3": early}


def evaluation_exercises(go, baseline):
    """4.1: each digit's test accuracy, from the baseline runs; 4.2: Keras'
    loss and accuracy by hand, beside model.evaluate's."""
    per_digit = {}
    for name in FRAMEWORKS:
        stdout = baseline[name]["stdout"]
        per_digit[name] = {
            "per_digit": [
                float(value) / 100 for value in re.findall(r"digit \d: (\S+)%", stdout)
            ],
            "hardest": int(re.search(r"hardest digit: (\d)", stdout)[1]),
            "test_accuracy": baseline[name]["test_accuracy"],
        }
    found = go(Variant("keras", (MANUAL_EVALUATE,), ("--epochs", 1), label="4.2 keras"))
    numbers = [
        re.search(rf"{what}: loss (\S+), accuracy (\S+)", found["stdout"])
        for what in ("by hand", "evaluate")
    ]
    by_hand = {
        what: {"loss": float(match[1]), "accuracy": float(match[2])}
        for what, match in zip(("by_hand", "evaluate"), numbers, strict=True)
    }
    return {"4.1": per_digit, "4.2": by_hand}


def run_all(runs):
    """Every exercise's runs, in the folder `runs`: what the page shows."""
    counter = iter(range(1000))

    def go(variant):
        return run(variant, Path(runs) / str(next(counter)), tool="exercises")

    # The course's model for SHORT_EPOCHS epochs, with 4.1's per-digit
    # accuracy: what 1.1, 2.1-2.3 and 3.2 compare with.
    baseline = {
        name: go(short(name, PER_DIGIT, label=f"{name} baseline, 4.1"))
        for name in FRAMEWORKS
    }
    results = {"short_epochs": SHORT_EPOCHS}
    for exercises in (
        data_exercises,
        model_exercises,
        training_exercises,
        evaluation_exercises,
    ):
        results.update(exercises(go, baseline))
    return results


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--output-dir", type=Path, default=RESULTS.path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="exercises-") as runs:
        results = run_all(runs)
    fingerprint.write_results(RESULTS, args.output_dir, {"exercises.json": results})
    print(f"exercises: wrote {args.output_dir}")


if __name__ == "__main__":
    main()
