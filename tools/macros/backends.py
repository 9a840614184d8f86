"""The Backends page: Keras' program trained on each backend by the retrain
step (`make artifacts`: docs/generated/keras/, keras-jax/, keras-torch/),
beside PyTorch's."""

from tools.course import KERAS_BACKENDS, MAIN_KERAS_BACKEND

from .formatting import device_name, table
from .shared import macro
from .training import median_epoch

# The package that each backend's version is recorded under, if installed so.
BACKEND_PACKAGES = {"tensorflow": "tensorflow-cpu", "jax": "jax", "torch": "torch"}


def measured_on(runs, metrics, run="keras"):
    """Where a main run (keras, pytorch) or a backend's run was measured."""
    return device_name(runs[run] if run in runs else metrics[run])


def backend_row(command, backend, metrics, library):
    """One row of the backends' table: a run's accuracy, times and device."""
    return [
        command,
        backend,
        f"{metrics['test']['accuracy']:.2%}",
        metrics["best_epoch"],
        f"{median_epoch(metrics):.2f} s",
        metrics["device"],
        library,
    ]


def backend_table(runs, metrics):
    """Accuracy, epoch time and device of Keras on each backend, and PyTorch."""
    rows = []
    for backend, label in KERAS_BACKENDS.items():
        versions = runs[backend]["versions"]
        package = BACKEND_PACKAGES[backend]
        name = package if package in versions else backend
        main = " (the main comparison)" * (backend == MAIN_KERAS_BACKEND)
        rows.append(
            backend_row(
                f"`KERAS_BACKEND={backend} python keras_mlp.py`",
                f"{label}{main}",
                runs[backend],
                f"{name} {versions.get(name, '?')}",
            )
        )
    pytorch = metrics["pytorch"]
    rows.append(
        backend_row(
            "`pytorch_mlp.py`",
            "(PyTorch itself)",
            pytorch,
            f"torch {pytorch['versions']['torch']}",
        )
    )
    return table(
        [
            "program",
            "backend",
            "test accuracy",
            "kept epoch",
            "median epoch",
            "device",
            "library",
        ],
        ["---", "---", "---:", "---:", "---:", "---", "---"],
        rows,
    )


def backend_speed(runs, metrics):
    """Which backend trained fastest here, and by how much, from the runs."""
    cores = {
        found["machine"].get("cores_used")
        for found in (*runs.values(), metrics["pytorch"])
    }
    if len(cores) != 1 or None in cores:
        raise ValueError(
            "backend_speed: the runs were not made on the same number of cores "
            f"({cores}); run `make artifacts` again"
        )
    fastest, *others = sorted(runs, key=lambda backend: median_epoch(runs[backend]))
    best = median_epoch(runs[fastest])
    parts = " and ".join(
        f"{median_epoch(runs[backend]) / best:.1f} times as long on "
        f"{KERAS_BACKENDS[backend]}"
        for backend in others
    )
    pytorch = median_epoch(metrics["pytorch"]) / best
    return (
        f"Keras on {KERAS_BACKENDS[fastest]} trained fastest, at "
        f"{best:.2f} s per epoch (median); Keras took {parts}, "
        f"and the PyTorch program {pytorch:.1f} times as long"
    )


def backend_accuracy_range(runs):
    """The lowest and highest test accuracy over the three backends."""
    accuracies = [found["test"]["accuracy"] for found in runs.values()]
    return f"from {min(accuracies):.2%} to {max(accuracies):.2%}"


def register(env, results):
    runs = results.keras_backends
    env.variables["keras_backends"] = runs
    for function in (measured_on, backend_table, backend_speed):
        macro(env, function, runs, results.metrics)
    macro(env, backend_accuracy_range, runs)
