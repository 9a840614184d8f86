"""The fixtures the test modules share: MNIST, and the expensive things made
once per session (the built site, quick trained runs, a one-epoch scaling
run, the browser). Shared functions and paths are in helpers.py.

The tests that need a full retrain (`make artifacts`'s first step) are marked
`retrain` and left out of the default run: `make test-retrain` runs them,
retraining into a scratch folder, or checking RETRAINED=docs/generated just
after `make artifacts` wrote it (the publish workflow does that, so that it
never trains twice).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers import (
    CHROMIUM_ARGS,
    CODE_DIR,
    FRAMEWORKS,
    PROJECT_DIR,
    QUICK_RUN,
    chromium_path,
    mnist_folder,
    run_program,
    run_tool,
    serving,
)
from tools import fingerprint

# Under pytest-xdist (make test runs two workers), the tests that use the
# quick runs go to one worker, which then trains and exports them once.
SHARED_ON_ONE_WORKER = {"quick_runs": "quick-runs"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        for fixture, group in SHARED_ON_ONE_WORKER.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(group))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test that fails while committed results are stale says so, with the
    `make` target that remakes each: the stale results are the likely cause,
    and what to fix first."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        stale = fingerprint.stale_report()
        if stale:
            report.sections.append(
                ("stale committed results: remake them first", "\n".join(stale))
            )


def pytest_addoption(parser):
    parser.addoption(
        "--retrained",
        type=Path,
        help="the folder that `make artifacts` (tools.retrain) just wrote, for "
        "the tests marked retrain; without it, they retrain into a scratch folder",
    )


@pytest.fixture(scope="session")
def mnist_dir():
    folder = mnist_folder()
    if not folder.is_dir():
        pytest.fail(
            f"these tests need the MNIST files: {folder} does not exist. "
            "Set MNIST_DIR to a folder with the four IDX files (see README)."
        )
    return folder


@pytest.fixture(scope="session")
def mnist_env(mnist_dir):
    """The environment of every process that reads MNIST: MNIST_DIR is set."""
    return dict(os.environ, MNIST_DIR=str(mnist_dir))


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory):
    """`mkdocs build --strict` into a temporary folder; fails on any warning."""
    site = tmp_path_factory.mktemp("site")
    mkdocs = Path(sys.executable).with_name("mkdocs")
    # Material for MkDocs prints an end-of-life banner about its successor
    # that contains "WARNING" unless this is set; the check below would reject
    # the build for it. Set here, not only by the Makefile, so that a plain
    # `python -m pytest` passes too.
    environment = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", site],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert not warnings, "\n".join(warnings)
    yield site
    shutil.rmtree(site, ignore_errors=True)


@pytest.fixture(scope="session")
def quick_runs(tmp_path_factory, mnist_env):
    """Each program trained briefly (QUICK_RUN), once for every test that
    needs a trained model or a run's files: framework -> output_dir, stdout."""
    folder = tmp_path_factory.mktemp("quick-runs")
    runs = {}
    for framework in FRAMEWORKS:
        output_dir = folder / framework
        completed = run_program(
            CODE_DIR / f"{framework}_mlp.py",
            *QUICK_RUN,
            *("--quiet", "--output-dir", output_dir),
            env=mnist_env,
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        runs[framework] = SimpleNamespace(
            output_dir=output_dir, stdout=completed.stdout
        )
    return runs


def tool_output(tool, folder, *arguments, env):
    """Run a tool into `folder`/output; the test fails with its log if it fails."""
    completed = run_tool(
        tool, *arguments, "--output-dir", folder / "output", env=env, timeout=1800
    )
    if completed.returncode != 0:
        log = completed.stdout + completed.stderr
        pytest.fail(f"tools.{tool} failed:\n{log[-5000:]}", pytrace=False)
    return folder / "output"


@pytest.fixture(scope="session")
def retrained(request, tmp_path_factory, mnist_env):
    """docs/generated/ as the current code makes it: the folder given with
    --retrained, or else the full retrain, into a temporary folder."""
    given = request.config.getoption("--retrained")
    if given:
        return given.resolve()
    return tool_output("retrain", tmp_path_factory.mktemp("retrained"), env=mnist_env)


@pytest.fixture(scope="session")
def scaled(tmp_path_factory, mnist_env):
    """docs/scaling/ from a one-epoch `make scale`, in a temporary folder."""
    folder = tmp_path_factory.mktemp("scaled")
    return tool_output("scaling", folder, "--epochs", "1", env=mnist_env)


@pytest.fixture(scope="session")
def server(site_dir):
    """The built site on 127.0.0.1, on a free port."""
    with serving(site_dir) as address:
        yield address


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        pytest.fail(
            "the browser tests need Chromium: `apt-get install chromium` (Debian), "
            "or set CHROMIUM to a Chromium or Chrome executable"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
