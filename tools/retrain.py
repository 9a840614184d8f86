"""The retrain step (`make artifacts`): regenerate every result in docs/generated/.

Runs both programs with their default configuration, each in its own process
(TensorFlow and PyTorch are never imported together), and the Keras program on
each of its three backends (keras/ is TensorFlow, the main comparison;
keras-jax/ and keras-torch/ the others), keeps what each prints as its training
log, exports each main trained model for the Playground page, runs each
framework's pitfall demonstrations and the cross-framework parity experiment,
draws the figures from the saved results, and stamps the lot with the
fingerprint of the files that produced it. Everything is written to a temporary
folder first and moved into place only when all steps succeeded, so a failed
run leaves the previous results untouched.

Every step runs on one thread (ONE_THREAD in tools/course.py says why), as
the seed study's and the exercises' runs do, and on one core, so that Keras on
JAX, whose threads no setting limits, is timed on the same footing.

MNIST comes from the `MNIST_DIR` environment variable (or the cache, or a
download), for every step alike.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tools import CODE_DIR, PROJECT_DIR, fingerprint
from tools.course import (
    FRAMEWORKS,
    KERAS_BACKENDS,
    MAIN_KERAS_BACKEND,
    ONE_THREAD,
    keras_run,
    one_core,
)
from tools.results import RESULT_SETS

RESULTS = RESULT_SETS["artifacts"]
# Saved models are for the reader's own runs; the site needs only their results.
MODEL_FILES = {"keras": "mlp.keras", "pytorch": "mlp.pt"}


def run_step(what, command, env_extra=None, **options):
    """Run one step in its own process, on one core; stop everything if it fails."""
    environment = {**os.environ, **ONE_THREAD, **(env_extra or {})}
    completed = subprocess.run(command, env=environment, preexec_fn=one_core, **options)
    if completed.returncode != 0:
        sys.exit(
            f"retrain: {what} failed (exit code {completed.returncode}); "
            "nothing was replaced."
        )


def train_once(program, run_name, staging, env_extra=None):
    """Train one program into staging/run_name, its stdout the training log."""
    print(f"retrain: {run_name} ...", flush=True)
    output_dir = staging / run_name
    output_dir.mkdir(parents=True)
    command = [sys.executable, str(CODE_DIR / program), "--quiet"]
    # Run inside the staging folder with a relative output folder, so the log
    # says "saved ... in keras", not a temporary path that changes every run.
    with open(output_dir / "training-log.txt", "w") as log:
        # stdout is the training log the site shows; stderr (framework
        # start-up chatter, errors) goes to the console.
        run_step(
            f"training {run_name}",
            [*command, "--output-dir", run_name],
            env_extra,
            stdout=log,
            cwd=staging,
        )
    return output_dir


def train(framework, staging):
    # The backend is named, whatever KERAS_BACKEND the caller's shell has.
    backend = {"KERAS_BACKEND": MAIN_KERAS_BACKEND} if framework == "keras" else {}
    output_dir = train_once(f"{framework}_mlp.py", framework, staging, backend)
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
        for backend in KERAS_BACKENDS:
            if backend != MAIN_KERAS_BACKEND:
                run_dir = train_once(
                    "keras_mlp.py",
                    keras_run(backend),
                    staging,
                    {"KERAS_BACKEND": backend},
                )
                (run_dir / MODEL_FILES["keras"]).unlink()
        print("retrain: parity ...", flush=True)
        run_step(
            "the parity experiment",
            [sys.executable, str(CODE_DIR / "parity.py")]
            + ["--output", str(staging / "parity.json")],
            cwd=PROJECT_DIR,
        )
        print("retrain: the bridge (Keras on PyTorch) ...", flush=True)
        run_step(
            "the data bridge",
            [sys.executable, str(CODE_DIR / "input_pipelines.py")]
            + ["--output", str(staging / "bridge.json")],
            # Its stdout repeats bridge.json; errors still reach the console.
            stdout=subprocess.DEVNULL,
            cwd=PROJECT_DIR,
            env_extra={"KERAS_BACKEND": "torch"},
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
    runs = [*FRAMEWORKS, *(keras_run(backend) for backend in KERAS_BACKENDS)]
    for run in dict.fromkeys(runs):
        metrics = json.loads((output_dir / run / "metrics.json").read_text())
        epoch = statistics.median(metrics["epoch_seconds"])
        print(
            f"retrain: {run} test accuracy {metrics['test']['accuracy']:.2%}, "
            f"median epoch {epoch:.2f} s on {metrics['device']}"
        )
    print(f"retrain: wrote {output_dir}")


if __name__ == "__main__":
    main()
