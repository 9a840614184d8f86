"""`make scale`: train the MLP data-parallel on 1 and 2 workers, in each framework.

Runs pytorch_ddp.py under torchrun and keras_multiworker.py under
MultiWorkerMirroredStrategy, once with one worker and once with two, all on
this machine: the workers talk over 127.0.0.1 only, and every run has a time
limit. The cores are shared out: one worker gets all of them, two get half
each. It also tries Keras' model.fit under the strategy and records the error.

Each run must finish with identical weights in every worker. The results go to
docs/scaling/scaling.json, which the Scaling page reads.
`python -m tools.scaling --help` lists the options.
"""

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from run_record import cpu_model, library_versions, write_atomically
from tools import CODE_DIR, fingerprint
from tools.course import constants
from tools.results import RESULT_SETS

RESULTS = RESULT_SETS["scale"]
PROGRAMS = {
    "pytorch": CODE_DIR / "pytorch_ddp.py",
    "keras": CODE_DIR / "keras_multiworker.py",
}
WORKER_COUNTS = (1, 2)
SECONDS_PER_EPOCH_LIMIT = 60  # a run's time limit: start-up plus this per epoch
START_UP_LIMIT = 120
# Epochs for the model.fit attempt: it fails before the first step ends.
FIT_ATTEMPT_EPOCHS = 1


def free_port():
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def thread_count(workers):
    return max(1, (os.cpu_count() or 1) // workers)


def pytorch_commands(workers, options):
    """One torchrun command; it starts the workers itself."""
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1"]
    command += ["--nproc-per-node", str(workers), "--master-addr", "127.0.0.1"]
    command += ["--master-port", str(free_port())]
    command += [str(PROGRAMS["pytorch"]), *options]
    return [(command, {"OMP_NUM_THREADS": str(thread_count(workers))})]


def keras_commands(workers, options):
    """One command per worker, each with its own TF_CONFIG."""
    addresses = [f"127.0.0.1:{free_port()}" for _ in range(workers)]
    commands = []
    for index in range(workers):
        config = {
            "cluster": {"worker": addresses},
            "task": {"type": "worker", "index": index},
        }
        command = [sys.executable, str(PROGRAMS["keras"]), *options]
        commands.append((command, {"TF_CONFIG": json.dumps(config)}))
    return commands


LAUNCHERS = {"pytorch": pytorch_commands, "keras": keras_commands}


def run_workers(framework, workers, options, time_limit, log_dir):
    """Start the run's processes; wait for all, or stop them all at the limit."""
    processes = []
    timed_out = False
    with contextlib.ExitStack() as files:
        for index, (command, variables) in enumerate(
            LAUNCHERS[framework](workers, options)
        ):
            environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **variables)
            name = f"{framework}-{workers}-{index}"
            # stdout is the training log the page shows; stderr (framework
            # start-up chatter, errors) is kept for a failure's report.
            log = files.enter_context(open(log_dir / f"{name}.log", "w"))
            errors = files.enter_context(open(log_dir / f"{name}.err", "w"))
            # A session of its own: at the time limit, its whole group is
            # stopped (torchrun's workers included).
            processes.append(
                subprocess.Popen(
                    command,
                    env=environment,
                    stdout=log,
                    stderr=errors,
                    start_new_session=True,
                )
            )
        try:
            for process in processes:
                process.wait(timeout=time_limit)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            for process in processes:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
    logs = "\n".join(
        path.read_text() for path in sorted(log_dir.glob(f"{framework}-{workers}-*"))
    )
    return timed_out, [process.returncode for process in processes], logs


