"""Assemble the course notebook from the two programs, and execute it.

`make notebook` runs this. The notebook is never edited by hand: its code
cells are the programs' named sections (the same ones the pages include), so
it cannot drift from the code. Two editions are written to docs/notebooks/:

- keras-vs-pytorch.ipynb, the solution, executed here with nbclient so that
  readers see real outputs without running anything;
- keras-vs-pytorch-exercises.ipynb, the same notebook with the key lines (the
  sections marked `exercise_*` inside the programs) replaced by TODO blanks.

After each cell with an exercise comes a check cell (tools/notebook_checks.py,
the same in both editions). Both editions carry their own copies of
mnist_data.py, run_record.py and notebook_checks.py (collapsed %%writefile
cells at the end of the set-up), so they run in Jupyter or Colab with nothing
but the notebook file.

A program and a notebook differ in a few places, changed here and nowhere
else, through the programs' marked sections (tools/sections.py): the
`settings` section moves to one Configuration cell, which also holds the list
OPTIONS that read_options reads in place of a command line; an error exit
becomes an exception, which does not end the kernel; a training cell
starts from fresh weights each time it runs; and each part starts by
forgetting the names the other part's exercises define. `make notebook`
stamps docs/notebooks/ with the fingerprint of the files it was made from.
"""

import argparse
import ast
import inspect
import json
import os
import re
import string
import sys
import tempfile
import textwrap

import nbformat
import yaml
from nbclient import NotebookClient

from run_record import write_atomically
from tools import (
    CODE_DIR,
    DOCS_DIR,
    PROJECT_DIR,
    fingerprint,
    notebook_checks,
    notebook_pages,
    sections,
)
from tools.course import FRAMEWORKS, settings
from tools.results import RESULT_SETS

RESULTS = RESULT_SETS["notebook"]
NOTEBOOK_DIR = RESULTS.path
GENERATED_DIR = DOCS_DIR / "generated"
SOLUTION = NOTEBOOK_DIR / "keras-vs-pytorch.ipynb"
EXERCISES = NOTEBOOK_DIR / "keras-vs-pytorch-exercises.ipynb"
MKDOCS_CONFIG = yaml.safe_load((PROJECT_DIR / "mkdocs.yml").read_text())
SITE_URL = MKDOCS_CONFIG["site_url"]
REPO_URL = MKDOCS_CONFIG["repo_url"]
HELPER_MODULES = {
    "mnist_data.py": CODE_DIR / "mnist_data.py",
    "run_record.py": CODE_DIR / "run_record.py",
    "notebook_checks.py": PROJECT_DIR / "tools" / "notebook_checks.py",
}


def colab_url(path):
    """Colab opens a notebook straight from its path in the GitHub repository."""
    repository = REPO_URL.removeprefix("https://github.com/")
    relative = path.relative_to(PROJECT_DIR).as_posix()
    return f"https://colab.research.google.com/github/{repository}/blob/main/{relative}"


def repository_url(path):
    return f"{REPO_URL}/blob/main/{path.relative_to(PROJECT_DIR).as_posix()}"


def page_link(page):
    """A Markdown link to a course page on the site, titled as the page is."""
    title = (DOCS_DIR / page).read_text().splitlines()[0].removeprefix("# ")
    # The site uses MkDocs' directory URLs: lectures/data.md is lectures/data/.
    return f"[{title}]({SITE_URL}{page.removesuffix('.md')}/)"


