"""The two programs: mirrored sections, command line, a short real training."""

import ast
import contextlib
import json
import re
import sys

import pytest

import run_record
from helpers import FRAMEWORKS, PROJECT_DIR, QUICK_RUN, run_program
from tools import course, sections

PROGRAMS = course.PROGRAMS
SETTINGS = course.settings()
# ... or through the earlier_code macro: {{ earlier_code("setup", "data") }}.
EARLIER_CODE = re.compile(r"earlier_code\(([^)]*)\)")
EXPECTED_SECTIONS = ["setup", "options", "data", "model", "train", "evaluate"]
EXPECTED_SECTIONS += ["predict", "save"]


def program_sections(path, nested=False):
    """Top-level section names in order (tools.sections checks that every
    start has its end, in order), or with nested=True the sections inside
    them: the exercise blanks and the exercises' anchors."""
    found = sections.parse(path.read_text())
    return [name for name, found in found.items() if (found.depth > 0) == nested]


def test_both_programs_have_the_same_sections_in_the_same_order():
    assert program_sections(PROGRAMS["keras"]) == EXPECTED_SECTIONS
    assert program_sections(PROGRAMS["pytorch"]) == EXPECTED_SECTIONS


def test_both_programs_mark_the_same_exercise_blanks():
    expected = {
        "exercise_model",
        "exercise_loss",
        "exercise_training",
        "exercise_evaluate",
    }
    for program in PROGRAMS.values():
        blanks = {
            name
            for name in program_sections(program, nested=True)
            if "exercise" in name
        }
        assert blanks == expected, program.name


def test_every_section_a_page_includes_exists():
    includes = [
        (page, match)
        for page in (PROJECT_DIR / "docs").rglob("*.md")
        for match in sections.INCLUDE.findall(page.read_text())
        if match[0].startswith("code/")
    ]
    for page in (PROJECT_DIR / "docs").rglob("*.md"):
        for arguments in EARLIER_CODE.findall(page.read_text()):
            for section in re.findall(r'"([a-z_]+)"', arguments):
                includes += [
                    (page, (f"code/{fw}_mlp.py", section)) for fw in FRAMEWORKS
                ]
    assert includes, "no page includes a code section"
    for page, (file_name, section) in includes:
        path = PROJECT_DIR / file_name
        assert section in sections.parse(path.read_text()), (
            f"{page.relative_to(PROJECT_DIR)} includes {file_name}:{section}, "
            "which does not exist"
        )


def read_options_call(framework):
    """The program's call of read_options, as (choices, keywords): read from
    its source, without running it (it imports its framework first)."""
    tree = ast.parse(PROGRAMS[framework].read_text())
    names = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            with contextlib.suppress(ValueError):
                names[node.targets[0].id] = ast.literal_eval(node.value)
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "read_options"
    ]
    assert len(calls) == 1, f"{PROGRAMS[framework].name}: one read_options call"
    settings, choices = calls[0].args
    assert isinstance(settings, ast.Call) and settings.func.id == "globals"
    keywords = {k.arg: ast.literal_eval(k.value) for k in calls[0].keywords}
    return names[choices.id], keywords


def parse(framework, options, capsys):
    """Exit code, stdout and stderr of reading `options` as the program does
    (in this process, with the program's settings and its call's arguments)."""
    choices, keywords = read_options_call(framework)
    settings = {**course.constants(PROGRAMS[framework]), "__doc__": "a program"}
    sys.argv = [PROGRAMS[framework].name]
    try:
        args = run_record.read_options(settings, choices, options, **keywords)
    except SystemExit as exited:
        output = capsys.readouterr()
        return exited.code, output.out, output.err
    return 0, args, capsys.readouterr().err


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_setting_is_an_option_that_defaults_to_it(framework, capsys):
    code, args, _ = parse(framework, [], capsys)
    assert code == 0
    for name, value in SETTINGS.items():
        assert getattr(args, name.lower()) == value, name
    assert args.output_dir == f"runs/{framework}"
    assert args.data_dir is None and args.quiet is False
    code, args, _ = parse(framework, ["--epochs", "3", "--train-size", "500"], capsys)
    assert (args.epochs, args.train_size) == (3, 500)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_help_shows_every_option_with_its_default(framework, capsys):
    code, help_text, _ = parse(framework, ["--help"], capsys)
    assert code == 0
    help_text = " ".join(help_text.split())
    for name, default in SETTINGS.items():
        option = f"--{name.lower().replace('_', '-')}"
        assert re.search(
            f"{option} [A-Z]+ default: {re.escape(str(default))}", help_text
        )
    for option in ("--data-dir", "--quiet", "--output-dir"):
        assert option in help_text


def test_settings_apply_as_written_where_there_is_no_command_line(monkeypatch):
    # A notebook's kernel is started with options of its own, and a prompt
    # has none: only a script's globals have a __file__.
    monkeypatch.setattr(sys, "argv", ["ipykernel_launcher.py", "-f", "kernel.json"])
    settings = {"EPOCHS": 3, "OPTIMIZER": "adam"}
    assert run_record.read_options(settings).epochs == 3
    with pytest.raises(SystemExit):
        run_record.read_options({**settings, "__file__": "program.py"})


