"""A reader who copies one framework's code blocks from a lecture page, in
page order, into a fresh Python session gets a working program.

The code is taken from the built HTML, exactly as the reader sees it, and run
in a fresh interpreter with a short training (options on the command line, as
a reader could also pass them) and the two helper modules the pages tell the
reader to put beside it.
"""

import shutil

import pytest

from conftest import CODE_DIR, HELPERS, code_blocks, run_program
from tools.course import FRAMEWORKS

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


@pytest.mark.slow
def test_code_blocks_are_found_in_page_order(site_dir):
    html = (site_dir / "lectures/training/index.html").read_text()
    blocks = code_blocks(html, "PyTorch")
    # The earlier chapters' code first, then the training loop.
    assert blocks[0].startswith("import argparse")
    assert "loss.backward()" in blocks[-1]
    assert not any("keras" in block for block in blocks)


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


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_lecture_page_runs_as_copied(site_dir, tmp_path, mnist_env, framework):
    programs = {}
    for page in LECTURES:
        html = (site_dir / page / "index.html").read_text()
        programs[page] = "\n".join(code_blocks(html, FRAMEWORKS[framework]))
        assert programs[page].strip(), f"{page} has no {framework} code"
    for helper in HELPERS:
        shutil.copy(CODE_DIR / helper, tmp_path / helper)
    # One run for all the pages when each page's code starts the next one's,
    # else one run per page.
    combined = one_program(programs)
    runs = {page: combined for page in LECTURES} if combined else programs
    outputs = {}
    for program in set(runs.values()):
        (tmp_path / "copied.py").write_text(program)
        result = run_program(
            tmp_path / "copied.py",
            *("--epochs", "1", "--train-size", "2000", "--quiet"),
            *("--output-dir", tmp_path / "out"),
            cwd=tmp_path,
            env=mnist_env,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        outputs[program] = result.stdout
    for page, program in runs.items():
        output = outputs[program]
        if program is combined:
            end = output.index(END_OF_PAGE.format(page))
            output = output[:end]
        assert LECTURES[page] in output, page
