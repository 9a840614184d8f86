"""How fast is each framework here? A controlled, repeatable measurement.

`make bench` runs this. Three runners, each in its own process: Keras on the
TensorFlow backend, Keras on the PyTorch backend (KERAS_BACKEND=torch), and
plain PyTorch. Each measures, with warm-up excluded and the median and spread
of several repeats:

- the time of one training epoch of the course's model and configuration;
- the time of one training step for batch sizes from 16 to 1024;
- the float32 matrix-multiply throughput of this machine, in the same process,
  which turns the FLOPs of a step (about 6 x batch x parameters) into a
  compute limit;
- inference latency for one image and for the 10,000 test images;
- peak resident memory.

The PyTorch runner also times the lecture this course grew from: a Dataset
that converts every sample with torch.tensor, and evaluation one image at a
time, against in-memory batching.

    python -m tools.benchmark               # all, into docs/benchmark/
    python -m tools.benchmark --repeats 3   # quicker, noisier
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mnist_data import load_mnist
from run_record import cpu_model, write_atomically
from tools import PROJECT_DIR, fingerprint
from tools.course import settings, training_images

# The course's model and training settings, as the two programs define them.
SETTINGS = settings()
HIDDEN_UNITS = SETTINGS["HIDDEN_UNITS"]
BATCH_SIZE = SETTINGS["BATCH_SIZE"]
LEARNING_RATE = SETTINGS["LEARNING_RATE"]
VALIDATION_SIZE = SETTINGS["VALIDATION_SIZE"]
TRAINING_IMAGES = training_images()
BATCH_SIZES = [16, 32, 64, 128, 256, 512, 1024]
# Steps per timed run, per batch size: the largest batch still fits in one epoch.
STEPS_PER_MEASURE = 40
assert STEPS_PER_MEASURE * max(BATCH_SIZES) < TRAINING_IMAGES
WARMUP_STEPS = 5  # the first steps of a run are not timed
PARAMETERS = 784 * HIDDEN_UNITS + HIDDEN_UNITS + HIDDEN_UNITS * 10 + 10


def step_flops(batch_size):
    """Multiply-adds (x2) of one training step's matrix products.

    Forward and the weight gradient for both layers; the input gradient only
    for the output layer (no one needs the gradient of the images). That is
    about 4 x batch x parameters; the usual 6 x batch x parameters counts the
    input gradient of the first layer too. Biases and ReLU are negligible.
    """
    hidden, output = 784 * HIDDEN_UNITS, HIDDEN_UNITS * 10
    return 2 * batch_size * (2 * hidden + 3 * output)


# Each runner and its name on the pages and figures.
RUNNERS = {
    "keras-tensorflow": "Keras on TensorFlow",
    "keras-torch": "Keras on PyTorch",
    "pytorch": "PyTorch",
}
RESULTS = fingerprint.RESULT_SETS["bench"]


def timed(function, repeats, warmup=1):
    """Median, minimum and maximum seconds of `repeats` calls after warm-up."""
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return {
        "median": statistics.median(seconds),
        "min": min(seconds),
        "max": max(seconds),
        "repeats": repeats,
    }


def step_seconds(run_steps, repeats):
    """Seconds per training step: the median gap between consecutive step ends
    within a run of STEPS_PER_MEASURE steps (the first ones, warming up, left
    out), then the median and spread of that over the repeats."""
    run_steps()  # warm-up
    medians = []
    for _ in range(repeats):
        ends = run_steps()
        medians.append(statistics.median(np.diff(ends[WARMUP_STEPS:])))
    return {
        "median": statistics.median(medians),
        "min": min(medians),
        "max": max(medians),
        "repeats": repeats,
    }


def load_data():
    (x_train, y_train), (x_test, y_test) = load_mnist()
    x_train = x_train.reshape(-1, 784).astype("float32")[:-VALIDATION_SIZE] / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255
    y_train = y_train[:-VALIDATION_SIZE].astype("int64")
    return x_train, y_train, x_test, y_test.astype("int64")


MATMUL_SIZE = 2048  # large enough to run at the library's best speed


def matmul_throughput(multiply, matrix, repeats):
    """float32 FLOP/s of this library's product of a square matrix with itself.

    The matrix is made before the clock starts: only the product is timed."""
    result = timed(lambda: multiply(matrix, matrix), repeats, warmup=2)
    return 2 * MATMUL_SIZE**3 / result["median"]


def run_keras(repeats, threads):
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)

        matrix = tf.random.normal((MATMUL_SIZE, MATMUL_SIZE))
        multiply = tf.linalg.matmul

    else:
        import torch

        torch.set_num_threads(threads)

        matrix = torch.randn(MATMUL_SIZE, MATMUL_SIZE)
        multiply = torch.matmul

    x_train, y_train, x_test, y_test = load_data()

    def new_model():
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input(shape=(784,)),
                keras.layers.Dense(HIDDEN_UNITS, activation="relu"),
                keras.layers.Dense(10),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(LEARNING_RATE),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        return model

    model = new_model()
    epoch = timed(
        lambda: model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=1, verbose=0),
        repeats,
    )

    class StepClock(keras.callbacks.Callback):
        """The time at the end of every training step, inside fit."""

        def on_train_begin(self, logs=None):
            self.ends = []

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())

    steps = {}
    for batch_size in BATCH_SIZES:
        step_model, clock = new_model(), StepClock()
        size = STEPS_PER_MEASURE * batch_size

        def run_steps(model=step_model, clock=clock, size=size, batch_size=batch_size):
            model.fit(
                x_train[:size],
                y_train[:size],
                batch_size=batch_size,
                epochs=1,
                verbose=0,
                shuffle=False,
                callbacks=[clock],
            )
            return clock.ends

        steps[batch_size] = step_seconds(run_steps, repeats)
    one_image = x_test[:1]
    inference = {
        "one_image_call": timed(lambda: model(one_image, training=False), repeats * 20),
        "one_image_predict": timed(
            lambda: model.predict(one_image, verbose=0), repeats * 4
        ),
        "test_set_predict": timed(
            lambda: model.predict(x_test, batch_size=1000, verbose=0), repeats
        ),
    }
    return {
        "backend": backend,
        "versions": {"keras": keras.__version__, backend: backend_version(backend)},
        "epoch": epoch,
        "steps": steps,
        "inference": inference,
        "matmul_flops": matmul_throughput(multiply, matrix, repeats),
    }


def backend_version(backend):
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.__version__
    import torch

    return torch.__version__


def run_pytorch(repeats, threads):
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in load_data())

    def new_model():
        torch.manual_seed(0)
        return nn.Sequential(
            nn.Linear(784, HIDDEN_UNITS), nn.ReLU(), nn.Linear(HIDDEN_UNITS, 10)
        )

    loss_function = nn.CrossEntropyLoss()

    def train(model, optimizer, x, y, batch_size, shuffle=True):
        """One epoch over x; returns the time at the end of every step."""
        model.train()
        order = torch.randperm(len(x)) if shuffle else torch.arange(len(x))
        ends = []
        for indices in order.split(batch_size):
            optimizer.zero_grad()
            loss_function(model(x[indices]), y[indices]).backward()
            optimizer.step()
            ends.append(time.perf_counter())
        return ends

    model = new_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    epoch = timed(
        lambda: train(model, optimizer, x_train, y_train, BATCH_SIZE), repeats
    )
    steps = {}
    for batch_size in BATCH_SIZES:
        step_model = new_model()
        step_optimizer = torch.optim.Adam(step_model.parameters(), lr=LEARNING_RATE)
        size = STEPS_PER_MEASURE * batch_size

        def run_steps(
            model=step_model, optimizer=step_optimizer, size=size, b=batch_size
        ):
            return train(
                model, optimizer, x_train[:size], y_train[:size], b, shuffle=False
            )

        steps[batch_size] = step_seconds(run_steps, repeats)
    model.eval()

    def predict(x):
        with torch.no_grad():
            return model(x)

    inference = {
        "one_image_call": timed(lambda: predict(x_test[:1]), repeats * 20),
        "test_set_predict": timed(lambda: predict(x_test), repeats),
    }
    return {
        "backend": None,
        "versions": {"torch": torch.__version__},
        "epoch": epoch,
        "steps": steps,
        "inference": inference,
        "matmul_flops": matmul_throughput(
            torch.matmul, torch.randn(MATMUL_SIZE, MATMUL_SIZE), repeats
        ),
        "original_lecture": original_lecture(repeats, x_train, y_train, x_test, y_test),
    }


def original_lecture(repeats, x_train, y_train, x_test, y_test):
    """The lecture this course grew from, against in-memory batching, in PyTorch.

    Its Dataset built a tensor from each NumPy row on every access, and it
    evaluated one image at a time. Measured on 10,000 training images.
    """
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, Dataset

    x_numpy, y_numpy = x_train[:10000].numpy(), y_train[:10000].numpy()

    class PerSampleDataset(Dataset):
        def __len__(self):
            return len(x_numpy)

        def __getitem__(self, index):
            return torch.tensor(x_numpy[index]), torch.tensor(y_numpy[index])

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(784, HIDDEN_UNITS), nn.ReLU(), nn.Linear(HIDDEN_UNITS, 10)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_function = nn.CrossEntropyLoss()
    loader = DataLoader(PerSampleDataset(), batch_size=BATCH_SIZE, shuffle=True)

    def train_per_sample():
        for x, y in loader:
            optimizer.zero_grad()
            loss_function(model(x), y).backward()
            optimizer.step()

    x_memory, y_memory = x_train[:10000], y_train[:10000]

    def train_in_memory():
        for indices in torch.randperm(len(x_memory)).split(BATCH_SIZE):
            optimizer.zero_grad()
            loss_function(model(x_memory[indices]), y_memory[indices]).backward()
            optimizer.step()

    def evaluate_one_at_a_time():
        with torch.no_grad():
            for index in range(len(x_test)):
                model(torch.tensor(x_test[index].numpy()).unsqueeze(0))

    def evaluate_at_once():
        with torch.no_grad():
            model(x_test)

    return {
        "train_per_sample": timed(train_per_sample, repeats),
        "train_in_memory": timed(train_in_memory, repeats),
        "evaluate_one_at_a_time": timed(evaluate_one_at_a_time, repeats),
        "evaluate_at_once": timed(evaluate_at_once, repeats),
    }


def main():
    parser = argparse.ArgumentParser(
        description="Benchmark Keras (two backends) and PyTorch on the course's MLP.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed repeats per measure"
    )
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count(), help="CPU threads"
    )
    parser.add_argument("--output-dir", type=Path, default=RESULTS.path)
    parser.add_argument("--runner", choices=list(RUNNERS), help="run one runner only")
    parser.add_argument("--record", help="with --runner: where its JSON goes")
    args = parser.parse_args()
    if args.runner:
        if args.runner == "pytorch":
            result = run_pytorch(args.repeats, args.threads)
        else:
            result = run_keras(args.repeats, args.threads)
        result["peak_memory_mb"] = (
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
        Path(args.record).write_text(json.dumps(result))
        return
    results = {
        "machine": {
            "cpu": cpu_model(),
            "cpu_count": os.cpu_count(),
            "threads": args.threads,
            "python": platform.python_version(),
        },
        "config": {
            "hidden_units": HIDDEN_UNITS,
            "batch_size": BATCH_SIZE,
            "parameters": PARAMETERS,
            "training_images": TRAINING_IMAGES,
            "batch_sizes": BATCH_SIZES,
            "steps_per_measure": STEPS_PER_MEASURE,
            "warmup_steps": WARMUP_STEPS,
            "repeats": args.repeats,
        },
        "runners": {},
    }
    with tempfile.TemporaryDirectory() as work_dir:
        for runner in RUNNERS:
            print(f"bench: {runner} ...", flush=True)
            record = Path(work_dir) / f"{runner}.json"
            environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
            if runner.startswith("keras-"):
                environment["KERAS_BACKEND"] = runner.removeprefix("keras-")
            command = [sys.executable, "-m", "tools.benchmark", "--runner", runner]
            command += ["--record", str(record), "--repeats", str(args.repeats)]
            command += ["--threads", str(args.threads)]
            completed = subprocess.run(command, env=environment, cwd=PROJECT_DIR)
            if completed.returncode != 0:
                sys.exit(f"bench: {runner} failed; nothing was written")
            results["runners"][runner] = {
                "label": RUNNERS[runner],
                **json.loads(record.read_text()),
            }
    # The machine's limit: the fastest matrix multiply any library reached here.
    best_flops = max(runner["matmul_flops"] for runner in results["runners"].values())
    epoch_flops = step_flops(BATCH_SIZE) * TRAINING_IMAGES / BATCH_SIZE
    results["compute_limit"] = {
        "matmul_flops": best_flops,
        "step_flops": {str(b): step_flops(b) for b in BATCH_SIZES},
        "step_seconds": {str(b): step_flops(b) / best_flops for b in BATCH_SIZES},
        "epoch_seconds": epoch_flops / best_flops,
    }
    # Each runner's own limit: its own library's matrix multiply.
    for result in results["runners"].values():
        result["own_epoch_limit_seconds"] = epoch_flops / result["matmul_flops"]
    args.output_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2) + "\n"
    write_atomically(args.output_dir / "benchmark.json", text.encode())
    plot = [sys.executable, "-m", "tools.benchmark_figures", str(args.output_dir)]
    if subprocess.run(plot, cwd=PROJECT_DIR).returncode != 0:
        sys.exit("bench: drawing the figures failed")
    fingerprint.write(RESULTS, args.output_dir)
    limit = results["compute_limit"]["epoch_seconds"]
    for runner, result in results["runners"].items():
        median = result["epoch"]["median"]
        print(
            f"{runner:17} epoch {median:.2f} s, {TRAINING_IMAGES / median:,.0f} "
            f"samples/s, {median / limit:.1f}x the machine's compute limit "
            f"({limit:.2f} s), {median / result['own_epoch_limit_seconds']:.1f}x "
            "its own library's"
        )
    lecture = results["runners"]["pytorch"]["original_lecture"]
    speedups = {
        "training": ratio(lecture, "train_per_sample", "train_in_memory"),
        "evaluation": ratio(lecture, "evaluate_one_at_a_time", "evaluate_at_once"),
    }
    print(
        f"original lecture's way: training {speedups['training']:.1f}x, evaluation "
        f"{speedups['evaluation']:.1f}x slower than in-memory batching"
    )


def ratio(measures, slow, fast):
    return measures[slow]["median"] / measures[fast]["median"]


if __name__ == "__main__":
    main()