BAD_OPTIONS = [
    (["--epochs", "0"], "argument --epochs: must be positive, not 0"),
    (["--epochs", "-3"], "argument --epochs: must be positive, not -3"),
    (["--epochs", "2.5"], "argument --epochs: invalid int value: '2.5'"),
    (["--hidden-units", "0"], "argument --hidden-units: must be positive"),
    (["--batch-size", "-1"], "argument --batch-size: must be positive"),
    (["--batch-size", "ten"], "argument --batch-size: invalid int value: 'ten'"),
    (["--train-size", "0"], "argument --train-size: must be positive"),
    (["--learning-rate", "0"], "argument --learning-rate: must be positive, not 0"),
    (["--learning-rate", "nan"], "argument --learning-rate: must be positive"),
    (["--learning-rate", "inf"], "argument --learning-rate: must be positive"),
    (["--learning-rate", "fast"], "argument --learning-rate: invalid float value"),
    (["--optimizer", "rmsprop"], "argument --optimizer: invalid choice: 'rmsprop'"),
    (["--seed", "-1"], "argument --seed: must be 0 or more, not -1"),
    # '²'.isdigit() is true, but int('²') fails.
    (["--epochs", "²"], "argument --epochs: invalid int value: '²'"),
    (["--epocs", "3"], "unrecognized arguments: --epocs 3"),
]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(("options", "error"), BAD_OPTIONS)
def test_a_bad_option_is_one_clear_error(framework, options, error, capsys):
    code, out, err = parse(framework, options, capsys)
    assert code == 2 and out == ""
    error_lines = [line for line in err.splitlines() if ": error: " in line]
    assert len(error_lines) == 1 and error in error_lines[0], err


def test_a_seed_of_zero_is_allowed(capsys):
    code, args, _ = parse("pytorch", ["--seed", "0"], capsys)
    assert code == 0 and args.seed == 0


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_bad_option_stops_the_program_and_writes_nothing(tmp_path, framework):
    result = run_program(
        PROGRAMS[framework],
        *("--epochs", "0", "--output-dir", tmp_path / "out"),
        cwd=tmp_path,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"{PROGRAMS[framework].name}: error: argument --epochs: must be positive, not 0"
    )
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
    "device",
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
def test_a_short_run_learns_and_records_it(quick_runs, framework):
    run = quick_runs[framework]
    options = dict(zip(QUICK_RUN[::2], map(int, QUICK_RUN[1::2]), strict=True))
    epochs, hidden = options["--epochs"], options["--hidden-units"]
    metrics = json.loads((run.output_dir / "metrics.json").read_text())
    assert set(metrics) == METRICS_FIELDS
    assert metrics["framework"] == framework
    # This machine has no GPU: both programs chose the CPU by themselves.
    assert metrics["device"].startswith("cpu")
    assert f"device: {metrics['device']}" in run.stdout
    # Ten classes: chance is 10%. Two epochs on 10,000 images get far above it.
    assert metrics["test"]["accuracy"] > 0.85
    assert metrics["parameter_count"] == 784 * hidden + hidden + hidden * 10 + 10
    assert metrics["config"]["train_size"] == options["--train-size"]
    assert set(metrics["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == epochs for values in metrics["history"].values())
    assert len(metrics["epoch_seconds"]) == epochs
    assert 1 <= metrics["best_epoch"] <= epochs
    assert f"Epoch {epochs}/{epochs}" in run.stdout
    assert f"test accuracy {metrics['test']['accuracy']:.2%}" in run.stdout
    assert (run.output_dir / "model-summary.txt").read_text().strip()
    model_file = "mlp.keras" if framework == "keras" else "mlp.pt"
    for name in ("test-predictions.npy", "hidden-weights.npy", model_file):
        assert (run.output_dir / name).stat().st_size > 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("device", "error"),
    [
        ("cuda", "error: no device cuda here; auto is cpu"),
        ("mps", "error: no device mps here; auto is cpu"),
        ("gpu", "error: no device gpu here; auto is cpu"),
    ],
)
def test_pytorch_asking_for_a_missing_device_is_one_clear_error(
    tmp_path, mnist_env, device, error
):
    # This machine has no accelerator: any device but the CPU is missing.
    result = run_program(
        PROGRAMS["pytorch"],
        *("--device", device, "--output-dir", tmp_path / "out"),
        cwd=tmp_path,
        env=mnist_env,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(error), last_line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_keras_runs_on_another_backend_pinned_to_the_cpu(tmp_path, mnist_env, backend):
    # Keras' own variable chooses the backend; each backend's own switch
    # keeps it on the CPU (Keras puts its work on a GPU by itself).
    cpu_only = {"CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}
    result = run_program(
        PROGRAMS["keras"],
        *("--epochs", "1", "--train-size", "10000", "--hidden-units", "64"),
        *("--quiet", "--output-dir", tmp_path / "out"),
        cwd=tmp_path,
        env={**mnist_env, **cpu_only, "KERAS_BACKEND": backend},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["backend"] == backend
    assert metrics["device"] in {"cpu", "cpu:0"}
    assert f"backend: {backend}, device: " in result.stdout
    assert metrics["test"]["accuracy"] > 0.5
