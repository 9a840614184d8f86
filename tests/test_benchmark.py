"""The committed benchmark: complete, consistent, honest about its machine."""

import json

import pytest

from conftest import DOCS_DIR
from tools import benchmark

RESULTS = DOCS_DIR / "benchmark"


@pytest.fixture(scope="module")
def results():
    return json.loads((RESULTS / "benchmark.json").read_text())


def test_every_runner_measured_everything(results):
    assert list(results["runners"]) == list(benchmark.RUNNERS)
    for name, runner in results["runners"].items():
        assert runner["label"] == benchmark.RUNNERS[name]
        for measure in [runner["epoch"], *runner["steps"].values()]:
            assert measure["repeats"] >= 5, name
            assert 0 < measure["min"] <= measure["median"] <= measure["max"], name
        assert set(runner["steps"]) == {str(size) for size in benchmark.BATCH_SIZES}
        assert runner["matmul_flops"] > 1e9 and runner["peak_memory_mb"] > 0
        assert runner["inference"]["test_set_predict"]["median"] > 0
    lecture = results["runners"]["pytorch"]["original_lecture"]
    assert set(lecture) == {
        "train_per_sample",
        "train_in_memory",
        "evaluate_one_at_a_time",
        "evaluate_at_once",
    }


def test_the_machine_and_the_limit_are_recorded(results):
    machine = results["machine"]
    assert machine["cpu"] and machine["cpu_count"] >= 1 and machine["threads"] >= 1
    limit = results["compute_limit"]
    fastest = max(runner["matmul_flops"] for runner in results["runners"].values())
    assert limit["matmul_flops"] == fastest
    for size in benchmark.BATCH_SIZES:
        flops = limit["step_flops"][str(size)]
        assert flops == benchmark.step_flops(size)
        assert limit["step_seconds"][str(size)] == pytest.approx(flops / fastest)


@pytest.mark.slow  # imports PyTorch
@pytest.mark.parametrize("batch_size", [1, 128])
def test_step_flops_are_those_of_a_real_training_step(batch_size):
    """Counted by PyTorch's FLOP counter on one training step of the course's
    model: every matrix product, forward and backward, from its shapes."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    hidden = benchmark.HIDDEN_UNITS
    model = torch.nn.Sequential(
        torch.nn.Linear(784, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10)
    )
    images, labels = torch.rand(batch_size, 784), torch.zeros(batch_size).long()
    with FlopCounterMode(display=False) as counter:
        torch.nn.functional.cross_entropy(model(images), labels).backward()
    assert benchmark.step_flops(batch_size) == counter.get_total_flops()


def test_figures_exist_in_both_themes_with_alt_text():
    alt = json.loads((RESULTS / "figures.json").read_text())["alt"]
    assert set(alt) == {"step-times", "epoch-times"}
    for name, text in alt.items():
        assert len(text) > 40, name
        for theme in ("light", "dark"):
            assert (RESULTS / "figures" / f"{name}-{theme}.svg").stat().st_size > 1000