# Each section's heading in the notebook, and the course page that explains it.
SECTIONS = {
    "setup": ("Imports", "lectures/data.md"),
    "options": ("Options", "lectures/data.md"),
    "data": ("Load MNIST, flatten, scale, split", "lectures/data.md"),
    "model": (
        "The model: 784 -> hidden units with ReLU -> 10 logits",
        "lectures/model.md",
    ),
    "train": ("Training", "lectures/training.md"),
    "evaluate": ("Evaluate on the test set", "lectures/evaluation.md"),
    "predict": ("Predict digits", "lectures/evaluation.md"),
    "save": ("Save the model and the results", "lectures/evaluation.md"),
}
# Fewer epochs than the full retrain, so that the whole notebook runs quickly.
NOTEBOOK_EPOCHS = 5
# The notebook's settings are the programs' `settings` section, in the
# Configuration cell; the programs' setup says where they went instead.
SETTINGS_MOVED = (
    "# The settings (HIDDEN_UNITS, EPOCHS, ...) are in the Configuration cell at\n"
    "# the top: edit them there, then run this part again.\n"
)
# The programs end with an exit status on an error a user can fix (missing
# data, a device that is not there); in a notebook, which must not end its
# kernel, the same message is shown as an exception.
PROGRAM_EXIT, NOTEBOOK_ERROR = "sys.exit(", "raise RuntimeError("
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
# TensorFlow's C++ start-up messages, printed on stderr (twice per process)
# whatever TF_CPP_MIN_LOG_LEVEL or GLOG_minloglevel say (tried with TensorFlow
# 2.21): noise in a stored output, dropped from it.
TENSORFLOW_START_UP = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\).*"
    r"|I0000 .*oneDNN custom operations are on.*)\n?",
    re.MULTILINE,
)
RESULT_LINE = re.compile(
    r"^(keras|pytorch) +(\d+) epochs: test accuracy ([0-9.]+%), test loss ([0-9.]+)",
    re.MULTILINE,
)

# What a student writes in each blank of the exercise edition.
HINTS = {
    ("keras", "exercise_model"): "build `model`: a keras.Sequential with an Input of "
    "784 features, a Dense hidden layer of args.hidden_units units with ReLU, and a "
    "Dense output layer of 10 logits (no activation). The cells below read the "
    "hidden layer as model.layers[0].",
    ("keras", "exercise_loss"): "create `loss_function`: sparse categorical "
    "cross-entropy that knows the model outputs logits.",
    ("keras", "exercise_training"): "train: `history` is what the model's fit "
    "method returns, given the training arrays, args.batch_size, args.epochs, "
    "validation_data=(x_val, y_val), callbacks=[EpochTimer(), keep_best] and "
    "verbose=2 if args.quiet else 1.",
    ("keras", "exercise_evaluate"): "set `test_loss, test_accuracy` with the "
    "model's evaluate method on the test set.",
    (
        "pytorch",
        "exercise_model",
    ): "define a class `MLP`, subclass of nn.Module, with an nn.Linear "
    "hidden layer (784 -> hidden_units) and an output layer (hidden_units -> 10); "
    "forward applies ReLU to the hidden layer's output and returns the output "
    "layer's logits. Then `model = MLP(args.hidden_units)` "
    "(an nn.Sequential of the same layers is right too).",
    ("pytorch", "exercise_loss"): "create `loss_function`, the cross-entropy loss "
    "object for logits and class indices.",
    ("pytorch", "exercise_training"): "one training step: reset the gradients, "
    "compute `logits` and `loss` for the batch, backpropagate, update the weights.",
    ("pytorch", "exercise_evaluate"): "compute `logits` for x, then `loss` (a "
    "float, with .item()) and `accuracy` (the fraction of images whose argmax is "
    "the label, a float too, not their count).",
}

# The checks after each section that holds exercises (notebook_checks.py):
# each takes the notebook's names it needs, through check_answers, which
# prints a verdict for each even when the cell above raised.
CHECKS = {
    ("keras", "model"): ("check_keras_model",),
    ("keras", "train"): ("check_keras_loss", "check_keras_training"),
    ("keras", "evaluate"): ("check_keras_evaluation",),
    ("pytorch", "model"): ("check_pytorch_model",),
    ("pytorch", "train"): (
        "check_pytorch_loss",
        "check_pytorch_evaluate",
        "check_pytorch_training",
    ),
}
CHECK_CELL = f"{notebook_checks.CHECK_CELL}: your answers, tried on a small fixed case"


def check_source(framework, section):
    """The check cell after a section: one verdict per check."""
    checks = "".join(f"    {name},\n" for name in CHECKS[(framework, section)])
    return f"{CHECK_CELL}\ncheck_answers(\n    globals(),\n{checks})"


# The programs' options section speaks of a shell, which a notebook has not:
# in the notebook, these lines say where the settings and options are.
SHELL_OPTIONS = (
    "# Options change the settings in a shell (--epochs 5; --help lists them).\n"
    "# In a notebook or at the prompt, which have no options, edit them above.\n"
)
NOTEBOOK_OPTIONS = (
    "# The settings and OPTIONS come from the Configuration cell: edit them there.\n"
    "# Run as a program, the same code reads a command line instead (--epochs 5):\n"
    f"# {SITE_URL}reproduce/#the-command-line\n"
)

