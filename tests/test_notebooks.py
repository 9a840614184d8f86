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
import unittest.mock

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
from tools.notebook_checks import CHECK_CELL

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


@pytest.mark.parametrize("path", [SOLUTION, EXERCISES], ids=["solution", "exercises"])
def test_each_notebook_page_is_its_committed_notebook(path):
    """The site's page of each notebook is made from the committed notebook
    as it stands, outputs included; the folded helper modules are links."""
    markdown_text, images = build_notebooks.page_of(
        nbformat.read(path, as_version=4), path
    )
    page = path.with_suffix(".md")
    assert page.is_file() and page.read_text() == markdown_text, (
        f"{page.name} is stale: run `make notebook` and commit the result"
    )
    for name, data in images.items():
        assert (path.parent / name).read_bytes() == data, name
    assert f"[Download the notebook]({path.name})" in markdown_text
    assert "%%writefile" not in markdown_text
    assert markdown_text.count("A folded cell of the notebook writes") == len(
        build_notebooks.HELPER_MODULES
    )
    assert f"]({SITE_URL}" not in markdown_text  # links between the site's pages
    verdicts = markdown_text.count("✔ ")
    assert verdicts == (0 if path == EXERCISES else 8)


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
        if cell.source.startswith(CHECK_CELL)
    ]
    assert len(checks) == len(build_notebooks.CHECKS), (
        "the committed solution has another number of check cells than the "
        "notebook builder makes: run `make notebook`"
    )
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


@pytest.mark.parametrize(
    ("installed", "expected"),
    [
        ({}, []),
        ({"keras": "3.9.0"}, ["older than the course's", "should run"]),
        ({"tensorflow-cpu": "2.15.1"}, ["too old: before 2.16", "missing or too old"]),
        ({"torch": "2.20.0"}, ["<- newer", "should run"]),
        ({"keras": "2.15.0"}, ["too old: Keras 2 has another API", "or too old"]),
        (
            {"torch": "2.6.0+cu124"},
            ["too old: torch.accelerator's check_available", "or too old"],
        ),
        ({"tensorflow-cpu": None, "tensorflow": None}, ["not installed", "missing"]),
    ],
    ids=[
        "the-course's",
        "older",
        "tensorflow-2.15",
        "newer",
        "keras-2",
        "torch-2.6",
        "no-tensorflow",
    ],
)
def test_the_versions_cell_tells_older_from_too_old(installed, expected, capsys):
    """The first cell, run with other installed versions (None: not there)."""
    source = next(
        c.source
        for c in code_cells(committed_solution())
        if "COURSE_VERSIONS" in c.source
    )
    from importlib import metadata

    # The course's versions, whatever is installed here, then the case's.
    course_versions = build_notebooks.site_versions()
    fake = {
        "tensorflow": None,
        "tensorflow-cpu": course_versions["TensorFlow"],
        "keras": course_versions["Keras"],
        "torch": course_versions["PyTorch"],
    } | installed

    def version(distribution):
        if fake.get(distribution) is None:
            raise metadata.PackageNotFoundError(distribution)
        return fake[distribution]

    with unittest.mock.patch.object(metadata, "version", version):
        exec(source, {})
    printed = capsys.readouterr().out
    for words in expected:
        assert words in printed, printed
    if not installed:
        assert "<-" not in printed and "pip install" not in printed


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


def test_the_notebook_points_only_where_a_notebook_student_can_go():
    """No file path of the repository, exercise number of the site or command
    line outside the folded helper modules; the links to pages that show the
    exercises' solutions warn of it, in the exercise edition only."""
    for exercises in (False, True):
        cells = assemble(exercises).cells
        text = "\n".join(
            cell.source for cell in cells if not cell.source.startswith("%%writefile")
        )
        text = re.sub(r"\(https://github\.com/[^)]+\)", "", text)
        for pointer in (r"\bcode/", r"\btools/", r"Exercise \d", r"_mlp\.py --"):
            assert not re.search(pointer, text), pointer
        warned = re.findall(r"\[([^]]+)\]\([^)]+\)\. It shows the solution", text)
        assert bool(warned) == exercises
        if exercises:
            assert {"2. Model", "3. Training"} <= set(warned)


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
    # One hint per exercise of the programs (their exercise_* sections).
    exercises = sum(len(exercise_regions(f)) for f in course.FRAMEWORKS)
    assert todo_count == len(build_notebooks.HINTS) == exercises, (
        "the exercise edition is stale, or a hint is missing in build_notebooks.HINTS"
    )
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
            assert cells[i + 1].source.startswith(CHECK_CELL)


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
# configuration (two epochs on 512 images) so that each run takes seconds.
# Two epochs, so that a fit left at its default of one is caught.
QUICK = {"EPOCHS": "2", "TRAIN_SIZE": "512", "OPTIONS": '["--quiet"]'}


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
        if i > heading and cell.source.startswith(CHECK_CELL)
    )
    return cells[: check + 1]


