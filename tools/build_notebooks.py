"""Assemble the course notebook from the two programs, and execute it.

`make notebook` runs this. The notebook is never edited by hand: its code
cells are the programs' named sections (the same ones the pages include), so
it cannot drift from the code. Two editions are written to docs/notebooks/:

- keras-vs-pytorch.ipynb, the solution, executed here with nbclient so that
  readers see real outputs without running anything;
- keras-vs-pytorch-exercises.ipynb, the same notebook with the key lines (the
  sections marked `exercise_*` inside the programs) replaced by TODO blanks.

Both carry their own copies of mnist_data.py and run_record.py (written by
%%writefile cells), so they run in Jupyter or Colab with nothing but the
notebook file.
"""

import argparse
import json
import os
import re
import sys
import tempfile
import textwrap

import nbformat
import yaml
from nbclient import NotebookClient

from run_record import write_atomically
from tools import CODE_DIR, DOCS_DIR, PROJECT_DIR
from tools.course import FRAMEWORKS

NOTEBOOK_DIR = DOCS_DIR / "notebooks"
GENERATED_DIR = DOCS_DIR / "generated"
SOLUTION = NOTEBOOK_DIR / "keras-vs-pytorch.ipynb"
EXERCISES = NOTEBOOK_DIR / "keras-vs-pytorch-exercises.ipynb"
MKDOCS_CONFIG = yaml.safe_load((PROJECT_DIR / "mkdocs.yml").read_text())
SITE_URL = MKDOCS_CONFIG["site_url"]


def colab_url(path):
    """Colab opens a notebook straight from its path in the GitHub repository."""
    repository = MKDOCS_CONFIG["repo_url"].removeprefix("https://github.com/")
    relative = path.relative_to(PROJECT_DIR).as_posix()
    return f"https://colab.research.google.com/github/{repository}/blob/main/{relative}"


# Each section's heading in the notebook, and the course page that explains it.
SECTIONS = {
    "setup": ("Imports, hyperparameters and options", "lectures/data.md"),
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
# Fewer epochs than the full retrain, so the whole notebook runs in about a
# minute on two CPU cores; the page shows the full retrain's numbers beside.
NOTEBOOK_EPOCHS = 5
# A notebook has no command line: the options are given as a list instead.
PARSE_ARGS = "args = parser.parse_args()"
NOTEBOOK_PARSE_ARGS = (
    f'args = parser.parse_args(["--epochs", "{NOTEBOOK_EPOCHS}", "--quiet"])'
    "  # a notebook has no command line"
)
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
MARKER = re.compile(r"^ *# --8<-- \[(start|end):([a-z_]+)\]\n", re.MULTILINE)

# What a student writes in each blank of the exercise edition.
HINTS = {
    ("keras", "exercise_model"): "build `model`: a keras.Sequential with an Input of "
    "784 features, a Dense hidden layer of args.hidden_units units with ReLU, and a "
    "Dense output layer of 10 logits (no activation).",
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
    "forward returns logits through a ReLU. Then `model = MLP(args.hidden_units)`.",
    ("pytorch", "exercise_loss"): "create `loss_function`, the cross-entropy loss "
    "object for logits and class indices.",
    ("pytorch", "exercise_training"): "one training step: reset the gradients, "
    "compute `logits` and `loss` for the batch, backpropagate, update the weights.",
    ("pytorch", "exercise_evaluate"): "compute `logits` for x, then `loss` (a "
    "float, with .item()) and `accuracy` (the fraction of correct argmax).",
}

GUARD = """\
# With the TensorFlow and PyTorch builds this course pins, importing TensorFlow
# before PyTorch's compiler stack (triton, which the optimizers load) crashes
# the kernel. Loading PyTorch's side first avoids it, in whatever order you
# run the Keras and PyTorch parts.
try:
    import torch._dynamo  # noqa: F401
except ImportError:
    pass  # no PyTorch installed: the Keras part runs on its own"""


def section_source(path, name):
    """A named section of a program, without any marker lines."""
    text = path.read_text()
    match = re.search(
        rf"^# --8<-- \[start:{name}\]\n(.*?)^# --8<-- \[end:{name}\]$",
        text,
        re.MULTILINE | re.DOTALL,
    )
    if not match:
        raise SystemExit(f"{path.name} has no section {name!r}")
    return MARKER.sub("", match.group(1)).strip("\n")


def blank_exercises(framework, path, source):
    """Replace each exercise_* region of `source` by a TODO and `...`."""
    text = path.read_text()
    for name in re.findall(r"\[start:(exercise_[a-z_]+)\]", text):
        region = re.search(
            rf"^( *)# --8<-- \[start:{name}\]\n(.*?)^ *# --8<-- \[end:{name}\]\n",
            text,
            re.MULTILINE | re.DOTALL,
        )
        indent, body = region.group(1), MARKER.sub("", region.group(2))
        if body.strip("\n") and body.strip("\n") in source:
            hint = textwrap.fill(
                HINTS[(framework, name)],
                width=84 - len(indent),
                initial_indent=f"{indent}# TODO: ",
                subsequent_indent=f"{indent}#       ",
            )
            source = source.replace(body.rstrip("\n"), f"{hint}\n{indent}...")
    return source


def full_retrain_summary():
    lines = []
    for framework, label in FRAMEWORKS.items():
        metrics = json.loads((GENERATED_DIR / framework / "metrics.json").read_text())
        lines.append(
            f"| {label} | {metrics['config']['epochs']} | "
            f"{metrics['test']['accuracy']:.2%} | {metrics['parameter_count']:,} |"
        )
    return "\n".join(lines)


def markdown(text):
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip())