# Prepended to each training cell, so that running it again trains from fresh
# weights rather than continuing; the reseeding gives the first run's weights.
FRESH_WEIGHTS = {
    "keras": """\
        # Notebook only: every run of this cell starts from fresh weights, the same
        # as the first run's (fit would otherwise go on from the last run's).
        # A new model from the same layers' settings, not clone_model, which
        # also recompiles it and fails on a loss function of your own.
        keras.utils.set_random_seed(args.seed)
        model = type(model).from_config(model.get_config())
        """,
    "pytorch": """\
        # Notebook only: every run of this cell starts from fresh weights, the same
        # as the first run's (the loop would otherwise go on from the last run's).
        torch.manual_seed(args.seed)
        for layer in model.modules():
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()
        """,
}

# Prepended to each Save cell: a Save that fails leaves no earlier results
# for the side-by-side cell to show.
NO_EARLIER_RESULTS = """\
# Notebook only: this part's earlier results go first, so that the last cell
# shows this run's or none.
Path(args.output_dir, "metrics.json").unlink(missing_ok=True)
"""

GUARD = """\
import os

# TensorFlow's C++ messages: warnings and errors only, no notes on CPU
# instructions (its first lines, about absl and oneDNN, print anyway).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
# On a GPU, TensorFlow reserves nearly all of the GPU's memory when it starts,
# leaving none for PyTorch in this same process: let it take what it needs.
os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
# With the TensorFlow and PyTorch builds this course pins, importing TensorFlow
# before PyTorch's compiler stack (triton, which the optimizers load) crashes
# the kernel. Loading PyTorch's side first avoids it, in whatever order you
# run the Keras and PyTorch parts.
try:
    import torch._dynamo  # noqa: F401
except ImportError:
    pass  # no PyTorch installed: the Keras part runs on its own"""


def program_source(framework):
    """A program's source, with its settings moved to the Configuration cell."""
    source = (CODE_DIR / f"{framework}_mlp.py").read_text(encoding="utf-8")
    return sections.change(source, "settings", SETTINGS_MOVED)


def exercise_regions(framework):
    """Each exercise_* section of a program: name -> (its code, its TODO blank)."""
    source = program_source(framework)
    regions = {}
    for name, section in sections.parse(source).items():
        if not name.startswith("exercise_"):
            continue
        hint = textwrap.fill(
            HINTS[(framework, name)],
            width=84 - len(section.indent),
            initial_indent=f"{section.indent}# TODO: ",
            subsequent_indent=f"{section.indent}#       ",
        )
        body = sections.text(source, name)
        regions[name] = (body, f"{hint}\n{section.indent}...")
    return regions


def exercise_names():
    """Every name an exercise of either part defines (model, loss, ...)."""
    names = set()
    for framework in FRAMEWORKS:
        for body, _ in exercise_regions(framework).values():
            for statement in ast.parse(textwrap.dedent(body)).body:
                if isinstance(statement, ast.ClassDef | ast.FunctionDef):
                    names.add(statement.name)
                for target in getattr(statement, "targets", []):
                    names.update(
                        node.id
                        for node in ast.walk(target)
                        if isinstance(node, ast.Name)
                    )
    return sorted(names)


def forgotten_names():
    """What each part's first cell forgets: the names the exercises define
    and every name a check reads (the part's cells define them again), so
    that no check judges what an earlier run or the other part left."""
    checked = {
        name
        for checks in CHECKS.values()
        for check in checks
        for name in inspect.signature(getattr(notebook_checks, check)).parameters
    }
    return sorted(set(exercise_names()) | checked)


def settings_source():
    """The programs' settings section, with the notebook's number of epochs."""
    lines = sections.read(CODE_DIR / "keras_mlp.py", "settings").splitlines()
    epochs = [i for i, line in enumerate(lines) if line.startswith("EPOCHS = ")]
    if len(epochs) != 1:
        raise SystemExit("code/keras_mlp.py: expected one setting EPOCHS")
    lines[epochs[0]] = (
        f"EPOCHS = {NOTEBOOK_EPOCHS}  # the programs train for "
        f"{settings()['EPOCHS']}: fewer here, to run quickly"
    )
    return "\n".join(lines) + "\n"


