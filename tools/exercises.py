"""The exercises step (`make exercises`): run every solution of the Exercises page.

Each solution is a section of code/keras_exercises.py or
code/pytorch_exercises.py that replaces, or goes before or after, lines of the
framework's program. This step applies it to a copy of the program, runs the
copy in its own process (TensorFlow and PyTorch are never imported together)
with the options the page names, and writes what each run measured to
docs/exercises/exercises.json, which the page reads.

MNIST comes from the `MNIST_DIR` environment variable (or the cache, or a
download), as for every step.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from tools import CODE_DIR, PROJECT_DIR, fingerprint
from tools.course import FRAMEWORKS, MAIN_KERAS_BACKEND, ONE_THREAD, section_text

RESULTS = fingerprint.RESULT_SETS["exercises"]
# Fewer epochs than the course's 20 where the question allows: the page says so.
SHORT_EPOCHS = 3
SGD_LEARNING_RATES = (0.1, 0.2, 0.5)  # tried in this order until one passes 97%
SGD_TARGET = 0.97


@dataclass(frozen=True)
class Change:
    """Put section `section` of the exercises file `how` ("replace", "before"
    or "after") the lines `anchor` of the program."""

    section: str
    how: str
    anchor: str


@dataclass
class Variant:
    framework: str
    changes: tuple = ()
    options: tuple = ()
    expect_failure: bool = False
    label: str = field(default="")


def section(framework, name):
    """The lines of a section of the framework's exercises file, dedented."""
    text = (CODE_DIR / f"{framework}_exercises.py").read_text(encoding="utf-8")
    found = re.search(
        rf"# --8<-- \[start:{name}\]\n(.*?)\n[ \t]*# --8<-- \[end:{name}\]",
        text,
        re.DOTALL,
    )
    if not found:
        raise LookupError(f"{framework}_exercises.py has no section {name}")
    return textwrap.dedent(found.group(1))


def apply(source, framework, change):
    """The program's source with one change applied; the anchor must occur once."""
    anchor = change.anchor
    if anchor.startswith("section:"):
        anchor = section_text(source, anchor.removeprefix("section:"))
        if anchor is None:
            raise LookupError(f"{framework}_mlp.py has no section {change.anchor}")
        change = Change(change.section, change.how, anchor.strip(" \t"))
    count = source.count(change.anchor)
    if count != 1:
        raise LookupError(
            f"{framework}_mlp.py holds {count} copies of {change.anchor!r}, not 1"
        )
    start = source.index(change.anchor)
    line_start = source.rfind("\n", 0, start) + 1
    indent = re.match(r"[ \t]*", source[line_start:]).group(0)
    lines = textwrap.indent(section(framework, change.section), indent).strip(" \t")
    if change.how == "replace":
        return source.replace(change.anchor, lines)
    if change.how == "before":
        return source.replace(change.anchor, f"{lines}\n{indent}{change.anchor}")
    if change.how == "after":
        return source.replace(change.anchor, f"{change.anchor}\n{indent}{lines}")
    raise ValueError(change.how)


def run(variant, folder):
    """Run the program with the variant's changes; what it measured."""
    source = (CODE_DIR / f"{variant.framework}_mlp.py").read_text(encoding="utf-8")
    for change in variant.changes:
        source = apply(source, variant.framework, change)
    folder.mkdir(parents=True)
    program = folder / f"{variant.framework}_mlp.py"
    program.write_text(source, encoding="utf-8")
    print(f"exercises: {variant.label} ...", flush=True)
    completed = subprocess.run(
        [sys.executable, str(program), "--quiet", *map(str, variant.options)]
        + ["--output-dir", str(folder / "run")],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        # The copy lives outside code/: its imports of the helpers find them here.
        env={
            **os.environ,
            **ONE_THREAD,
            "PYTHONPATH": str(CODE_DIR),
            # Keras on its main backend, whatever the caller's KERAS_BACKEND.
            "KERAS_BACKEND": MAIN_KERAS_BACKEND,
        },
    )
    if variant.expect_failure:
        if completed.returncode == 0:
            sys.exit(f"exercises: {variant.label} was expected to fail and did not")
        return {"error": completed.stderr.strip().splitlines()[-1]}
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        sys.exit(f"exercises: {variant.label} failed; nothing was replaced.")
    metrics = json.loads((folder / "run" / "metrics.json").read_text())
    return {
        "test_accuracy": metrics["test"]["accuracy"],
        "test_loss": metrics["test"]["loss"],
        "epochs_run": len(metrics["history"]["loss"]),
        "best_epoch": metrics["best_epoch"],
        "history": metrics["history"],
        "seconds_per_epoch": sum(metrics["epoch_seconds"])
        / len(metrics["epoch_seconds"]),
        "stdout": completed.stdout,
    }


