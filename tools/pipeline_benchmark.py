"""What does each input pipeline cost? One training epoch fed by each, timed.

`make bench` runs this after tools/benchmark.py. Three runners, each in its own
process: PyTorch, Keras on TensorFlow and Keras on the PyTorch backend. Each
trains the course's model (batch 128, Adam) for one epoch over the training
images, fed by each of its pipelines, as code/input_pipelines.py defines them
(each pipeline is written there once):

- PyTorch: in-memory slicing (the program's way), a DataLoader over a
  TensorDataset, a DataLoader over a per-sample Dataset;
- Keras on TensorFlow: fit on NumPy arrays (the program's way), tf.data,
  a PyDataset, and a PyTorch DataLoader;
- Keras on PyTorch: fit on NumPy arrays, and a PyTorch DataLoader.

Every pipeline trains its own model. After one warm-up epoch each, every
repeat times one epoch of each pipeline in turn, so that a change in the
machine's load during the run reaches all of them alike; the result is the
median, fastest and slowest of the repeats.

    python -m tools.pipeline_benchmark                 # into docs/benchmark/
    python -m tools.pipeline_benchmark --repeats 1 --train-size 5000   # a quick look
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import input_pipelines as pipelines
from run_record import cpu_model, library_versions, write_atomically
from tools import PROJECT_DIR, fingerprint
from tools.course import training_images
from tools.results import RESULT_SETS

RESULTS = RESULT_SETS["bench"]
# One thread by default: what is compared is the pipelines' cost, and on a
# machine whose cores are busy with other work, a framework's threads waiting
# for each other made the same epoch vary tenfold here; one thread did not.
THREADS = 1
FILE_NAME = "pipelines.json"
# This tool's own inputs: a change to them alone does not make benchmark.json stale.
OWN_INPUTS = ("code/input_pipelines.py", "tools/pipeline_benchmark.py")
# Each runner, its name on the pages, and its pipelines with theirs; the first
# pipeline of each is the program's own way, the one the others are compared to.
RUNNERS = {
    "pytorch": (
        "PyTorch",
        {
            "in_memory": "in-memory tensors, random order, slices",
            "data_loader": "DataLoader over a TensorDataset",
            "per_sample": "DataLoader over a per-sample Dataset",
        },
    ),
    "keras-tensorflow": (
        "Keras on TensorFlow",
        {
            "arrays": "fit on NumPy arrays",
            "tf_data": "tf.data",
            "py_dataset": "PyDataset",
            "data_loader": "a PyTorch DataLoader",
        },
    ),
    "keras-torch": (
        "Keras on PyTorch",
        {
            "arrays": "fit on NumPy arrays",
            "data_loader": "a PyTorch DataLoader",
        },
    ),
}


def timed_in_turn(functions, repeats, warmup=1):
    """Median, fastest and slowest seconds of each function (a dict of them):
    `warmup` untimed calls each, then `repeats` rounds that call each in turn."""
    for function in functions.values():
        for _ in range(warmup):
            function()
    seconds = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            seconds[name].append(time.perf_counter() - start)
    return {
        name: {
            "median": statistics.median(found),
            "min": min(found),
            "max": max(found),
            "repeats": repeats,
        }
        for name, found in seconds.items()
    }


def run_pytorch(arrays, repeats, threads):
    import torch

    torch.set_num_threads(threads)
    x_numpy, y_numpy = arrays
    x, y = torch.from_numpy(x_numpy), torch.from_numpy(y_numpy)
    loaders = {
        "data_loader": pipelines.data_loader(x, y),
        "per_sample": pipelines.per_sample_loader(x_numpy, y_numpy),
    }
    # Each pipeline as a function giving one epoch of batches.
    batches = {
        "in_memory": lambda: pipelines.in_memory_batches(x, y),
        **{name: lambda loader=loader: loader for name, loader in loaders.items()},
    }
    epochs = {}
    for name, pipeline in batches.items():
        torch.manual_seed(pipelines.SEED)  # every pipeline's model starts alike
        model = pipelines.pytorch_model()
        optimizer = torch.optim.Adam(model.parameters(), lr=pipelines.LEARNING_RATE)
        epochs[name] = lambda model=model, optimizer=optimizer, pipeline=pipeline: (
            pipelines.train_epoch(model, optimizer, pipeline())
        )
    return timed_in_turn(epochs, repeats)


def run_keras(arrays, repeats, threads):
    backend = os.environ["KERAS_BACKEND"]
    # torch before Keras and TensorFlow: both backends here use its DataLoader.
    import torch

    torch.set_num_threads(threads)
    import keras

    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    x, y = arrays
    feeds = {
        "data_loader": pipelines.data_loader(torch.from_numpy(x), torch.from_numpy(y))
    }
    if backend == "tensorflow":
        feeds["tf_data"] = pipelines.tf_dataset(x, y)
        feeds["py_dataset"] = pipelines.py_dataset(x, y)
    epochs = {}
    for name in RUNNERS[f"keras-{backend}"][1]:
        keras.utils.set_random_seed(pipelines.SEED)
        model = pipelines.keras_model()
        if name == "arrays":
            epochs[name] = lambda model=model: pipelines.fit_on_arrays(model, x, y)
        else:
            epochs[name] = lambda model=model, feed=feeds[name]: (
                pipelines.fit_on_pipeline(model, feed)
            )
    return timed_in_turn(epochs, repeats)


def run_runner(runner, repeats, threads, train_size):
    x_train, y_train, _, _ = pipelines.load_arrays(train_size=train_size)
    run = run_pytorch if runner == "pytorch" else run_keras
    return {
        "images": len(x_train),
        "pipelines": run((x_train, y_train), repeats, threads),
        "versions": library_versions(),
    }


def stamp(output_dir):
    """Write the folder's fingerprint, if docs/benchmark/ is the folder and
    nothing but this tool's own inputs changed since `make bench` last
    stamped it: otherwise the stamp would hide that benchmark.json is stale."""
    if output_dir.resolve() != RESULTS.path.resolve():
        return
    others = [
        change
        for change in fingerprint.changes(RESULTS)
        if not change.startswith(OWN_INPUTS)
    ]
    if others:
        print(
            "pipeline bench: fingerprint not updated, benchmark.json is stale too "
            f"({'; '.join(others)}): run `make bench`"
        )
        return
    fingerprint.write(RESULTS, output_dir)


def main():
    parser = argparse.ArgumentParser(
        description="Time one training epoch fed by each input pipeline.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs each")
    parser.add_argument(
        "--threads", type=int, default=THREADS, help="CPU threads of each framework"
    )
    parser.add_argument(
        "--train-size", type=int, help="train on the first N images; None: all"
    )
    parser.add_argument("--output-dir", type=Path, default=RESULTS.path)
    parser.add_argument("--runner", choices=list(RUNNERS), help="run one runner only")
    parser.add_argument("--record", help="with --runner: where its JSON goes")
    args = parser.parse_args()
    if args.runner:
        result = run_runner(args.runner, args.repeats, args.threads, args.train_size)
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
            "hidden_units": pipelines.HIDDEN_UNITS,
            "batch_size": pipelines.BATCH_SIZE,
            "training_images": training_images(),
            "repeats": args.repeats,
        },
        "runners": {},
    }
    with tempfile.TemporaryDirectory() as work_dir:
        for runner, (label, labels) in RUNNERS.items():
            print(f"pipeline bench: {runner} ...", flush=True)
            record = Path(work_dir) / f"{runner}.json"
            environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
            if runner.startswith("keras-"):
                environment["KERAS_BACKEND"] = runner.removeprefix("keras-")
            command = [sys.executable, "-m", "tools.pipeline_benchmark"]
            command += ["--runner", runner, "--record", str(record)]
            command += ["--repeats", str(args.repeats), "--threads", str(args.threads)]
            if args.train_size:
                command += ["--train-size", str(args.train_size)]
            completed = subprocess.run(command, env=environment, cwd=PROJECT_DIR)
            if completed.returncode != 0:
                sys.exit(f"pipeline bench: {runner} failed; nothing was written")
            found = json.loads(record.read_text())
            for name, measure in found["pipelines"].items():
                measure["label"] = labels[name]
            results["runners"][runner] = {"label": label, **found}
    # Fewer with --train-size: the count every runner trained on.
    results["config"]["training_images"] = found["images"]
    args.output_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2) + "\n"
    write_atomically(args.output_dir / FILE_NAME, text.encode())
    print(f"pipeline bench: wrote {args.output_dir / FILE_NAME}")
    stamp(args.output_dir)
    for runner, result in results["runners"].items():
        measures = result["pipelines"]
        baseline = measures[next(iter(measures))]["median"]
        for name, measure in measures.items():
            print(
                f"{runner:17} {name:12} epoch {measure['median']:.2f} s "
                f"({measure['min']:.2f} to {measure['max']:.2f}), "
                f"{measure['median'] / baseline:.2f}x the program's way"
            )


if __name__ == "__main__":
    main()
