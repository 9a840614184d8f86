"""How fast is each framework here, and what makes each fast? A controlled,
repeatable measurement.

`make bench` runs this. Four runners, each in its own process: Keras on the
TensorFlow, JAX and PyTorch backends (KERAS_BACKEND), and plain PyTorch. Each
measures, with warm-up excluded and the median and spread of several repeats:

- the time of one training epoch of the course's model and configuration,
  once per variant: the changes a reader can make (Keras: the compile
  defaults, jit_compile=True or False, steps_per_execution; PyTorch: Adam's
  default implementation, Adam(fused=True), torch.compile of the model or of
  the whole training step);
- the time of one training step for batch sizes from 16 to 1024;
- the float32 matrix-multiply throughput of its library, in the same process,
  which turns the FLOPs of a step into a compute limit;
- inference latency for one image and for the 10,000 test images;
- peak resident memory.

The settings of a runner are timed in turn (one epoch of each, then again),
so that a slow spell of a shared machine falls on all of them, not on one.

Then the course's own programs (code/keras_mlp.py on each backend,
code/pytorch_mlp.py) run with their default settings, each in its own process,
for the time of one of their epochs. The PyTorch runner also times the way of
the lecture this course grew from, a Dataset that converts every sample with
torch.tensor, and evaluation one image at a time, against in-memory batching.

    python -m tools.benchmark                  # all, into docs/benchmark/
    python -m tools.benchmark --repeats 3      # quicker, noisier
    python -m tools.benchmark --max-steps 20   # a quick check of the code only
"""

import argparse
import json
import math
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

import input_pipelines
from mnist_data import load_mnist
from run_record import cpu_model, write_atomically
from tools import CODE_DIR, PROJECT_DIR, fingerprint
from tools.course import settings, training_images
from tools.results import RESULT_SETS

# The course's model and training settings, as the two programs define them.
SETTINGS = settings()
HIDDEN_UNITS = SETTINGS["HIDDEN_UNITS"]
BATCH_SIZE = SETTINGS["BATCH_SIZE"]
LEARNING_RATE = SETTINGS["LEARNING_RATE"]
VALIDATION_SIZE = SETTINGS["VALIDATION_SIZE"]
TRAINING_IMAGES = training_images()
STEPS_PER_EPOCH = math.ceil(TRAINING_IMAGES / BATCH_SIZE)
BATCH_SIZES = [16, 32, 64, 128, 256, 512, 1024]
# Steps per timed run, per batch size: the largest batch still fits in one epoch.
STEPS_PER_MEASURE = 40
assert STEPS_PER_MEASURE * max(BATCH_SIZES) < TRAINING_IMAGES
WARMUP_STEPS = 5  # the first steps of a run are not timed
# --max-steps can shorten every timed run, down to a few steps past the warm-up.
MINIMUM_STEPS = WARMUP_STEPS + 2
PARAMETERS = 784 * HIDDEN_UNITS + HIDDEN_UNITS + HIDDEN_UNITS * 10 + 10
# The original lecture's comparison: that many training images.
LECTURE_IMAGES = 10_000


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
    "keras-jax": "Keras on JAX",
    "keras-torch": "Keras on PyTorch",
    "pytorch": "PyTorch",
}
# The library that multiplies the matrices in each runner's process.
LIBRARIES = {
    "keras-tensorflow": "TensorFlow",
    "keras-jax": "JAX",
    "keras-torch": "PyTorch",
    "pytorch": "PyTorch",
}
# The course's own program for each runner, run with its default settings,
# and the environment it needs: Keras reads its backend from KERAS_BACKEND.
PROGRAMS = {
    "keras-tensorflow": ("keras_mlp.py", {"KERAS_BACKEND": "tensorflow"}),
    "keras-jax": ("keras_mlp.py", {"KERAS_BACKEND": "jax"}),
    "keras-torch": ("keras_mlp.py", {"KERAS_BACKEND": "torch"}),
    "pytorch": ("pytorch_mlp.py", {}),
}