# Where each solution goes in each program.
AFTER_TRAIN_SIZE = (
    "x_train, y_train = x_train[: args.train_size], y_train[: args.train_size]"
)
PYTORCH_LABELS = """y_train, y_val, y_test = (
    torch.from_numpy(y).long().to(device) for y in (y_train, y_val, y_test)
)"""
# A whole section of the program is named by its marker (read from the
# program, never copied): "section:NAME".
PYTORCH_MODEL = KERAS_MODEL = "section:exercise_model"
PYTORCH_STEP = "section:exercise_training"
# The PyTorch loop's log line, after which 3.3 checks its patience.
PYTORCH_LOG_LINE = (
    'print(f"Epoch {epoch}/{args.epochs} - {seconds:.1f}s - " + " - ".join(log))'
)
KERAS_SELECTION = """keep_best = keras.callbacks.EarlyStopping(
    monitor="val_loss", patience=args.epochs, restore_best_weights=True
)"""
AFTER_PREDICT = 'print(f"predicted:         {predicted_labels[:10]}")'
AFTER_EVALUATE = (
    'print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.2%}")'
)

STANDARDISE = Change("standardise", "after", AFTER_TRAIN_SIZE)
PER_DIGIT = Change("per_digit", "after", AFTER_PREDICT)
TWO_LAYERS = {
    "keras": Change("two_hidden_layers", "replace", KERAS_MODEL),
    "pytorch": Change("two_hidden_layers", "replace", PYTORCH_MODEL),
}
EARLY_STOPPING = {
    "keras": (Change("early_stopping", "replace", KERAS_SELECTION),),
    "pytorch": (
        Change(
            "early_stopping_setup", "before", "for epoch in range(1, args.epochs + 1):"
        ),
        Change("early_stopping", "after", PYTORCH_LOG_LINE),
    ),
}


