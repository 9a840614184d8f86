"""Input pipelines in both frameworks, and the bridge between them, run for
real.

An input pipeline is the code between the data set and the training step: it
draws an order, cuts the data into batches and hands them to the model. The
two programs need none: the whole training set sits in memory as two arrays,
and each batch is a slice of them. This file shows that way next to each
framework's own pipeline, then the bridge: Keras on the PyTorch backend
trained from a PyTorch DataLoader, and by a plain PyTorch loop.

    python code/input_pipelines.py --output bridge.json

The bridge needs Keras' PyTorch backend: the program selects it unless the
KERAS_BACKEND environment variable asks for another one, which it refuses.
Each function imports the framework it needs when it runs, so that a process
loads only what it uses (tools/pipeline_benchmark.py times each framework in
its own process with these functions).
"""

import argparse
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

from mnist_data import MnistError, load_mnist
from run_record import library_versions, write_atomically

HIDDEN_UNITS = 512  # the course's model
BATCH_SIZE = 128  # the course's batch size
LEARNING_RATE = 1e-3  # the course's step size for Adam, kept constant here
VALIDATION_SIZE = 6000  # the last 10% of the training set, as in the programs
SEED = 0  # one seed for weights and shuffling: same command, same numbers
# The bridge trains one epoch on the first images only: enough to learn, quick.
BRIDGE_TRAIN_SIZE = 10_000


def load_arrays(data_dir=None, train_size=None):
    """The programs' preprocessing: flat float32 images in [0, 1], the last
    VALIDATION_SIZE training images held out, int64 labels (what PyTorch's
    loss expects, and Keras accepts)."""
    (x_train, y_train), _ = load_mnist(data_dir)
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    y_train = y_train.astype("int64")
    x_train, x_val = x_train[:-VALIDATION_SIZE], x_train[-VALIDATION_SIZE:]
    y_train, y_val = y_train[:-VALIDATION_SIZE], y_train[-VALIDATION_SIZE:]
    return x_train[:train_size], y_train[:train_size], x_val, y_val


# --8<-- [start:pytorch_in_memory]
def in_memory_batches(x, y, batch_size=BATCH_SIZE):
    """One epoch of batches the way pytorch_mlp.py makes them: a new random
    order, then slices of the two tensors."""
    import torch

    for indices in torch.randperm(len(x)).split(batch_size):
        yield x[indices], y[indices]


# --8<-- [end:pytorch_in_memory]


# --8<-- [start:pytorch_data_loader]
def data_loader(x, y, batch_size=BATCH_SIZE):
    """PyTorch's pipeline: a Dataset gives sample number i; a DataLoader draws
    the order, fetches the samples of a batch one by one and stacks them."""
    from torch.utils.data import DataLoader, TensorDataset

    # TensorDataset: sample i is (x[i], y[i]) of tensors already in memory.
    # num_workers=0, the default: the samples are fetched in this process.
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)


# --8<-- [end:pytorch_data_loader]


# --8<-- [start:pytorch_per_sample]
def per_sample_loader(x, y, batch_size=BATCH_SIZE):
    """A Dataset written by hand over NumPy arrays, as the lecture this course
    grew from did: every access makes new tensors from one image's row."""
    import torch
    from torch.utils.data import DataLoader, Dataset

    class ImagesFromArrays(Dataset):
        def __len__(self):
            return len(x)

        def __getitem__(self, index):
            return torch.tensor(x[index]), torch.tensor(y[index])

    return DataLoader(ImagesFromArrays(), batch_size=batch_size, shuffle=True)


# --8<-- [end:pytorch_per_sample]


# --8<-- [start:pytorch_loop]
def pytorch_model():
    """The course's MLP, in PyTorch."""
    from torch import nn

    return nn.Sequential(
        nn.Linear(784, HIDDEN_UNITS), nn.ReLU(), nn.Linear(HIDDEN_UNITS, 10)
    )


def train_epoch(model, optimizer, batches):
    """One epoch of PyTorch training, whatever pipeline the batches come
    from."""
    from torch import nn

    loss_function = nn.CrossEntropyLoss()
    for x_batch, y_batch in batches:
        optimizer.zero_grad()
        loss = loss_function(model(x_batch), y_batch)
        loss.backward()
        optimizer.step()


