"""Write what one training run produced, in the same layout for both programs.

The site's pages and figures read these files, never the training code:
- `metrics.json`: configuration, versions, data checksums, per-epoch history,
  epoch times, parameter count and test results;
- `model-summary.txt`: the framework's own printed summary of the model;
- `test-predictions.npy`: the predicted digit for each of the 10,000 test images;
- `hidden-weights.npy`: the first layer's weights of the first 16 hidden units,
  one row of 784 per unit (what the figure of hidden units draws).
"""

import contextlib
import io
import json
import os
import platform
from importlib import metadata
from pathlib import Path

import numpy as np

from mnist_data import FILES

# The libraries whose versions decide the numbers, where installed.
LIBRARIES = ("numpy", "keras", "tensorflow", "tensorflow-cpu", "jax", "torch")

# The figure of hidden units draws this many; all of them would be megabytes.
HIDDEN_UNITS_SAVED = 16

# Options that say where files are, not how the model is trained, and Keras'
# --backend, which may be unset: "backend" records the one Keras used.
NOT_RECORDED_OPTIONS = ("output_dir", "data_dir", "backend")


def library_versions(names=LIBRARIES):
    """Python's version and that of each library in `names` that is installed."""
    versions = {"python": platform.python_version()}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def cpu_model():
    """The processor's name (Linux), for telling machines apart in the results."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cores_used():
    """How many cores this process may run on (Linux), else all of them."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def save_run(
    output_dir,
    *,
    framework,
    config,
    parameter_count,
    history,
    epoch_seconds,
    best_epoch,
    test_loss,
    test_accuracy,
    predicted_labels,
    hidden_weights,
    summary,
    device,
    backend=None,
):
    """Write the four files into `output_dir`, each complete or not at all."""
    output_dir = Path(output_dir)
    options = {
        key: value
        for key, value in vars(config).items()
        if key not in NOT_RECORDED_OPTIONS
    }
    metrics = {
        "framework": framework,
        "backend": backend,
        "device": device,
        "config": options,
        "seed": options["seed"],
        "versions": library_versions(),
        "machine": {
            "cpu": cpu_model(),
            "cpu_count": os.cpu_count(),
            # The cores this run was allowed (the retrain step allows one).
            "cores_used": cores_used(),
        },
        "data_sha256": {name: sha256 for name, (sha256, _) in FILES.items()},
        "parameter_count": int(parameter_count),
        "history": {
            key: [float(value) for value in values] for key, values in history.items()
        },
        "epoch_seconds": [round(seconds, 3) for seconds in epoch_seconds],
        "best_epoch": int(best_epoch),
        "test": {"loss": float(test_loss), "accuracy": float(test_accuracy)},
    }
    write_atomically(
        output_dir / "metrics.json", (json.dumps(metrics, indent=2) + "\n").encode()
    )
    write_atomically(
        output_dir / "model-summary.txt", (summary.rstrip() + "\n").encode()
    )
    write_atomically(
        output_dir / "test-predictions.npy",
        npy_bytes(np.asarray(predicted_labels, np.uint8)),
    )
    write_atomically(
        output_dir / "hidden-weights.npy",
        npy_bytes(np.asarray(hidden_weights[:HIDDEN_UNITS_SAVED], np.float32)),
    )


def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def write_atomically(path, data):
    """Write to a temporary name beside `path`, then rename over it."""
    temporary = path.with_name(f".{path.name}.part")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
