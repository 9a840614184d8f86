"""The notebooks: never drift from the programs; the committed solution is a
clean run of the current code, whose figures the introduction quotes; the
Keras and PyTorch parts run on their own, in any order; every check passes a
right answer and catches each named mistake with its hint."""

import contextlib
import itertools
import json
import os
import re
import textwrap

import nbformat
import pytest
from nbclient import NotebookClient

from helpers import run_program
from tools import DOCS_DIR, build_notebooks, course
from tools.build_notebooks import (
    EXERCISES,
    GUARD,
    SITE_URL,
    SOLUTION,
    assemble,
    configuration_source,
    exercise_regions,
    results_of,
)

ACCURACY_LINE = re.compile(
    r"^(keras|pytorch) +\d+ epochs: test accuracy ([0-9.]+)%", re.M
)
# Five epochs of the course's model: well above 95% in both frameworks.
ACCURACY_FLOOR = 95.0
RIGHT, WRONG = "✔", "✘"


def sources(cells):
    return [(cell.cell_type, cell.source) for cell in cells]


def committed_solution():
    return nbformat.read(SOLUTION, as_version=4)


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def text_of(cell):
    return "".join(output.get("text", "") for output in cell.get("outputs", []))


@pytest.mark.parametrize(
    ("path", "exercises"),
    [(SOLUTION, False), (EXERCISES, True)],
    ids=["solution", "exercises"],
)
def test_committed_notebook_equals_a_fresh_assembly(path, exercises):
    committed = nbformat.read(path, as_version=4)
    fresh = assemble(exercises, results=results_of(committed_solution()))
    assert sources(committed.cells) == sources(fresh.cells), (
        f"{path.name} is stale: run `make notebook` and commit the result"
    )


def test_committed_solution_has_the_outputs_of_a_clean_run():
    notebook = committed_solution()
    cells = code_cells(notebook)
    assert all(cell.execution_count for cell in cells), "not executed"
    errors = [o for cell in cells for o in cell.outputs if o.output_type == "error"]
    assert not errors
    accuracies = dict(ACCURACY_LINE.findall(text_of(cells[-1])))
    assert set(accuracies) == {"keras", "pytorch"}
    assert all(float(value) > ACCURACY_FLOOR for value in accuracies.values())
    # Both parts trained on the course's split.
    split = (
        f"split: {course.training_images()} train, "
        f"{course.settings()['VALIDATION_SIZE']} val, 10000 test"
    )
    assert sum(split in text_of(cell) for cell in cells) == 2
    # TensorFlow's start-up lines are dropped from the stored outputs.
    assert not any("oneDNN" in text_of(cell) for cell in cells)


def test_every_check_of_the_solution_says_right():
    checks = [
        cell
        for cell in code_cells(committed_solution())
        if cell.source.startswith("# Check the cell above")
    ]
    assert len(checks) == len(build_notebooks.CHECKS)
    verdicts = [text_of(cell) for cell in checks]
    assert all(RIGHT in text and WRONG not in text for text in verdicts), verdicts


def test_the_introduction_quotes_the_solutions_own_run():
    notebook = committed_solution()
    results = results_of(notebook)
    epochs = re.search(r"^EPOCHS = (\d+)", configuration_source(), re.M).group(1)
    for framework, figures in results.items():
        assert figures["epochs"] == epochs
        row = (
            f"| {course.FRAMEWORKS[framework]} | {epochs} | {figures['accuracy']} "
            f"| {figures['loss']} |"
        )
        assert row in notebook.cells[0].source
    # Not the site's full-retrain figures.
    for framework in course.FRAMEWORKS:
        metrics = json.loads(
            (DOCS_DIR / "generated" / framework / "metrics.json").read_text()
        )
        assert f"{metrics['test']['accuracy']:.2%}" not in notebook.cells[0].source


def test_the_versions_cell_quotes_the_versions_that_made_the_site():
    notebook = committed_solution()
    cell = next(c for c in code_cells(notebook) if "COURSE_VERSIONS" in c.source)
    keras_run = json.loads(
        (DOCS_DIR / "generated" / "keras" / "metrics.json").read_text()
    )
    versions = keras_run["versions"]
    for name in ("keras", "torch"):
        assert f'"{versions[name]}"' in cell.source
    assert "yours:" in text_of(cell)
    # The first code cell: before any framework loads.
    assert code_cells(notebook)[0] is cell