# --8<-- [end:pytorch_loop]


# --8<-- [start:keras_in_memory]
def keras_model():
    """The course's MLP, in Keras, compiled as the Keras program compiles it
    (with a constant step size here)."""
    import keras

    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(HIDDEN_UNITS, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def fit_on_arrays(model, x, y):
    """The way keras_mlp.py trains: fit cuts the NumPy arrays into batches
    itself, in a new random order every epoch (shuffle=True, the default)."""
    return model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)


# --8<-- [end:keras_in_memory]


# --8<-- [start:keras_tf_data]
def tf_dataset(x, y, batch_size=BATCH_SIZE):
    """TensorFlow's pipeline: a chain of steps, each one a new Dataset."""
    import tensorflow as tf

    return (
        tf.data.Dataset.from_tensor_slices((x, y))  # one element per image
        # A buffer the size of the set: a full shuffle, drawn anew every epoch.
        .shuffle(len(x))
        .batch(batch_size)
        # Prepare the next batches in the background while the model trains.
        .prefetch(tf.data.AUTOTUNE)
    )


# --8<-- [end:keras_tf_data]


# --8<-- [start:keras_py_dataset]
def py_dataset(x, y, batch_size=BATCH_SIZE):
    """Keras' own pipeline, on every backend: a PyDataset gives
    batch number i."""
    import keras

    class ShuffledBatches(keras.utils.PyDataset):
        def __init__(self, **options):
            # workers=1: batches made in this process
            super().__init__(**options)
            self.order = np.random.permutation(len(x))

        def __len__(self):  # batches per epoch
            return math.ceil(len(x) / batch_size)

        def __getitem__(self, index):
            batch = self.order[index * batch_size : (index + 1) * batch_size]
            return x[batch], y[batch]

        def on_epoch_end(self):  # fit calls it after each epoch
            self.order = np.random.permutation(len(x))

    return ShuffledBatches()


# --8<-- [end:keras_py_dataset]


# --8<-- [start:keras_fit_pipeline]
def fit_on_pipeline(model, batches):
    """fit takes the batches, labels included, from a pipeline: no y, no
    batch_size. shuffle=False: the pipeline shuffles. With shuffle=True, fit
    would warn and ignore it for a tf.data pipeline, a DataLoader or a
    generator, and put a finite PyDataset's batches in a new order."""
    return model.fit(batches, epochs=1, shuffle=False, verbose=0)


# --8<-- [end:keras_fit_pipeline]


def described(value):
    """A batch's array as the pages show it: library and type, dtype, shape."""
    kind = type(value)
    return {
        "type": f"{kind.__module__.split('.')[0]}.{kind.__name__}",
        # TensorFlow's and NumPy's dtypes have a name; PyTorch's prints as one.
        "dtype": getattr(value.dtype, "name", str(value.dtype)),
        "shape": list(value.shape),
    }


def describe_pipelines(x_train, y_train):
    """What each pipeline yields over one epoch: batches, images,
    first batch."""
    import torch

    x_tensor, y_tensor = torch.from_numpy(x_train), torch.from_numpy(y_train)
    # Each pipeline with the arrays it takes: tensors, or NumPy's.
    inputs = [
        (in_memory_batches, x_tensor, y_tensor),
        (data_loader, x_tensor, y_tensor),
        (per_sample_loader, x_train, y_train),
        (tf_dataset, x_train, y_train),
        (py_dataset, x_train, y_train),
    ]
    found = {}
    for pipeline, x, y in inputs:
        batches = list(pipeline(x, y))
        x_batch, y_batch = batches[0]
        found[pipeline.__name__] = {
            "batches": len(batches),
            "images": sum(len(images) for images, _ in batches),
            "x": described(x_batch),
            "y": described(y_batch),
        }
    return found


