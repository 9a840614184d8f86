"""The Exercises page's solutions: each one is code that runs as the page shows it.

The page includes each solution from code/keras_exercises.py and
code/pytorch_exercises.py; tools/exercises.py (`make exercises`) applies each
to a copy of its program and runs it. Here: every section is on the page and
used by the tool, every change applies to its program and gives valid Python
(fast), and every changed program runs on a few images (slow).
"""

import ast
import json
import re

import pytest

from helpers import CODE_DIR, DOCS_DIR, FRAMEWORKS
from tools import exercises, sections, variants

PAGE = DOCS_DIR / "exercises.md"
QUICK = ("--epochs", "1", "--train-size", "512", "--hidden-units", "16")

# Every solution, as the tool applies it: (framework, changes, expect_failure).
SOLUTIONS = {
    "1.1 keras": ("keras", (exercises.STANDARDISE,), False),
    "1.1 pytorch": ("pytorch", (exercises.STANDARDISE,), False),
    "1.2 uint8": ("pytorch", (exercises.NO_LONG,), False),
    "1.2 int32": ("pytorch", (exercises.INT32_LABELS,), True),
    "2.2 keras": ("keras", (exercises.TWO_LAYERS,), False),
    "2.2 pytorch": ("pytorch", (exercises.TWO_LAYERS,), False),
    "2.3 pytorch": ("pytorch", (exercises.GLOROT,), False),
    "3.2 pytorch": ("pytorch", (exercises.NO_ZERO_GRAD,), False),
    "3.3 keras": ("keras", exercises.EARLY_STOPPING["keras"], False),
    "3.3 pytorch": ("pytorch", exercises.EARLY_STOPPING["pytorch"], False),
    "4.1 keras": ("keras", (exercises.PER_DIGIT,), False),
    "4.1 pytorch": ("pytorch", (exercises.PER_DIGIT,), False),
    "4.2 keras": ("keras", (exercises.MANUAL_EVALUATE,), False),
}


def section_names(framework):
    text = (CODE_DIR / f"{framework}_exercises.py").read_text(encoding="utf-8")
    return set(sections.parse(text))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_solution_is_on_the_page_and_run_by_the_tool(framework):
    page = PAGE.read_text(encoding="utf-8")
    tool = (CODE_DIR.parent / "tools" / "exercises.py").read_text(encoding="utf-8")
    for name in section_names(framework):
        assert f'--8<-- "code/{framework}_exercises.py:{name}"' in page, name
        applied = {
            change.solution
            for solution_framework, changes, _ in SOLUTIONS.values()
            if solution_framework == framework
            for change in changes
        }
        assert name in applied, f"no test applies {framework}_exercises.py:{name}"
        assert f'"{name}"' in tool, f"tools/exercises.py never runs {name}"


@pytest.mark.parametrize("solution", SOLUTIONS)
def test_each_change_applies_once_and_gives_valid_python(solution):
    framework, changes, _ = SOLUTIONS[solution]
    source = (CODE_DIR / f"{framework}_mlp.py").read_text(encoding="utf-8")
    for change in changes:
        changed = variants.apply(source, framework, change)
        assert changed != source
        source = changed
    ast.parse(source)


def test_the_exercise_files_are_fragments_not_programs():
    for framework in FRAMEWORKS:
        text = (CODE_DIR / f"{framework}_exercises.py").read_text(encoding="utf-8")
        assert "raise SystemExit" in text


@pytest.mark.slow
@pytest.mark.parametrize("solution", SOLUTIONS)
def test_each_solution_runs(solution, tmp_path, mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    framework, changes, expect_failure = SOLUTIONS[solution]
    variant = variants.Variant(
        framework, changes, QUICK, expect_failure=expect_failure, label=solution
    )
    found = variants.run(variant, tmp_path / "run")
    if expect_failure:
        assert "expected target dtype" in found["error"], found["error"]
        return
    assert 0 <= found["test_accuracy"] <= 1
    expected_output = {
        "1.1": r"mean \S+, standard deviation \S+",
        "3.3": r"kept the weights of epoch \d+",
        "4.1": r"hardest digit: \d",
        "4.2": r"by hand: loss \S+, accuracy \S+",
    }.get(solution.split()[0])
    if expected_output:
        assert re.search(expected_output, found["stdout"]), found["stdout"]


def test_the_results_hold_every_exercise():
    results = json.loads((DOCS_DIR / "exercises" / "exercises.json").read_text())
    for exercise in (
        "1.1",
        "1.2",
        "2.1",
        "2.2",
        "2.3",
        "3.1",
        "3.2",
        "3.3",
        "4.1",
        "4.2",
    ):
        assert exercise in results
    for framework in FRAMEWORKS:
        per_digit = results["4.1"][framework]["per_digit"]
        assert len(per_digit) == 10
        assert per_digit.index(min(per_digit)) == results["4.1"][framework]["hardest"]
        rates = results["3.1"][framework]["tried"]
        passing = [
            rate for rate, value in rates.items() if value > results["3.1"]["target"]
        ]
        assert results["3.1"][framework]["first_passing"] == (
            float(passing[0]) if passing else None
        )
    by_hand, evaluate = results["4.2"]["by_hand"], results["4.2"]["evaluate"]
    assert by_hand["accuracy"] == pytest.approx(evaluate["accuracy"], abs=1e-6)
    assert by_hand["loss"] == pytest.approx(evaluate["loss"], rel=1e-4)