def part_sources(framework, answers):
    """The quick exercise edition's code cells for one part, with `answers`
    filled in: [(is it a check, source)], the part's own cells only."""
    notebook = fill(quick(assemble(exercises=True)), framework, answers)
    _, parts = split(notebook)
    return [
        (cell.source.startswith(CHECK_CELL), cell.source)
        for cell in code_cells(nbformat.v4.new_notebook(cells=parts[framework]))
    ]


def exercise_span(framework, exercise):
    """Where to run an answer again: the code cells of a part (as numbered by
    `part_sources`) from the one holding `exercise` to the first check after
    it, so every cell the first run ran in between."""
    cells = part_sources(framework, {})
    blank = exercise_regions(framework)[exercise][1]
    start = next(i for i, (_, source) in enumerate(cells) if blank in source)
    end = next(i for i, (is_check, _) in enumerate(cells) if i > start and is_check)
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

    def run(self, source, may_raise=False):
        """Run one cell's source: its text output, and the error it raised on
        a last line "raised Name: ...". An error fails the test
        (CellExecutionError) unless the cell may raise."""
        cell = nbformat.v4.new_code_cell(source)
        if may_raise:
            cell.metadata["tags"] = ["raises-exception"]
        self.client.nb.cells.append(cell)
        self.client.execute_cell(cell, len(self.client.nb.cells) - 1)
        errors = [o for o in cell.outputs if o.output_type == "error"]
        return text_of(cell) + "".join(
            f"\nraised {error.ename}: {error.evalue}" for error in errors
        )

    def run_all(self, cells, may_raise=False):
        """Run (is it a check, source) cells in order: (is it a check, output).
        A check cell must not raise, even where the cells it checks may."""
        return [
            (is_check, self.run(source, may_raise and not is_check))
            for is_check, source in cells
        ]

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


