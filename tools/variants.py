"""Run a course program with changes: a copy of code/FRAMEWORK_mlp.py in
which named sections of another file of code/ replace, or go before or after,
named sections of the program (tools/sections.py finds both).

The Exercises page's solutions (`make exercises`) and the seed study's
ablation (`make seeds`) are such changes. Each run is a process of its own
(TensorFlow and PyTorch are never imported together), on one thread, with
Keras on its main backend.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field

from tools import CODE_DIR, PROJECT_DIR, sections
from tools.course import MAIN_KERAS_BACKEND, ONE_THREAD


@dataclass(frozen=True)
class Change:
    """Put section `solution` of the file `source` of code/ in place of
    section `anchor` of the program ("replace"), or before or after it.
    `source` names the file with `{framework}` for the program's framework:
    "{framework}_exercises.py"."""

    solution: str
    how: str
    anchor: str
    source: str


@dataclass
class Variant:
    framework: str
    changes: tuple = ()
    options: tuple = ()
    expect_failure: bool = False
    label: str = field(default="")


def apply(source, framework, change):
    """The program's source with one change applied."""
    path = CODE_DIR / change.source.format(framework=framework)
    solution = sections.read(path, change.solution)
    try:
        return sections.change(source, change.anchor, solution, change.how)
    except LookupError as error:
        raise LookupError(f"{framework}_mlp.py: {error}") from None


def run(variant, folder, tool="variants"):
    """Run the program with the variant's changes; what it measured. A failed
    run ends the calling step (`tool` names it), unless the variant expects
    the failure: then the error's last line is what it measured."""
    source = (CODE_DIR / f"{variant.framework}_mlp.py").read_text(encoding="utf-8")
    for change in variant.changes:
        source = apply(source, variant.framework, change)
    folder.mkdir(parents=True)
    program = folder / f"{variant.framework}_mlp.py"
    program.write_text(source, encoding="utf-8")
    print(f"{tool}: {variant.label} ...", flush=True)
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
            sys.exit(f"{tool}: {variant.label} was expected to fail and did not")
        return {"error": completed.stderr.strip().splitlines()[-1]}
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        sys.exit(f"{tool}: {variant.label} failed; nothing was replaced.")
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