def assemble(exercises=False):
    """The notebook as nbformat cells, not executed."""
    edition = " (exercises)" if exercises else ""
    introduction = textwrap.dedent(
        f"""
        # Keras vs PyTorch: one MLP, two frameworks{edition}

        **[Open in Colab]({colab_url(EXERCISES if exercises else SOLUTION)})** ·
        [Course site]({SITE_URL})

        The same multi-layer perceptron (784 inputs, one hidden layer with ReLU,
        10 outputs) trained on MNIST, first in Keras, then in PyTorch, as in the
        lecture this course grew from: each part reads top to bottom as one
        program. Every code cell below is a section of `code/keras_mlp.py` or
        `code/pytorch_mlp.py`, the same code the course pages show.

        **Run it** in Jupyter with the course's requirements installed, or in
        Google Colab as it is (Colab already has TensorFlow, Keras and PyTorch;
        the notebook installs nothing). MNIST is downloaded on first use; offline,
        set the `MNIST_DIR` environment variable to a folder with the four files.

        This notebook trains for {NOTEBOOK_EPOCHS} epochs so that it runs in about
        a minute on a laptop. The full retrain behind the course's pages uses the
        programs' defaults:

        | framework | epochs | test accuracy | parameters |
        | --- | ---: | ---: | ---: |
        """
    )
    cells = [
        nbformat.v4.new_markdown_cell(
            introduction.strip() + "\n" + full_retrain_summary()
        )
    ]
    if exercises:
        cells.append(
            markdown(
                """
                **Exercises.** The cells marked `# TODO` lost their key lines: the
                model, the loss, the training step and the evaluation. Fill them in;
                the hint says what each must define. The cells after a blank need it
                to run. The solution notebook and the course pages have the answers.
                """
            )
        )
    cells.append(
        markdown(
            """
            ## The helper modules

            Both programs import the same MNIST loader (it reads the official IDX
            files, checks their SHA-256 and downloads them if needed) and a small
            module that saves a run's results. These cells write them next to the
            notebook.
            """
        )
    )
    for module in ("mnist_data.py", "run_record.py"):
        source = (CODE_DIR / module).read_text().rstrip("\n")
        cells.append(nbformat.v4.new_code_cell(f"%%writefile {module}\n{source}"))
    for part, (framework, label) in enumerate(FRAMEWORKS.items(), start=1):
        path = CODE_DIR / f"{framework}_mlp.py"
        cells.append(markdown(f"## Part {part}: {label}"))
        if framework == "keras":
            cells.append(nbformat.v4.new_code_cell(GUARD))
        for section, (heading, page) in SECTIONS.items():
            source = section_source(path, section)
            if section == "setup":
                if source.count(PARSE_ARGS) != 1:
                    raise SystemExit(f"{path.name}: expected one line {PARSE_ARGS!r}")
                source = source.replace(PARSE_ARGS, NOTEBOOK_PARSE_ARGS)
            if exercises:
                source = blank_exercises(framework, path, source)
            cells.append(
                markdown(f"### {label}: {heading}\n\nExplained in `docs/{page}`.")
            )
            cells.append(nbformat.v4.new_code_cell(source))
    cells.append(
        markdown(
            """
            ## The two results side by side

            Each part saved its results in `runs/<framework>/metrics.json`.
            """
        )
    )
    cells.append(
        nbformat.v4.new_code_cell(
            textwrap.dedent(
                """\
                import json

                for framework in ("keras", "pytorch"):
                    with open(f"runs/{framework}/metrics.json") as file:
                        metrics = json.load(file)
                    test, epochs = metrics["test"], metrics["config"]["epochs"]
                    print(
                        f"{framework:8} {epochs} epochs: test accuracy "
                        f"{test['accuracy']:.2%}, test loss {test['loss']:.4f}"
                    )"""
            )
        )
    )
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


def execute(notebook, timeout=600):
    """Run every cell in a fresh kernel, in a temporary working folder."""
    # The kernel gets this process's environment (the loader reads MNIST_DIR),
    # without TensorFlow's start-up messages in the outputs.
    environment = dict(os.environ)
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with tempfile.TemporaryDirectory() as work_dir:
        client = NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": work_dir}},
        )
        client.execute(env=environment)
    for cell in notebook.cells:
        cell.get("metadata", {}).pop("execution", None)
        for output in cell.get("outputs", []):
            # Keras prints its summary through rich, as HTML and as text with
            # terminal colours, fixed colours unreadable on one of the site's
            # colour schemes: keep the plain text, without the colour codes.
            data = output.get("data", {})
            if "text/plain" in data and data.get("text/html", "").startswith("<pre"):
                del data["text/html"]
            if "text/plain" in data:
                data["text/plain"] = ANSI_COLOUR.sub("", data["text/plain"])
            if "text" in output:
                output["text"] = ANSI_COLOUR.sub("", output["text"])
    return notebook


def write(notebook, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, (nbformat.writes(notebook) + "\n").encode())


def main():
    parser = argparse.ArgumentParser(
        description="Assemble and execute the course notebooks.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.parse_args()
    print("notebook: executing the solution edition ...", flush=True)
    solution = execute(assemble())
    write(solution, SOLUTION)
    write(assemble(exercises=True), EXERCISES)
    print(f"notebook: wrote {SOLUTION.name} and {EXERCISES.name} in {NOTEBOOK_DIR}")


if __name__ == "__main__":
    sys.exit(main())
