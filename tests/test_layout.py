"""The folder layout: the lesson in code/, what builds the site in tools/."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import PROJECT_DIR, make_targets
from tools.results import RESULT_SETS

CODE_DIR = PROJECT_DIR / "code"
TOOLS_DIR = PROJECT_DIR / "tools"


def python_files(folder):
    return sorted(path.name for path in folder.glob("*.py"))


def imported_modules(path):
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def page_sources():
    pages = (PROJECT_DIR / "docs").rglob("*.md")
    return "\n".join(page.read_text() for page in pages)


def test_every_lesson_file_is_shown_or_named_on_a_page():
    pages = page_sources()
    for name in python_files(CODE_DIR):
        assert f"code/{name}" in pages or f"`{name}`" in pages, (
            f"code/{name} appears on no page: a file the readers never see "
            "belongs in tools/"
        )


def test_lesson_code_never_imports_the_tools():
    for path in CODE_DIR.glob("*.py"):
        assert "tools" not in imported_modules(path), path.name


def test_the_readme_lists_exactly_the_files_of_each_folder():
    readme = (PROJECT_DIR / "README.md").read_text()
    for folder in (CODE_DIR, TOOLS_DIR):
        table = re.search(
            rf"^\| `{folder.name}/`: .*?\n\n", readme, re.MULTILINE | re.DOTALL
        )
        assert table, f"README has no table of {folder.name}/"
        listed = set(re.findall(r"`([\w]+\.py)`", table.group(0)))
        files = set(python_files(folder)) - {"__init__.py"}
        assert listed == files, f"{folder.name}/: README lists {sorted(listed)}"


def test_serve_reloads_on_the_code_and_the_tools():
    config = yaml.safe_load((PROJECT_DIR / "mkdocs.yml").read_text())
    assert {"code", "tools"} <= set(config["watch"])
    macros = next(
        plugin["macros"]
        for plugin in config["plugins"]
        if isinstance(plugin, dict) and "macros" in plugin
    )
    # The macros are a package of tools/, which `watch` covers.
    package = PROJECT_DIR / macros["module_name"]
    assert (package / "__init__.py").is_file() and package.parent == TOOLS_DIR


def test_every_result_set_is_made_by_a_make_target():
    targets = make_targets()
    for target, result_set in RESULT_SETS.items():
        assert target in targets, target
        assert result_set.path.is_dir(), result_set.folder


@pytest.mark.slow
def test_the_site_builds_where_the_locale_is_not_utf8(tmp_path):
    """Windows reads files in its code page by default: the build must not rely
    on a UTF-8 locale (Keras' training log has box-drawing characters)."""
    environment = dict(
        os.environ,
        LC_ALL="C",
        LANG="C",
        PYTHONUTF8="0",
        PYTHONCOERCECLOCALE="0",
        NO_MKDOCS_2_WARNING="1",
    )
    mkdocs = Path(sys.executable).with_name("mkdocs")
    result = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", tmp_path / "site"],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def code_lines(path):
    """A Python file's lines that are neither blank nor comments, stripped."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_no_block_of_the_lesson_code_is_copied_into_the_tools():
    # Four lines in a row, long enough not to be boilerplate (an argparse
    # call, a closing bracket): the tools read the lesson's code through its
    # sections or import it, never keep a copy that could drift from it.
    window, shortest = 4, 100
    tools = {path: code_lines(path) for path in TOOLS_DIR.rglob("*.py")}
    copies = []
    for path in sorted(CODE_DIR.glob("*.py")):
        lines = code_lines(path)
        for start in range(len(lines) - window + 1):
            block = lines[start : start + window]
            if sum(map(len, block)) < shortest:
                continue
            copies += [
                f"{path.name} {block[0]!r}... in {tool.relative_to(PROJECT_DIR)}"
                for tool, found in tools.items()
                if any(
                    found[at : at + window] == block
                    for at in range(len(found) - window + 1)
                )
            ]
    assert not copies, "\n".join(copies)


def test_no_function_in_the_tools_is_longer_than_120_lines():
    longest = {}
    for path in TOOLS_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{path.relative_to(PROJECT_DIR)}:{node.lineno} {node.name}"
                longest[name] = node.end_lineno - node.lineno + 1
    too_long = {name: lines for name, lines in longest.items() if lines > 120}
    assert not too_long, too_long