# Steps that Keras runs in one call of its training function, for the
# steps_per_execution variant. The fixed cost of a call (Python, the fit loop,
# the callbacks) is then shared by that many steps, while callbacks and the
# progress bar still hear from fit several times an epoch.
STEPS_PER_EXECUTION = 32
assert STEPS_PER_EXECUTION < STEPS_PER_EPOCH
# The variants of Keras' compile, each as the options it passes to compile.
KERAS_VARIANTS = {
    "defaults": {},
    "jit-compile": {"jit_compile": True},
    "no-jit-compile": {"jit_compile": False},
    "steps-per-execution": {"steps_per_execution": STEPS_PER_EXECUTION},
}
# The variants of the PyTorch loop, each as its name on the pages: the code
# that changes.
PYTORCH_VARIANTS = {
    "defaults": "Adam(params, lr)",
    "fused-adam": "Adam(params, lr, fused=True)",
    "compiled-model": "torch.compile(model)",
    "compiled-step": "torch.compile(training_step)",
}
VARIANTS = {
    runner: PYTORCH_VARIANTS if runner == "pytorch" else KERAS_VARIANTS
    for runner in RUNNERS
}
# Variants too slow for whole epochs, timed over this many steps and scaled to
# an epoch: Keras on JAX without jit_compile runs every operation on its own.
TIMED_STEPS = {("keras-jax", "no-jit-compile"): 64}

RESULTS = RESULT_SETS["bench"]
# The goal of issue 15 for the fastest way to train here, as a multiple of the
# machine's compute limit; printed at the end of a run.
GOAL_RATIOS = (2.5, 2.0)


def summary(seconds):
    """Median, minimum and maximum of a list of times."""
    return {
        "median": statistics.median(seconds),
        "min": min(seconds),
        "max": max(seconds),
        "repeats": len(seconds),
    }


def timed(function, repeats, warmup=1):
    """Median, minimum and maximum seconds of `repeats` calls after warm-up."""
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return summary(seconds)


def timed_in_turn(functions, repeats):
    """Each function's median, minimum and maximum seconds, the repeats taken
    in turn (one call of each, then again), so that a slow spell of the
    machine falls on all of them rather than on one. Warm them up first."""
    seconds = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            seconds[name].append(time.perf_counter() - start)
    return {name: summary(times) for name, times in seconds.items()}


def scaled(measure, factor):
    """A time measure multiplied by `factor` (a part of an epoch -> an epoch)."""
    return {
        **{key: measure[key] * factor for key in ("median", "min", "max")},
        "repeats": measure["repeats"],
    }


def keras_label(options):
    """A Keras variant's name on the pages: its options to compile."""
    if not options:
        return "compile defaults"
    return ", ".join(f"{name}={value}" for name, value in options.items())


def timed_steps(runner, variant, max_steps=None):
    """Training steps in each timed run of a variant: an epoch, or fewer."""
    steps = min(STEPS_PER_EPOCH, TIMED_STEPS.get((runner, variant), STEPS_PER_EPOCH))
    return min(steps, max_steps) if max_steps else steps