# What students write in each exercise cell: (framework, exercise) -> {variant:
# answer}. An answer is the code a student puts in the blank, or a change
# (old, new) to the program's solution, which must hold `old` exactly once (a
# variant cannot quietly stop applying when the program changes). Each right
# answer must pass every check and run its part to the end, the Save cell
# included.
RIGHT_ANSWERS = {
    ("keras", "exercise_model"): {
        "relu-layer": """
            model = keras.Sequential([
                keras.Input(shape=(784,)),
                keras.layers.Dense(args.hidden_units),
                keras.layers.ReLU(),
                keras.layers.Dense(10),
            ])
        """,
        "activation-layer": (
            'keras.layers.Dense(args.hidden_units, activation="relu"),',
            'keras.layers.Dense(args.hidden_units),\nkeras.layers.Activation("relu"),',
        ),
        "keywords-and-function": """
            model = keras.Sequential(layers=[
                keras.Input(shape=(784,)),
                keras.layers.Dense(
                    units=args.hidden_units, activation=keras.activations.relu
                ),
                keras.layers.Dense(units=10, activation=None),
            ])
        """,
        "added-one-by-one": """
            model = keras.Sequential()
            model.add(keras.Input(shape=(784,)))
            model.add(keras.layers.Dense(args.hidden_units, activation="relu"))
            model.add(keras.layers.Dense(10))
        """,
    },
    ("keras", "exercise_loss"): {
        "positional": ("(from_logits=True)", "(True)"),
        "a-function": """
            def loss_function(y_true, y_pred):
                return keras.losses.sparse_categorical_crossentropy(
                    y_true, y_pred, from_logits=True
                )
        """,
    },
    ("keras", "exercise_training"): {
        "positional": """
            history = model.fit(
                x_train, y_train, args.batch_size, args.epochs,
                validation_data=(x_val, y_val), callbacks=[EpochTimer(), keep_best],
            )
        """,
        "keywords-shuffle-silent": """
            history = model.fit(
                x=x_train, y=y_train, batch_size=args.batch_size, epochs=args.epochs,
                verbose=0, callbacks=[EpochTimer(), keep_best], shuffle=True,
                validation_data=(x_val, y_val),
            )
        """,
    },
    ("keras", "exercise_evaluate"): {
        "keywords": """
            test_loss, test_accuracy = model.evaluate(x=x_test, y=y_test, verbose=0)
        """,
        "a-dictionary": """
            scores = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
            test_loss, test_accuracy = scores["loss"], scores["accuracy"]
        """,
    },
    ("pytorch", "exercise_model"): {
        "sequential": """
            model = nn.Sequential(
                nn.Linear(784, args.hidden_units),
                nn.ReLU(),
                nn.Linear(args.hidden_units, 10),
            )
        """,
        "other-names-functional-relu": """
            class Net(nn.Module):
                def __init__(self, hidden_units):
                    super().__init__()
                    self.fc1 = nn.Linear(784, hidden_units)
                    self.fc2 = nn.Linear(hidden_units, 10)
                def forward(self, x):
                    return self.fc2(nn.functional.relu(self.fc1(x)))


            model = Net(hidden_units=args.hidden_units)
        """,
        "output-declared-first-relu-module": """
            class MLP(nn.Module):
                def __init__(self, hidden_units):
                    super().__init__()
                    self.output = nn.Linear(hidden_units, 10)
                    self.activation = nn.ReLU()
                    self.hidden = nn.Linear(784, hidden_units)
                def forward(self, x):
                    return self.output(self.activation(self.hidden(x)))


            model = MLP(args.hidden_units)
        """,
        "dropout-in-training": """
            model = nn.Sequential(
                nn.Linear(784, args.hidden_units),
                nn.ReLU(),
                nn.Dropout(0.2),
                nn.Linear(args.hidden_units, 10),
            )
        """,
        "nested-sequential": """
            class MLP(nn.Module):
                def __init__(self, hidden_units):
                    super().__init__()
                    self.layers = nn.Sequential(
                        nn.Linear(784, hidden_units),
                        nn.ReLU(),
                        nn.Linear(hidden_units, 10),
                    )
                def forward(self, x):
                    return self.layers(x)


            model = MLP(args.hidden_units)
        """,
    },
    ("pytorch", "exercise_loss"): {
        "keyword-reduction": (
            "nn.CrossEntropyLoss()",
            'nn.CrossEntropyLoss(reduction="mean")',
        ),
        "the-function": ("nn.CrossEntropyLoss()", "nn.functional.cross_entropy"),
    },
    ("pytorch", "exercise_training"): {
        "zero-grad-last": """
            logits = model(x_batch)
            loss = loss_function(logits, y_batch)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        """,
        "model-zero-grad-to-zeros": (
            "optimizer.zero_grad()",
            "model.zero_grad(set_to_none=False)",
        ),
    },
    ("pytorch", "exercise_evaluate"): {
        "count-divided": """
            logits = model(x)
            loss = float(loss_function(logits, y))
            accuracy = (logits.argmax(1) == y).sum().item() / len(y)
        """,
        "torch-mean": """
            logits = model(x)
            loss = loss_function(logits, y).item()
            accuracy = torch.mean((torch.argmax(logits, dim=1) == y).float()).item()
        """,
    },
}

