"""Do Keras and PyTorch compute the same thing? Train both, step by step.

Both frameworks get the course's MLP with the *same* initial weights (a Keras
Dense kernel is the transpose of a PyTorch Linear weight), the same batches in
the same order, and the same optimizer settings. Each framework runs in its own
process (they are never imported together) and records the loss of every step
and its final weights; the two records are then compared.

    python code/parity.py                      # every experiment, compared
    python code/parity.py --steps 100          # a shorter run
    python code/parity.py --framework keras --record FILE.npz   # one side only

The experiments: plain SGD, where the two must agree to float32 rounding (and
with a ten times larger step, where training amplifies that rounding); Adam
with each framework's default epsilon; Adam with the same epsilon in both; and
Adam with an epsilon too small to matter.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from mnist_data import load_mnist
from run_record import write_atomically

HIDDEN_UNITS = 512  # the course's model
BATCH_SIZE = 128  # the course's batch size: 422 steps make one epoch
SEED = 0  # initial weights and batch order
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


# --8<-- [start:shared]
def shared_inputs(steps):
    """Training data, batch order and initial weights: identical in both runs."""
    (x_train, y_train), _ = load_mnist()
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(x_train))[: steps * BATCH_SIZE]
    batches = [order[i : i + BATCH_SIZE] for i in range(0, len(order), BATCH_SIZE)]

    def linear(fan_in, fan_out):
        # PyTorch's default for nn.Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        bound = 1 / np.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, (fan_out, fan_in)).astype("float32")
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
    final = [parameter.detach().numpy().copy() for parameter in model.parameters()]
    return np.array(losses), final


# --8<-- [end:pytorch]


# --8<-- [start:keras]
def run_keras(x_train, y_train, batches, weights, optimizer, rate, epsilon):
    import keras

    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(HIDDEN_UNITS, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    # A Dense kernel is (inputs, units): the transpose of a Linear weight.
    first_weight, first_bias, second_weight, second_bias = weights
    model.set_weights([first_weight.T, first_bias, second_weight.T, second_bias])
    if optimizer == "sgd":
        optimizer = keras.optimizers.SGD(learning_rate=rate)
    else:
        optimizer = keras.optimizers.Adam(learning_rate=rate, epsilon=epsilon)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    losses = [float(model.train_on_batch(x_train[i], y_train[i])) for i in batches]
    kernel_1, bias_1, kernel_2, bias_2 = model.get_weights()
    return np.array(losses), [kernel_1.T, bias_1, kernel_2.T, bias_2]


# --8<-- [end:keras]


def record(framework, steps, path):
    """One framework's side of every experiment, saved to an .npz file."""
    x_train, y_train, batches, weights = shared_inputs(steps)
    run = run_keras if framework == "keras" else run_pytorch
    arrays = {}
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
        for index, value in enumerate(final):
            arrays[f"{name}/weights{index}"] = value
    np.savez(path, **arrays)


def compare(records, steps):
    results = {
        "config": {
            "hidden_units": HIDDEN_UNITS,
            "batch_size": BATCH_SIZE,
            "steps": steps,
            "seed": SEED,
        },
        "experiments": {},
    }
    for name, (
        label,
        optimizer,
        rate,
        keras_epsilon,
        pytorch_epsilon,
    ) in EXPERIMENTS.items():
        keras_losses = records["keras"][f"{name}/losses"]
        pytorch_losses = records["pytorch"][f"{name}/losses"]
        weight_differences = [
            float(np.abs(records["keras"][key] - records["pytorch"][key]).max())
            for key in records["keras"].files
            if key.startswith(f"{name}/weights")
        ]
        results["experiments"][name] = {
            "label": label,
            "optimizer": optimizer,
            "learning_rate": rate,
            "keras_epsilon": keras_epsilon,
            "pytorch_epsilon": pytorch_epsilon,
            "keras_losses": keras_losses.tolist(),
            "pytorch_losses": pytorch_losses.tolist(),
            "max_loss_difference": float(np.abs(keras_losses - pytorch_losses).max()),
            "max_weight_difference": max(weight_differences),
        }
    return results


def main():
    parser = argparse.ArgumentParser(
        description="Train Keras and PyTorch step by step from the same start.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--steps", type=int, default=422, help="training steps (422: one epoch)"
    )
    parser.add_argument("--output", default="runs/parity.json", help="results file")
    parser.add_argument(
        "--framework", choices=["keras", "pytorch"], help="run one side only"
    )
    parser.add_argument("--record", help="with --framework: where that side goes")
    args = parser.parse_args()
    if args.framework:
        record(args.framework, args.steps, args.record)
        return
    with tempfile.TemporaryDirectory() as work_dir:
        records = {}
        for framework in ("keras", "pytorch"):
            path = Path(work_dir) / f"{framework}.npz"
            command = [sys.executable, __file__, "--framework", framework]
            command += ["--steps", str(args.steps), "--record", str(path)]
            if subprocess.run(command).returncode != 0:
                sys.exit(f"parity: the {framework} side failed")
            records[framework] = np.load(path)
        results = compare(records, args.steps)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(output, (json.dumps(results, indent=2) + "\n").encode())
    for name, result in results["experiments"].items():
        print(
            f"{name:22} largest loss difference {result['max_loss_difference']:.2e}, "
            f"largest weight difference {result['max_weight_difference']:.2e}"
        )


if __name__ == "__main__":
    main()
