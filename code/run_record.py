"""What both programs need around the lesson: their command line and the
record of a run, the same for both. Save it beside the program.

`read_options` turns each setting of a program (HIDDEN_UNITS = 512) into a
command-line option (--hidden-units 512), defaulting to the setting's value.

`save_run` writes what a run produced, in one layout for both frameworks; the
site's pages and figures read these files, never the training code:
- `metrics.json`: configuration, versions, data checksums, per-epoch history,
  epoch times, parameter count and test results;
- `model-summary.txt`: the framework's own printed summary of the model;
- `test-predictions.npy`: the predicted digit of each of the 10,000 test
  images;
- `hidden-weights.npy`: the first layer's weights of the first 16 hidden units,
  one row of 784 per unit (what the figure of hidden units draws).
"""

import argparse
import contextlib
import io
import json
import math
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

from mnist_data import FILES

# The libraries whose versions decide the numbers, where installed.
LIBRARIES = ("numpy", "keras", "tensorflow", "tensorflow-cpu", "jax", "torch")

# The figure of hidden units draws this many; all of them would be megabytes.
HIDDEN_UNITS_SAVED = 16

# Options that say where files are, not how the model is trained.
NOT_RECORDED_OPTIONS = ("output_dir", "data_dir")


def read_options(settings, choices=None, arguments=None, **options):
    """The command line's options: one per setting, each UPPER_CASE number or
    string in `settings` (a program passes its globals()), and one per keyword
    in `options`, each defaulting to its value there; then --data-dir (the
    MNIST folder) and --quiet (no progress bars). `choices` names the values
    an option may take: {"optimizer": ["adam", "sgd"]}. A number must be
    positive, or zero where its default is zero (the seed).

    The command line is read only when `settings` has a `__file__`, as a
    script's globals have: a notebook or Python's prompt has no command line
    of its own (a notebook's holds the kernel's options), so there the
    settings apply as they are, with the options in a list OPTIONS, if the
    settings define one (the course's notebook does). `arguments`, if given,
    is read instead."""
    if arguments is None:
        script = "__file__" in settings
        arguments = sys.argv[1:] if script else settings.get("OPTIONS", [])
    given = {
        name.lower(): value
        for name, value in settings.items()
        if name.isupper() and type(value) in (int, float, str)
    }
    parser = argparse.ArgumentParser(
        description=(settings.get("__doc__") or "").split("\n")[0],
        epilog="Each option sets the setting of the same name in capitals.",
    )
    for name, default in {**given, **options}.items():
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            type=type(default),
            default=default,
            choices=(choices or {}).get(name),
            metavar=type(default).__name__.upper(),
            help="default: %(default)s",
        )
    parser.add_argument("--data-dir", help="MNIST's folder, else $MNIST_DIR")
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bars"
    )
    args = parser.parse_args(arguments)
    for name, default in given.items():
        value = getattr(args, name)
        wanted = "0 or more" if default == 0 else "positive"
        if (
            isinstance(value, str)
            or 0 < value < math.inf
            or 0 == default <= value
        ):
            continue
        option = name.replace("_", "-")
        parser.error(f"argument --{option}: must be {wanted}, not {value}")
    return args


def library_versions(names=LIBRARIES):
    """Python's version, and that of each library of `names` installed."""
    versions = {"python": platform.python_version()}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def cpu_model():
    """The processor's name (Linux), to tell machines apart in the results."""
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
    args, model, history, epoch_seconds, best_epoch, test, predicted_labels
):
    """Write the four files into args.output_dir, each complete or not at all,
    and return that folder. `test` holds the test set's loss and accuracy."""
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    facts = model_facts(model)
    framework, device, parameter_count = (
        facts["framework"],
        facts["device"],
        facts["parameter_count"],
    )
    options = {
        key: value
        for key, value in vars(args).items()
        if key not in NOT_RECORDED_OPTIONS
    }
    metrics = {
        "framework": framework,
        "backend": facts["backend"],
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
            key: [float(value) for value in values]
            for key, values in history.items()
        },
        "epoch_seconds": [round(seconds, 3) for seconds in epoch_seconds],
        "best_epoch": int(best_epoch),
        "test": {
            "loss": float(test["loss"]),
            "accuracy": float(test["accuracy"]),
        },
    }
    write_atomically(
        output_dir / "metrics.json",
        (json.dumps(metrics, indent=2) + "\n").encode(),
    )
    write_atomically(
        output_dir / "model-summary.txt",
        (facts["summary"].rstrip() + "\n").encode(),
    )
    write_atomically(
        output_dir / "test-predictions.npy",
        npy_bytes(np.asarray(predicted_labels, np.uint8)),
    )
    write_atomically(
        output_dir / "hidden-weights.npy",
        npy_bytes(
            np.asarray(
                facts["hidden_weights"][:HIDDEN_UNITS_SAVED], np.float32
            )
        ),
    )
    return output_dir


def model_facts(model):
    """What a run records of its model: its framework, the backend and the
    device of its weights, its parameter count, its printed summary, and the
    first layer's weights as (units, inputs), PyTorch's layout."""
    keras = sys.modules.get("keras")
    if keras and isinstance(model, keras.Model):
        lines = []
        model.summary(
            print_fn=lambda line, line_break=True: lines.append(line)
        )
        kernel = model.layers[0].kernel  # Keras' layout: (inputs, units)
        return {
            "framework": "keras",
            "backend": keras.backend.backend(),
            # "cpu:0", or on a GPU "gpu:0" (TensorFlow), "cuda:0" (JAX, torch)
            "device": str(kernel.value.device)
            .rsplit("device:", 1)[-1]
            .lower(),
            "parameter_count": model.count_params(),
            "summary": "\n".join(lines),
            "hidden_weights": keras.ops.convert_to_numpy(kernel).T,
        }
    parameters = list(model.parameters())
    count = sum(parameter.numel() for parameter in parameters)
    return {
        "framework": "pytorch",
        "backend": None,
        "device": str(parameters[0].device),
        "parameter_count": count,
        "summary": f"{model}\nTotal params: {count:,}",
        "hidden_weights": parameters[0].detach().cpu().numpy(),
    }


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