def notebook_section(framework, section, exercises=False):
    """A program's section as the notebook runs it (see the module docstring):
    in the exercise edition, each exercise_* section is its TODO blank."""
    source = program_source(framework)
    if exercises:
        for name, (_, blank) in exercise_regions(framework).items():
            source = sections.change(source, name, blank)
    source = sections.text(source, section).replace(PROGRAM_EXIT, NOTEBOOK_ERROR)
    if section == "options":
        if source.count(SHELL_OPTIONS) != 1:
            raise SystemExit(f"code/{framework}_mlp.py: its options section changed")
        source = source.replace(SHELL_OPTIONS, NOTEBOOK_OPTIONS)
    if section == "train":
        source = textwrap.dedent(FRESH_WEIGHTS[framework]) + "\n" + source
    if section == "save":
        source = NO_EARLIER_RESULTS + source
    return source


def configuration_source():
    """The one cell a student edits: the settings and the programs' options."""
    return settings_source() + 'OPTIONS = ["--quiet"]  # no progress bars'


def site_versions():
    """The framework versions that produced the site's results."""
    found = {
        framework: json.loads((GENERATED_DIR / framework / "metrics.json").read_text())[
            "versions"
        ]
        for framework in FRAMEWORKS
    }
    keras_versions, pytorch_versions = found["keras"], found["pytorch"]
    if keras_versions != pytorch_versions:
        raise SystemExit("docs/generated/: the two runs used different versions")
    tensorflow = keras_versions.get("tensorflow") or keras_versions["tensorflow-cpu"]
    return {
        "TensorFlow": tensorflow,
        "Keras": keras_versions["keras"],
        "PyTorch": keras_versions["torch"],
    }


# The oldest releases the notebook's code runs on, and why: older ones are
# too old; others, newer or older than the course's, run with numbers a
# little apart.
MINIMUM_VERSIONS = {
    "TensorFlow": ("2.16", "before 2.16 it comes with Keras 2"),
    "Keras": ("3.0", "Keras 2 has another API (this notebook is Keras 3)"),
    "PyTorch": ("2.7", "torch.accelerator's check_available came in 2.7"),
}
# The notebook's first cell, $-fields filled in by versions_source.
VERSIONS_CELL = string.Template(
    r"""
# Your versions of the frameworks beside the ones that produced the course's
# results, read from the installed packages without importing them.
import re
from importlib import metadata

COURSE_VERSIONS = {
$versions}
# The oldest releases this notebook runs on, and why.
MINIMUM_VERSIONS = {
$minimum}
# Where each framework's version is recorded (TensorFlow may be installed
# as tensorflow-cpu).
DISTRIBUTIONS = {
    "TensorFlow": ["tensorflow", "tensorflow-cpu"],
    "Keras": ["keras"],
    "PyTorch": ["torch"],
}


def release(version):
    # "2.14.1+cpu" -> (2, 14, 1): a local build label is the same release.
    numbers = re.findall(r"\d+", version.split("+")[0])
    return tuple(int(number) for number in numbers[:3])


too_old, different = [], False
for name, course_version in COURSE_VERSIONS.items():
    installed = "not installed"
    for distribution in DISTRIBUTIONS[name]:
        try:
            installed = metadata.version(distribution)
            break
        except metadata.PackageNotFoundError:
            continue
    oldest, why = MINIMUM_VERSIONS[name]
    if installed == "not installed" or release(installed) < release(oldest):
        note = f"   <- too old: {why}" if installed != "not installed" else ""
        too_old.append(name)
    elif release(installed) == release(course_version):
        note = ""
    else:
        newer = release(installed) > release(course_version)
        note = "   <- newer" if newer else "   <- older than the course's"
        different = True
    print(f"{name:10} yours: {installed:14} course: {course_version}{note}")
INSTALL = (
    "To run the course's versions:\n"
    "    pip install $install\n"
    "then restart the kernel (Colab: Runtime > Restart session)."
)
if too_old:
    print(f"\n{' and '.join(too_old)}: missing or too old for this notebook.")
    print(INSTALL)
elif different:
    print(
        "\nThe notebook should run as it is (it is tested with the course's "
        "versions, and weekly\nwith the newest releases); your numbers will "
        "differ a little from the course's."
    )
    print(INSTALL)""".lstrip("\n")
)


