"""The course's settings and names, read from where the course states them.

The two programs in code/ define the hyperparameters as named constants at
their top, each with its reason; the tools read those constants from the
programs' source (without running them, so without TensorFlow or PyTorch)
instead of restating them. Display names are stated here, once.
"""

import ast
import os

from tools import CODE_DIR, sections

# Each framework's name as the pages, figures and notebooks print it.
FRAMEWORKS = {"keras": "Keras", "pytorch": "PyTorch"}
PROGRAMS = {framework: CODE_DIR / f"{framework}_mlp.py" for framework in FRAMEWORKS}
# Keras 3 computes with one of three libraries, its backend, and each name as
# pages print it. The main comparison is Keras on TensorFlow against PyTorch.
KERAS_BACKENDS = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
MAIN_KERAS_BACKEND = "tensorflow"


def keras_run(backend):
    """The results folder of Keras on `backend`: keras/ for the main one."""
    return "keras" if backend == MAIN_KERAS_BACKEND else f"keras-{backend}"


# The environment of the runs whose results the pages compare (retrain, seed
# study, exercises): one thread each. The thread count changes the order in
# which sums are added up, so the last digits of a result; one thread fixes it
# whatever the machine's core count, keeps times per epoch comparable between
# runs, and stops idle threads competing for the cores of a shared machine.
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",  # PyTorch (and NumPy's BLAS)
    "TF_NUM_INTRAOP_THREADS": "1",  # TensorFlow, within one operation
    "TF_NUM_INTEROP_THREADS": "1",  # TensorFlow, operations side by side
}


def one_core():
    """Keep the calling process (a child, as subprocess's preexec_fn) on one
    core: JAX's compiler, XLA, sizes its thread pool by the machine's cores and
    has no setting that limits it (jax-ml/jax#1539), unlike the libraries above."""
    if hasattr(os, "sched_setaffinity"):  # Linux; elsewhere, no change
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


# MNIST's training set; the programs hold the last VALIDATION_SIZE images out.
MNIST_TRAINING_IMAGES = 60_000


def constants(path):
    """The module-level `NAME = literal` assignments of a Python file."""
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id.isupper()
        ):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue  # not a literal: not a setting
    return found


def settings():
    """The hyperparameters, as both programs define them (they must agree)."""
    found = {framework: constants(path) for framework, path in PROGRAMS.items()}
    keras_settings, pytorch_settings = found["keras"], found["pytorch"]
    if keras_settings != pytorch_settings:
        differing = sorted(
            name
            for name in keras_settings.keys() | pytorch_settings.keys()
            if keras_settings.get(name) != pytorch_settings.get(name)
        )
        raise SystemExit(
            "code/keras_mlp.py and code/pytorch_mlp.py define different settings: "
            + ", ".join(differing)
        )
    return keras_settings


def training_images():
    """Images per training epoch with the default settings."""
    return MNIST_TRAINING_IMAGES - settings()["VALIDATION_SIZE"]


def program_sections():
    """The two programs' top-level sections, in order (they must agree)."""
    found = {
        framework: sections.top_level(path.read_text(encoding="utf-8"))
        for framework, path in PROGRAMS.items()
    }
    if found["keras"] != found["pytorch"]:
        raise SystemExit(
            f"code/keras_mlp.py and code/pytorch_mlp.py have different sections: "
            f"{found['keras']} and {found['pytorch']}"
        )
    return found["keras"]