def epoch_result(measure, steps):
    """The time of an epoch from runs of `steps` steps, and how it was timed."""
    return {
        "epoch": scaled(measure, STEPS_PER_EPOCH / steps),
        "steps_timed": steps,
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
    return summary(medians)


def load_data():
    (x_train, y_train), (x_test, y_test) = load_mnist()
    x_train = x_train.reshape(-1, 784).astype("float32")[:-VALIDATION_SIZE] / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255
    y_train = y_train[:-VALIDATION_SIZE].astype("int64")
    return x_train, y_train, x_test, y_test.astype("int64")


MATMUL_SIZE = 2048  # large enough to run at the library's best speed


def matmul_throughput(multiply, matrix, repeats):
    """float32 FLOP/s of this library's product of a square matrix with itself.

    The matrix is made before the clock starts: only the product is timed.
    `multiply` returns once the product is computed (JAX's calls return
    before: its runner waits with block_until_ready)."""
    result = timed(lambda: multiply(matrix, matrix), repeats, warmup=2)
    return 2 * MATMUL_SIZE**3 / result["median"]


def library_matmul(backend, threads):
    """This backend's float32 matrix product and a matrix to multiply, with
    its thread count set (JAX has no such setting: the process's cores, see
    `pinned_to`)."""
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        return tf.linalg.matmul, tf.random.normal((MATMUL_SIZE, MATMUL_SIZE))
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        matrix = jax.random.normal(jax.random.key(0), (MATMUL_SIZE, MATMUL_SIZE))
        return lambda a, b: jnp.matmul(a, b).block_until_ready(), matrix
    import torch

    torch.set_num_threads(threads)
    return torch.matmul, torch.randn(MATMUL_SIZE, MATMUL_SIZE)


def backend_version(backend):
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.__version__
    if backend == "jax":
        import jax

        return jax.__version__
    import torch

    return torch.__version__


def run_keras(runner, repeats, threads, max_steps=None):
    import keras

    backend = keras.backend.backend()
    multiply, matrix = library_matmul(backend, threads)
    if backend == "jax":
        import jax

        # JAX returns from a call before the result is computed: wait for it.
        finished = jax.block_until_ready
    else:
        finished = lambda outputs: outputs  # noqa: E731

    x_train, y_train, x_test, y_test = load_data()

    def new_model(**compile_options):
        keras.utils.set_random_seed(0)
        # The course's model, built again from its configuration (uncompiled:
        # clone_model would compile it as the original), then compiled here
        # without metrics, which cost time, and with the variant's options.
        course_model = input_pipelines.keras_model()
        model = keras.Sequential.from_config(course_model.get_config())
        model.compile(
            optimizer=keras.optimizers.Adam(LEARNING_RATE),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            **compile_options,
        )
        return model

    variants, models, fits = {}, {}, {}
    for name, options in KERAS_VARIANTS.items():
        print(f"bench: {runner}, {name} (warm-up) ...", flush=True)
        size = min(timed_steps(runner, name, max_steps) * BATCH_SIZE, len(x_train))
        model = new_model(**options)

        def fit(model=model, size=size):
            model.fit(x_train[:size], y_train[:size], batch_size=BATCH_SIZE, verbose=0)

        variants[name] = {"label": keras_label(options)}
        try:
            fit()  # the warm-up run, which builds and compiles the step
        except ValueError as error:
            # The PyTorch backend refuses steps_per_execution > 1: recorded
            # with its own message, as a result. Any other error is a failure.
            if "steps_per_execution" not in options:
                raise
            variants[name].update(supported=False, reason=str(error))
            continue
        # jit_compile as Keras resolved it ("auto" becomes True or False).
        variants[name].update(supported=True, jit_compile=bool(model.jit_compile))
        models[name], fits[name] = model, fit
    print(f"bench: {runner}, every setting, {repeats} times ...", flush=True)
    for name, measure in timed_in_turn(fits, repeats).items():
        steps = timed_steps(runner, name, max_steps)
        variants[name].update(epoch_result(measure, steps))
    model = models["defaults"]

    class StepClock(keras.callbacks.Callback):
        """The time at the end of every training step, inside fit."""

        def on_train_begin(self, logs=None):
            self.ends = []

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())

    steps = {}
    steps_per_measure = min(STEPS_PER_MEASURE, max_steps or STEPS_PER_MEASURE)
    for batch_size in BATCH_SIZES:
        step_model, clock = new_model(), StepClock()
        size = steps_per_measure * batch_size

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
        "one_image_call": timed(
            lambda: finished(model(one_image, training=False)), repeats * 20
        ),
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
        "variants": variants,
        "steps": steps,
        "inference": inference,
        "matmul_flops": matmul_throughput(multiply, matrix, repeats),
    }


