"""Do Keras and PyTorch compute the same thing? Train both, step by step.

Both frameworks get the course's MLP with the *same* initial weights (a Keras
Dense kernel is the transpose of a PyTorch Linear weight), the same batches in
the same order, and the same optimizer settings. Keras 3 computes with one of
three libraries, its *backend* (TensorFlow, JAX or PyTorch): the Keras side
runs once on each, and each run is compared with the same PyTorch run. Every
side runs in its own process (a backend is chosen before Keras is first
imported, and the frameworks are never imported together), on the CPU, and
records the loss of every step and its final weights; the records are then
compared.

    python code/parity.py                     # every experiment, every backend
    python code/parity.py --steps 100         # a shorter run
    python code/parity.py --backends jax      # Keras on JAX only
    python code/parity.py --framework keras --backend jax --record FILE.npz
                                              # one side only

The experiments: plain SGD, where the two must agree to float32 rounding (and
with a ten times larger step, where training can amplify that rounding); Adam
with each framework's default epsilon; Adam with the same epsilon in both; and
Adam with an epsilon too small to matter.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from mnist_data import load_mnist
from run_record import library_versions, write_atomically

HIDDEN_UNITS = 512  # the course's model
BATCH_SIZE = 128  # the course's batch size: 422 steps make one epoch
SEED = 0  # initial weights and batch order
# The libraries Keras 3 can compute with, as KERAS_BACKEND names them.
BACKENDS = ("tensorflow", "jax", "torch")
# The packages whose versions each backend records, where installed.
BACKEND_PACKAGES = {
    "tensorflow": ("tensorflow", "tensorflow-cpu"),
    "jax": ("jax", "jaxlib"),
    "torch": ("torch",),
}
# Every side computes on the CPU, even where a GPU is present: the question is
# whether the libraries do the same arithmetic, not whether two devices do.
# Each backend has its own switch, read once, when it starts.
CPU_ONLY = {
    "CUDA_VISIBLE_DEVICES": "",  # TensorFlow (and any CUDA library): no GPU
    "JAX_PLATFORMS": "cpu",  # JAX: the CPU platform only
    "KERAS_TORCH_DEVICE": "cpu",  # Keras on PyTorch: its default device
}
# float32 keeps 24 significant bits: two results of the same sum added up in a
# different order differ by a few times float32's machine epsilon (2**-23,
# the relative size of its rounding step), each operation rounding once.
# Losses within this many machine epsilons of each other, relative to the loss,
# at every step, "agree to float32 rounding".
ROUNDING_TOLERANCE = 16
EXPERIMENTS = {
    # name: (label, optimizer, learning rate, Keras epsilon, PyTorch epsilon)
    "sgd": ("SGD", "sgd", 0.01, None, None),
    # Ten times the step: the same rounding differences, amplified by training.
    "sgd_large_step": ("SGD, ten times the step", "sgd", 0.1, None, None),
    "adam_default_epsilon": (
        "Adam, each framework's default epsilon",
        "adam",
        1e-3,
        1e-7,
        1e-8,
    ),
    "adam_same_epsilon": ("Adam, the same epsilon", "adam", 1e-3, 1e-7, 1e-7),
    # An epsilon too small to matter: what is left is float32 rounding.
    "adam_negligible_epsilon": (
        "Adam, a negligible epsilon",
        "adam",
        1e-3,
        1e-12,
        1e-12,
    ),
}
# The model's four arrays, in PyTorch's order (weight, bias of each layer).
PARAMETERS = (
    "hidden weights",
    "hidden biases",
    "output weights",
    "output biases",
)


# --8<-- [start:shared]
def shared_inputs(steps):
    """Training data, batch order and initial weights: identical in
    every run."""
    (x_train, y_train), _ = load_mnist()
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(x_train))[: steps * BATCH_SIZE]
    batches = [
        order[i : i + BATCH_SIZE] for i in range(0, len(order), BATCH_SIZE)
    ]

    def linear(fan_in, fan_out):
        # PyTorch's default for nn.Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        bound = 1 / np.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(
            "float32"
        )
        bias = rng.uniform(-bound, bound, fan_out).astype("float32")
        return weight, bias

    weights = [*linear(784, HIDDEN_UNITS), *linear(HIDDEN_UNITS, 10)]
    return x_train, y_train.astype("int64"), batches, weights


# --8<-- [end:shared]


# --8<-- [start:pytorch]
def run_pytorch(x_train, y_train, batches, weights, optimizer, rate, epsilon):
    import torch
    from torch import nn

    model = nn.Sequential(
        nn.Linear(784, HIDDEN_UNITS), nn.ReLU(), nn.Linear(HIDDEN_UNITS, 10)
    )
    with torch.no_grad():
        for parameter, value in zip(model.parameters(), weights, strict=True):
            parameter.copy_(torch.from_numpy(value))
    if optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=rate)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=rate, eps=epsilon)
    loss_function = nn.CrossEntropyLoss()
    x_train, y_train = torch.from_numpy(x_train), torch.from_numpy(y_train)
    losses = []
    for indices in batches:
        optimizer.zero_grad()
        loss = loss_function(model(x_train[indices]), y_train[indices])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    final = [
        parameter.detach().numpy().copy() for parameter in model.parameters()
    ]
    return np.array(losses), final


# --8<-- [end:pytorch]


# --8<-- [start:keras]
def run_keras(x_train, y_train, batches, weights, optimizer, rate, epsilon):
    import keras  # on the backend that KERAS_BACKEND names

    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(HIDDEN_UNITS, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    # A Dense kernel is (inputs, units): the transpose of a Linear weight.
    first_weight, first_bias, second_weight, second_bias = weights
    model.set_weights(
        [first_weight.T, first_bias, second_weight.T, second_bias]
    )
    if optimizer == "sgd":
        optimizer = keras.optimizers.SGD(learning_rate=rate)
    else:
        optimizer = keras.optimizers.Adam(learning_rate=rate, epsilon=epsilon)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    losses = [
        float(model.train_on_batch(x_train[i], y_train[i])) for i in batches
    ]
    kernel_1, bias_1, kernel_2, bias_2 = model.get_weights()
    return np.array(losses), [kernel_1.T, bias_1, kernel_2.T, bias_2]


# --8<-- [end:keras]


def first_layer(framework, x, weights):
    """The hidden layer's output (before ReLU) for `x`, from the initial
    weights: the first computation both sides do on the same numbers.
    Returns it, and the device the weights were on."""
    if framework == "pytorch":
        import torch

        layer = torch.nn.Linear(784, HIDDEN_UNITS)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(weights[0]))
            layer.bias.copy_(torch.from_numpy(weights[1]))
            return layer(torch.from_numpy(x)).numpy(), str(layer.weight.device)
    import keras

    layer = keras.layers.Dense(HIDDEN_UNITS)
    layer.build((None, 784))
    layer.set_weights([weights[0].T, weights[1]])
    # "cpu:0", "/job:localhost/replica:0/task:0/device:CPU:0": the last part.
    device = str(layer.kernel.value.device).rsplit("device:", 1)[-1].lower()
    return keras.ops.convert_to_numpy(layer(x)), device


def record(framework, backend, steps, path):
    """One side of every experiment (Keras on `backend`, or PyTorch), saved
    to an .npz file with what ran it."""
    if framework == "keras" and importlib.util.find_spec(backend) is None:
        sys.exit(
            f"parity: Keras' {backend} backend needs the {backend} package, "
            "which is not installed here; choose the backends with --backends"
        )
    os.environ.update(CPU_ONLY)  # read by each library when it starts
    if framework == "keras":
        # Keras reads KERAS_BACKEND once, when it is first imported.
        os.environ["KERAS_BACKEND"] = backend
        import keras

        run = run_keras
        # What compile() chose for jit_compile="auto", its default: with True,
        # the compiler XLA turns each training step into one program.
        probe = keras.Sequential(
            [keras.Input(shape=(784,)), keras.layers.Dense(10)]
        )
        probe.compile(optimizer="sgd", loss="mse")
        about = {
            "backend": keras.backend.backend(),
            "versions": library_versions(
                ("keras", *BACKEND_PACKAGES[backend])
            ),
            "jit_compile": bool(probe.jit_compile),
        }
    else:
        run = run_pytorch
        about = {"versions": library_versions(("torch",))}
    x_train, y_train, batches, weights = shared_inputs(steps)
    arrays = {}
    arrays["first_layer"], about["device"] = first_layer(
        framework, x_train[batches[0]], weights
    )
    for name, (
        _,
        optimizer,
        rate,
        keras_epsilon,
        pytorch_epsilon,
    ) in EXPERIMENTS.items():
        epsilon = keras_epsilon if framework == "keras" else pytorch_epsilon
        losses, final = run(
            x_train, y_train, batches, weights, optimizer, rate, epsilon
        )
        arrays[f"{name}/losses"] = losses
        for parameter, value in zip(PARAMETERS, final, strict=True):
            arrays[f"{name}/{parameter}"] = value
    arrays["about"] = np.array(json.dumps(about))
    np.savez(path, **arrays)


def compare(keras_side, pytorch_side, name):
    """How far Keras (one backend) and PyTorch ended apart in one
    experiment."""
    keras_losses = keras_side[f"{name}/losses"]
    pytorch_losses = pytorch_side[f"{name}/losses"]
    loss_differences = np.abs(keras_losses - pytorch_losses)
    weight_differences = {
        parameter: float(
            np.abs(
                keras_side[f"{name}/{parameter}"]
                - pytorch_side[f"{name}/{parameter}"]
            ).max()
        )
        for parameter in PARAMETERS
    }
    return {
        "keras_losses": keras_losses.tolist(),
        "max_loss_difference": float(loss_differences.max()),
        "mean_loss_difference": float(loss_differences.mean()),
        # Relative to the loss: float32's rounding step grows with the number.
        "max_relative_loss_difference": float(
            (loss_differences / np.abs(pytorch_losses)).max()
        ),
        "weight_differences": weight_differences,
        "max_weight_difference": max(weight_differences.values()),
    }


def agrees_to_rounding(comparison):
    """True when every step's losses are within ROUNDING_TOLERANCE machine
    epsilons of each other, relative to the loss."""
    epsilon = float(np.finfo(np.float32).eps)
    return (
        comparison["max_relative_loss_difference"]
        <= ROUNDING_TOLERANCE * epsilon
    )


def results(pytorch_side, keras_sides, steps):
    """Each Keras backend's record compared with the one PyTorch record."""
    pytorch_about = json.loads(str(pytorch_side["about"]))
    found = {
        "config": {
            "hidden_units": HIDDEN_UNITS,
            "batch_size": BATCH_SIZE,
            "steps": steps,
            "seed": SEED,
            "float32_epsilon": float(np.finfo(np.float32).eps),
            "rounding_tolerance": ROUNDING_TOLERANCE,
        },
        "versions": library_versions(("numpy",)),
        "pytorch": pytorch_about,
        "backends": {},
        "experiments": {},
    }
    for backend, keras_side in keras_sides.items():
        about = json.loads(str(keras_side["about"]))
        first = np.abs(keras_side["first_layer"] - pytorch_side["first_layer"])
        about["first_layer"] = {
            "identical_fraction": float((first == 0).mean()),
            "max_difference": float(first.max()),
        }
        found["backends"][backend] = about
    for name, (
        label,
        optimizer,
        rate,
        keras_epsilon,
        pytorch_epsilon,
    ) in EXPERIMENTS.items():
        comparisons = {
            backend: compare(keras_side, pytorch_side, name)
            for backend, keras_side in keras_sides.items()
        }
        found["experiments"][name] = {
            "label": label,
            "optimizer": optimizer,
            "learning_rate": rate,
            "keras_epsilon": keras_epsilon,
            "pytorch_epsilon": pytorch_epsilon,
            "pytorch_losses": pytorch_side[f"{name}/losses"].tolist(),
            "backends": comparisons,
            # The largest over the backends, for a one-line summary.
            "max_loss_difference": max(
                comparison["max_loss_difference"]
                for comparison in comparisons.values()
            ),
            "max_weight_difference": max(
                comparison["max_weight_difference"]
                for comparison in comparisons.values()
            ),
        }
    return found