# --8<-- [start:bridge]
def bridge(x_train, y_train, x_val, y_val):
    """Keras on the PyTorch backend, fed and trained by PyTorch."""
    import keras
    import torch

    x_train, y_train = torch.from_numpy(x_train), torch.from_numpy(y_train)
    x_val, y_val = torch.from_numpy(x_val), torch.from_numpy(y_val)
    loader = data_loader(x_train, y_train)

    # 1. Keras' fit takes a PyTorch DataLoader as it is.
    keras.utils.set_random_seed(SEED)  # seeds torch too: weights and order
    model = keras_model()
    fit_on_pipeline(model, loader)
    _, fit_accuracy = model.evaluate(x_val, y_val, verbose=0)

    # 2. On this backend a Keras model is a torch.nn.Module: its parameters
    # go to a PyTorch optimizer, and the PyTorch loop above trains it.
    keras.utils.set_random_seed(SEED)
    module = keras_model()
    optimizer = torch.optim.Adam(module.parameters(), lr=LEARNING_RATE)
    train_epoch(module, optimizer, loader)
    with torch.no_grad():
        logits = module(x_val)  # a torch.Tensor in, a torch.Tensor out
    loop_accuracy = (logits.argmax(dim=1) == y_val).float().mean().item()
    # --8<-- [end:bridge]
    return {
        "model_type": type(module).__name__,
        "is_torch_module": isinstance(module, torch.nn.Module),
        "parameter_tensors": len(list(module.parameters())),
        "parameter_count_torch": sum(p.numel() for p in module.parameters()),
        "parameter_count_keras": module.count_params(),
        "output_type": described(logits)["type"],
        "batches_per_epoch": len(loader),
        "fit_on_data_loader_accuracy": float(fit_accuracy),
        "pytorch_loop_accuracy": loop_accuracy,
    }


def positive_int(text):
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer, got {text!r}"
        )
    return int(text)


def main():
    parser = argparse.ArgumentParser(
        description="Show each framework's input pipelines and train Keras "
        "on the PyTorch backend from a PyTorch DataLoader and in a PyTorch "
        "loop.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--train-size",
        type=positive_int,
        default=BRIDGE_TRAIN_SIZE,
        help="training images for the bridge's one epoch",
    )
    parser.add_argument(
        "--output", help="write what the run observed to this file"
    )
    parser.add_argument("--data-dir", help="folder with the MNIST IDX files")
    args = parser.parse_args()
    if args.output and not Path(args.output).parent.is_dir():
        parser.error(f"--output: no folder {Path(args.output).parent}")
    # The backend is chosen once, when keras is first imported.
    backend = os.environ.setdefault("KERAS_BACKEND", "torch")
    if backend != "torch":
        sys.exit(
            "error: the bridge needs Keras' PyTorch backend, but "
            f"KERAS_BACKEND is {backend!r}: run it with KERAS_BACKEND=torch, "
            "or unset it."
        )
    try:
        x_train, y_train, x_val, y_val = load_arrays(
            args.data_dir, args.train_size
        )
    except MnistError as error:
        sys.exit(f"error: {error}")
    # Where both frameworks share a process, torch comes first: the other
    # order is known to crash here (torchvision imported after TensorFlow).
    import torch  # noqa: F401

    # isort: split
    import keras

    observed = {
        "backend": keras.backend.backend(),
        "versions": library_versions(),
        "config": {
            "train_size": len(x_train),
            "validation_size": len(x_val),
            "batch_size": BATCH_SIZE,
            "seed": SEED,
        },
        "pipelines": describe_pipelines(x_train, y_train),
        "bridge": bridge(x_train, y_train, x_val, y_val),
    }
    for name, found in observed["pipelines"].items():
        print(
            f"{name:20} {found['batches']} batches, x: {found['x']['type']} "
            f"{found['x']['dtype']} {found['x']['shape']}, "
            f"y: {found['y']['type']} {found['y']['dtype']}"
        )
    result = observed["bridge"]
    print(
        f"bridge: backend {observed['backend']}, "
        f"Keras model is a torch.nn.Module: {result['is_torch_module']}; "
        "validation accuracy after one epoch: "
        f"fit on a DataLoader {result['fit_on_data_loader_accuracy']:.2%}, "
        f"a PyTorch loop {result['pytorch_loop_accuracy']:.2%}"
    )
    if args.output:
        text = json.dumps(observed, indent=2) + "\n"
        write_atomically(Path(args.output), text.encode())
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
