"""The committed benchmark: current, complete, and honest about its machine."""

import json

import pytest
from conftest import PROJECT_DIR

import benchmark

RESULTS = PROJECT_DIR / "docs" / "benchmark"


@pytest.fixture(scope="module")
def results():
    return json.loads((RESULTS / "benchmark.json").read_text())


def test_benchmark_was_made_by_the_current_code(results):
    assert results["code_sha256"] == benchmark.code_fingerprint(), (
        "docs/benchmark/ is stale: run `make bench` and commit the result"
    )


def test_every_runner_measured_everything(results):
    assert set(results["runners"]) == set(benchmark.RUNNERS)
    for name, runner in results["runners"].items():
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
        assert limit["step_seconds"][str(size)] == pytest.approx(
            benchmark.step_flops(size) / fastest
        )


def test_step_flops_counts_the_matrix_products():
    # Batch 1: forward and weight gradient of both layers (2 x 2 x weights),
    # plus the input gradient of the output layer (2 x its weights).
    hidden, output = 784 * benchmark.HIDDEN_UNITS, benchmark.HIDDEN_UNITS * 10
    assert benchmark.step_flops(1) == 4 * hidden + 6 * output
    assert benchmark.step_flops(128) == 128 * benchmark.step_flops(1)


def test_figures_exist_in_both_themes_with_alt_text():
    alt = json.loads((RESULTS / "figures.json").read_text())["alt"]
    assert set(alt) == {"step-times", "epoch-times"}
    for name in alt:
        for theme in ("light", "dark"):
            assert (RESULTS / "figures" / f"{name}-{theme}.svg").stat().st_size > 1000