def test_every_explained_in_is_a_link_to_a_course_page():
    notebook = assemble()
    text = "\n".join(cell.source for cell in notebook.cells)
    assert "docs/lectures" not in text
    links = re.findall(r"Explained on the course page \[[^]]+\]\(([^)]+)\)", text)
    assert len(links) == 2 * len(build_notebooks.SECTIONS)
    for link in links:
        assert link.startswith(SITE_URL)
        page = link.removeprefix(SITE_URL).rstrip("/") + ".md"
        assert (DOCS_DIR / page).is_file(), link


def test_no_notebook_code_exits_or_reads_a_command_line():
    for cell in code_cells(assemble()):
        assert "sys.exit(" not in cell.source
        assert "parse_args()" not in cell.source


def test_the_helper_modules_are_folded_after_the_lesson_and_the_configuration():
    cells = assemble().cells
    writes = [
        i for i, cell in enumerate(cells) if cell.source.startswith("%%writefile")
    ]
    assert len(writes) == 3
    assert all(cells[i].metadata["jupyter"]["source_hidden"] for i in writes)
    configuration = next(
        i for i, cell in enumerate(cells) if cell.source == configuration_source()
    )
    assert configuration < writes[0]
    # Only a short introduction and set-up come before the configuration.
    assert configuration < 6


def test_exercise_edition_blanks_the_key_lines():
    notebook = nbformat.read(EXERCISES, as_version=4)
    blanks = [cell.source for cell in notebook.cells if "# TODO:" in cell.source]
    todo_count = sum(source.count("# TODO:") for source in blanks)
    assert todo_count == len(build_notebooks.HINTS) == 8
    # The answers are gone from the lesson's cells (the checks' hints, in the
    # folded notebook_checks.py, name them once the student has tried)...
    text = "\n".join(
        cell.source
        for cell in notebook.cells
        if not cell.source.startswith("%%writefile notebook_checks.py")
    )
    for answer in (
        "keras.layers.Dense(10)",
        "SparseCategoricalCrossentropy(from_logits=True)",
        "model.fit(",
        "model.evaluate(",
        "class MLP(nn.Module)",
        "nn.CrossEntropyLoss()",
        "loss.backward()",
        "optimizer.zero_grad()",
    ):
        assert answer not in text, answer
    # ... and no output gives them away.
    assert not any(cell.get("outputs") for cell in code_cells(notebook))
    # A check follows every cell with a blank.
    cells = notebook.cells
    for i, cell in enumerate(cells):
        if "# TODO:" in cell.source:
            assert cells[i + 1].source.startswith("# Check the cell above")


def test_notebooks_link_to_colab_at_their_repository_path():
    for path in (SOLUTION, EXERCISES):
        first = nbformat.read(path, as_version=4).cells[0].source
        assert build_notebooks.colab_url(path) in first
        assert build_notebooks.colab_url(path).endswith(
            f"/blob/main/docs/notebooks/{path.name}"
        )


def test_the_guard_comes_before_any_framework_import():
    code = [cell.source for cell in code_cells(assemble())]
    first_import = next(
        i
        for i, source in enumerate(code)
        if re.search(r"^import (keras|tensorflow|torch)", source, re.M)
    )
    assert code.index(GUARD) < first_import


# Running the exercise edition: the set-up, then one part, with a small
# configuration (one epoch on 512 images) so that each run takes seconds.
QUICK = {"EPOCHS": "1", "TRAIN_SIZE": "512", "OPTIONS": '["--quiet"]'}


def quick(notebook):
    for cell in notebook.cells:
        if cell.source == configuration_source():
            for name, value in QUICK.items():
                cell.source = re.sub(
                    rf"^{name} = .*$", f"{name} = {value}", cell.source, flags=re.M
                )
            return notebook
    raise AssertionError("no Configuration cell")


def fill(notebook, framework, answers):
    """Put each answer (exercise name -> code) in its blank, as a student would."""
    regions = exercise_regions(framework)
    for name, answer in answers.items():
        body, blank = regions[name]
        indent = re.match(r" *", blank).group()
        answer = textwrap.indent(textwrap.dedent(answer).strip("\n"), indent)
        cell = next(cell for cell in notebook.cells if blank in cell.source)
        cell.source = cell.source.replace(blank, answer)
    return notebook


