"""A reader who copies one framework's code blocks from a lecture page, in
page order, gets a program that runs to the end, with no error and nothing
printed that the code does not print itself, in each place readers paste:

- a Jupyter kernel, one block per cell, as in Colab (through nbclient);
- Python's interactive prompt, line by line, as pasted (the interpreter's own
  read-eval loop, code.InteractiveConsole, in a fresh process);
- a file, run with `python` and command-line options from the shell.

The code is taken from the built HTML, exactly as the reader sees it, with
the two helper modules the pages tell the reader to put beside it. In the
notebook and at the prompt the run is shortened as a reader would do it
there: by editing the settings EPOCHS and TRAIN_SIZE in the pasted code.
"""

import json
import re
import shutil
import subprocess
import sys
import textwrap

import nbformat
import pytest
from nbclient import NotebookClient

from helpers import CODE_DIR, HELPERS, PROJECT_DIR, code_blocks, run_program
from tools.course import FRAMEWORKS

pytestmark = pytest.mark.slow

LECTURES = {
    # page: a line its code prints only if it ran to the end
    "lectures/data": "split:",
    "lectures/model": "Total params",
    "lectures/training": "kept the weights of epoch",
    "lectures/evaluation": "saved the model and results in",
}
END_OF_PAGE = "-- the code of {} ends here --"
# Lines that continue the statement before them.
CONTINUATIONS = ("else", "elif", "except", "finally", ")", "]", "}")
# What a reader edits for a short run where there is no command line.
SHORT_RUN = {"EPOCHS": 1, "TRAIN_SIZE": 2000}
SHORT_OPTIONS = ("--epochs", "1", "--train-size", "2000", "--quiet")


@pytest.fixture(scope="module")
def pages(site_dir):
    """page -> framework -> its code blocks, in page order."""
    found = {}
    for page in LECTURES:
        html = (site_dir / page / "index.html").read_text()
        found[page] = {
            framework: code_blocks(html, label)
            for framework, label in FRAMEWORKS.items()
        }
        for framework, blocks in found[page].items():
            assert blocks, f"{page} has no {framework} code"
    return found


@pytest.fixture
def beside(tmp_path):
    """A folder with the helper modules in it, as the pages ask."""
    for helper in HELPERS:
        shutil.copy(CODE_DIR / helper, tmp_path / helper)
    return tmp_path


def shortened(block):
    """The block with the settings edited for a short run, as a reader would."""
    for name, value in SHORT_RUN.items():
        block = re.sub(rf"^{name} = [^#\n]*", f"{name} = {value}  ", block, flags=re.M)
    return block


def test_the_blocks_are_found_in_page_order(pages):
    blocks = pages["lectures/training"]["pytorch"]
    # The earlier chapters' code first, then the training loop.
    assert blocks[0].lstrip().startswith("import copy")
    assert "loss.backward()" in blocks[-1]
    assert not any("keras" in block for block in blocks)
    # The Data lecture's first block is the lesson's setup, and it shows data.
    data = pages["lectures/data"]["keras"]
    assert "import keras" in data[0] and "load_mnist(" in data[2]


def test_the_settings_are_edited_for_a_short_run(pages):
    setup = pages["lectures/data"]["keras"][0]
    edited = shortened(setup)
    assert "EPOCHS = 1 " in edited and "TRAIN_SIZE = 2000 " in edited
    assert edited.count("\n") == setup.count("\n")


def statements(text):
    return [line for line in text.splitlines() if line.strip()]


