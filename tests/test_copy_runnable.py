"""A reader who copies one framework's code blocks from a lecture page, in
page order, into a fresh Python session gets a working program.

The code is taken from the built HTML, exactly as the reader sees it, and run
in a fresh interpreter with a short training (options on the command line, as
a reader could also pass them) and the two helper modules the pages tell the
reader to put beside it.
"""

import shutil

import pytest
from bs4 import BeautifulSoup
from conftest import CODE_DIR, run_program

LECTURES = {
    # page: a line its code prints only if it ran to the end
    "lectures/data": "split:",
    "lectures/model": "Total params",
    "lectures/training": "kept the weights of epoch",
    "lectures/evaluation": "saved the model and results in",
}
LABELS = {"keras": "Keras", "pytorch": "PyTorch"}
HELPERS = ("mnist_data.py", "run_record.py")


def code_blocks(html, label):
    """The Python code blocks in the tabs labelled `label`, in page order."""
    page = BeautifulSoup(html, "html.parser")
    blocks = []
    for tab_set in page.select("div.tabbed-set"):
        labels = [
            tab.get_text(strip=True) for tab in tab_set.select(".tabbed-labels > label")
        ]
        panels = tab_set.select(":scope > .tabbed-content > .tabbed-block")
        for tab_label, panel in zip(labels, panels, strict=True):
            if tab_label != label:
                continue
            for code in panel.select("div.language-python pre > code"):
                # Skip blocks nested in a deeper tab set: counted with that set.
                if code.find_parent("div", class_="tabbed-set") is tab_set:
                    blocks.append(code.get_text())
    return blocks


def test_code_blocks_are_found_in_page_order(site_dir):
    html = (site_dir / "lectures/training/index.html").read_text()
    blocks = code_blocks(html, "PyTorch")
    # The earlier chapters' code first, then the training loop.
    assert blocks[0].startswith("import argparse")
    assert "loss.backward()" in blocks[-1]
    assert not any("keras" in block for block in blocks)


@pytest.mark.slow
@pytest.mark.parametrize("framework", LABELS)
@pytest.mark.parametrize("page", LECTURES)
def test_a_lecture_page_runs_as_copied(site_dir, tmp_path, mnist_dir, page, framework):
    html = (site_dir / page / "index.html").read_text()
    program = "\n".join(code_blocks(html, LABELS[framework]))
    assert program.strip(), f"{page} has no {framework} code"
    for helper in HELPERS:
        shutil.copy(CODE_DIR / helper, tmp_path / helper)
    (tmp_path / "copied.py").write_text(program)
    result = run_program(
        tmp_path / "copied.py",
        *("--epochs", "1", "--train-size", "2000", "--quiet"),
        *("--data-dir", mnist_dir, "--output-dir", tmp_path / "out"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert LECTURES[page] in result.stdout
