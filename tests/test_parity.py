"""Keras on every backend and PyTorch, same weights and batches: SGD agrees to
float32 rounding, and the measure tells apart what does not (Adam)."""

import json
import math

import numpy as np
import pytest

import parity
from helpers import CODE_DIR, GENERATED_DIR, run_program
from tools import course

WEIGHT_BOUND = 1e-5  # largest difference in any final weight, after SGD
# A short real run: enough steps for Adam's epsilon to show, few enough to be
# quick (each side's start-up takes most of the time).
FEW_STEPS = 5


def check_sgd_parity(results, steps):
    """SGD agrees to float32 rounding on every backend; Adam does not."""
    assert results["config"]["steps"] == steps
    assert results["config"]["rounding_tolerance"] == parity.ROUNDING_TOLERANCE
    assert list(results["backends"]) == list(parity.BACKENDS)
    assert list(results["experiments"]) == list(parity.EXPERIMENTS)
    for name, experiment in results["experiments"].items():
        assert experiment["label"] == parity.EXPERIMENTS[name][0], name
        assert len(experiment["pytorch_losses"]) == steps, name
    for backend, about in results["backends"].items():
        # The run was on the backend it names, on the CPU, with its versions.
        assert about["backend"] == backend
        assert about["device"].startswith("cpu"), backend
        assert "keras" in about["versions"], backend
        assert set(parity.BACKEND_PACKAGES[backend]) & set(about["versions"]), backend
        sgd = results["experiments"]["sgd"]["backends"][backend]
        assert len(sgd["keras_losses"]) == steps, backend
        assert parity.agrees_to_rounding(sgd), (backend, sgd["max_loss_difference"])
        assert sgd["max_weight_difference"] < WEIGHT_BOUND, backend
        # The experiment can tell the frameworks apart: Adam with each one's
        # default epsilon is far outside the tolerance, on every backend.
        adam = results["experiments"]["adam_default_epsilon"]["backends"][backend]
        assert not parity.agrees_to_rounding(adam), backend
        assert adam["max_weight_difference"] > 100 * sgd["max_weight_difference"]


def test_the_backends_are_the_courses():
    assert tuple(course.KERAS_BACKENDS) == parity.BACKENDS
    assert set(parity.BACKEND_PACKAGES) == set(parity.BACKENDS)


def test_committed_parity_holds_for_a_full_epoch():
    results = json.loads((GENERATED_DIR / "parity.json").read_text())
    steps = math.ceil(course.training_images() / results["config"]["batch_size"])
    check_sgd_parity(results, steps)


def fake_side(losses, weights):
    """A side's record, as record() saves it, with the given losses in every
    experiment and the same final weights."""
    arrays = {"first_layer": np.zeros((2, 3), "float32")}
    arrays["about"] = np.array(json.dumps({"device": "cpu", "versions": {}}))
    for name in parity.EXPERIMENTS:
        arrays[f"{name}/losses"] = np.array(losses, "float32")
        for parameter in parity.PARAMETERS:
            arrays[f"{name}/{parameter}"] = np.array(weights, "float32")
    return arrays


@pytest.mark.parametrize(
    "rounding_steps, agrees",
    [(0, True), (2, True), (parity.ROUNDING_TOLERANCE * 2, False)],
)
def test_the_rounding_verdict_follows_the_tolerance(rounding_steps, agrees):
    """Losses a few float32 rounding steps apart agree; beyond the tolerance,
    they do not, and the weights' difference is measured where it is."""
    pytorch_losses = [2.0, 1.5, 1.0]
    epsilon = np.finfo(np.float32).eps
    keras_losses = [loss * (1 + rounding_steps * epsilon) for loss in pytorch_losses]
    pytorch_side = fake_side(pytorch_losses, [0.5, 0.25])
    keras_side = fake_side(keras_losses, [0.5, 0.25 + 1e-3])
    results = parity.results(pytorch_side, {"jax": keras_side}, len(pytorch_losses))
    comparison = results["experiments"]["sgd"]["backends"]["jax"]
    assert parity.agrees_to_rounding(comparison) is agrees
    assert comparison["max_weight_difference"] == pytest.approx(1e-3, rel=1e-3)
    assert (
        results["experiments"]["sgd"]["max_weight_difference"]
        == (comparison["max_weight_difference"])
    )
    assert results["backends"]["jax"]["first_layer"]["identical_fraction"] == 1


def test_a_missing_backend_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(parity.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SystemExit, match="jax package, which is not installed"):
        parity.record("keras", "jax", 1, tmp_path / "side.npz")
    assert not (tmp_path / "side.npz").exists()


def test_one_side_needs_a_record_and_keras_a_backend(tmp_path):
    completed = run_program(
        CODE_DIR / "parity.py", "--framework", "keras", "--record", tmp_path / "x"
    )
    assert completed.returncode == 2
    assert "--backend exactly when it is keras" in completed.stderr


@pytest.mark.slow
def test_every_backend_agrees_with_pytorch_over_a_few_steps(tmp_path, mnist_env):
    """The experiment run for real, as `make parity` runs it, on a few steps."""
    output = tmp_path / "parity.json"
    completed = run_program(
        CODE_DIR / "parity.py",
        *("--steps", FEW_STEPS, "--output", output),
        env=mnist_env,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    check_sgd_parity(json.loads(output.read_text()), FEW_STEPS)


@pytest.mark.slow
@pytest.mark.retrain
@pytest.mark.timeout(2400)  # the full retrain, if this test's set-up makes it
def test_parity_holds_in_a_fresh_retrain(retrained):
    """The experiment as `make artifacts` runs it now (the `retrained` fixture)."""
    results = json.loads((retrained / "parity.json").read_text())
    check_sgd_parity(results, results["config"]["steps"])
