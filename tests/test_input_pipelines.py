"""The input pipelines, their benchmark and the bridge between the frameworks.

Fast tests read the committed results and exercise the tools' logic without a
framework; the slow ones run code/input_pipelines.py and the benchmark for
real, and Keras' fit on each pipeline on every backend, each in its own process.
"""

import json
import math
import os
import textwrap

import pytest

import input_pipelines
from helpers import CODE_DIR, DOCS_DIR, GENERATED_DIR, run_program, run_tool
from tools import course, pipeline_benchmark
from tools.macros.formatting import time_against

PROGRAM = CODE_DIR / "input_pipelines.py"
# What describe_pipelines records: every pipeline the page shows, by function.
PIPELINES = (
    "in_memory_batches",
    "data_loader",
    "per_sample_loader",
    "tf_dataset",
    "py_dataset",
)
BATCH_SIZE = input_pipelines.BATCH_SIZE


def check_record(record, train_size):
    """A bridge record: every pipeline gave the same full epoch, and Keras on
    the PyTorch backend was a torch.nn.Module that both ways trained."""
    assert record["backend"] == "torch"
    assert record["config"]["train_size"] == train_size
    assert tuple(record["pipelines"]) == PIPELINES
    for name, found in record["pipelines"].items():
        assert found["batches"] == math.ceil(train_size / BATCH_SIZE), (
            f"{name}: {found['batches']} batches, not the {train_size} images in "
            f"batches of {BATCH_SIZE} of code/input_pipelines.py"
        )
        assert found["images"] == train_size, name
        assert found["x"]["shape"] == [BATCH_SIZE, 784], name
        assert found["y"]["shape"] == [BATCH_SIZE], name
        assert found["x"]["dtype"].removeprefix("torch.") == "float32", name
        assert found["y"]["dtype"].removeprefix("torch.") == "int64", name
    types = {name: found["x"]["type"] for name, found in record["pipelines"].items()}
    assert types["data_loader"] == "torch.Tensor"
    assert types["tf_dataset"].startswith("tensorflow.")
    assert types["py_dataset"] == "numpy.ndarray"
    bridge = record["bridge"]
    assert bridge["is_torch_module"] is True
    assert bridge["output_type"] == "torch.Tensor"
    # Two weight matrices and two bias vectors, all of them seen by PyTorch.
    assert bridge["parameter_tensors"] == 4
    assert bridge["parameter_count_torch"] == bridge["parameter_count_keras"]
    assert bridge["batches_per_epoch"] == math.ceil(train_size / BATCH_SIZE)
    return bridge


def test_the_committed_bridge_record_shows_the_bridge_working():
    record = json.loads((GENERATED_DIR / "bridge.json").read_text())
    bridge = check_record(record, input_pipelines.BRIDGE_TRAIN_SIZE)
    # One epoch on the subset learns, by either route (chance is 10%).
    assert bridge["fit_on_data_loader_accuracy"] > 0.8
    assert bridge["pytorch_loop_accuracy"] > 0.8


def test_the_committed_costs_cover_every_pipeline_on_the_whole_training_set():
    results = json.loads((DOCS_DIR / "benchmark" / "pipelines.json").read_text())
    assert results["config"]["training_images"] == course.training_images()
    assert results["config"]["batch_size"] == BATCH_SIZE
    assert results["machine"]["cpu"] and results["machine"]["threads"] >= 1
    assert list(results["runners"]) == list(pipeline_benchmark.RUNNERS)
    for runner, (label, labels) in pipeline_benchmark.RUNNERS.items():
        found = results["runners"][runner]
        assert found["label"] == label
        assert found["images"] == course.training_images()
        assert list(found["pipelines"]) == list(labels), runner
        for name, measure in found["pipelines"].items():
            assert measure["label"] == labels[name]
            assert measure["repeats"] >= 3, (runner, name)
            assert 0 < measure["min"] <= measure["median"] <= measure["max"]


def test_another_keras_backend_is_refused_and_nothing_is_written(tmp_path):
    output = tmp_path / "bridge.json"
    completed = run_program(
        PROGRAM,
        "--output",
        output,
        env=dict(os.environ, KERAS_BACKEND="jax"),
    )
    assert completed.returncode != 0
    message = completed.stderr.strip().splitlines()[-1]
    assert "KERAS_BACKEND=torch" in message and "'jax'" in message, message
    assert not output.exists()


def test_an_output_in_a_missing_folder_is_refused_before_anything_runs(tmp_path):
    output = tmp_path / "missing" / "bridge.json"
    completed = run_program(PROGRAM, "--output", output)
    assert completed.returncode == 2
    assert "--output: no folder" in completed.stderr.strip().splitlines()[-1]


def test_each_repeat_times_every_pipeline_in_turn():
    calls = []
    functions = {name: (lambda name=name: calls.append(name)) for name in "ab"}
    measures = pipeline_benchmark.timed_in_turn(functions, repeats=3, warmup=1)
    assert calls == ["a", "b"] * 4  # the warm-up, then three rounds
    for measure in measures.values():
        assert measure["repeats"] == 3
        assert 0 <= measure["min"] <= measure["median"] <= measure["max"]