def run_pytorch(repeats, threads, max_steps=None):
    import torch
    from torch import nn
    from torch.optim.optimizer import _default_to_fused_or_foreach

    multiply, matrix = library_matmul("torch", threads)
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in load_data())

    def new_model():
        torch.manual_seed(0)
        return input_pipelines.pytorch_model()

    loss_function = nn.CrossEntropyLoss()

    def new_step(model, optimizer):
        def training_step(x, y):
            optimizer.zero_grad()
            loss_function(model(x), y).backward()
            optimizer.step()

        return training_step

    def train(training_step, x, y, batch_size, shuffle=True):
        """One epoch over x; returns the time at the end of every step."""
        order = torch.randperm(len(x)) if shuffle else torch.arange(len(x))
        ends = []
        for indices in order.split(batch_size):
            training_step(x[indices], y[indices])
            ends.append(time.perf_counter())
        return ends

    variants, epochs = {}, {}
    for name in PYTORCH_VARIANTS:
        print(f"bench: pytorch, {name} (warm-up) ...", flush=True)
        size = min(timed_steps("pytorch", name, max_steps) * BATCH_SIZE, len(x_train))
        model = new_model()
        optimizer = torch.optim.Adam(
            model.parameters(),
            lr=LEARNING_RATE,
            fused=True if name == "fused-adam" else None,  # None: Adam's choice
        )
        if name == "compiled-model":
            model = torch.compile(model)
        training_step = new_step(model, optimizer)
        if name == "compiled-step":
            training_step = torch.compile(training_step)
        model.train()

        def epoch(step=training_step, size=size):
            train(step, x_train[:size], y_train[:size], BATCH_SIZE)

        epoch()  # the warm-up run, which compiles where torch.compile is asked
        epochs[name] = epoch
        variants[name] = {"label": PYTORCH_VARIANTS[name], "supported": True}
        if name == "compiled-step":
            # How TorchDynamo splits the step into compiled graphs, and why.
            other = new_model()
            other_step = new_step(other, torch.optim.Adam(other.parameters()))
            explanation = torch._dynamo.explain(other_step)(
                x_train[:BATCH_SIZE], y_train[:BATCH_SIZE]
            )
            variants[name]["graphs"] = explanation.graph_count
            variants[name]["graph_breaks"] = [
                str(reason.reason).splitlines()[0]
                for reason in explanation.break_reasons
            ]
        if name == "defaults":
            default_model = model
            # What Adam runs when neither fused nor foreach is given: the same
            # call torch.optim.adam makes to choose, on these parameters.
            fused, foreach = _default_to_fused_or_foreach(
                list(model.parameters()), differentiable=False, use_fused=False
            )
            variants[name]["adam"] = {"fused": fused, "foreach": foreach}
    print(f"bench: pytorch, every setting, {repeats} times ...", flush=True)
    for name, measure in timed_in_turn(epochs, repeats).items():
        steps = timed_steps("pytorch", name, max_steps)
        variants[name].update(epoch_result(measure, steps))
    steps = {}
    steps_per_measure = min(STEPS_PER_MEASURE, max_steps or STEPS_PER_MEASURE)
    for batch_size in BATCH_SIZES:
        step_model = new_model()
        step_optimizer = torch.optim.Adam(step_model.parameters(), lr=LEARNING_RATE)
        size = steps_per_measure * batch_size

        step = new_step(step_model, step_optimizer)

        def run_steps(step=step, size=size, b=batch_size):
            return train(step, x_train[:size], y_train[:size], b, shuffle=False)

        steps[batch_size] = step_seconds(run_steps, repeats)
    model = default_model
    model.eval()

    def predict(x):
        with torch.no_grad():
            return model(x)

    inference = {
        "one_image_call": timed(lambda: predict(x_test[:1]), repeats * 20),
        "test_set_predict": timed(lambda: predict(x_test), repeats),
    }
    lecture_images = min(LECTURE_IMAGES, (max_steps or math.inf) * BATCH_SIZE)
    return {
        "backend": None,
        "versions": {"torch": torch.__version__},
        "variants": variants,
        "steps": steps,
        "inference": inference,
        "matmul_flops": matmul_throughput(multiply, matrix, repeats),
        "original_lecture": original_lecture(
            repeats, x_train[:lecture_images], y_train[:lecture_images], x_test
        ),
    }