# Each mistake, in the same form, and words of the hint that the check after
# the exercise's section must print (or a tuple of them, all printed).
MISTAKES = {
    ("keras", "exercise_model"): {
        "softmax-output": (
            ("keras.layers.Dense(10)", 'keras.layers.Dense(10, activation="softmax")'),
            "the model ends with a softmax",
        ),
        "relu-output": (
            ("keras.layers.Dense(10)", 'keras.layers.Dense(10, activation="relu")'),
            "the output layer ends with a ReLU",
        ),
        "output-size": (
            ("keras.layers.Dense(10)", "keras.layers.Dense(1)"),
            "1 outputs, not 10",
        ),
        "no-relu": (
            (
                'keras.layers.Dense(args.hidden_units, activation="relu")',
                "keras.layers.Dense(args.hidden_units)",
            ),
            "no ReLU after the hidden layer",
        ),
        "sigmoid": (('activation="relu"', 'activation="sigmoid"'), "apply ReLU"),
        "typed-width": (
            ("Dense(args.hidden_units,", "Dense(128,"),
            "maps 784 -> 128, not 784 -> 512",
        ),
        "no-input": (
            ("keras.Input(shape=(784,)),", ""),
            "start the Sequential with keras.Input(shape=(784,))",
        ),
        "functional": (
            """
            inputs = keras.Input(shape=(784,))
            hidden = keras.layers.Dense(args.hidden_units, activation="relu")(inputs)
            model = keras.Model(inputs, keras.layers.Dense(10)(hidden))
            """,
            "build the keras.Sequential the exercise asks for",
        ),
        "log-softmax-output": (
            (
                "keras.layers.Dense(10)",
                'keras.layers.Dense(10, activation="log_softmax")',
            ),
            "the outputs are log-probabilities",
        ),
        "flatten-first": (
            (
                "keras.Input(shape=(784,)),",
                "keras.Input(shape=(784,)),\nkeras.layers.Flatten(),",
            ),
            "a Flatten is not needed",
        ),
        "a-typo": (
            ("keras.layers.Dense(10)", "keras.layers.Dens(10)"),
            "the cell above raised AttributeError",
        ),
    },
    ("keras", "exercise_loss"): {
        "missing-from-logits": (
            ("(from_logits=True)", "()"),
            "Pass from_logits=True",
        ),
        "a-name": (
            'loss_function = "sparse_categorical_crossentropy"',
            "is a name",
        ),
        "one-hot-loss": (
            ("SparseCategoricalCrossentropy", "CategoricalCrossentropy"),
            "The labels are class indices",
        ),
        "summed": (
            ("(from_logits=True)", '(from_logits=True, reduction="sum")'),
            "reduction='sum' adds up the batch's losses",
        ),
        "the-class": (
            (
                "SparseCategoricalCrossentropy(from_logits=True)",
                "SparseCategoricalCrossentropy",
            ),
            "a class was passed where an instance is needed",
        ),
    },
    ("keras", "exercise_training"): {
        "validation-split": (
            ("validation_data=(x_val, y_val)", "validation_split=0.1"),
            "the course's held-out split",
        ),
        "default-epochs": (
            ("epochs=args.epochs,", ""),
            "it trained 1 epoch, not args.epochs (2)",
        ),
        "default-batch-size": (
            ("batch_size=args.batch_size,", ""),
            "batch_size=args.batch_size",
        ),
        "fit-twice": (
            (
                "history = model.fit(",
                "model.fit(x_train, y_train, args.batch_size, args.epochs)\n"
                "history = model.fit(",
            ),
            "fit ran twice in the cell",
        ),
        "no-callbacks": (
            ("callbacks=[EpochTimer(), keep_best],", ""),
            "the callbacks did not run",
        ),
    },
    ("keras", "exercise_evaluate"): {
        "swapped": (
            ("test_loss, test_accuracy =", "test_accuracy, test_loss ="),
            "swapped",
        ),
        "on-the-validation-set": (
            ("x_test, y_test", "x_val, y_val"),
            "evaluate on x_test and y_test",
        ),
        "not-unpacked": (
            ("test_loss, test_accuracy =", "test_loss ="),
            "unpack it",
        ),
    },
    ("pytorch", "exercise_model"): {
        "softmax-before-cross-entropy": (
            (
                "return self.output(torch.relu(self.hidden(x)))",
                "return torch.softmax(self.output(torch.relu(self.hidden(x))), dim=1)",
            ),
            "softmax is applied twice",
        ),
        "relu-output": (
            (
                "return self.output(torch.relu(self.hidden(x)))",
                "return torch.relu(self.output(torch.relu(self.hidden(x))))",
            ),
            "the output layer ends with a ReLU",
        ),
        "output-size": (
            ("nn.Linear(hidden_units, 10)", "nn.Linear(hidden_units, 1)"),
            "1 outputs, not 10",
        ),
        "no-relu": (
            ("self.output(torch.relu(self.hidden(x)))", "self.output(self.hidden(x))"),
            "no ReLU after the hidden layer",
        ),
        "the-class": (("model = MLP(args.hidden_units)", "model = MLP"), "create one"),
        "log-softmax-output": (
            (
                "return self.output(torch.relu(self.hidden(x)))",
                "return torch.log_softmax(self.output(torch.relu(self.hidden(x))), 1)",
            ),
            "the outputs are log-probabilities",
        ),
        "a-layer-made-in-forward": (
            (
                "return self.output(torch.relu(self.hidden(x)))",
                "return nn.Linear(784, 10)(x)",
            ),
            "forward creates a layer each time",
        ),
        "a-plain-list": (
            """
            class MLP(nn.Module):
                def __init__(self, hidden_units):
                    super().__init__()
                    self.layers = [
                        nn.Linear(784, hidden_units), nn.Linear(hidden_units, 10)
                    ]
                def forward(self, x):
                    return self.layers[1](torch.relu(self.layers[0](x)))


            model = MLP(args.hidden_units)
            """,
            "make it an nn.ModuleList",
        ),
        "no-super-init": (
            ("super().__init__()", "pass"),
            "cannot assign module before Module.__init__() call",
        ),
    },
    ("pytorch", "exercise_loss"): {
        "nll-loss": (
            ("nn.CrossEntropyLoss()", "nn.NLLLoss()"),
            "nn.NLLLoss expects log-probabilities",
        ),
        "the-class": (
            ("nn.CrossEntropyLoss()", "nn.CrossEntropyLoss"),
            "a class was passed where an instance is needed",
        ),
        "summed": (
            ("nn.CrossEntropyLoss()", 'nn.CrossEntropyLoss(reduction="sum")'),
            "it sums the losses of the batch",
        ),
        "label-smoothing": (
            ("nn.CrossEntropyLoss()", "nn.CrossEntropyLoss(label_smoothing=0.1)"),
            # and the evaluation, which uses that loss, says to fix it first
            (
                "mixes a uniform distribution into the targets",
                "not yet the cross-entropy (see the check of the loss)",
            ),
        ),
        "softmax-inside": (
            (
                "nn.CrossEntropyLoss()",
                "lambda logits, y: nn.functional.cross_entropy(logits.softmax(1), y)",
            ),
            "it applies a softmax before the cross-entropy",
        ),
    },
    ("pytorch", "exercise_training"): {
        "missing-zero-grad": (
            ("optimizer.zero_grad()", ""),
            "Call optimizer.zero_grad() before loss.backward()",
        ),
        "missing-step": (("optimizer.step()", ""), "the weights did not change"),
        "missing-backward": (("loss.backward()", ""), "the weights did not change"),
        "zero-grad-between-backward-and-step": (
            """
            logits = model(x_batch)
            loss = loss_function(logits, y_batch)
            loss.backward()
            optimizer.zero_grad()
            optimizer.step()
            """,
            "not between backward() and step()",
        ),
        "two-optimizer-steps": (
            ("optimizer.step()", "optimizer.step()\noptimizer.step()"),
            "optimizer.step() runs twice per batch",
        ),
        "a-second-schedule-step": (
            ("optimizer.step()", "optimizer.step()\nscheduler.step()"),
            "the schedule took 4 steps in 2 batches",
        ),
        "a-hand-written-update": (
            (
                "optimizer.step()",
                (
                    "with torch.no_grad():\n"
                    "    for parameter in model.parameters():\n"
                    "        parameter -= args.learning_rate * parameter.grad"
                ),
            ),
            "not those of one optimizer step on each batch's loss",
        ),
    },
    ("pytorch", "exercise_evaluate"): {
        "count-instead-of-fraction": (
            (".float().mean().item()", ".sum().item()"),
            "a count of correct images (5 of 8), not a fraction",
        ),
        "percentage": (
            ("accuracy = (", "accuracy = 100 * ("),
            "a percentage",
        ),
        "training-mode": (
            ("logits = model(x)", "model.train()\nlogits = model(x)"),
            "the model was in training mode",
        ),
        "softmax-before-loss": (
            ("loss_function(logits, y)", "loss_function(logits.softmax(dim=1), y)"),
            "the loss applies a softmax before the cross-entropy",
        ),
        "left-blank": ("pass", "evaluate does not set `logits`, `loss`, `accuracy`"),
        "the-validation-set-not-x": (
            ("logits = model(x)", "logits = model(x_val)"),
            "evaluate reads `x_val`, the notebook's data, not its arguments",
        ),
        "tensors": (
            """
            logits = model(x)
            loss = loss_function(logits, y)
            accuracy = (logits.argmax(dim=1) == y).float().mean()
            """,
            "not two Python floats: end each with .item()",
        ),
    },
}