def solutions(framework):
    return {name: body for name, (body, _) in exercise_regions(framework).items()}


def split(notebook):
    """The set-up's cells, and each part's cells by framework."""
    cells = notebook.cells
    starts = [i for i, cell in enumerate(cells) if cell.source.startswith("## Part")]
    closing = next(
        i for i, cell in enumerate(cells) if i > starts[-1] and cell.source[:3] == "## "
    )
    bounds = [*starts, closing]
    return cells[: starts[0]], {
        framework: cells[start:end]
        for framework, (start, end) in zip(
            course.FRAMEWORKS, itertools.pairwise(bounds), strict=True
        )
    }


def until_check(cells, section):
    """A part's cells up to the check after the section headed `section`."""
    heading = next(
        i for i, cell in enumerate(cells) if cell.source.startswith(f"### {section}")
    )
    check = next(
        i
        for i, cell in enumerate(cells)
        if i > heading and cell.source.startswith("# Check the cell above")
    )
    return cells[: check + 1]


def part_sources(framework, answers):
    """The quick exercise edition's code cells for one part, with `answers`
    filled in: [(is it a check, source)], the part's own cells only."""
    notebook = fill(quick(assemble(exercises=True)), framework, answers)
    _, parts = split(notebook)
    return [
        (cell.source.startswith("# Check the cell above"), cell.source)
        for cell in code_cells(nbformat.v4.new_notebook(cells=parts[framework]))
    ]


def exercise_span(framework, exercise, section):
    """Where to run a mistake again: the code cells of a part (as numbered by
    `part_sources`) from the one holding `exercise` to the check that follows
    section `section`, so every cell the original run needed in between."""
    _, parts = split(quick(assemble(exercises=True)))
    cells = code_cells(nbformat.v4.new_notebook(cells=parts[framework]))
    blank = exercise_regions(framework)[exercise][1]
    start = next(i for i, cell in enumerate(cells) if blank in cell.source)
    last = until_check(parts[framework], section)[-1]
    end = next(i for i, cell in enumerate(cells) if cell is last)
    assert start < end and cells[end].source.startswith("# Check the cell above")
    return start, end + 1


def verdicts_of(ran):
    """The check cells' outputs among (is it a check, output) pairs."""
    return [text for is_check, text in ran if is_check]


def all_right(verdicts):
    return bool(verdicts) and all(RIGHT in t and WRONG not in t for t in verdicts)


class Kernel:
    """One kernel that has run the set-up and one part of the quick exercise
    edition filled with the solutions, as a student runs them; its cells can
    then be run again, changed, in the same kernel."""

    def __init__(self, framework, client, work_dir):
        self.framework = framework
        self.client = client
        self.work_dir = work_dir
        self.right = part_sources(framework, solutions(framework))
        self.first_run = None

    def run(self, source):
        """Run one cell's source; its text output (CellExecutionError on error)."""
        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells.append(cell)
        self.client.execute_cell(cell, len(self.client.nb.cells) - 1)
        return text_of(cell)

    def run_all(self, cells):
        """Run (is it a check, source) cells in order: (is it a check, output)."""
        return [(is_check, self.run(source)) for is_check, source in cells]

    def restore(self, start=0):
        """Run the part's right cells again from `start` to its end: the state
        of the first run, every check of the re-run saying right."""
        verdicts = verdicts_of(self.run_all(self.right[start:]))
        assert all_right(verdicts), verdicts


def start_kernel(framework, work_dir, mnist_dir):
    """A kernel (a context manager) that has run the set-up, then the part of
    `framework` filled with the solutions, once."""
    notebook = fill(quick(assemble(exercises=True)), framework, solutions(framework))
    setup, _ = split(notebook)
    client = NotebookClient(
        nbformat.v4.new_notebook(),
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(work_dir)}},
    )
    client.reset_execution_trackers()

    @contextlib.contextmanager
    def running():
        # The kernel gets this process's environment, and the MNIST files.
        with client.setup_kernel(env=dict(os.environ, MNIST_DIR=str(mnist_dir))):
            session = Kernel(framework, client, work_dir)
            for cell in code_cells(nbformat.v4.new_notebook(cells=setup)):
                session.run(cell.source)
            session.first_run = session.run_all(session.right)
            yield session

    return running()