def original_lecture(repeats, x_train, y_train, x_test):
    """Per-sample work against in-memory batching, in PyTorch: a Dataset that
    builds a tensor from each NumPy row on every access (as the lecture this
    course grew from did), and evaluation one image at a time. Measured on
    LECTURE_IMAGES training images.
    """
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, Dataset

    x_numpy, y_numpy = x_train.numpy(), y_train.numpy()

    class PerSampleDataset(Dataset):
        def __len__(self):
            return len(x_numpy)

        def __getitem__(self, index):
            return torch.tensor(x_numpy[index]), torch.tensor(y_numpy[index])

    torch.manual_seed(0)
    model = input_pipelines.pytorch_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_function = nn.CrossEntropyLoss()
    loader = DataLoader(PerSampleDataset(), batch_size=BATCH_SIZE, shuffle=True)

    def train_per_sample():
        for x, y in loader:
            optimizer.zero_grad()
            loss_function(model(x), y).backward()
            optimizer.step()

    def train_in_memory():
        for indices in torch.randperm(len(x_train)).split(BATCH_SIZE):
            optimizer.zero_grad()
            loss_function(model(x_train[indices]), y_train[indices]).backward()
            optimizer.step()

    def evaluate_one_at_a_time():
        with torch.no_grad():
            for index in range(len(x_test)):
                model(torch.tensor(x_test[index].numpy()).unsqueeze(0))

    def evaluate_at_once():
        with torch.no_grad():
            model(x_test)

    return {
        "images": len(x_train),
        "train_per_sample": timed(train_per_sample, repeats),
        "train_in_memory": timed(train_in_memory, repeats),
        "evaluate_one_at_a_time": timed(evaluate_one_at_a_time, repeats),
        "evaluate_at_once": timed(evaluate_at_once, repeats),
    }


def pinned_to(threads):
    """For subprocess's preexec_fn: keep a child on `threads` cores when that
    is fewer than the machine has. JAX (XLA) sizes its thread pool by the
    process's cores and has no setting of its own (jax-ml/jax#1539)."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not cores or threads >= len(cores):
        return None
    return lambda: os.sched_setaffinity(0, set(cores[:threads]))


def thread_environment(threads):
    """The environment of a child process: quiet TensorFlow, and when fewer
    threads than cores are asked for, each library's thread settings."""
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if threads < os.cpu_count():
        for name in (
            "OMP_NUM_THREADS",  # PyTorch
            "TF_NUM_INTRAOP_THREADS",  # TensorFlow, within one operation
            "TF_NUM_INTEROP_THREADS",  # TensorFlow, operations side by side
        ):
            environment[name] = str(threads)
    return environment