def answer_code(framework, exercise, answer):
    """The code a student writes for `answer` (see RIGHT_ANSWERS)."""
    solution = textwrap.dedent(solutions(framework)[exercise])
    if isinstance(answer, str):
        return textwrap.dedent(answer)
    old, new = answer
    assert solution.count(old) == 1, (framework, exercise, old)
    return solution.replace(old, new)


def cases(table):
    return [
        pytest.param(
            framework, exercise, variant, id=f"{framework}-{exercise}-{variant}"
        )
        for (framework, exercise), variants in table.items()
        for variant in variants
    ]


def answered(kernel, exercise, answer):
    """The part's cells with `answer` in `exercise`, and the index of the
    first cell that differs from the solution's (the exercise's cell)."""
    framework = kernel.framework
    code = answer_code(framework, exercise, answer)
    cells = part_sources(framework, solutions(framework) | {exercise: code})
    start, _ = exercise_span(framework, exercise)
    assert [s for _, s in cells[:start]] == [s for _, s in kernel.right[:start]]
    return cells, start


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kernel", "exercise", "variant"), cases(RIGHT_ANSWERS), indirect=["kernel"]
)
def test_each_right_answer_passes_every_check_and_the_part_runs_to_its_end(
    kernel, exercise, variant
):
    cells, start = answered(
        kernel, exercise, RIGHT_ANSWERS[kernel.framework, exercise][variant]
    )
    metrics = kernel.work_dir / "runs" / kernel.framework / "metrics.json"
    metrics.unlink()
    try:
        verdicts = verdicts_of(kernel.run_all(cells[start:]))
        assert all_right(verdicts), verdicts
        assert metrics.is_file()
    finally:
        kernel.restore(start)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kernel", "exercise", "variant"), cases(MISTAKES), indirect=["kernel"]
)
def test_each_mistake_is_caught_with_its_hint(kernel, exercise, variant):
    """The exercise's cell with the mistake, and the cells up to the check of
    its section, run again after the right answers; then the right answers
    again, which the checks accept."""
    answer, hint = MISTAKES[kernel.framework, exercise][variant]
    cells, start = answered(kernel, exercise, answer)
    _, end = exercise_span(kernel.framework, exercise)
    try:
        ran = kernel.run_all(cells[start:end], may_raise=True)
        verdict = verdicts_of(ran)[-1]
        hints = hint if isinstance(hint, tuple) else (hint,)
        assert WRONG in verdict and all(words in verdict for words in hints), verdict
    finally:
        kernel.restore(start)


