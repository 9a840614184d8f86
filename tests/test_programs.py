"""The two programs: mirrored sections, command line, a short real training."""

import ast
import json
import re

import pytest
from conftest import CODE_DIR, FRAMEWORKS, PROJECT_DIR, run_program

PROGRAMS = {framework: CODE_DIR / f"{framework}_mlp.py" for framework in FRAMEWORKS}
SECTION_MARKER = re.compile(r"^ *# --8<-- \[(start|end):([a-z_]+)\]$", re.MULTILINE)
# A page includes a section as "code/FILE.py:SECTION" (pymdownx.snippets).
SECTION_INCLUDE = re.compile(r"""--8<-- ["']code/([a-z_]+\.py):([a-z_]+)["']""")
# ... or through the earlier_code macro: {{ earlier_code("setup", "data") }}.
EARLIER_CODE = re.compile(r"earlier_code\(([^)]*)\)")
EXPECTED_SECTIONS = ["setup", "data", "model", "train", "evaluate", "predict", "save"]


def sections(path, nested=False):
    """Top-level section names in order (or, with nested=True, the sections
    inside them, which mark the exercise blanks); checks that every start has
    its end and that nested sections close before their parent."""
    top, inner, stack = [], [], []
    for kind, name in SECTION_MARKER.findall(path.read_text()):
        if kind == "start":
            (inner if stack else top).append(name)
            stack.append(name)
        else:
            assert stack and stack[-1] == name, f"{path.name}: end:{name} out of order"
            stack.pop()
    assert not stack, f"{path.name}: {stack} never closed"
    return inner if nested else top


def constants(path):
    """The module-level UPPER_CASE constants and their values."""
    tree = ast.parse(path.read_text())
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id.isupper()
    }


def test_both_programs_have_the_same_sections_in_the_same_order():
    assert sections(PROGRAMS["keras"]) == EXPECTED_SECTIONS
    assert sections(PROGRAMS["pytorch"]) == EXPECTED_SECTIONS


def test_both_programs_mark_the_same_exercise_blanks():
    expected = {
        "exercise_model",
        "exercise_loss",
        "exercise_training",
        "exercise_evaluate",
    }
    for program in PROGRAMS.values():
        assert set(sections(program, nested=True)) == expected, program.name


def test_both_programs_use_the_same_hyperparameters():
    keras_constants = constants(PROGRAMS["keras"])
    assert keras_constants == constants(PROGRAMS["pytorch"])
    assert {"HIDDEN_UNITS", "EPOCHS", "BATCH_SIZE", "LEARNING_RATE"} <= set(
        keras_constants
    )


def test_every_section_a_page_includes_exists():
    includes = [
        (page, match)
        for page in (PROJECT_DIR / "docs").rglob("*.md")
        for match in SECTION_INCLUDE.findall(page.read_text())
    ]
    for page in (PROJECT_DIR / "docs").rglob("*.md"):
        for arguments in EARLIER_CODE.findall(page.read_text()):
            for section in re.findall(r'"([a-z_]+)"', arguments):
                includes += [(page, (f"{fw}_mlp.py", section)) for fw in FRAMEWORKS]
    assert includes, "no page includes a code section"
    for page, (file_name, section) in includes:
        assert section in sections(CODE_DIR / file_name), (
            f"{page.relative_to(PROJECT_DIR)} includes {file_name}:{section}, "
            "which does not exist"
        )


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_help_shows_every_option_with_its_default(framework):
    result = run_program(PROGRAMS[framework], "--help")
    assert result.returncode == 0, result.stderr
    help_text = " ".join(result.stdout.split())
    for option, default in [
        ("--epochs", "20"),
        ("--hidden-units", "512"),
        ("--batch-size", "128"),
        ("--learning-rate", "0.001"),
        ("--optimizer", "adam"),
        ("--seed", "0"),
        ("--output-dir", f"runs/{framework}"),
    ]:
        assert re.search(f"{option} .*?\\(default: {re.escape(default)}\\)", help_text)
    for option in ("--data-dir", "--quiet", "--train-size"):
        assert option in help_text


BAD_OPTIONS = [
    (["--epochs", "0"], "argument --epochs: must be a positive integer, got 0"),
    (["--epochs", "-3"], "argument --epochs: must be a positive integer, got -3"),
    (["--hidden-units", "0"], "argument --hidden-units: must be a positive integer"),
    (["--batch-size", "-1"], "argument --batch-size: must be a positive integer"),
    (["--batch-size", "ten"], "argument --batch-size: invalid positive_int value"),
    (["--learning-rate", "0"], "argument --learning-rate: must be a positive number"),
    (["--optimizer", "rmsprop"], "argument --optimizer: invalid choice: 'rmsprop'"),
]


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(("options", "error"), BAD_OPTIONS)
def test_bad_options_exit_2_and_write_nothing(tmp_path, framework, options, error):
    output_dir = tmp_path / "out"
    result = run_program(
        PROGRAMS[framework], *options, "--output-dir", output_dir, cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stdout == ""
    error_lines = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(error_lines) == 1 and error in error_lines[0], result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_missing_data_is_one_clear_error_and_writes_nothing(tmp_path, framework):
    result = run_program(
        PROGRAMS[framework],
        *("--data-dir", tmp_path / "no-mnist", "--output-dir", tmp_path / "out"),
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"error: MNIST not found: {tmp_path / 'no-mnist'}" in result.stderr
    assert list(tmp_path.iterdir()) == []


METRICS_FIELDS = {
    "framework",
    "backend",
    "config",
    "seed",
    "versions",
    "machine",
    "data_sha256",
    "parameter_count",
    "history",
    "epoch_seconds",
    "best_epoch",
    "test",
}


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_two_epochs_on_a_slice_learn(tmp_path, framework, mnist_dir):
    output_dir = tmp_path / framework
    result = run_program(
        PROGRAMS[framework],
        *("--epochs", "2", "--train-size", "10000", "--hidden-units", "64"),
        *("--data-dir", mnist_dir, "--output-dir", output_dir, "--quiet"),
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((output_dir / "metrics.json").read_text())
    assert set(metrics) == METRICS_FIELDS
    assert metrics["framework"] == framework
    # Ten classes: chance is 10%. Two epochs on 10,000 images get far above it.
    assert metrics["test"]["accuracy"] > 0.85
    assert metrics["parameter_count"] == 784 * 64 + 64 + 64 * 10 + 10
    assert metrics["config"]["train_size"] == 10000
    assert set(metrics["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 2 for values in metrics["history"].values())
    assert len(metrics["epoch_seconds"]) == 2 and metrics["best_epoch"] in (1, 2)
    assert "Epoch 2/2" in result.stdout
    assert "test accuracy" in result.stdout
    assert (output_dir / "model-summary.txt").read_text().strip()
    model_file = "mlp.keras" if framework == "keras" else "mlp.pt"
    for name in ("test-predictions.npy", "hidden-weights.npy", model_file):
        assert (output_dir / name).stat().st_size > 0
