"""Every set of committed results was made from the files it declares
(tools/results.py), and the check that says so (tools/fingerprint.py) works.

A result set lists the files its results depend on; the step that makes it
writes their SHA-256 into fingerprint.json. Here: the committed fingerprints
match the files; the check notices an edited, added or dropped input; the
Makefile's rules are the declaration's; and each set declares exactly the
files its commands import and start, so a new tool or lesson file cannot be
forgotten.
"""

import ast
import dataclasses
import functools
import re
import shutil

import pytest

from helpers import PROJECT_DIR, run_tool
from tools import course, fingerprint, results

RESULT_SETS = results.RESULT_SETS
DECLARED = sorted({name for result in RESULT_SETS.values() for name in result.files})
# Tools that are an input of no result set, and why.
NOT_AN_INPUT = {
    # It writes and checks the stamps; a change to it shows as every file
    # changed, or fails the tests below.
    "tools/fingerprint.py": "the fingerprint mechanism itself",
    "tools/results.py": "the declaration of the result sets; the tests below "
    "check it against the code",
    "tools/newest.py": "runs the tests on the newest framework releases; it "
    "makes no results",
    "tools/pythons.py": "the supported Pythons, for the pages and the tests; "
    "it makes no results",
}
# The declaration and the mechanism: every step imports them.
MECHANISM = {"tools/fingerprint.py", "tools/results.py"}


def stale_line(result_set):
    """The line of the stale report about this result set, if any."""
    return next(
        (
            line
            for line in fingerprint.stale_report()
            if line.startswith(f"docs/{result_set.folder}/ ")
        ),
        None,
    )


@pytest.mark.parametrize("target", RESULT_SETS)
def test_the_committed_results_match_their_files(target):
    result_set = RESULT_SETS[target]
    assert not fingerprint.changes(result_set), stale_line(result_set)


@pytest.mark.parametrize("target", RESULT_SETS)
def test_every_declared_file_exists_once(target):
    files = RESULT_SETS[target].files
    missing = [name for name in files if not (PROJECT_DIR / name).is_file()]
    assert not missing, f"make {target}: declared but missing: {missing}"
    assert len(set(files)) == len(files), f"make {target}: a file declared twice"


def test_make_stale_lists_exactly_the_stale_report():
    report = fingerprint.stale_report()
    completed = run_tool("fingerprint")
    assert completed.returncode == (1 if report else 0), completed.stderr
    if report:
        assert completed.stdout.splitlines() == report


# The mechanism, on a copy of the project: tools.fingerprint reads the copy.


@pytest.fixture
def project_copy(tmp_path, monkeypatch):
    """A copy of every declared file, with each result set freshly stamped,
    as if every step had just run."""
    for name in DECLARED:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROJECT_DIR / name, tmp_path / name)
    monkeypatch.setattr(fingerprint, "PROJECT_DIR", tmp_path)
    monkeypatch.setattr(results, "DOCS_DIR", tmp_path / "docs")
    for result_set in RESULT_SETS.values():
        result_set.path.mkdir(parents=True)
        fingerprint.write(result_set)
    return tmp_path


def test_a_fresh_stamp_names_its_target_and_matches(project_copy):
    for target, result_set in RESULT_SETS.items():
        assert (result_set.path / fingerprint.FILE_NAME).read_text() == (
            fingerprint.stamp(result_set)
        )
        assert f'"regenerate_with": "make {target}"' in fingerprint.stamp(result_set)
        assert fingerprint.changes(result_set) == []
    assert fingerprint.stale_report() == []


def test_an_edited_input_is_named_with_the_target_to_rerun(project_copy):
    for name in DECLARED:
        path = project_copy / name
        original = path.read_bytes()
        path.write_bytes(original + b"\n# edited\n")
        report = fingerprint.stale_report()
        for target, result_set in RESULT_SETS.items():
            line = stale_line(result_set)
            if name in result_set.files:
                assert fingerprint.changes(result_set) == [f"{name} changed"]
                assert line and f"run `make {target}`" in line, (name, report)
            else:
                assert fingerprint.changes(result_set) == [], (name, target)
                assert line is None
        path.write_bytes(original)
    assert fingerprint.stale_report() == []


def test_line_endings_do_not_count(project_copy):
    path = project_copy / "code" / "mnist_data.py"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert fingerprint.stale_report() == []


def test_an_added_or_dropped_input_is_named(project_copy, monkeypatch):
    target, result_set = next(iter(RESULT_SETS.items()))
    (project_copy / "code" / "new_lesson.py").write_text("NEW = 1\n")
    added = dataclasses.replace(
        result_set, files=(*result_set.files, "code/new_lesson.py")
    )
    assert fingerprint.changes(added) == ["code/new_lesson.py is a new input"]
    dropped_name = result_set.files[-1]
    dropped = dataclasses.replace(result_set, files=result_set.files[:-1])
    assert fingerprint.changes(dropped) == [f"{dropped_name} is no longer an input"]
    monkeypatch.setitem(RESULT_SETS, target, added)
    assert "code/new_lesson.py is a new input" in stale_line(added)


def test_a_missing_fingerprint_is_stale(project_copy):
    for target, result_set in RESULT_SETS.items():
        (result_set.path / fingerprint.FILE_NAME).unlink()
        assert fingerprint.changes(result_set) == [
            f"docs/{result_set.folder}/fingerprint.json is missing"
        ]
        assert f"run `make {target}`" in stale_line(result_set)