@pytest.mark.slow
@pytest.mark.parametrize("kernel", list(course.FRAMEWORKS), indirect=True)
def test_the_checks_hold_with_the_other_optimizer(kernel):
    """The Configuration cell offers plain SGD: the right answers pass with it
    (SGD keeps no state, which a check must not need), and a missing
    zero_grad is still caught."""
    kernel.run('OPTIMIZER = "sgd"')
    try:
        kernel.restore()
        if kernel.framework == "pytorch":
            answer, hint = MISTAKES["pytorch", "exercise_training"]["missing-zero-grad"]
            cells, start = answered(kernel, "exercise_training", answer)
            _, end = exercise_span("pytorch", "exercise_training")
            verdict = verdicts_of(kernel.run_all(cells[start:end]))[-1]
            assert WRONG in verdict and hint in verdict, verdict
    finally:
        kernel.run('OPTIMIZER = "adam"')
        kernel.restore()


@pytest.mark.slow
@pytest.mark.parametrize("kernel", ["pytorch"], indirect=True)
def test_a_cell_that_raises_gives_verdicts_not_name_errors(kernel):
    """The part from its first cell, with a model cell that raises: each check
    after it names what is missing and why, and the side-by-side cell says
    the part has no results rather than showing an earlier run's."""
    answer, _ = MISTAKES["pytorch", "exercise_model"]["no-super-init"]
    cells, _ = answered(kernel, "exercise_model", answer)
    try:
        verdicts = verdicts_of(kernel.run_all(cells, may_raise=True))
        model_check, training_check = verdicts
        assert "the cell above raised AttributeError" in model_check
        assert "`model` is not defined: the cell that defines it raised" in model_check
        assert "the cell above raised NameError: name 'model' is not defined" in (
            training_check
        )
        assert "`loss_function` is not defined" in training_check
        assert "NameError" not in model_check
        side_by_side = kernel.run(build_notebooks.SIDE_BY_SIDE)
        assert "pytorch  no results" in side_by_side, side_by_side
    finally:
        kernel.restore()


