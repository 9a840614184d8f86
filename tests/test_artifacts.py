"""The committed results in docs/generated/: complete, on target, and what the
retrain step makes (test_fingerprints checks they are current)."""

import json
import re
import subprocess

import numpy as np
import pytest

from helpers import FRAMEWORKS, GENERATED_DIR, PROJECT_DIR
from tools import fingerprint
from tools.course import KERAS_BACKENDS, MAIN_KERAS_BACKEND, keras_run
from tools.results import RESULT_SETS

TARGET_ACCURACY = 0.98
# Every training run the retrain step keeps: both programs, and Keras on each
# backend (keras/ is the main one, on TensorFlow).
RUNS = {
    **{framework: framework for framework in FRAMEWORKS},
    **{keras_run(backend): "keras" for backend in KERAS_BACKENDS},
}


def committed_metrics(folder=GENERATED_DIR, runs=FRAMEWORKS):
    return {
        run: json.loads((folder / run / "metrics.json").read_text()) for run in runs
    }


def test_keras_reached_the_target_on_every_backend_and_recorded_it():
    metrics = committed_metrics(runs=RUNS)
    for backend in KERAS_BACKENDS:
        run = metrics[keras_run(backend)]
        assert run["framework"] == "keras" and run["backend"] == backend
        assert run["test"]["accuracy"] >= TARGET_ACCURACY, backend
        # Same settings as the main comparison: only the backend differs.
        assert run["config"] == settings_of(metrics["pytorch"]), backend
    assert metrics["pytorch"]["backend"] is None
    assert KERAS_BACKENDS[MAIN_KERAS_BACKEND] == "TensorFlow"


def test_no_saved_model_is_published():
    # The site needs the runs' results only; a saved model is megabytes.
    published = {path.name for path in GENERATED_DIR.rglob("*")}
    assert not published & {"mlp.keras", "mlp.pt"}


def test_every_run_records_its_device_and_cores():
    for run, metrics in committed_metrics(runs=RUNS).items():
        # This course's results come from a machine without a GPU.
        assert metrics["device"] in {"cpu", "cpu:0"}, run
        # The retrain step keeps each run on one core (tools/course.py, one_core).
        assert metrics["machine"]["cores_used"] == 1, run


def settings_of(pytorch_metrics):
    """A PyTorch run's options but --device, which only PyTorch has (Keras
    finds its device by itself); the device used is recorded as "device"."""
    config = dict(pytorch_metrics["config"])
    assert config.pop("device") == "auto"
    return config


def test_both_frameworks_reach_the_target_with_the_same_configuration():
    metrics = committed_metrics()
    for framework in FRAMEWORKS:
        assert metrics[framework]["test"]["accuracy"] >= TARGET_ACCURACY, framework
    assert metrics["keras"]["config"] == settings_of(metrics["pytorch"])
    assert metrics["keras"]["parameter_count"] == metrics["pytorch"]["parameter_count"]
    assert metrics["keras"]["data_sha256"] == metrics["pytorch"]["data_sha256"]


def test_results_were_made_with_the_pinned_libraries():
    pins = dict(
        re.findall(
            r"^([a-z-]+)==([0-9.]+)",
            (PROJECT_DIR / "requirements.txt").read_text(),
            re.M,
        )
    )
    for framework, metrics in committed_metrics().items():
        pinned = [library for library in metrics["versions"] if library in pins]
        assert {"numpy", "keras", "torch"} <= set(pinned), framework
        for library in pinned:
            version = metrics["versions"][library]
            assert version == pins[library], f"{framework}: {library} {version}"


def test_every_figure_exists_in_both_themes_with_alt_text():
    figures = json.loads((GENERATED_DIR / "figures.json").read_text())
    assert set(figures["alt"]) == {
        "sample-digits",
        "training-curves",
        "test-predictions",
        "parity",
        *(
            f"{kind}-{framework}"
            for kind in ("confusion", "misclassified", "hidden-weights")
            for framework in FRAMEWORKS
        ),
    }
    for name, alt in figures["alt"].items():
        assert len(alt) > 40, name
        for theme in ("light", "dark"):
            svg = (GENERATED_DIR / "figures" / f"{name}-{theme}.svg").read_text()
            assert svg.lstrip().startswith("<?xml") and "</svg>" in svg[-100:]
            # Nothing a browser would fetch (fonts, images): namespaces are fine.
            assert not re.search(r"""(href=|url\()\s*["']?(https?:)?//""", svg)


def test_logs_and_summaries_are_the_executed_output():
    for run, metrics in committed_metrics(runs=RUNS).items():
        log = (GENERATED_DIR / run / "training-log.txt").read_text()
        epochs = metrics["config"]["epochs"]
        assert f"Epoch {epochs}/{epochs}" in log
        assert f"test accuracy {metrics['test']['accuracy']:.2%}" in log
        assert f"device: {metrics['device']}" in log
        summary = (GENERATED_DIR / run / "model-summary.txt").read_text()
        assert f"{metrics['parameter_count']:,}" in summary


def test_committed_predictions_match_the_committed_accuracy(mnist_dir):
    from mnist_data import load_mnist

    _, (_, y_test) = load_mnist(mnist_dir)
    for run, metrics in committed_metrics(runs=RUNS).items():
        predicted = np.load(GENERATED_DIR / run / "test-predictions.npy")
        accuracy = (predicted == y_test).mean()
        assert accuracy == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)


def committed(relative):
    """A file of docs/generated/ as the last commit holds it: what a fresh
    retrain is compared with, even when it was written over docs/generated/."""
    completed = subprocess.run(
        ["git", "show", f"HEAD:docs/generated/{relative}"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        pytest.fail(
            f"no committed docs/generated/{relative} to compare with (this test "
            f"needs a git checkout): {completed.stderr.strip()}"
        )
    return completed.stdout


@pytest.mark.slow
@pytest.mark.retrain
@pytest.mark.timeout(2400)  # the full retrain, in this test's set-up
def test_retrain_reproduces_the_committed_results(retrained):
    """The full `make artifacts` (the `retrained` fixture): on target, and on
    the committed run's machine, identical to the last commit's results."""
    fresh = committed_metrics(retrained, runs=RUNS)
    before = {run: json.loads(committed(f"{run}/metrics.json")) for run in RUNS}
    for run in RUNS:
        assert fresh[run]["test"]["accuracy"] >= TARGET_ACCURACY, run
        assert fresh[run]["config"] == before[run]["config"], run
    # The step stamps its results with its own inputs, as they are now.
    assert (retrained / fingerprint.FILE_NAME).read_text() == fingerprint.stamp(
        RESULT_SETS["artifacts"]
    )
    same_machine = all(
        fresh[run][key] == before[run][key]
        for run in RUNS
        for key in ("machine", "versions")
    )
    if not same_machine:
        pytest.skip(
            "another CPU or library versions than the committed run: the target "
            "holds; exact numbers are only comparable on the same machine"
        )
    for run in RUNS:
        assert fresh[run]["history"] == before[run]["history"], run
        assert fresh[run]["test"] == before[run]["test"], run
    assert (retrained / "figures.json").read_text() == committed("figures.json")
    for framework in FRAMEWORKS:
        pitfalls = f"{framework}/pitfalls.json"
        fresh_pitfalls = json.loads((retrained / pitfalls).read_text())
        assert fresh_pitfalls == json.loads(committed(pitfalls)), framework