@pytest.fixture(scope="module")
def kernels(tmp_path_factory, mnist_dir):
    """One kernel per framework for the whole module, each started when a test
    first asks for it: framework -> Kernel."""
    with contextlib.ExitStack() as stack:
        started = {}

        def kernel(framework):
            if framework not in started:
                work_dir = tmp_path_factory.mktemp(f"notebook-{framework}")
                started[framework] = stack.enter_context(
                    start_kernel(framework, work_dir, mnist_dir)
                )
            return started[framework]

        yield kernel


@pytest.fixture
def kernel(request, kernels):
    """The kernel of the framework a test is parametrized with."""
    return kernels(request.param)


@pytest.mark.slow
@pytest.mark.parametrize("kernel", list(course.FRAMEWORKS), indirect=True)
def test_the_exercises_filled_with_the_solutions_pass_every_check(kernel):
    """Each part alone after the set-up, as a student runs it: a check that
    rejected a right answer would fail here."""
    verdicts = verdicts_of(kernel.first_run)
    expected = sum(checked == kernel.framework for checked, _ in build_notebooks.CHECKS)
    assert len(verdicts) == expected
    assert all_right(verdicts), verdicts
    assert (kernel.work_dir / "runs" / kernel.framework / "metrics.json").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("kernel", list(course.FRAMEWORKS), indirect=True)
def test_running_a_training_cell_again_trains_from_the_same_fresh_weights(kernel):
    """Twice the same training cell, in one kernel: the same losses, so the
    second run started over from the first run's initial weights."""
    _, parts = split(quick(assemble()))
    training = next(
        cell.source
        for cell in parts[kernel.framework]
        if cell.source.startswith("# Notebook only:")
    )
    # The training cell has run once; run the solution edition's again.
    show = 'print("losses:", history["loss"])'
    first = kernel.run(show)
    kernel.run(training)
    second = kernel.run(show)
    assert first.startswith("losses: [") and first == second


# Each common mistake, as a student would make it in the exercise cell: the
# framework, the exercise, the change that turns the program's solution into
# the wrong answer (its text, then what the student wrote instead), the
# section whose check must catch it, and words of the hint that check must print.
MISTAKES = {
    "keras-softmax-output": (
        "keras",
        "exercise_model",
        ("keras.layers.Dense(10)", 'keras.layers.Dense(10, activation="softmax")'),
        "Keras: The model",
        "the model ends with a softmax",
    ),
    "keras-output-size": (
        "keras",
        "exercise_model",
        ("keras.layers.Dense(10)", "keras.layers.Dense(1)"),
        "Keras: The model",
        "1 outputs, not 10",
    ),
    "keras-no-relu": (
        "keras",
        "exercise_model",
        (
            'keras.layers.Dense(args.hidden_units, activation="relu")',
            "keras.layers.Dense(args.hidden_units)",
        ),
        "Keras: The model",
        "no ReLU",
    ),
    "keras-missing-from-logits": (
        "keras",
        "exercise_loss",
        (
            "SparseCategoricalCrossentropy(from_logits=True)",
            "SparseCategoricalCrossentropy()",
        ),
        "Keras: Training",
        "Pass from_logits=True",
    ),
    "keras-evaluate-swapped": (
        "keras",
        "exercise_evaluate",
        ("test_loss, test_accuracy =", "test_accuracy, test_loss ="),
        "Keras: Evaluate",
        "swapped",
    ),
    "pytorch-softmax-before-cross-entropy": (
        "pytorch",
        "exercise_model",
        (
            "return self.output(torch.relu(self.hidden(x)))",
            "return torch.softmax(self.output(torch.relu(self.hidden(x))), dim=1)",
        ),
        "PyTorch: The model",
        "softmax is applied twice",
    ),
    "pytorch-output-size": (
        "pytorch",
        "exercise_model",
        ("nn.Linear(hidden_units, 10)", "nn.Linear(hidden_units, 1)"),
        "PyTorch: The model",
        "1 outputs, not 10",
    ),
    "pytorch-nll-loss": (
        "pytorch",
        "exercise_loss",
        ("nn.CrossEntropyLoss()", "nn.NLLLoss()"),
        "PyTorch: Training",
        "nn.NLLLoss expects log-probabilities",
    ),
    "pytorch-missing-zero-grad": (
        "pytorch",
        "exercise_training",
        ("optimizer.zero_grad()", ""),
        "PyTorch: Training",
        "Call optimizer.zero_grad() before loss.backward()",
    ),
    "pytorch-missing-step": (
        "pytorch",
        "exercise_training",
        ("optimizer.step()", ""),
        "PyTorch: Training",
        "the weights did not change",
    ),
    "pytorch-evaluation-in-training-mode": (
        "pytorch",
        "exercise_evaluate",
        ("logits = model(x)", "model.train()\nlogits = model(x)"),
        "PyTorch: Training",
        "the model was in training mode",
    ),
}


