"""One check of `make export`, in a fresh process: load one saved form, time it,
and compare its answers with the saved model's.

`tools.deployment` runs this once per form, as a server would load the file:

    python -m tools.deployment_reload FORMAT PATH --reference R.npy --record OUT.json

A file that cannot be loaded ends the process with exit code 1 and one line
starting with `error:`, which the export checks on a truncated copy.
"""

import argparse
import importlib
import json
import statistics
import sys
import time
from pathlib import Path

import tools  # noqa: F401  (the lesson's modules in code/ become importable)

LATENCY_CALLS = 200  # one-image predictions timed per format: a stable median
TEST_SET_CALLS = 5  # whole-test-set predictions timed per format

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("format", choices=list(FORMATS))
    parser.add_argument("path")
    parser.add_argument("--reference", required=True, help="expected probabilities")
    parser.add_argument("--record", required=True, help="where the JSON goes")
    args = parser.parse_args()
    reload(args.format, args.path, args.reference, args.record)


if __name__ == "__main__":
    main()