@pytest.mark.parametrize(
    ("changes", "stamped"),
    [
        (["code/input_pipelines.py changed"], True),
        (["tools/pipeline_benchmark.py is a new input"], True),
        (["code/input_pipelines.py changed", "tools/benchmark.py changed"], False),
    ],
)
def test_the_fingerprint_is_stamped_only_over_a_current_benchmark(
    monkeypatch, changes, stamped
):
    written = []
    fingerprint = pipeline_benchmark.fingerprint
    monkeypatch.setattr(fingerprint, "changes", lambda result_set: changes)
    monkeypatch.setattr(fingerprint, "write", lambda *args: written.append(args))
    pipeline_benchmark.stamp(pipeline_benchmark.RESULTS.path)
    assert bool(written) == stamped
    # Another folder (a test's, a quick run's) is never stamped.
    written.clear()
    pipeline_benchmark.stamp(GENERATED_DIR)
    assert not written


def test_a_comparison_states_a_difference_only_where_the_spreads_part():
    baseline = {"median": 2.0, "min": 1.9, "max": 2.1}
    apart = {"median": 3.0, "min": 2.8, "max": 3.2}
    overlapping = {"median": 2.2, "min": 2.0, "max": 2.4}
    assert time_against(apart, baseline) == "1.50 times as long, spreads apart"
    assert "no difference shown" in time_against(overlapping, baseline)


@pytest.mark.slow
def test_the_program_runs_for_real_on_a_subset(tmp_path, mnist_env):
    output = tmp_path / "bridge.json"
    environment = {k: v for k, v in mnist_env.items() if k != "KERAS_BACKEND"}
    completed = run_program(
        PROGRAM, "--train-size", "1000", "--output", output, env=environment
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    bridge = check_record(json.loads(output.read_text()), 1000)
    # Eight steps from a thousand images already beat chance (10%) by far.
    assert bridge["fit_on_data_loader_accuracy"] > 0.3
    assert bridge["pytorch_loop_accuracy"] > 0.3
    assert f"wrote {output}" in completed.stdout


# Keras' fit on each pipeline made for it, on one backend: prints, as JSON,
# the batches fit took from each and whether the model is a torch.nn.Module.
FIT_EVERY_PIPELINE = """
import json
import sys

import numpy as np
import torch  # before Keras and TensorFlow

import keras

sys.path.insert(0, {code_dir!r})
import input_pipelines as pipelines

x = np.random.default_rng(0).random((300, 784), dtype="float32")
y = np.arange(300, dtype="int64") % 10
feeds = {{
    "data_loader": pipelines.data_loader(torch.from_numpy(x), torch.from_numpy(y)),
    "tf_dataset": pipelines.tf_dataset(x, y),
    "py_dataset": pipelines.py_dataset(x, y),
}}


class CountBatches(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


found = {{}}
for name, feed in feeds.items():
    model, counter = pipelines.keras_model(), CountBatches()
    model.fit(feed, epochs=1, shuffle=False, verbose=0, callbacks=[counter])
    found[name] = counter.batches
print(json.dumps({{
    "backend": keras.backend.backend(),
    "batches": found,
    "is_torch_module": isinstance(model, torch.nn.Module),
}}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_fit_takes_every_pipeline_on_every_backend(backend):
    """The page's claims: fit takes a tf.data.Dataset, a PyDataset and a
    PyTorch DataLoader on every backend, and a Keras model is a
    torch.nn.Module on the PyTorch backend only."""
    script = textwrap.dedent(FIT_EVERY_PIPELINE).format(code_dir=str(CODE_DIR))
    completed = run_program(
        "-c",
        script,
        env=dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3"),
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    found = json.loads(completed.stdout.strip().splitlines()[-1])
    assert found["backend"] == backend
    steps = math.ceil(300 / BATCH_SIZE)
    assert found["batches"] == dict.fromkeys(
        ("data_loader", "tf_dataset", "py_dataset"), steps
    )
    assert found["is_torch_module"] is (backend == "torch")


@pytest.mark.slow
def test_the_benchmark_measures_every_pipeline(tmp_path, mnist_env):
    output_dir = tmp_path / "benchmark"
    completed = run_tool(
        "pipeline_benchmark",
        *("--repeats", "1", "--train-size", "600", "--output-dir", output_dir),
        env=mnist_env,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads((output_dir / "pipelines.json").read_text())
    assert results["config"]["training_images"] == 600
    for runner, (_, labels) in pipeline_benchmark.RUNNERS.items():
        measures = results["runners"][runner]["pipelines"]
        assert list(measures) == list(labels), runner
        assert all(measure["median"] > 0 for measure in measures.values())
    # A quick run elsewhere vouches for nothing in docs/benchmark/.
    assert not (output_dir / "fingerprint.json").exists()