def main():
    parser = argparse.ArgumentParser(
        description="Train Keras (on each backend) and PyTorch step by step "
        "from the same start, and compare.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=422,
        help="training steps (422: one epoch)",
    )
    parser.add_argument(
        "--output", default="runs/parity.json", help="results file"
    )
    parser.add_argument(
        "--backends",
        nargs="+",
        choices=BACKENDS,
        default=list(BACKENDS),
        help="the Keras backends to compare with PyTorch",
    )
    parser.add_argument(
        "--framework", choices=["keras", "pytorch"], help="run one side only"
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="with --framework keras: its backend",
    )
    parser.add_argument(
        "--record", help="with --framework: where that side goes"
    )
    args = parser.parse_args()
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    if args.framework:
        if not args.record or (args.framework == "keras") != bool(
            args.backend
        ):
            parser.error(
                "--framework needs --record, and --backend exactly when it "
                "is keras"
            )
        record(args.framework, args.backend, args.steps, args.record)
        return
    sides = {"pytorch": ["--framework", "pytorch"]}
    for backend in dict.fromkeys(args.backends):
        sides[backend] = ["--framework", "keras", "--backend", backend]
    output = Path(args.output)
    with tempfile.TemporaryDirectory() as work_dir:
        records = {}
        for side, options in sides.items():
            what = "PyTorch" if side == "pytorch" else f"Keras on {side}"
            print(f"parity: {what} ...", flush=True)
            path = Path(work_dir) / f"{side}.npz"
            command = [sys.executable, __file__, *options]
            command += ["--steps", str(args.steps), "--record", str(path)]
            if subprocess.run(command).returncode != 0:
                sys.exit(
                    f"parity: the {what} side failed; {output} was not written"
                )
            records[side] = np.load(path)
        found = results(records.pop("pytorch"), records, args.steps)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(output, (json.dumps(found, indent=2) + "\n").encode())
    for name, experiment in found["experiments"].items():
        for backend, comparison in experiment["backends"].items():
            verdict = (
                "agree to float32 rounding"
                if agrees_to_rounding(comparison)
                else "differ beyond float32 rounding"
            )
            print(
                f"{name:23} {backend:10} "
                f"loss {comparison['max_loss_difference']:.1e} (relative "
                f"{comparison['max_relative_loss_difference']:.1e}), "
                f"weights {comparison['max_weight_difference']:.1e}: {verdict}"
            )


if __name__ == "__main__":
    main()