@pytest.mark.slow
@pytest.mark.parametrize("kernel", ["pytorch"], indirect=True)
def test_a_count_for_an_accuracy_is_flagged_where_the_results_are_shown(kernel):
    answer, _ = MISTAKES["pytorch", "exercise_evaluate"]["count-instead-of-fraction"]
    cells, start = answered(kernel, "exercise_evaluate", answer)
    try:
        kernel.run_all(cells[start:])
        side_by_side = kernel.run(build_notebooks.SIDE_BY_SIDE)
        assert "not a fraction: see the check of its evaluation" in side_by_side
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


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kernel", "check", "hint"),
    [
        ("keras", "Keras: Evaluate", "the model is not compiled"),
        ("pytorch", "PyTorch: Training", "the optimizer holds another model's weights"),
    ],
    indirect=["kernel"],
)
def test_a_model_cell_run_again_after_training_is_named(kernel, check, hint):
    """A student runs the model cell again, then a later check without the
    training cell: the check says to run the training cell again."""
    _, parts = split(quick(assemble()))
    cells = parts[kernel.framework]
    # The cell before the model's check: the model cell.
    heading = f"{course.FRAMEWORKS[kernel.framework]}: The model"
    model_cell = until_check(cells, heading)[-2].source
    check_cell = until_check(cells, check)[-1].source
    try:
        kernel.run(model_cell)
        verdict = kernel.run(check_cell)
        assert WRONG in verdict and hint in verdict, verdict
    finally:
        kernel.restore()


@pytest.mark.slow
def test_the_solution_edition_runs_in_a_fresh_kernel(tmp_path, mnist_dir):
    """The whole solution edition, top to bottom in a new kernel, on the quick
    configuration: no cell raises, every check says right, and the last cell
    shows both parts' results."""
    notebook = quick(assemble())
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute(env=dict(os.environ, MNIST_DIR=str(mnist_dir)))
    cells = code_cells(notebook)
    verdicts = [text_of(c) for c in cells if c.source.startswith(CHECK_CELL)]
    assert len(verdicts) == len(build_notebooks.CHECKS)
    assert all_right(verdicts), verdicts
    assert set(dict(ACCURACY_LINE.findall(text_of(cells[-1])))) == {"keras", "pytorch"}


def test_the_notebook_code_fits_the_page():
    """Every line of the notebooks' own cells fits in 88 columns (the
    programs' width; a link may not), so that no code block scrolls sideways
    on the site's page."""
    for exercises in (False, True):
        for cell in code_cells(assemble(exercises)):
            if cell.source.startswith("%%writefile"):
                continue
            long = [
                line
                for line in cell.source.splitlines()
                if len(line) > 88 and "https://" not in line
            ]
            assert not long, long
