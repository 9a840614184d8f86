"""The Porting page's results (`make porting`) and the macros that word them."""

import copy

import pytest

from tools import results
from tools.macros import porting


@pytest.fixture(scope="module")
def found():
    return results.load("porting", "porting.json")


def test_the_decoupled_decays_are_what_the_schedule_predicts(found):
    """The page says Keras' weight_decay and PyTorch's AdamW shrink weights
    on the weight, and PyTorch's Adam(weight_decay) on the gradient."""
    expected = found["decay_left_by_schedule"]
    for (framework, name), (_, decoupled) in porting.DECAY_VARIANTS.items():
        left = found[framework]["weight_decay"][name]["black_pixel_weights_left"]
        if decoupled:
            assert left == pytest.approx(expected, abs=1e-5), (framework, name)
        else:
            assert left < 1e-3, (framework, name)


def test_a_whole_checkpoint_resumes_exactly(found):
    for framework in ("keras", "pytorch"):
        resume = found[framework]["resume"]
        assert resume["checkpoint"]["against_uninterrupted"] == 0, framework
        assert resume["checkpoint"]["step"] > 0
        assert resume["weights_only"]["step"] == 0


def test_the_verdicts_follow_the_results(found):
    assert "as the" in porting.porting_weight_decay_verdict(found)
    assert "the very weights" in porting.porting_resume_verdict(found)
    assert "TensorFlow, JAX and PyTorch" in porting.porting_train_step_verdict(found)
    changed = copy.deepcopy(found)
    changed["keras"]["weight_decay"]["adam"]["black_pixel_weights_left"] = 0.5
    changed["pytorch"]["resume"]["checkpoint"]["against_uninterrupted"] = 0.1
    changed["train_step"]["jax"]["largest_weight_difference"] = 0.2
    for setting, seconds in (("off", [1.0, 1.1]), ("on", [2.0, 2.1])):
        changed["pytorch"]["determinism"][setting]["seconds"] = seconds
    assert "against the" in porting.porting_weight_decay_verdict(changed)
    assert "at most 0.1" in porting.porting_resume_verdict(changed)
    assert "JAX 0.2" in porting.porting_train_step_verdict(changed)
    assert "was slower in both runs" in porting.porting_determinism_verdict(changed)
    # Ranges apart by less than the machine's noise are no difference.
    for setting, seconds in (("off", [1.50, 1.51]), ("on", [1.53, 1.55])):
        changed["pytorch"]["determinism"][setting]["seconds"] = seconds
    verdict = porting.porting_determinism_verdict(changed)
    assert "PyTorch gave identical weights" in verdict
    assert "slower" not in verdict.split("PyTorch")[1]
