"""What the test modules share: paths, MNIST, and the expensive things made
once per session (the built site, quick trained runs, a full retrain in the
background).

Every program or tool a test starts runs in its own process, from the project
root, the way the Makefile runs it; MNIST reaches it through the MNIST_DIR
environment variable only (`mnist_env`), as it reaches every tool.
"""

import contextlib
import functools
import http.server
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup

from tools import CODE_DIR, DOCS_DIR, PROJECT_DIR, course

GENERATED_DIR = DOCS_DIR / "generated"
FRAMEWORKS = tuple(course.FRAMEWORKS)
# The lesson's helper modules: a reader who copies a program puts them beside it.
HELPERS = ("mnist_data.py", "run_record.py")
# A short training that still learns: the options of the shared quick runs.
QUICK_RUN = ("--epochs", "2", "--train-size", "10000", "--hidden-units", "64")


def mnist_folder():
    """The folder with the real MNIST files: $MNIST_DIR, else ../shared/mnist."""
    return Path(os.environ.get("MNIST_DIR") or PROJECT_DIR.parent / "shared" / "mnist")


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


def run_program(*arguments, cwd=PROJECT_DIR, env=None, timeout=600):
    """Run a Python program of the project in its own process."""
    return subprocess.run(
        [sys.executable, *map(str, arguments)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_tool(name, *arguments, env=None, timeout=900):
    """Run tools/NAME.py as the Makefile does: `python -m tools.NAME`, from
    the project root."""
    return run_program("-m", f"tools.{name}", *arguments, env=env, timeout=timeout)


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


# The longest steps run in the background, each started when the test
# session starts, and the tests that need them run last: the other tests run
# beside them instead of after them. Each is a tool, with its output folder.
BACKGROUND = {
    # fixture: the tool's arguments (OUTPUT: the folder its results go to)
    # The full retrain of `make artifacts`: minutes, on one thread.
    "retrained": ("retrain", "--output-dir", "OUTPUT"),
    # `make scale` with one epoch: both frameworks on one and two workers.
    "scaled": ("scaling", "--epochs", "1", "--output-dir", "OUTPUT"),
}
STARTED = pytest.StashKey[dict]()


def background_needs(item):
    return set(BACKGROUND) & set(getattr(item, "fixturenames", ()))


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: bool(background_needs(item)))  # stable sort


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    started = session.config.stash[STARTED] = {}
    if session.config.option.collectonly:
        return
    for fixture in set().union(*map(background_needs, session.items)):
        folder = Path(tempfile.mkdtemp(prefix=f"pytest-{fixture}-"))
        tool, *arguments = BACKGROUND[fixture]
        arguments = [folder / "output" if a == "OUTPUT" else a for a in arguments]
        log = open(folder / "log.txt", "w")  # noqa: SIM115 (closed at the end)
        process = subprocess.Popen(
            [sys.executable, "-m", f"tools.{tool}", *arguments],
            cwd=PROJECT_DIR,
            env=dict(os.environ, MNIST_DIR=str(mnist_folder())),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started[fixture] = SimpleNamespace(folder=folder, process=process, log=log)


def pytest_sessionfinish(session):
    for step in session.config.stash.get(STARTED, {}).values():
        if step.process.poll() is None:  # interrupted, or -x: stop it
            os.killpg(step.process.pid, signal.SIGKILL)
            step.process.wait()
        step.log.close()
        shutil.rmtree(step.folder, ignore_errors=True)


def background_output(request, mnist_dir):
    """The output folder of the background step behind this fixture, once the
    step has ended; the test fails with its log if the step failed."""
    step = request.config.stash[STARTED][request.fixturename]
    step.process.wait()
    if step.process.returncode != 0:
        log = (step.folder / "log.txt").read_text()
        pytest.fail(f"{step.process.args[2]} failed:\n{log[-5000:]}", pytrace=False)
    return step.folder / "output"


@pytest.fixture(scope="session")
def retrained(request, mnist_dir):
    """docs/generated/ as the current code makes it: the full retrain, into a
    temporary folder."""
    return background_output(request, mnist_dir)


@pytest.fixture(scope="session")
def scaled(request, mnist_dir):
    """docs/scaling/ from a one-epoch `make scale`, in a temporary folder."""
    return background_output(request, mnist_dir)


def code_blocks(html, label):
    """The Python code blocks of a built page in the tabs labelled `label`
    ("Keras", "PyTorch"), in page order: what a reader copies."""
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


CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def chromium_path():
    path = os.environ.get("CHROMIUM") or next(
        (candidate for candidate in CHROMIUM_CANDIDATES if Path(candidate).exists()),
        None,
    )
    if path is None:
        pytest.fail(
            "the browser tests need Chromium: `apt-get install chromium` (Debian), "
            "or set CHROMIUM to a Chromium or Chrome executable"
        )
    return path


@pytest.fixture(scope="session")
def server(site_dir):
    """The built site on 127.0.0.1, on a free port."""

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(QuietHandler, directory=str(site_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def open_page(browser, url, color_scheme="light", **options):
    """Open `url` in a new browser context and record what loading it did:
    every request, console errors and uncaught exceptions, and the bytes of
    every response body (the page's weight on first load)."""
    context = browser.new_context(color_scheme=color_scheme, **options)
    page = context.new_page()
    record = {"requests": [], "errors": [], "bytes": 0}
    page.on("request", lambda request: record["requests"].append(request.url))
    page.on(
        "console",
        lambda message: (
            record["errors"].append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: record["errors"].append(str(error)))

    def count(response):
        # A redirect or an aborted request has no body.
        with contextlib.suppress(Exception):
            # Read the body first: while it waits, other responses are counted,
            # and `record["bytes"] += ...` would then write back a stale total.
            size = len(response.body())
            record["bytes"] += size

    page.on("response", count)
    response = page.goto(url, wait_until="networkidle")
    return context, page, response, record
