"""The seed study: its statistics, its results, and the pages that show it."""

import json
import statistics

import pytest

from helpers import DOCS_DIR, FRAMEWORKS, GENERATED_DIR
from tools import seed_study

SEEDS = json.loads((DOCS_DIR / "seeds" / "seeds.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("df", "quantile"),
    # Student's t, 97.5% quantiles, from any table.
    [(1, 12.706), (4, 2.776), (8, 2.306), (30, 2.042)],
)
def test_t_quantile_matches_the_tables(df, quantile):
    assert seed_study.t_quantile(0.975, df) == pytest.approx(quantile, abs=2e-3)


def test_welch_interval_on_a_known_case():
    found = seed_study.welch([1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0, 5.0])
    # Means 2 and 3; variances 1/3 and 2.5/5; df = (5/6)^2 / ((1/3)^2/2 + (1/2)^2/4).
    assert found["difference"] == pytest.approx(-1.0)
    assert found["standard_error"] == pytest.approx((1 / 3 + 1 / 2) ** 0.5)
    assert found["degrees_of_freedom"] == pytest.approx(
        (5 / 6) ** 2 / ((1 / 3) ** 2 / 2 + (1 / 2) ** 2 / 4)
    )
    assert found["low"] < -1 < found["high"]


def test_the_study_has_five_seeds_or_more_and_its_numbers_add_up():
    assert len(SEEDS["seeds"]) >= 5
    for framework in FRAMEWORKS:
        found = SEEDS["frameworks"][framework]
        accuracies = found["accuracies"]
        assert len(accuracies) == len(SEEDS["seeds"])
        assert found["mean"] == pytest.approx(statistics.mean(accuracies))
        assert found["std"] == pytest.approx(statistics.stdev(accuracies))
        assert (found["min"], found["max"]) == (min(accuracies), max(accuracies))
    difference = SEEDS["difference"]
    assert difference["method"] == "Welch t interval"
    assert difference["low"] < difference["difference"] < difference["high"]
    assert difference["difference"] == pytest.approx(
        SEEDS["frameworks"]["keras"]["mean"] - SEEDS["frameworks"]["pytorch"]["mean"]
    )


def test_the_study_includes_the_lectures_seed_on_one_thread():
    """Seed 0, the lecture runs' seed, is in the study. The study's runs use one
    thread each, so its seed 0 need not repeat the lecture runs' last digits;
    the home page says so when they differ."""
    assert SEEDS["threads"] == 1
    for framework in FRAMEWORKS:
        metrics = json.loads((GENERATED_DIR / framework / "metrics.json").read_text())
        assert metrics["seed"] in SEEDS["seeds"]


@pytest.mark.parametrize(
    "page", ["index.md", "keras-or-pytorch.md", "parity.md", "lectures/model.md"]
)
def test_the_comparison_pages_read_the_seed_study(page):
    text = (DOCS_DIR / page).read_text(encoding="utf-8")
    assert "seed_verdict()" in text or "seeds." in text
