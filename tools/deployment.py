"""`make export`: save both trained models in six deployable forms and prove each one.

1. keras_export.py and pytorch_export.py, each in its own process, write the
   files: .keras, SavedModel and ONNX; state_dict, torch.export and ONNX.
2. Each file is loaded again in a fresh process, as a server would load it. It
   must give the same answer as the model that was saved, on all 10,000 test
   images: the same predicted digit for every image, and probabilities within
   1e-5. The process also times the import, the load and the predictions.
3. A truncated copy of each file must be refused with one clear error line.

The files go to runs/export/ (replaced only when every check passed); the
measurements to docs/deployment/deployment.json, which the Deployment page
reads. `python -m tools.deployment --help` lists the options.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from run_record import cpu_model, library_versions, write_atomically
from tools import CODE_DIR, fingerprint
from tools.course import FRAMEWORKS
from tools.deployment_reload import FORMATS, LATENCY_CALLS, TEST_SET_CALLS
from tools.results import RESULT_SETS

RESULTS = RESULT_SETS["export"]
TOLERANCE = 1e-5  # largest difference allowed between saved and reloaded probabilities
TIME_LIMIT = 600  # seconds for any one step: a hung exporter must not hang CI
LIBRARIES = ("keras", "tensorflow-cpu", "tensorflow", "tf2onnx", "torch")
LIBRARIES += ("onnxscript", "onnx", "onnxruntime", "numpy")


DEFAULT_MODELS = {"keras": "runs/keras/mlp.keras", "pytorch": "runs/pytorch/mlp.pt"}
# In a SavedModel folder, the file that holds the weights.
SAVED_MODEL_WEIGHTS = Path("variables") / "variables.data-00000-of-00001"


def size_in_bytes(path):
    if path.is_dir():
        return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())
    return path.stat().st_size


def run_step(command, environment, what):
    try:
        completed = subprocess.run(
            command, env=environment, capture_output=True, text=True, timeout=TIME_LIMIT
        )
    except subprocess.TimeoutExpired:
        sys.exit(f"export: {what} took over {TIME_LIMIT} s; nothing was replaced")
    return completed


def truncated_copy(path, folder):
    """A copy of a saved form whose weights file lost its second half."""
    copy = folder / f"truncated-{path.name}"
    if path.is_dir():
        shutil.copytree(path, copy)
        weights = copy / SAVED_MODEL_WEIGHTS
    else:
        shutil.copyfile(path, copy)
        weights = copy
    with open(weights, "r+b") as file:
        file.truncate(weights.stat().st_size // 2)
    return copy


def check_format(format_name, folder, environment, work_dir):
    form = FORMATS[format_name]
    path = folder / form["path"]
    record = work_dir / f"{format_name}.json"
    reference = folder / "reference-probabilities.npy"
    command = [sys.executable, "-m", "tools.deployment_reload", format_name, str(path)]
    command += ["--reference", str(reference), "--record", str(record)]
    print(f"export: reloading {form['framework']} {form['label']} ...", flush=True)
    completed = run_step(command, environment, f"reloading {path}")
    if completed.returncode != 0:
        sys.exit(
            f"export: reloading {path} failed; nothing was replaced\n{completed.stderr}"
        )
    result = json.loads(record.read_text())
    difference = result["largest_probability_difference"]
    if result["same_digit"] != result["images"] or difference > TOLERANCE:
        sys.exit(
            f"export: {path} does not give the saved model's answers "
            f"({result['same_digit']} of {result['images']} digits agree, "
            f"probabilities differ by up to {difference:.1e}); nothing was replaced"
        )
    # The same load, on a damaged copy: it must end with one clear line, not an
    # unhandled exception (whose last line names the exception) or a crash.
    damaged = truncated_copy(path, work_dir)
    command = [sys.executable, "-m", "tools.deployment_reload", format_name]
    command += [str(damaged)]
    command += ["--reference", str(reference), "--record", str(record) + ".damaged"]
    completed = run_step(command, environment, f"loading a damaged {path}")
    last_line = completed.stderr.strip().splitlines()[-1] if completed.stderr else ""
    if completed.returncode != 1 or not last_line.startswith("error:"):
        sys.exit(
            f"export: a truncated {form['label']} was not refused with a clear "
            f"error (exit code {completed.returncode}); nothing was replaced\n"
            f"{completed.stderr}"
        )
    result["damaged_file_error"] = last_line.replace(str(work_dir), "…")
    result["bytes"] = size_in_bytes(path)
    return result


def export_all(args):
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    for framework in FRAMEWORKS:
        model = getattr(args, f"{framework}_model")
        if not Path(model).is_file():
            sys.exit(
                f"export: no trained {framework} model at {model}: run "
                f"`python code/{framework}_mlp.py` first, or `make export`, which does"
            )
    exports_dir = args.exports_dir.resolve()
    exports_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=exports_dir.parent))
    results = {}
    try:
        for framework in FRAMEWORKS:
            print(f"export: saving the {framework} model ...", flush=True)
            command = [sys.executable, str(CODE_DIR / f"{framework}_export.py")]
            command += ["--model", str(getattr(args, f"{framework}_model"))]
            command += ["--output-dir", str(staging / framework)]
            completed = run_step(command, environment, f"exporting {framework}")
            if completed.returncode != 0:
                sys.exit(
                    f"export: exporting the {framework} model failed; nothing was "
                    f"replaced\n{completed.stderr}"
                )
        with tempfile.TemporaryDirectory() as work_dir:
            for format_name, form in FORMATS.items():
                folder = staging / form["framework"]
                results[format_name] = check_format(
                    format_name, folder, environment, Path(work_dir)
                )
        test_accuracy = {}
        for framework in FRAMEWORKS:
            test_accuracy[framework] = accuracy(staging / framework)
        # Swap the checked files in: rename is atomic, the old copy goes last.
        previous = exports_dir.with_name(f".{exports_dir.name}.previous")
        if exports_dir.exists():
            shutil.rmtree(previous, ignore_errors=True)
            os.replace(exports_dir, previous)
        os.replace(staging, exports_dir)
        shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    summary = {
        "machine": {"cpu": cpu_model(), "cpu_count": os.cpu_count()},
        "libraries": library_versions(LIBRARIES),
        "tolerance": TOLERANCE,
        "latency_calls": LATENCY_CALLS,
        "test_set_calls": TEST_SET_CALLS,
        "test_accuracy": test_accuracy,
        "formats": {
            name: {**FORMATS[name], **result} for name, result in results.items()
        },
    }
    args.output_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(summary, indent=2) + "\n"
    write_atomically(args.output_dir / "deployment.json", text.encode())
    fingerprint.write(RESULTS, args.output_dir)
    for name, result in results.items():
        form = FORMATS[name]
        print(
            f"export: {form['framework']:8} {form['label']:29}"
            f" {result['bytes'] / 1e6:5.2f} MB, load {result['load_seconds']:.3f} s,"
            f" one image {result['one_image_seconds'] * 1e3:.3f} ms,"
            f" largest difference {result['largest_probability_difference']:.1e}"
        )
    print(f"export: files in {exports_dir}, results in {args.output_dir}")


def accuracy(folder):
    """Test accuracy of the saved model, from its reference probabilities."""
    import numpy as np

    from mnist_data import load_mnist

    _, (_, y_test) = load_mnist()
    predicted = np.load(folder / "reference-probabilities.npy").argmax(axis=1)
    return float((predicted == y_test).mean())


def main():
    parser = argparse.ArgumentParser(
        description="Export both trained models, reload each form in a fresh "
        "process and measure it.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for framework, path in DEFAULT_MODELS.items():
        parser.add_argument(
            f"--{framework}-model",
            default=path,
            help=f"the trained model that {framework}_mlp.py saved",
        )
    parser.add_argument(
        "--exports-dir", type=Path, default=Path("runs/export"), help="the files"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=RESULTS.path,
        help="where deployment.json goes",
    )
    export_all(parser.parse_args())


if __name__ == "__main__":
    main()