def versions_source():
    course_versions = site_versions()
    versions = "".join(
        f'    "{name}": "{version}",\n' for name, version in course_versions.items()
    )
    minimum = "".join(
        f'    "{name}": ("{version}", "{why}"),\n'
        for name, (version, why) in MINIMUM_VERSIONS.items()
    )
    install = " ".join(
        f"{package}=={version}"
        for package, version in zip(
            ("tensorflow", "keras", "torch"), course_versions.values(), strict=True
        )
    )
    return VERSIONS_CELL.substitute(versions=versions, minimum=minimum, install=install)


def results_of(notebook):
    """What the executed solution's last cell printed: framework -> figures."""
    last = "".join(output.get("text", "") for output in notebook.cells[-1].outputs)
    return {
        framework: {"epochs": epochs, "accuracy": accuracy, "loss": loss}
        for framework, epochs, accuracy, loss in RESULT_LINE.findall(last)
    }


def results_text(results):
    if not results:
        return "Its results appear here once `make notebook` has run it."
    rows = "\n".join(
        f"| {FRAMEWORKS[framework]} | {figures['epochs']} | {figures['accuracy']} "
        f"| {figures['loss']} |"
        for framework, figures in results.items()
    )
    return (
        "The run of the solution notebook that the course publishes got:\n\n"
        "| framework | epochs | test accuracy | test loss |\n"
        "| --- | ---: | ---: | ---: |\n"
        f"{rows}\n\n"
        "The course's pages show the programs' full training: see "
        f"{page_link('lectures/evaluation.md')}."
    )


def markdown(text):
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip())


def code(source, collapsed=False):
    cell = nbformat.v4.new_code_cell(source)
    if collapsed:
        # Jupyter shows the cell folded; Colab as a form with "Show code".
        cell.metadata["jupyter"] = {"source_hidden": True}
        cell.metadata["cellView"] = "form"
        # The site's page of the notebook leaves their code out
        # (notebook_pages.py): it links to the files instead, and stays light.
        cell.metadata["tags"] = ["folded"]
    return cell


def introduction(exercises, results):
    edition = " (exercises)" if exercises else ""
    checks = (
        "Some cells lost their key lines (marked `# TODO`): fill them in. The cell "
        "after each one checks your answer on a small fixed case and says what is "
        "wrong, with a hint."
        if exercises
        else "A check cell after each exercise tries the code on a small fixed "
        "case; the exercise edition blanks the key lines of the model, the loss, "
        "the training and the evaluation, for you to write."
    )
    lesson = textwrap.dedent(
        f"""
        # Keras vs PyTorch: one MLP, two frameworks{edition}

        **[Open in Colab]({colab_url(EXERCISES if exercises else SOLUTION)})** ·
        [Course site]({SITE_URL})

        You build the same neural network twice, a multi-layer perceptron (784
        inputs, one hidden layer with ReLU, 10 outputs) that recognises MNIST's
        handwritten digits: first in **Keras** (`Sequential`, `compile`, `fit`),
        then in **PyTorch** (an `nn.Module` and a training loop you write). You
        will see where the two agree (the data, the model, the loss on logits)
        and where they differ (who runs the loop, how gradients are reset, how
        a model is switched to evaluation).

        **How to run it.** Run the *Set-up* cells once, top to bottom; then run
        Part 1 (Keras) or Part 2 (PyTorch), in either order, each on its own.
        Change a setting in the *Configuration* cell, then run the part again.
        In Google Colab, open it with the link above (Colab has TensorFlow, Keras
        and PyTorch). In Jupyter, install the course's requirements and JupyterLab
        (`pip install -r requirements.txt jupyterlab`). MNIST
        is downloaded on first use; offline, set the environment variable
        `MNIST_DIR` to a folder with the four MNIST files before starting Jupyter.

        This notebook trains for {NOTEBOOK_EPOCHS} epochs, where the course's
        programs train for {settings()["EPOCHS"]}.

        **On a GPU.** In Colab, choose *Runtime > Change runtime type* and a
        GPU before running anything: both parts then train on it. Keras puts its
        work on the GPU by itself; PyTorch only because its program asks
        `torch.accelerator` for the accelerator and moves the model and the data
        there. Each part prints its `device:`. To compare both on the CPU, put
        `"--device", "cpu"` in `OPTIONS` for PyTorch, and for Keras restart the
        kernel and run `import os; os.environ["CUDA_VISIBLE_DEVICES"] = ""`
        first: Keras' backend looks for a GPU once, when it is first imported.
        """
    ).strip()
    paragraphs = [lesson, results_text(results), f"**Exercises.** {checks}"]
    return nbformat.v4.new_markdown_cell("\n\n".join(paragraphs))


