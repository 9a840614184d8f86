"""The retrain step (`make artifacts`): regenerate every result the site shows.

Runs both programs with their default configuration, each in its own process
(TensorFlow and PyTorch are never imported together), keeps what each prints as
its training log, runs each framework's pitfall demonstrations and the
cross-framework parity experiment, draws the figures from the saved results,
and stamps the lot with a fingerprint of the code that produced it. Everything
is written to a temporary folder first and moved into place only when all steps
succeeded, so a failed run leaves the previous artifacts untouched.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CODE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = CODE_DIR.parent
DEFAULT_OUTPUT_DIR = PROJECT_DIR / "docs" / "generated"
FRAMEWORKS = ("keras", "pytorch")
# Saved models are for the reader's own runs; the site needs only their results.
MODEL_FILES = {"keras": "mlp.keras", "pytorch": "mlp.pt"}


# The notebook builder, the benchmark, the exports and the scaling runs change
# no result that the retrain step writes; each has its own freshness test.
NOT_FINGERPRINTED = {"build_notebooks.py", "benchmark.py"}
NOT_FINGERPRINTED |= {"deployment.py", "keras_export.py", "pytorch_export.py"}
NOT_FINGERPRINTED |= {"onnx_inference.py"}
NOT_FINGERPRINTED |= {"scaling.py", "keras_multiworker.py", "pytorch_ddp.py"}


def code_fingerprint():
    """SHA-256 over the Python files in code/ that make docs/generated/."""
    digest = hashlib.sha256()
    for path in sorted(CODE_DIR.glob("*.py")):
        if path.name in NOT_FINGERPRINTED:
            continue
        digest.update(path.name.encode() + b"\0")
        # Line endings normalised: a Windows checkout gives the same fingerprint.
        digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()


def train(framework, staging, data_dir):
    # Run inside the staging folder with a relative output folder, so the log
    # says "saved ... in keras", not a temporary path that changes every run.
    options = ["--output-dir", framework]
    if data_dir:
        options += ["--data-dir", str(Path(data_dir).resolve())]
    command = [sys.executable, str(CODE_DIR / f"{framework}_mlp.py"), "--quiet"]
    print(f"retrain: {framework} ...", flush=True)
    output_dir = staging / framework
    output_dir.mkdir(parents=True)
    with open(output_dir / "training-log.txt", "w") as log:
        # stdout is the training log the site shows; stderr (framework
        # start-up chatter, errors) goes to the console.
        completed = subprocess.run([*command, *options], stdout=log, cwd=staging)
    if completed.returncode != 0:
        log_text = (output_dir / "training-log.txt").read_text()
        sys.exit(
            f"retrain: {framework} failed (exit code {completed.returncode}); "
            f"nothing was replaced.\n{log_text}"
        )
    # The Playground page runs the trained model in the browser: export its
    # weights, then drop the saved model, which the site does not need.
    model_file = output_dir / MODEL_FILES[framework]
    export = [sys.executable, str(CODE_DIR / "export_weights.py")]
    export += ["--framework", framework, "--model", str(model_file)]
    export += ["--output-dir", str(staging / "playground")]
    environment = data_environment(data_dir)
    if subprocess.run(export, cwd=staging, env=environment).returncode != 0:
        sys.exit(f"retrain: exporting the {framework} weights failed.")
    model_file.unlink()
    print(f"retrain: {framework} pitfalls ...", flush=True)
    command = [sys.executable, str(CODE_DIR / f"{framework}_pitfalls.py")]
    # Its stdout repeats pitfalls.json; errors still reach the console.
    completed = subprocess.run(
        [*command, *options], stdout=subprocess.DEVNULL, cwd=staging
    )
    if completed.returncode != 0:
        sys.exit(f"retrain: {framework} pitfalls failed; nothing was replaced.")


def data_environment(data_dir):
    """The environment for a step that finds MNIST through MNIST_DIR."""
    environment = dict(os.environ)
    if data_dir:
        environment["MNIST_DIR"] = str(Path(data_dir).resolve())
    return environment


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR)
    parser.add_argument(
        "--data-dir",
        help="folder with the MNIST IDX files; default: $MNIST_DIR or download",
    )
    args = parser.parse_args()

    output_dir = args.output_dir.resolve()
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".retrain-", dir=output_dir.parent))
    try:
        for framework in FRAMEWORKS:
            train(framework, staging, args.data_dir)
        print("retrain: parity ...", flush=True)
        parity = [sys.executable, str(CODE_DIR / "parity.py")]
        parity += ["--output", str(staging / "parity.json")]
        if subprocess.run(
            parity, cwd=PROJECT_DIR, env=data_environment(args.data_dir)
        ).returncode:
            sys.exit("retrain: the parity experiment failed; nothing was replaced.")
        plot = [sys.executable, str(CODE_DIR / "plot_results.py"), str(staging)]
        if args.data_dir:
            plot += ["--data-dir", str(args.data_dir)]
        print("retrain: figures ...", flush=True)
        if subprocess.run(plot, cwd=PROJECT_DIR).returncode != 0:
            sys.exit("retrain: drawing the figures failed; nothing was replaced.")
        fingerprint = {"code_sha256": code_fingerprint()}
        (staging / "fingerprint.json").write_text(
            json.dumps(fingerprint, indent=2) + "\n"
        )
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
