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
reads. `python code/deployment.py --help` lists the options.
"""

import argparse
import contextlib
import hashlib
import importlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

CODE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = CODE_DIR.parent
# The files this script runs; their hash marks the results as current.
CODE_FILES = ("deployment.py", "keras_export.py", "pytorch_export.py")
CODE_FILES += ("onnx_inference.py",)
TOLERANCE = 1e-5  # largest difference allowed between saved and reloaded probabilities
LATENCY_CALLS = 200  # one-image predictions timed per format: a stable median
TEST_SET_CALLS = 5  # whole-test-set predictions timed per format
TIME_LIMIT = 600  # seconds for any one step: a hung exporter must not hang CI
LIBRARIES = ("keras", "tensorflow-cpu", "tensorflow", "tf2onnx", "torch")
LIBRARIES += ("onnxscript", "onnx", "onnxruntime", "numpy")


# Each deployable form: which program writes it, which function loads it, and
# what a server needs installed to run it.
FORMATS = {
    "keras_file": {
        "framework": "keras",
        "label": "Keras file (.keras)",
        "path": "mlp.keras",
        "module": "keras_export",
        "loader": "load_keras_file",
        "runtime": "Keras 3 and a backend (here TensorFlow)",
    },
    "saved_model": {
        "framework": "keras",
        "label": "TensorFlow SavedModel",
        "path": "saved_model",
        "module": "keras_export",
        "loader": "load_saved_model",
        "predict": "predict_saved_model",
        "runtime": "TensorFlow (or TensorFlow Serving); no Keras code",
    },
    "keras_onnx": {
        "framework": "keras",
        "label": "ONNX file",
        "path": "mlp.onnx",
        "module": "onnx_inference",
        "loader": "load_onnx",
        "runtime": "ONNX Runtime only",
    },
    "state_dict": {
        "framework": "pytorch",
        "label": "state_dict (.pt)",
        "path": "mlp.pt",
        "module": "pytorch_export",
        "loader": "load_state_dict",
        "runtime": "PyTorch, and code that rebuilds the model",
    },
    "exported_program": {
        "framework": "pytorch",
        "label": "torch.export program (.pt2)",
        "path": "mlp.pt2",
        "module": "pytorch_export",
        "loader": "load_exported_program",
        "runtime": "PyTorch; no model code",
    },
    "pytorch_onnx": {
        "framework": "pytorch",
        "label": "ONNX file",
        "path": "mlp.onnx",
        "module": "onnx_inference",
        "loader": "load_onnx",
        "runtime": "ONNX Runtime only",
    },
}
DEFAULT_MODELS = {"keras": "runs/keras/mlp.keras", "pytorch": "runs/pytorch/mlp.pt"}
# In a SavedModel folder, the file that holds the weights.
SAVED_MODEL_WEIGHTS = Path("variables") / "variables.data-00000-of-00001"


def code_fingerprint():
    digest = hashlib.sha256()
    for name in CODE_FILES:
        digest.update(name.encode() + b"\0")
        digest.update((CODE_DIR / name).read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()


def quiet_environment(data_dir):
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if data_dir:
        environment["MNIST_DIR"] = str(Path(data_dir).resolve())
    return environment


def size_in_bytes(path):
    if path.is_dir():
        return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())
    return path.stat().st_size


def softmax(logits):
    import numpy as np

    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def reload(format_name, path, reference, record):
    """In a fresh process: load one saved form, time it, compare its answers."""
    import numpy as np

    from mnist_data import MnistError, load_mnist

    form = FORMATS[format_name]
    try:
        _, (x_test, _) = load_mnist()
    except MnistError as error:
        sys.exit(f"error: {error}")
    images = x_test.reshape(-1, 784).astype("float32") / 255
    start = time.perf_counter()
    module = importlib.import_module(form["module"])
    import_seconds = time.perf_counter() - start
    start = time.perf_counter()
    try:
        model = getattr(module, form["loader"])(path)
    except Exception as error:  # every library has its own exceptions for this
        # The library's own words say what is wrong; on one line.
        reason = " ".join(str(error).split()).rstrip(".") or "no details"
        sys.exit(
            f"error: {path} is not a loadable {form['label']} "
            f"({type(error).__name__}: {reason}). If the file is damaged or "
            "incomplete, export it again with `make export`."
        )
    load_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predict = getattr(module, form.get("predict", "predict"))
    logits = predict(model, images)
    first_call_seconds = time.perf_counter() - start
    probabilities = softmax(logits)
    expected = np.load(reference)
    one_image = []
    for index in range(LATENCY_CALLS):
        start = time.perf_counter()
        predict(model, images[index : index + 1])
        one_image.append(time.perf_counter() - start)
    test_set = []
    for _ in range(TEST_SET_CALLS):
        start = time.perf_counter()
        predict(model, images)
        test_set.append(time.perf_counter() - start)
    result = {
        "import_seconds": import_seconds,
        "load_seconds": load_seconds,
        "first_call_seconds": first_call_seconds,
        "one_image_seconds": statistics.median(one_image),
        "test_set_seconds": statistics.median(test_set),
        "images": len(images),
        "same_digit": int((probabilities.argmax(1) == expected.argmax(1)).sum()),
        "largest_probability_difference": float(np.abs(probabilities - expected).max()),
        # What the process had to import: the runtime a server needs.
        "frameworks_imported": sorted(
            name for name in ("keras", "tensorflow", "torch") if name in sys.modules
        ),
    }
    Path(record).write_text(json.dumps(result))


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
    command = [sys.executable, __file__, "reload", format_name, str(path)]
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
    command = [sys.executable, __file__, "reload", format_name, str(damaged)]
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


def library_versions():
    versions = {}
    for name in LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def export_all(args):
    from run_record import cpu_model, write_atomically

    environment = quiet_environment(args.data_dir)
    for framework in ("keras", "pytorch"):
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
        for framework in ("keras", "pytorch"):
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
        for framework in ("keras", "pytorch"):
            test_accuracy[framework] = accuracy(staging / framework, args.data_dir)
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
        "code_sha256": code_fingerprint(),
        "machine": {"cpu": cpu_model(), "cpu_count": os.cpu_count()},
        "libraries": library_versions(),
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
    for name, result in results.items():
        form = FORMATS[name]
        print(
            f"export: {form['framework']:8} {form['label']:29}"
            f" {result['bytes'] / 1e6:5.2f} MB, load {result['load_seconds']:.3f} s,"
            f" one image {result['one_image_seconds'] * 1e3:.3f} ms,"
            f" largest difference {result['largest_probability_difference']:.1e}"
        )
    print(f"export: files in {exports_dir}, results in {args.output_dir}")


def accuracy(folder, data_dir):
    """Test accuracy of the saved model, from its reference probabilities."""
    import numpy as np

    from mnist_data import load_mnist

    _, (_, y_test) = load_mnist(data_dir)
    predicted = np.load(folder / "reference-probabilities.npy").argmax(axis=1)
    return float((predicted == y_test).mean())


def main():
    parser = argparse.ArgumentParser(
        description="Export both trained models, reload each form in a fresh "
        "process and measure it.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    subcommands = parser.add_subparsers(dest="command")
    reload_parser = subcommands.add_parser(
        "reload", help="(used by the export) load one form and check it"
    )
    reload_parser.add_argument("format", choices=list(FORMATS))
    reload_parser.add_argument("path")
    reload_parser.add_argument("--reference", required=True)
    reload_parser.add_argument("--record", required=True)
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
        default=PROJECT_DIR / "docs" / "deployment",
        help="where deployment.json goes",
    )
    parser.add_argument(
        "--data-dir",
        help="folder with the MNIST IDX files; None: $MNIST_DIR, else cache "
        "or download",
    )
    args = parser.parse_args()
    if args.command == "reload":
        reload(args.format, args.path, args.reference, args.record)
    else:
        export_all(args)


if __name__ == "__main__":
    main()