def run_program(runner, repeats, threads, max_steps, work_dir):
    """The course's own program for `runner`, with its default settings, for
    repeats + 1 epochs: the time of each epoch but the first (which compiles
    and warms up), as the program measured it, validation included."""
    output_dir = Path(work_dir) / f"program-{runner}"
    script, variables = PROGRAMS[runner]
    command = [sys.executable, str(CODE_DIR / script)]
    command += ["--epochs", str(repeats + 1), "--quiet", "--output-dir", output_dir]
    steps = STEPS_PER_EPOCH
    if max_steps and max_steps < STEPS_PER_EPOCH:
        steps = max_steps
        command += ["--train-size", str(steps * BATCH_SIZE)]
    completed = subprocess.run(
        command,
        env={**thread_environment(threads), **variables},
        cwd=PROJECT_DIR,
        preexec_fn=pinned_to(threads),
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        sys.exit(
            f"bench: the program {script} ({runner}) failed; nothing was "
            f"written:\n{completed.stderr[-2000:]}"
        )
    metrics = json.loads((output_dir / "metrics.json").read_text())
    return {
        "command": " ".join(
            [*(f"{name}={value}" for name, value in variables.items())]
            + ["python", f"code/{script}"]
        ),
        **epoch_result(summary(metrics["epoch_seconds"][1:]), steps),
    }


def summarize(results):
    """Everything derived from the measures: the machine's compute limit (the
    fastest float32 matrix multiply any library reached), each library's own
    limit, and every epoch time as a multiple of both."""
    runners = results["runners"]
    best_flops = max(runner["matmul_flops"] for runner in runners.values())
    epoch_flops = step_flops(BATCH_SIZE) * TRAINING_IMAGES / BATCH_SIZE
    limit = epoch_flops / best_flops
    results["compute_limit"] = {
        "matmul_flops": best_flops,
        "library": next(
            runner["library"]
            for runner in runners.values()
            if runner["matmul_flops"] == best_flops
        ),
        "step_flops": {str(b): step_flops(b) for b in BATCH_SIZES},
        "step_seconds": {str(b): step_flops(b) / best_flops for b in BATCH_SIZES},
        "epoch_seconds": limit,
    }
    fastest = None
    for name, runner in runners.items():
        own_limit = epoch_flops / runner["matmul_flops"]
        runner["own_epoch_limit_seconds"] = own_limit
        runner["epoch"] = runner["variants"]["defaults"]["epoch"]
        measured = [runner["program"]] if "program" in runner else []
        measured += [v for v in runner["variants"].values() if v["supported"]]
        for result in measured:
            result["machine_limit_ratio"] = result["epoch"]["median"] / limit
            result["own_limit_ratio"] = result["epoch"]["median"] / own_limit
        for variant, result in runner["variants"].items():
            if result["supported"] and (
                fastest is None
                or result["epoch"]["median"] < fastest["epoch"]["median"]
            ):
                fastest = {"runner": name, "variant": variant, **result}
    results["fastest"] = {
        key: fastest[key]
        for key in ("runner", "variant", "epoch", "machine_limit_ratio")
    }
    return results


def parse_arguments(arguments=None):
    parser = argparse.ArgumentParser(
        description="Benchmark Keras (three backends) and PyTorch on the course's "
        "MLP, and the changes that make each faster.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed repeats per measure"
    )
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count(), help="CPU threads"
    )
    parser.add_argument(
        "--max-steps",
        type=int,
        help="time at most this many training steps per run, scaled to an "
        "epoch: a quick check of the code, not a measurement; None: whole epochs",
    )
    parser.add_argument("--output-dir", type=Path, default=RESULTS.path)
    parser.add_argument("--runner", choices=list(RUNNERS), help="run one runner only")
    parser.add_argument("--record", type=Path, help="with --runner: its JSON file")
    args = parser.parse_args(arguments)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if not 1 <= args.threads <= os.cpu_count():
        parser.error(f"--threads must be from 1 to {os.cpu_count()}, this machine's")
    if args.max_steps is not None and args.max_steps < MINIMUM_STEPS:
        parser.error(
            f"--max-steps must be at least {MINIMUM_STEPS}: the first "
            f"{WARMUP_STEPS} steps of a run are not timed"
        )
    if bool(args.runner) != bool(args.record):
        parser.error("--runner and --record go together")
    return args