def setup_cells():
    helpers = ", ".join(
        f"[`{name}`]({repository_url(path)})" for name, path in HELPER_MODULES.items()
    )
    return [
        markdown(
            """
            ## Set-up

            Run these cells once, before either part. First, your versions of
            the frameworks:
            """
        ),
        code(versions_source()),
        markdown(
            """
            ### Configuration: edit here

            The settings both parts use, each with its reason. Both programs
            define the same ones: for a quick run, set `EPOCHS = 1` and
            `TRAIN_SIZE = 2000`. `OPTIONS` takes the programs' other options:
            `--quiet` (no progress bars) and, for PyTorch, `--device`.
            """
        ),
        code(configuration_source()),
        markdown(
            """
            ### Two frameworks in one Python process

            A program loads one framework; this notebook loads both in one
            Python process. With some TensorFlow and PyTorch builds (the ones
            the course pins among them), importing TensorFlow before PyTorch's
            compiler stack crashes the process. This cell loads PyTorch's side
            first, so the parts run in either order. It also quietens
            TensorFlow's informational messages and, on a GPU, stops TensorFlow
            from reserving the GPU's memory that PyTorch will need.
            """
        ),
        code(GUARD),
        markdown(
            f"""
            ### Helper modules

            Both programs read MNIST with the same loader (it checks each file's
            SHA-256, and downloads the files if `MNIST_DIR` is not set) and save
            their results with the same small module; the checks of the
            exercises are plain functions too. These folded cells write the
            three files next to the notebook: in Jupyter or Colab, click one to
            read it (the course site leaves their code out), or read them in
            the repository: {helpers}.
            """
        ),
        *(
            code(f"%%writefile {name}\n{path.read_text().rstrip()}", collapsed=True)
            for name, path in HELPER_MODULES.items()
        ),
    ]


def part_cells(part, framework, label, exercises):
    forgotten = textwrap.fill(
        ", ".join(f'"{name}"' for name in forgotten_names()),
        width=80,
        initial_indent="    ",
        subsequent_indent="    ",
    )
    checks = sorted(
        {
            name
            for (checked, _), names in CHECKS.items()
            if checked == framework
            for name in names
        }
    )
    imports = "".join(f"    {name},\n" for name in ["check_answers", *checks])
    cells = [
        markdown(f"## Part {part}: {label}"),
        markdown(
            """
            Start here after the set-up, whichever part ran before. This first
            cell forgets what the other part's exercises defined (`model`,
            `loss_function`, ...), so that a cell left blank fails here instead
            of reusing the other framework's objects, and this part's results
            from an earlier run, so that the results shown at the end are this
            run's.
            """
        ),
        code(
            f"from pathlib import Path\n\nfor name in [\n{forgotten}\n]:\n"
            "    globals().pop(name, None)\n"
            f'Path("runs", "{framework}", "metrics.json").unlink(missing_ok=True)\n\n'
            "# The checks run after the exercises (notebook_checks.py, set-up).\n"
            f"from notebook_checks import (\n{imports})"
        ),
    ]
    solution_pages = pages_with_solutions()
    for section, (heading, page) in SECTIONS.items():
        source = notebook_section(framework, section, exercises)
        warning = (
            " It shows the solution of this notebook's exercises: try yours first."
            if exercises and page in solution_pages
            else ""
        )
        cells.append(
            markdown(
                f"### {label}: {heading}\n\n"
                f"Explained on the course page {page_link(page)}.{warning}"
            )
        )
        cells.append(code(source))
        if (framework, section) in CHECKS:
            cells.append(code(check_source(framework, section)))
    return cells


def pages_with_solutions():
    """The course pages that include a program's section holding an exercise
    (the lectures show the code whole, solutions included)."""
    holding = set()
    for framework in FRAMEWORKS:
        found = sections.parse(program_source(framework))
        exercises = [s for name, s in found.items() if name.startswith("exercise_")]
        holding.update(
            (f"code/{framework}_mlp.py", name)
            for name, section in found.items()
            if any(section.body_start <= e.start < section.body_end for e in exercises)
        )
    return {
        page
        for _, page in SECTIONS.values()
        if any(
            (include["file"], include["name"]) in holding
            for include in sections.INCLUDE.finditer((DOCS_DIR / page).read_text())
        )
    }


