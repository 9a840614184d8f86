import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
CODE_DIR = PROJECT_DIR / "code"
GENERATED_DIR = PROJECT_DIR / "docs" / "generated"
FRAMEWORKS = ("keras", "pytorch")


@pytest.fixture(scope="session")
def mnist_dir():
    """The folder with the real MNIST files: $MNIST_DIR, else ../shared/mnist."""
    folder = os.environ.get("MNIST_DIR") or PROJECT_DIR.parent / "shared" / "mnist"
    folder = Path(folder)
    if not folder.is_dir():
        pytest.fail(
            f"these tests need the MNIST files: {folder} does not exist. "
            "Set MNIST_DIR to a folder with the four IDX files (see README)."
        )
    return folder


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory):
    """`mkdocs build --strict` into a temporary folder; fails on any warning."""
    site = tmp_path_factory.mktemp("site")
    mkdocs = Path(sys.executable).with_name("mkdocs")
    result = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", site],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "WARNING" not in result.stderr, result.stderr[-4000:]
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
