"""The retrain step (`make artifacts`): regenerate every result in docs/generated/.

Runs both programs with their default configuration, each in its own process
(TensorFlow and PyTorch are never imported together), keeps what each prints as
its training log, exports each trained model for the Playground page, runs each
framework's pitfall demonstrations and the cross-framework parity experiment,
draws the figures from the saved results, and stamps the lot with the
fingerprint of the files that produced it. Everything is written to a temporary
folder first and moved into place only when all steps succeeded, so a failed
run leaves the previous results untouched.

Every step runs on one thread (OMP_NUM_THREADS and TensorFlow's thread counts
set to 1), as the seed study's and the exercises' runs do: the number of
threads changes the order in which sums are added up, and so the last digits
of the results; one thread fixes that order whatever the machine's core count,
and avoids idle threads competing for the cores of a shared machine.

MNIST comes from the `MNIST_DIR` environment variable (or the cache, or a
download), for every step alike.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools import CODE_DIR, PROJECT_DIR, fingerprint
from tools.course import FRAMEWORKS

RESULTS = fingerprint.RESULT_SETS["artifacts"]
# Saved models are for the reader's own runs; the site needs only their results.
MODEL_FILES = {"keras": "mlp.keras", "pytorch": "mlp.pt"}
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}


def run_step(what, command, **options):
    """Run one step in its own process; stop everything if it fails."""
    completed = subprocess.run(command, env={**os.environ, **ONE_THREAD}, **options)
    if completed.returncode != 0:
        sys.exit(
            f"retrain: {what} failed (exit code {completed.returncode}); "
            "nothing was replaced."
        )


def train(framework, staging):
    print(f"retrain: {framework} ...", flush=True)
    output_dir = staging / framework
    output_dir.mkdir(parents=True)
    program = [sys.executable, str(CODE_DIR / f"{framework}_mlp.py"), "--quiet"]
    # Run inside the staging folder with a relative output folder, so the log
    # says "saved ... in keras", not a temporary path that changes every run.
    with open(output_dir / "training-log.txt", "w") as log:
        # stdout is the training log the site shows; stderr (framework
        # start-up chatter, errors) goes to the console.
        run_step(
            f"training {framework}",
            [*program, "--output-dir", framework],
            stdout=log,
            cwd=staging,
        )
    # The Playground page runs the trained model in the browser: export its
    # weights, then drop the saved model, which the site does not need.
    model_file = output_dir / MODEL_FILES[framework]
    run_step(
        f"exporting the {framework} weights",
        [sys.executable, "-m", "tools.playground_export", "--framework", framework]
        + ["--model", str(model_file), "--output-dir", str(staging / "playground")],
        cwd=PROJECT_DIR,
    )
    model_file.unlink()
    print(f"retrain: {framework} pitfalls ...", flush=True)
    run_step(
        f"the {framework} pitfalls",
        [sys.executable, str(CODE_DIR / f"{framework}_pitfalls.py")]
        + ["--output-dir", framework],
        # Its stdout repeats pitfalls.json; errors still reach the console.
        stdout=subprocess.DEVNULL,
        cwd=staging,
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--output-dir", type=Path, default=RESULTS.path)
    args = parser.parse_args()

    output_dir = args.output_dir.resolve()
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".retrain-", dir=output_dir.parent))
    try:
        for framework in FRAMEWORKS:
            train(framework, staging)
        print("retrain: parity ...", flush=True)
        run_step(
            "the parity experiment",
            [sys.executable, str(CODE_DIR / "parity.py")]
            + ["--output", str(staging / "parity.json")],
            cwd=PROJECT_DIR,
        )
        print("retrain: figures ...", flush=True)
        run_step(
            "drawing the figures",
            [sys.executable, "-m", "tools.result_figures", str(staging)],
            cwd=PROJECT_DIR,
        )
        fingerprint.write(RESULTS, staging)
        # Swap the new folder in: rename is atomic, the old copy goes last.
        previous = None
        if output_dir.exists():
            previous = output_dir.with_name(f".{output_dir.name}.previous")
            shutil.rmtree(previous, ignore_errors=True)
            os.replace(output_dir, previous)
        os.replace(staging, output_dir)
        if previous:
            shutil.rmtree(previous)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for framework in FRAMEWORKS:
        metrics = json.loads((output_dir / framework / "metrics.json").read_text())
        print(f"retrain: {framework} test accuracy {metrics['test']['accuracy']:.2%}")
    print(f"retrain: wrote {output_dir}")


if __name__ == "__main__":
    main()