def test_the_makefile_rules_are_the_declarations():
    makefile = (PROJECT_DIR / "Makefile").read_text()
    assert "\ninclude results.mk\n" in makefile
    assert results.MAKEFILE_PART.read_text() == results.makefile_part(), (
        "results.mk does not match tools/results.py: run `python -m tools.results`"
    )


# What each step runs, read from its declared commands and the sources: every
# file it runs must be declared in its set, and nothing else.


def started_by_commands(result_set):
    """The tools and lesson programs a set's commands start, and the programs
    that train the models it needs first (the trained models `make export`
    starts from); not the targets it runs after (`then`), which make results
    of their own."""
    files = set()
    for command in result_set.commands:
        files |= {
            f"tools/{name}.py" for name in re.findall(r"-m tools\.(\w+)", command)
        }
        files |= set(re.findall(r"\bcode/\w+\.py\b", command))
    for model in result_set.needs:
        framework, _ = results.TRAINED_MODELS[model]
        files |= {f"code/{framework}_mlp.py"}
    return files


def project_file(module):
    """The file of a project module by its import name, or None; a plain name
    is a lesson module of code/, or else a tool's file."""
    if module == "tools":
        candidates = ["tools/__init__.py"]
    elif module.startswith("tools."):
        candidates = [f"tools/{module.split('.')[1]}.py"]
    else:
        candidates = [f"code/{module}.py", f"tools/{module}.py"]
    return next((path for path in candidates if (PROJECT_DIR / path).is_file()), None)


def named_files(text):
    """The project files a string names: a module to import or start with -m
    ("tools.X", or a lesson module of code/ by its plain name: "keras_export";
    a plain word that is a tool's name, such as a dictionary key, is not one),
    or a program's file name ("parity.py"), also as a template of one per
    framework ("{framework}_ablation.py", filled in with str.format)."""
    if re.fullmatch(r"tools\.\w+", text):
        return {project_file(text)} - {None}
    if re.fullmatch(r"\w+", text):
        path = f"code/{text}.py"
        return {path} if (PROJECT_DIR / path).is_file() else set()
    if "{framework}" in text:
        return set().union(
            *(named_files(text.format(framework=name)) for name in course.FRAMEWORKS)
        )
    if match := re.fullmatch(r"(?:code/)?(\w+)\.py", text):
        return {project_file(match.group(1))} - {None}
    return set()


@functools.cache
def runs(path):
    """The project files that running `path` runs, directly: the modules it
    imports (anywhere, lazily too) and the programs it starts, which a string
    names; an f-string is read once with each framework's name filled in."""
    found = set()
    for node in ast.walk(ast.parse((PROJECT_DIR / path).read_text())):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules = [node.module]
            modules += [f"{node.module}.{alias.name}" for alias in node.names]
            # The course's settings are read from the two programs' source:
            # a step that uses them depends on the programs.
            reading = {"settings", "training_images", "program_sections"}
            if node.module == "tools.course" and reading & {
                alias.name for alias in node.names
            }:
                found |= {f"code/{p.name}" for p in course.PROGRAMS.values()}
        else:
            modules = []
            if path != "tools/course.py":  # it reads the programs, runs none
                found |= set().union(*map(named_files, strings(node)))
        for module in modules:
            found |= {project_file(module), project_file(module.split(".")[0])}
    return found - {None, path}


def strings(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [
            "".join(
                part.value if isinstance(part, ast.Constant) else framework
                for part in node.values
            )
            for framework in course.FRAMEWORKS
        ]
    return []


def run_by_step(target):
    """Every project file that `make TARGET` runs, transitively, except the
    declaration and the fingerprint mechanism (see NOT_AN_INPUT)."""
    to_visit = started_by_commands(RESULT_SETS[target])
    assert to_visit, f"`make {target}` starts no tool or program"
    seen = set()
    while to_visit:
        path = to_visit.pop()
        seen.add(path)
        to_visit |= runs(path) - seen - MECHANISM
    return seen


def test_the_analysis_finds_what_a_step_runs():
    # Hand-checked anchors: a lazy import, a module started with -m, a program
    # named in an f-string, a module imported by name (importlib), and the
    # programs behind the settings.
    assert {
        "tools/deployment_reload.py",
        "code/keras_export.py",
        "code/pytorch_export.py",
        "code/onnx_inference.py",
        "code/keras_mlp.py",
        "code/mnist_data.py",
    } <= run_by_step("export")
    assert {"tools/benchmark_figures.py", "code/pytorch_mlp.py"} <= run_by_step("bench")
    assert "code/keras_mlp.py" not in run_by_step("scale")


@pytest.mark.parametrize("target", RESULT_SETS)
def test_every_file_a_step_runs_is_declared(target):
    undeclared = run_by_step(target) - set(RESULT_SETS[target].files)
    assert not undeclared, (
        f"`make {target}` runs {sorted(undeclared)}, which docs/"
        f"{RESULT_SETS[target].folder}/ does not declare in tools/results.py"
    )


@pytest.mark.parametrize("target", RESULT_SETS)
def test_every_declared_file_is_run_by_the_step(target):
    unused = set(RESULT_SETS[target].files) - run_by_step(target)
    assert not unused, (
        f"docs/{RESULT_SETS[target].folder}/ declares {sorted(unused)}, which "
        f"`make {target}` never runs: editing it would ask for a needless rerun"
    )


def test_every_tool_is_an_input_or_says_why_not():
    tools = {f"tools/{path.name}" for path in (PROJECT_DIR / "tools").glob("*.py")}
    forgotten = tools - set(DECLARED) - set(NOT_AN_INPUT)
    assert not forgotten, f"in no result set of tools/results.py: {forgotten}"
    assert set(NOT_AN_INPUT) <= tools - set(DECLARED)
