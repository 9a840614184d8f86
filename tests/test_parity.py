"""Keras and PyTorch, same weights and batches: SGD agrees to rounding."""

import json

import pytest
from conftest import CODE_DIR, GENERATED_DIR, run_program

LOSS_BOUND = 1e-4  # largest difference in the loss of any step
WEIGHT_BOUND = 1e-5  # largest difference in any final weight


def check_sgd_parity(results):
    sgd = results["experiments"]["sgd"]
    assert (
        len(sgd["keras_losses"])
        == len(sgd["pytorch_losses"])
        == results["config"]["steps"]
    )
    assert sgd["max_loss_difference"] < LOSS_BOUND
    assert sgd["max_weight_difference"] < WEIGHT_BOUND
    # The experiment can tell frameworks apart: Adam's drift is far larger.
    adam = results["experiments"]["adam_default_epsilon"]
    assert adam["max_weight_difference"] > 100 * sgd["max_weight_difference"]


def test_committed_parity_holds_for_a_full_epoch():
    results = json.loads((GENERATED_DIR / "parity.json").read_text())
    assert results["config"]["steps"] * results["config"]["batch_size"] >= 54000
    check_sgd_parity(results)


@pytest.mark.slow
def test_sgd_parity_on_a_slice(tmp_path, mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    output = tmp_path / "parity.json"
    result = run_program(CODE_DIR / "parity.py", "--steps", "100", "--output", output)
    assert result.returncode == 0, result.stderr[-3000:]
    check_sgd_parity(json.loads(output.read_text()))
