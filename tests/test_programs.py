"""The two programs: mirrored sections, command line, a short real training."""

import json
import re

import pytest

from conftest import CODE_DIR, FRAMEWORKS, PROJECT_DIR, QUICK_RUN, run_program
from tools import course

PROGRAMS = course.PROGRAMS
SETTINGS = course.settings()
# The line after which each program imports its framework.
PARSE_ARGS = "args = parser.parse_args()"
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
        blanks = {name for name in sections(program, nested=True) if "exercise" in name}
        assert blanks == expected, program.name


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
        path = CODE_DIR / file_name
        assert section in sections(path) + sections(path, nested=True), (
            f"{page.relative_to(PROJECT_DIR)} includes {file_name}:{section}, "
            "which does not exist"
        )


def option_parser(framework):
    """The program's option parser, made in this process: the program reads
    its options before importing its framework, so everything before the
    line `args = parser.parse_args()` is the standard library only."""
    path = PROGRAMS[framework]
    source, found, _ = path.read_text().partition(f"\n{PARSE_ARGS}\n")
    assert found, f"{path.name}: no line {PARSE_ARGS!r}"
    namespace = {"__name__": f"{framework}_options"}
    exec(compile(source, path, "exec"), namespace)
    parser = namespace["parser"]
    parser.prog = path.name
    return parser


def parse(framework, options, capsys):
    """Exit code, stdout and stderr of parsing `options`."""
    with pytest.raises(SystemExit) as exited:
        option_parser(framework).parse_args(options)
    output = capsys.readouterr()
    return exited.value.code, output.out, output.err


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_help_shows_every_option_with_its_default(framework, capsys):
    code, help_text, _ = parse(framework, ["--help"], capsys)
    assert code == 0
    help_text = " ".join(help_text.split())
    for option, default in [
        ("--epochs", SETTINGS["EPOCHS"]),
        ("--hidden-units", SETTINGS["HIDDEN_UNITS"]),
        ("--batch-size", SETTINGS["BATCH_SIZE"]),
        ("--learning-rate", SETTINGS["LEARNING_RATE"]),
        ("--optimizer", SETTINGS["OPTIMIZER"]),
        ("--seed", SETTINGS["SEED"]),
        ("--output-dir", f"runs/{framework}"),
    ]:
        pattern = f"{option} .*?\\(default: {re.escape(str(default))}\\)"
        assert re.search(pattern, help_text), option
    for option in ("--data-dir", "--quiet", "--train-size"):
        assert option in help_text


BAD_OPTIONS = [
    (["--epochs", "0"], "argument --epochs: must be a positive integer, got '0'"),
    (["--epochs", "-3"], "argument --epochs: must be a positive integer, got '-3'"),
    (["--epochs", "2.5"], "argument --epochs: must be a positive integer, got '2.5'"),
    (["--hidden-units", "0"], "argument --hidden-units: must be a positive integer"),
    (["--batch-size", "-1"], "argument --batch-size: must be a positive integer"),
    (
        ["--batch-size", "ten"],
        "argument --batch-size: must be a positive integer, got 'ten'",
    ),
    (["--train-size", "0"], "argument --train-size: must be a positive integer"),
    (
        ["--learning-rate", "0"],
        "argument --learning-rate: must be a positive number, got '0'",
    ),
    (["--learning-rate", "nan"], "argument --learning-rate: must be a positive number"),
    (["--learning-rate", "inf"], "argument --learning-rate: must be a positive number"),
    (
        ["--learning-rate", "fast"],
        "argument --learning-rate: must be a positive number",
    ),
    (["--optimizer", "rmsprop"], "argument --optimizer: invalid choice: 'rmsprop'"),
    # '²'.isdigit() is true, but int('²') fails: the check must be isdecimal.
    (["--epochs", "²"], "argument --epochs: must be a positive integer, got '²'"),
]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(("options", "error"), BAD_OPTIONS)
def test_a_bad_option_is_one_clear_error(framework, options, error, capsys):
    code, out, err = parse(framework, options, capsys)
    assert code == 2 and out == ""
    error_lines = [line for line in err.splitlines() if ": error: " in line]
    assert len(error_lines) == 1 and error in error_lines[0], err


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_bad_option_exits_at_once_without_the_framework(tmp_path, framework):
    # -X importtime lists every module the process imported, on stderr.
    result = run_program(
        *("-X", "importtime", PROGRAMS[framework], "--epochs", "0"),
        *("--output-dir", tmp_path / "out"),
        cwd=tmp_path,
    )
    assert result.returncode == 2 and result.stdout == ""
    imported = [line for line in result.stderr.splitlines() if "import time:" in line]
    assert any(line.endswith(" argparse") for line in imported)
    frameworks = {"keras", "tensorflow", "torch"}
    loaded = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in imported}
    assert not loaded & frameworks, loaded & frameworks
    errors = [line for line in result.stderr.splitlines() if "import time:" not in line]
    assert errors[-1] == (
        f"{PROGRAMS[framework].name}: error: argument --epochs: "
        "must be a positive integer, got '0'"
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


def test_keras_backend_and_device_options_parse(capsys):
    parser = option_parser("keras")
    assert parser.parse_args([]).backend is None
    assert parser.parse_args(["--backend", "jax"]).backend == "jax"
    assert parser.parse_args([]).device == "auto"
    code, _, err = parse("keras", ["--backend", "cntk"], capsys)
    assert code == 2 and "argument --backend: invalid choice: 'cntk'" in err
    code, _, err = parse("keras", ["--device", "cuda"], capsys)
    assert code == 2 and "argument --device: invalid choice: 'cuda'" in err


@pytest.mark.slow
@pytest.mark.parametrize(
    ("device", "error"),
    [
        ("cuda", "error: --device cuda: no such device here (accelerator: none)"),
        ("mps", "error: --device mps: no such device here (accelerator: none)"),
        ("gpu", "error: --device 'gpu' is not a device name (cpu, cuda...)"),
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
    # The environment says TensorFlow; the option wins, as the help says.
    result = run_program(
        PROGRAMS["keras"],
        *("--backend", backend, "--device", "cpu", "--epochs", "1"),
        *("--train-size", "10000", "--hidden-units", "64", "--quiet"),
        *("--output-dir", tmp_path / "out"),
        cwd=tmp_path,
        env={**mnist_env, "KERAS_BACKEND": "tensorflow"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["backend"] == backend
    assert metrics["device"] in {"cpu", "cpu:0"}
    assert metrics["config"]["device"] == "cpu"
    assert metrics["test"]["accuracy"] > 0.5