SIDE_BY_SIDE = """\
import json
from pathlib import Path

for framework in ("keras", "pytorch"):
    # Each part's first cell deletes this file, and its Save cell writes it:
    # it holds the results of the part's latest run, if that run got there.
    path = Path("runs", framework, "metrics.json")
    if not path.exists():
        print(
            f"{framework:8} no results: its part has not run to its Save cell "
            "since it last started (not run yet, or a cell raised an error)"
        )
        continue
    metrics = json.loads(path.read_text())
    test, epochs = metrics["test"], metrics["config"]["epochs"]
    print(
        f"{framework:8} {epochs} epochs: test accuracy "
        f"{test['accuracy']:.2%}, test loss {test['loss']:.4f}"
    )
    if not 0 <= test["accuracy"] <= 1:
        print("         not a fraction: see the check of its evaluation")"""


def assemble(exercises=False, results=None):
    """The notebook as nbformat cells, not executed.

    `results` are the figures of the executed solution (see `results_of`),
    quoted by the introduction.
    """
    cells = [introduction(exercises, results), *setup_cells()]
    for part, (framework, label) in enumerate(FRAMEWORKS.items(), start=1):
        cells += part_cells(part, framework, label, exercises)
    cells.append(
        markdown(
            """
            ## The two results side by side

            Each part saved its results in `runs/<framework>/metrics.json`.
            """
        )
    )
    cells.append(code(SIDE_BY_SIDE))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    # Stable cell ids: the same sources give the same file.
    for number, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{number:02d}"
    return notebook


def execute(notebook, timeout=600, work_dir=None):
    """Run every cell in a fresh kernel, in a temporary working folder."""
    # The kernel gets this process's environment (the loader reads MNIST_DIR).
    with tempfile.TemporaryDirectory() as temporary:
        client = NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": work_dir or temporary}},
        )
        client.execute(env=dict(os.environ))
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        for output in cell.outputs:
            # Keras prints its summary through rich, as HTML and as text with
            # terminal colours, fixed colours unreadable on one of the site's
            # colour schemes: keep the plain text, without the colour codes.
            data = output.get("data", {})
            if "text/plain" in data and data.get("text/html", "").startswith("<pre"):
                del data["text/html"]
            if "text/plain" in data:
                data["text/plain"] = ANSI_COLOUR.sub("", data["text/plain"])
            if "text" in output:
                text = ANSI_COLOUR.sub("", output["text"])
                output["text"] = TENSORFLOW_START_UP.sub("", text)
        cell.outputs = [
            output
            for output in cell.outputs
            if output.get("output_type") != "stream" or output["text"]
        ]
    return notebook


def write(notebook, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, (nbformat.writes(notebook) + "\n").encode())


def page_of(notebook, path):
    """The site's page of the notebook at `path` (notebook_pages.py): its
    Markdown and images."""
    folded_urls = {name: repository_url(file) for name, file in HELPER_MODULES.items()}
    return notebook_pages.page(notebook, path.name, SITE_URL, folded_urls)


def write_page(notebook, path):
    """Write the page beside the notebook: keras-vs-pytorch.md for
    keras-vs-pytorch.ipynb, its images in the same folder."""
    markdown_text, images = page_of(notebook, path)
    for name, data in images.items():
        write_atomically(path.parent / name, data)
    write_atomically(path.with_suffix(".md"), markdown_text.encode())


def main():
    parser = argparse.ArgumentParser(
        description="Assemble and execute the course notebooks.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.parse_args()
    print("notebook: executing the solution edition ...", flush=True)
    solution = execute(assemble())
    results = results_of(solution)
    if set(results) != set(FRAMEWORKS):
        raise SystemExit(f"notebook: the solution's last cell printed {results}")
    # The introduction quotes what this run produced.
    solution.cells[0].source = assemble(results=results).cells[0].source
    exercises = assemble(exercises=True, results=results)
    for notebook, path in ((solution, SOLUTION), (exercises, EXERCISES)):
        write(notebook, path)
        write_page(notebook, path)
    fingerprint.write(RESULTS)
    print(f"notebook: wrote {SOLUTION.name} and {EXERCISES.name} in {NOTEBOOK_DIR}")


if __name__ == "__main__":
    sys.exit(main())
