"""The notebooks: never drift from the programs, run in a fresh kernel."""

import re

import nbformat
import pytest

import build_notebooks
from build_notebooks import EXERCISES, SOLUTION, assemble, execute

ACCURACY_LINE = re.compile(
    r"^(keras|pytorch) +\d+ epochs: test accuracy ([0-9.]+)%", re.M
)
# Five epochs of the course's model: well above 95% in both frameworks.
ACCURACY_FLOOR = 95.0


def sources(notebook):
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


@pytest.mark.parametrize(
    ("path", "exercises"),
    [(SOLUTION, False), (EXERCISES, True)],
    ids=["solution", "exercises"],
)
def test_committed_notebook_equals_a_fresh_assembly(path, exercises):
    committed = nbformat.read(path, as_version=4)
    assert sources(committed) == sources(assemble(exercises=exercises)), (
        f"{path.name} is stale: run `make notebook` and commit the result"
    )


def test_committed_solution_has_the_outputs_of_a_clean_run():
    notebook = nbformat.read(SOLUTION, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code_cells), "not executed"
    errors = [
        o for cell in code_cells for o in cell.outputs if o.output_type == "error"
    ]
    assert not errors
    last = "".join(output.get("text", "") for output in code_cells[-1].outputs)
    accuracies = dict(ACCURACY_LINE.findall(last))
    assert set(accuracies) == {"keras", "pytorch"}
    assert all(float(value) > ACCURACY_FLOOR for value in accuracies.values())


def test_exercise_edition_blanks_the_key_lines():
    notebook = nbformat.read(EXERCISES, as_version=4)
    blanks = [cell.source for cell in notebook.cells if "# TODO:" in cell.source]
    todo_count = sum(source.count("# TODO:") for source in blanks)
    assert todo_count == len(build_notebooks.HINTS) == 8
    text = "\n".join(cell.source for cell in notebook.cells)
    # The answers are gone...
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
    assert not any(
        cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"
    )


def test_notebooks_link_to_colab_at_their_repository_path():
    for path in (SOLUTION, EXERCISES):
        first = nbformat.read(path, as_version=4).cells[0].source
        assert build_notebooks.colab_url(path) in first
        assert build_notebooks.colab_url(path).endswith(
            f"/blob/main/docs/notebooks/{path.name}"
        )


@pytest.mark.slow
def test_exercise_notebook_runs_up_to_the_first_blank(mnist_dir):
    notebook = assemble(exercises=True)
    first_blank = next(
        i for i, cell in enumerate(notebook.cells) if "# TODO:" in cell.source
    )
    notebook.cells = notebook.cells[:first_blank]
    executed = execute(notebook, mnist_dir)
    outputs = "".join(
        output.get("text", "")
        for cell in executed.cells
        for output in cell.get("outputs", [])
    )
    assert "split:  54000 train, 6000 validation, 10000 test" in outputs


def final_accuracies(notebook):
    last = "".join(output.get("text", "") for output in notebook.cells[-1].outputs)
    return {framework: float(value) for framework, value in ACCURACY_LINE.findall(last)}


@pytest.mark.slow
def test_solution_runs_in_a_fresh_kernel(mnist_dir):
    accuracies = final_accuracies(execute(assemble(), mnist_dir))
    assert set(accuracies) == {"keras", "pytorch"}
    assert all(value > ACCURACY_FLOOR for value in accuracies.values()), accuracies


@pytest.mark.slow
def test_pytorch_part_first_does_not_crash(mnist_dir):
    """The reader may run the PyTorch part before the Keras part."""
    notebook = assemble()
    headings = [
        i for i, cell in enumerate(notebook.cells) if cell.source.startswith("## Part")
    ]
    keras_part = notebook.cells[headings[0] : headings[1]]
    pytorch_part = notebook.cells[headings[1] : -2]
    notebook.cells = (
        notebook.cells[: headings[0]] + pytorch_part + keras_part + notebook.cells[-2:]
    )
    accuracies = final_accuracies(execute(notebook, mnist_dir))
    assert set(accuracies) == {"keras", "pytorch"}
