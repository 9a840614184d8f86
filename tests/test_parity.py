"""Keras and PyTorch, same weights and batches: SGD agrees to rounding."""

import json
import math

import pytest

import parity
from conftest import GENERATED_DIR
from tools import course

LOSS_BOUND = 1e-4  # largest difference in the loss of any step
WEIGHT_BOUND = 1e-5  # largest difference in any final weight


def check_sgd_parity(results):
    assert list(results["experiments"]) == list(parity.EXPERIMENTS)
    for name, experiment in results["experiments"].items():
        assert experiment["label"] == parity.EXPERIMENTS[name][0], name
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
    batch_size = results["config"]["batch_size"]
    assert results["config"]["steps"] == math.ceil(
        course.training_images() / batch_size
    )
    check_sgd_parity(results)


@pytest.mark.slow
def test_parity_holds_in_a_fresh_retrain(retrained):
    """The experiment as `make artifacts` runs it now (the `retrained` fixture)."""
    check_sgd_parity(json.loads((retrained / "parity.json").read_text()))