def train(framework, workers, epochs, work_dir):
    output_dir = work_dir / f"{framework}-{workers}"
    options = ["--epochs", str(epochs), "--threads", str(thread_count(workers))]
    options += ["--output-dir", str(output_dir)]
    time_limit = START_UP_LIMIT + SECONDS_PER_EPOCH_LIMIT * epochs
    print(f"scale: {framework}, {workers} worker(s), {epochs} epoch(s) ...", flush=True)
    timed_out, return_codes, logs = run_workers(
        framework, workers, options, time_limit, work_dir
    )
    if timed_out or any(return_codes):
        reason = f"timed out after {time_limit} s" if timed_out else "failed"
        sys.exit(f"scale: {framework} on {workers} worker(s) {reason}\n{logs}")
    records = [
        json.loads((output_dir / f"worker-{index}.json").read_text())
        for index in range(workers)
    ]
    if len({record["weights_sha256"] for record in records}) != 1:
        sys.exit(f"scale: {framework}'s workers ended with different weights")
    record = records[0]
    seconds = statistics.median(record["epoch_seconds"])
    return {
        "workers": workers,
        "threads_per_worker": record["threads"],
        "epochs": epochs,
        "training_images": record["training_images"],
        "epoch_seconds": record["epoch_seconds"],
        "median_epoch_seconds": seconds,
        "images_per_second": record["training_images"] / seconds,
        "test_accuracy": record["test_accuracy"],
        "test_loss": record["test_loss"],
        "identical_weights": True,
        # The first worker's log, as the page shows it.
        "log": (work_dir / f"{framework}-{workers}-0.log").read_text(),
    }


def attempt_keras_fit(work_dir):
    """Keras' model.fit under the strategy, two workers: its error, if any."""
    options = ["--fit", "--epochs", str(FIT_ATTEMPT_EPOCHS), "--threads", "1"]
    options += ["--output-dir", str(work_dir / "keras-fit")]
    print("scale: keras, model.fit on 2 workers ...", flush=True)
    timed_out, return_codes, logs = run_workers(
        "keras", 2, options, START_UP_LIMIT, work_dir
    )
    if timed_out:
        sys.exit(f"scale: the model.fit attempt timed out\n{logs}")
    if not any(return_codes):
        return {"works": True, "error": None}
    # The exception's message, without the tensors printed inside it.
    lines = logs.splitlines()
    first = next(
        (index for index, line in enumerate(lines) if line.startswith("ValueError")),
        None,
    )
    if first is None:
        sys.exit(f"scale: the model.fit attempt failed unexpectedly\n{logs}")
    last = next(
        (index for index in range(first, len(lines)) if lines[index].startswith("})")),
        first,
    )
    error = lines[first] if last == first else f"{lines[first]} … {lines[last]}"
    return {"works": False, "error": error}


def main():
    parser = argparse.ArgumentParser(
        description="Train data-parallel on 1 and 2 workers in each framework.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    epochs = {constants(path)["EPOCHS"] for path in PROGRAMS.values()}
    if len(epochs) != 1:
        sys.exit("scale: the two data-parallel programs train different epochs")
    parser.add_argument(
        "--epochs",
        type=int,
        default=epochs.pop(),
        help="epochs per run (the programs' own)",
    )
    parser.add_argument(
        "--framework", choices=list(LAUNCHERS), help="one framework only"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=RESULTS.path,
        help="where scaling.json goes",
    )
    args = parser.parse_args()
    frameworks = [args.framework] if args.framework else list(LAUNCHERS)
    results = {
        "machine": {"cpu": cpu_model(), "cpu_count": os.cpu_count()},
        "libraries": library_versions(),
        "epochs": args.epochs,
        "frameworks": {},
    }
    with tempfile.TemporaryDirectory() as work_dir:
        for framework in frameworks:
            runs = {
                str(workers): train(framework, workers, args.epochs, Path(work_dir))
                for workers in WORKER_COUNTS
            }
            results["frameworks"][framework] = {"runs": runs}
        if "keras" in frameworks:
            results["frameworks"]["keras"]["fit"] = attempt_keras_fit(Path(work_dir))
    for framework, result in results["frameworks"].items():
        one, two = result["runs"]["1"], result["runs"]["2"]
        result["accuracy_difference_points"] = 100 * (
            two["test_accuracy"] - one["test_accuracy"]
        )
        result["speedup"] = two["images_per_second"] / one["images_per_second"]
        print(
            f"scale: {framework}: test accuracy {one['test_accuracy']:.2%} on 1 "
            f"worker, {two['test_accuracy']:.2%} on 2; throughput x"
            f"{result['speedup']:.2f}"
        )
    args.output_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2) + "\n"
    write_atomically(args.output_dir / "scaling.json", text.encode())
    fingerprint.write(RESULTS, args.output_dir)
    print(f"scale: results in {args.output_dir}")


if __name__ == "__main__":
    main()