def one_program(programs):
    """The pages' programs as one, if each page's code is the start of the
    next page's (each page repeats the earlier chapters' code first; the
    blank lines between blocks may differ): the longest, with a line printed
    where each page's own program ends. Running it runs every page's program
    as copied, up to that line. None if the pages' code does not allow it."""
    pages = sorted(programs, key=lambda page: len(statements(programs[page])))
    longest = programs[pages[-1]].splitlines()
    positions = [i for i, line in enumerate(longest) if line.strip()]
    content = [longest[i] for i in positions]
    combined, start = [], 0
    for page in pages:
        compile(programs[page], page, "exec")  # the copy alone is a program
        lines = statements(programs[page])
        if content[: len(lines)] != lines:
            return None
        # Cut only where the next line starts a new top-level statement.
        following = content[len(lines)] if len(lines) < len(content) else "pass"
        if following[:1].isspace() or following.startswith(CONTINUATIONS):
            return None
        end = positions[len(lines) - 1] + 1
        marker = END_OF_PAGE.format(page)
        combined += [*longest[start:end], f"print({marker!r}, flush=True)"]
        start = end
    return "\n".join(combined) + "\n"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_lecture_runs_as_a_file_with_options(pages, beside, mnist_env, framework):
    programs = {page: "\n\n".join(pages[page][framework]) for page in LECTURES}
    # One run for all the pages when each page's code starts the next one's,
    # else one run per page.
    combined = one_program(programs)
    runs = {page: combined for page in LECTURES} if combined else programs
    outputs = {}
    for program in set(runs.values()):
        (beside / "copied.py").write_text(program)
        result = run_program(
            beside / "copied.py",
            *SHORT_OPTIONS,
            *("--output-dir", beside / "out"),
            cwd=beside,
            env=mnist_env,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        outputs[program] = result.stdout
    for page, program in runs.items():
        output = outputs[program]
        if program is combined:
            output = output[: output.index(END_OF_PAGE.format(page))]
        assert LECTURES[page] in output, page
    # The options were read: one epoch on 2000 images, not the settings' 20.
    metrics = json.loads((beside / "out" / "metrics.json").read_text())
    assert len(metrics["epoch_seconds"]) == 1
    assert metrics["config"]["train_size"] == 2000


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_lecture_runs_in_a_jupyter_kernel_a_block_per_cell(
    pages, beside, mnist_env, framework
):
    # One kernel for the four pages, its names forgotten between pages (a
    # page's code must not lean on an earlier page's): %reset -f.
    cells = []
    for page in LECTURES:
        cells.append(nbformat.v4.new_code_cell("%reset -f"))
        cells += [
            nbformat.v4.new_code_cell(shortened(b)) for b in pages[page][framework]
        ]
        cells.append(nbformat.v4.new_code_cell(f"print({END_OF_PAGE.format(page)!r})"))
    notebook = nbformat.v4.new_notebook(cells=cells)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(beside)}},
    )
    client.execute(env=mnist_env)  # raises CellExecutionError on any error
    text = ""
    for cell in notebook.cells:
        for output in cell.outputs:
            # A value the cell's last line returned, shown by Jupyter: stray.
            assert output.output_type != "execute_result", (cell.source, output)
            assert output.output_type != "error", output
            # Printed text, and what a library displays (Keras' summary).
            text += output.get("text", "")
            text += output.get("data", {}).get("text/plain", "")
    for page, line in LECTURES.items():
        page_output, text = text.split(END_OF_PAGE.format(page), 1)
        assert line in page_output, page
    assert (beside / "runs" / framework / "metrics.json").exists()


# Feeds each page's blocks, line by line, to Python's own read-eval loop, as
# a paste does; Enter after each block ends its last statement. Every value
# the loop would echo, every error, is written to a report.
PROMPT_DRIVER = textwrap.dedent(
    """
    import code, json, sys

    pages = json.loads(open(sys.argv[1]).read())
    report = {"echoed": [], "errors": []}

    def echo(value):
        if value is not None:
            report["echoed"].append(repr(value)[:200])

    sys.displayhook = echo
    for page, blocks in pages.items():
        console = code.InteractiveConsole({"__name__": "__main__"})
        console.showtraceback = lambda: report["errors"].append(
            f"{page}: {sys.exc_info()[0].__name__}: {sys.exc_info()[1]}"
        )
        console.showsyntaxerror = lambda filename=None, **_: report["errors"].append(
            f"{page}: SyntaxError: {sys.exc_info()[1]}"
        )
        for block in blocks:
            for line in block.splitlines():
                console.push(line)
            console.push("")
        print("=== end of", page, flush=True)
    open(sys.argv[2], "w").write(json.dumps(report))
    """
)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_lecture_runs_pasted_at_the_python_prompt(
    pages, beside, mnist_env, framework
):
    given = {
        page: [shortened(block) for block in pages[page][framework]]
        for page in LECTURES
    }
    (beside / "pages.json").write_text(json.dumps(given))
    (beside / "prompt.py").write_text(PROMPT_DRIVER)
    result = subprocess.run(
        [sys.executable, "prompt.py", "pages.json", "report.json"],
        cwd=beside,
        env=mnist_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((beside / "report.json").read_text())
    assert report["errors"] == []
    assert report["echoed"] == [], "the prompt echoed values the code discards"
    output = result.stdout
    for page, line in LECTURES.items():
        page_output, _, output = output.partition(f"=== end of {page}")
        assert line in page_output, page


def test_the_programs_are_formatted_as_ruff_does_but_for_blank_lines(tmp_path):
    """ruff format leaves the two programs alone (pyproject.toml): a blank
    line between two methods would end their class at Python's prompt. All
    the rest is as ruff formats it."""
    for framework in FRAMEWORKS:
        program = CODE_DIR / f"{framework}_mlp.py"
        formatted = subprocess.run(
            [sys.executable, "-m", "ruff", "format", "--isolated"]
            + ["--line-length", "79", "-"],
            input=program.read_text(),
            capture_output=True,
            text=True,
            cwd=PROJECT_DIR,
            check=True,
        ).stdout
        assert statements(formatted) == statements(program.read_text()), program