def wrong_answer(framework, exercise, change):
    """The solution of `exercise` with the one change a mistake makes. The
    solution's text must be there exactly once: a mistake cannot quietly
    stop applying when the program changes."""
    old, new = change
    solution = textwrap.dedent(solutions(framework)[exercise])
    assert solution.count(old) == 1, (framework, exercise, old)
    return solution.replace(old, new)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kernel", "mistake"),
    [(framework, mistake) for mistake, (framework, *_) in MISTAKES.items()],
    ids=list(MISTAKES),
    indirect=["kernel"],
)
def test_each_common_mistake_is_caught_with_its_hint(kernel, mistake):
    """The exercise's cell with the mistake, and the cells up to the check of
    its section, run again after the right answers; then the right answer
    again, which the checks accept."""
    framework, exercise, change, section, hint = MISTAKES[mistake]
    assert kernel.framework == framework
    answer = wrong_answer(framework, exercise, change)
    wrong = part_sources(framework, solutions(framework) | {exercise: answer})
    start, end = exercise_span(framework, exercise, section)
    assert wrong[start][1] != kernel.right[start][1]
    assert [s for _, s in wrong[:start]] == [s for _, s in kernel.right[:start]]
    try:
        verdict = verdicts_of(kernel.run_all(wrong[start:end]))[-1]
        assert WRONG in verdict and hint in verdict, verdict
    finally:
        kernel.restore(start)


@pytest.mark.slow
@pytest.mark.parametrize("kernel", ["keras"], indirect=True)
def test_a_blank_part_does_not_reuse_the_other_parts_objects(kernel):
    """Keras filled in and run, then the PyTorch part with its model left blank:
    the PyTorch model cell fails on `model`, not on the Keras model's methods."""
    _, parts = split(quick(assemble(exercises=True)))
    blank = until_check(parts["pytorch"], "PyTorch: The model")
    try:
        with pytest.raises(Exception, match="name 'model' is not defined"):
            for cell in code_cells(nbformat.v4.new_notebook(cells=blank)):
                kernel.run(cell.source)
    finally:
        kernel.restore()


# TensorFlow, then PyTorch's compiler stack (which an optimizer's first use
# loads): the order that crashes the pinned builds without the guard.
TENSORFLOW_THEN_OPTIMIZER = """
import tensorflow
import torch
parameter = torch.zeros(3, requires_grad=True)
optimizer = torch.optim.Adam([parameter])
parameter.sum().backward()
optimizer.step()
print("no crash")
"""
PYTORCH_FIRST = """
import torch
parameter = torch.zeros(3, requires_grad=True)
optimizer = torch.optim.Adam([parameter])
parameter.sum().backward()
optimizer.step()
import keras
import tensorflow
keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
print("no crash")
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "program",
    [GUARD + "\n" + TENSORFLOW_THEN_OPTIMIZER, PYTORCH_FIRST],
    ids=["keras-part-first-with-the-guard", "pytorch-part-first"],
)
def test_both_frameworks_load_in_either_order(program):
    completed = run_program("-c", program, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip().endswith("no crash")


@pytest.mark.slow
def test_without_the_guard_the_pinned_builds_crash():
    """Why the guard is there, and that the test above can tell: if this
    fails, the pinned builds no longer crash and the guard may go."""
    completed = run_program("-c", TENSORFLOW_THEN_OPTIMIZER, timeout=300)
    assert completed.returncode != 0
    assert "no crash" not in completed.stdout