def short(framework, *changes, options=(), label):
    return Variant(
        framework, changes, ("--epochs", SHORT_EPOCHS, *options), label=label
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--output-dir", type=Path, default=RESULTS.path)
    args = parser.parse_args()

    results = {"short_epochs": SHORT_EPOCHS}
    with tempfile.TemporaryDirectory(prefix="exercises-") as runs:
        counter = iter(range(1000))

        def go(variant):
            return run(variant, Path(runs) / str(next(counter)))

        # The course's model for SHORT_EPOCHS epochs, with 4.1's per-digit
        # accuracy: what 1.1, 2.1-2.3 compare with.
        baseline = {
            name: go(short(name, PER_DIGIT, label=f"{name} baseline, 4.1"))
            for name in FRAMEWORKS
        }
        # 1.1: the pixels' statistics, and standardised inputs.
        results["1.1"] = {}
        for name in FRAMEWORKS:
            found = go(short(name, STANDARDISE, label=f"1.1 {name}"))
            stats = re.search(r"mean (\S+), standard deviation (\S+)", found["stdout"])
            results["1.1"][name] = {
                "mean": float(stats.group(1)),
                "std": float(stats.group(2)),
                "scaled": baseline[name]["test_accuracy"],
                "standardised": found["test_accuracy"],
            }
        # 1.2: labels without .long() (uint8, as read), and int32 labels.
        one_epoch = ("--epochs", 1)
        results["1.2"] = {
            "long": go(Variant("pytorch", (), one_epoch, label="1.2 long"))[
                "test_accuracy"
            ],
            "uint8": go(
                Variant(
                    "pytorch",
                    (Change("no_long", "replace", PYTORCH_LABELS),),
                    one_epoch,
                    label="1.2 uint8",
                )
            )["test_accuracy"],
            "int32_error": go(
                Variant(
                    "pytorch",
                    (Change("int32_labels", "replace", PYTORCH_LABELS),),
                    one_epoch,
                    expect_failure=True,
                    label="1.2 int32",
                )
            )["error"],
        }
        # 2.1: the hidden layer's width.
        results["2.1"] = {}
        for name in FRAMEWORKS:
            rows = {}
            for units in (32, 128, 512, 1024):
                found = (
                    baseline[name]
                    if units == 512
                    else go(
                        short(
                            name,
                            options=("--hidden-units", units),
                            label=f"2.1 {name} {units}",
                        )
                    )
                )
                rows[str(units)] = {
                    "accuracy": found["test_accuracy"],
                    "seconds_per_epoch": found["seconds_per_epoch"],
                }
            results["2.1"][name] = rows
        # 2.2: a second hidden layer.
        results["2.2"] = {
            name: {
                "one": baseline[name]["test_accuracy"],
                "two": go(short(name, TWO_LAYERS[name], label=f"2.2 {name}"))[
                    "test_accuracy"
                ],
            }
            for name in FRAMEWORKS
        }
        # 2.3: Keras' initialisation in PyTorch.
        results["2.3"] = {
            "pytorch_default": baseline["pytorch"]["test_accuracy"],
            "glorot": go(
                short(
                    "pytorch",
                    Change("glorot", "after", "model = MLP(args.hidden_units)"),
                    label="2.3 glorot",
                )
            )["test_accuracy"],
        }
        # 3.1: plain SGD, 20 epochs, learning rates in increasing order.
        results["3.1"] = {"target": SGD_TARGET}
        for name in FRAMEWORKS:
            tried = {}
            for rate in SGD_LEARNING_RATES:
                found = go(
                    Variant(
                        name,
                        (),
                        ("--optimizer", "sgd", "--learning-rate", rate),
                        label=f"3.1 {name} {rate}",
                    )
                )
                tried[str(rate)] = found["test_accuracy"]
                if found["test_accuracy"] > SGD_TARGET:
                    break
            passing = [rate for rate, value in tried.items() if value > SGD_TARGET]
            results["3.1"][name] = {
                "tried": tried,
                "first_passing": float(passing[0]) if passing else None,
            }
        # 3.2: no zero_grad(), against the baseline run (the question's three
        # epochs are SHORT_EPOCHS).
        with_reset = baseline["pytorch"]
        without = go(
            short(
                "pytorch",
                Change("no_zero_grad", "replace", PYTORCH_STEP),
                label="3.2 no zero_grad",
            )
        )
        results["3.2"] = {
            version: {
                "loss": found["history"]["loss"],
                "accuracy": found["history"]["accuracy"],
                "test_accuracy": found["test_accuracy"],
            }
            for version, found in (("zero_grad", with_reset), ("none", without))
        }
        # 3.3: early stopping with patience 3, in the course's 20 epochs.
        results["3.3"] = {}
        for name in FRAMEWORKS:
            found = go(Variant(name, EARLY_STOPPING[name], (), label=f"3.3 {name}"))
            results["3.3"][name] = {
                key: found[key] for key in ("epochs_run", "best_epoch", "test_accuracy")
            }
        # 4.1: each digit's test accuracy, from the baseline runs.
        results["4.1"] = {}
        for name in FRAMEWORKS:
            found = baseline[name]
            per_digit = [
                float(value) / 100
                for value in re.findall(r"digit \d: (\S+)%", found["stdout"])
            ]
            results["4.1"][name] = {
                "per_digit": per_digit,
                "hardest": int(re.search(r"hardest digit: (\d)", found["stdout"])[1]),
                "test_accuracy": found["test_accuracy"],
            }
        # 4.2: Keras' loss and accuracy by hand, beside model.evaluate's.
        found = go(
            Variant(
                "keras",
                (Change("manual_evaluate", "after", AFTER_EVALUATE),),
                one_epoch,
                label="4.2 keras",
            )
        )
        numbers = [
            re.search(rf"{what}: loss (\S+), accuracy (\S+)", found["stdout"])
            for what in ("by hand", "evaluate")
        ]
        results["4.2"] = {
            what: {"loss": float(match[1]), "accuracy": float(match[2])}
            for what, match in zip(("by_hand", "evaluate"), numbers, strict=True)
        }

    output_dir = args.output_dir.resolve()
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".exercises-", dir=output_dir.parent))
    (staging / "exercises.json").write_text(json.dumps(results, indent=2) + "\n")
    fingerprint.write(RESULTS, staging)
    shutil.rmtree(output_dir, ignore_errors=True)
    staging.rename(output_dir)
    print(f"exercises: wrote {output_dir}")


if __name__ == "__main__":
    main()