def main():
    args = parse_arguments()
    if args.runner:
        if args.runner == "pytorch":
            result = run_pytorch(args.repeats, args.threads, args.max_steps)
        else:
            result = run_keras(args.runner, args.repeats, args.threads, args.max_steps)
        result["peak_memory_mb"] = (
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
        write_atomically(args.record, json.dumps(result).encode())
        return
    started = time.perf_counter()
    load = os.getloadavg()[0]
    if load > 0.5:
        print(
            f"bench: the machine is busy (load average {load:.1f} over the last "
            "minute); the times will be noisy",
            flush=True,
        )
    results = {
        "machine": {
            "cpu": cpu_model(),
            "cpu_count": os.cpu_count(),
            "threads": args.threads,
            "python": platform.python_version(),
            "load_average_at_start": load,
        },
        "config": {
            "hidden_units": HIDDEN_UNITS,
            "batch_size": BATCH_SIZE,
            "parameters": PARAMETERS,
            "training_images": TRAINING_IMAGES,
            "steps_per_epoch": STEPS_PER_EPOCH,
            "batch_sizes": BATCH_SIZES,
            "steps_per_measure": STEPS_PER_MEASURE,
            "warmup_steps": WARMUP_STEPS,
            "steps_per_execution": STEPS_PER_EXECUTION,
            "repeats": args.repeats,
            "max_steps": args.max_steps,
        },
        "runners": {},
    }
    with tempfile.TemporaryDirectory() as work_dir:
        for runner in RUNNERS:
            print(f"bench: {runner} ...", flush=True)
            runner_started = time.perf_counter()
            record = Path(work_dir) / f"{runner}.json"
            environment = thread_environment(args.threads)
            if runner.startswith("keras-"):
                environment["KERAS_BACKEND"] = runner.removeprefix("keras-")
            command = [sys.executable, "-m", "tools.benchmark", "--runner", runner]
            command += ["--record", str(record), "--repeats", str(args.repeats)]
            command += ["--threads", str(args.threads)]
            if args.max_steps:
                command += ["--max-steps", str(args.max_steps)]
            completed = subprocess.run(
                command,
                env=environment,
                cwd=PROJECT_DIR,
                preexec_fn=pinned_to(args.threads),
            )
            if completed.returncode != 0:
                sys.exit(f"bench: {runner} failed; nothing was written")
            print(f"bench: {runner}, the course's program ...", flush=True)
            program = run_program(
                runner, args.repeats, args.threads, args.max_steps, work_dir
            )
            results["runners"][runner] = {
                "label": RUNNERS[runner],
                "library": LIBRARIES[runner],
                **json.loads(record.read_text()),
                "program": program,
                "bench_seconds": time.perf_counter() - runner_started,
            }
    summarize(results)
    results["machine"]["bench_seconds"] = time.perf_counter() - started
    args.output_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2) + "\n"
    write_atomically(args.output_dir / "benchmark.json", text.encode())
    plot = [sys.executable, "-m", "tools.benchmark_figures", str(args.output_dir)]
    if subprocess.run(plot, cwd=PROJECT_DIR).returncode != 0:
        sys.exit("bench: drawing the figures failed")
    fingerprint.write(RESULTS, args.output_dir)
    report(results)


def report(results):
    """What the run found, in a few lines: each runner against the limits, the
    fastest path against the goal, and the original lecture's way."""
    limit = results["compute_limit"]["epoch_seconds"]
    print(
        f"compute limit: {limit:.2f} s per epoch "
        f"({results['compute_limit']['matmul_flops'] / 1e9:.0f} GFLOP/s, "
        f"{results['compute_limit']['library']})"
    )
    for runner, result in results["runners"].items():
        flops = result["matmul_flops"] / 1e9
        print(
            f"{runner} ({result['library']} matmul {flops:.0f} GFLOP/s, measured "
            f"in {result['bench_seconds']:.0f} s):"
        )
        for variant, measured in [
            ("program", result["program"]),
            *result["variants"].items(),
        ]:
            if not measured.get("supported", True):
                print(f"  {variant:20} not supported")
                continue
            median = measured["epoch"]["median"]
            print(
                f"  {variant:20} {median:6.2f} s per epoch, "
                f"{measured['machine_limit_ratio']:4.1f}x the machine's limit, "
                f"{measured['own_limit_ratio']:4.1f}x its library's"
            )
    fastest = results["fastest"]
    ratio = fastest["machine_limit_ratio"]
    met = [f"{goal}x: {'met' if ratio <= goal else 'not met'}" for goal in GOAL_RATIOS]
    print(
        f"fastest: {fastest['runner']}, {fastest['variant']}, "
        f"{fastest['epoch']['median']:.2f} s per epoch, {ratio:.1f}x the machine's "
        f"limit (goal {', '.join(met)})"
    )
    lecture = results["runners"]["pytorch"]["original_lecture"]
    training = ratio_of(lecture, "train_per_sample", "train_in_memory")
    evaluation = ratio_of(lecture, "evaluate_one_at_a_time", "evaluate_at_once")
    print(
        f"per-sample work: training {training:.1f}x, evaluation "
        f"{evaluation:.1f}x slower than in-memory batching"
    )
    print(f"bench: {results['machine']['bench_seconds'] / 60:.1f} minutes")


def ratio_of(measures, slow, fast):
    return measures[slow]["median"] / measures[fast]["median"]


if __name__ == "__main__":
    main()
