"""The committed results in docs/generated/: complete, on target, and what the
retrain step makes (test_fingerprints checks they are current)."""

import json
import re

import numpy as np
import pytest

from conftest import FRAMEWORKS, GENERATED_DIR, PROJECT_DIR
from tools import fingerprint

TARGET_ACCURACY = 0.98


def committed_metrics(folder=GENERATED_DIR):
    return {
        framework: json.loads((folder / framework / "metrics.json").read_text())
        for framework in FRAMEWORKS
    }


def test_both_frameworks_reach_the_target_with_the_same_configuration():
    metrics = committed_metrics()
    for framework in FRAMEWORKS:
        assert metrics[framework]["test"]["accuracy"] >= TARGET_ACCURACY, framework
    assert metrics["keras"]["config"] == metrics["pytorch"]["config"]
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
    for framework in FRAMEWORKS:
        log = (GENERATED_DIR / framework / "training-log.txt").read_text()
        metrics = committed_metrics()[framework]
        epochs = metrics["config"]["epochs"]
        assert f"Epoch {epochs}/{epochs}" in log
        assert f"test accuracy {metrics['test']['accuracy']:.2%}" in log
        summary = (GENERATED_DIR / framework / "model-summary.txt").read_text()
        assert f"{metrics['parameter_count']:,}" in summary


def test_committed_predictions_match_the_committed_accuracy(mnist_dir):
    from mnist_data import load_mnist

    _, (_, y_test) = load_mnist(mnist_dir)
    for framework, metrics in committed_metrics().items():
        predicted = np.load(GENERATED_DIR / framework / "test-predictions.npy")
        accuracy = (predicted == y_test).mean()
        assert accuracy == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)


@pytest.mark.slow
def test_retrain_reproduces_the_committed_results(retrained):
    """The full `make artifacts` (the `retrained` fixture), into a temporary
    folder: on target, and on the committed run's machine, identical."""
    fresh, committed = committed_metrics(retrained), committed_metrics()
    for framework in FRAMEWORKS:
        assert fresh[framework]["test"]["accuracy"] >= TARGET_ACCURACY, framework
        assert fresh[framework]["config"] == committed[framework]["config"]
    # The step stamps its results with its own inputs, as they are now.
    assert (retrained / fingerprint.FILE_NAME).read_text() == fingerprint.stamp(
        fingerprint.RESULT_SETS["artifacts"]
    )
    same_machine = all(
        fresh[framework][key] == committed[framework][key]
        for framework in FRAMEWORKS
        for key in ("machine", "versions")
    )
    if not same_machine:
        pytest.skip(
            "another CPU or library versions than the committed run: the target "
            "holds; exact numbers are only comparable on the same machine"
        )
    for framework in FRAMEWORKS:
        assert fresh[framework]["history"] == committed[framework]["history"], framework
        assert fresh[framework]["test"] == committed[framework]["test"], framework
    assert (retrained / "figures.json").read_text() == (
        GENERATED_DIR / "figures.json"
    ).read_text()
    for framework in FRAMEWORKS:
        pitfalls = f"{framework}/pitfalls.json"
        fresh_pitfalls = json.loads((retrained / pitfalls).read_text())
        assert fresh_pitfalls == json.loads((GENERATED_DIR / pitfalls).read_text())
