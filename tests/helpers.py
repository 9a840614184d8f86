"""What the test modules share besides fixtures (those are in conftest.py):
the project's paths and the options of the quick runs, running a program or
tool as the Makefile does, the Makefile's targets, finding Chromium, and
reading a built page or a browser's record of loading it.

Every program or tool a test starts runs in its own process, from the project
root, the way the Makefile runs it; MNIST reaches it through the MNIST_DIR
environment variable only, as it reaches every tool.
"""

import contextlib
import functools
import gzip
import http.server
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

from bs4 import BeautifulSoup

# The tools' paths, for the tests too (CODE_DIR is not used here).
from tools import CODE_DIR, DOCS_DIR, PROJECT_DIR, course  # noqa: F401

GENERATED_DIR = DOCS_DIR / "generated"
FRAMEWORKS = tuple(course.FRAMEWORKS)
# The lesson's helper modules: a reader who copies a program puts them beside it.
HELPERS = ("mnist_data.py", "run_record.py")
# A short training that still learns: the options of the shared quick runs.
QUICK_RUN = ("--epochs", "2", "--train-size", "10000", "--hidden-units", "64")


def mnist_folder():
    """The folder with the real MNIST files: $MNIST_DIR, else ../shared/mnist."""
    return Path(os.environ.get("MNIST_DIR") or PROJECT_DIR.parent / "shared" / "mnist")


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
    """The Chromium or Chrome the browser tests drive, or None."""
    return os.environ.get("CHROMIUM") or next(
        (candidate for candidate in CHROMIUM_CANDIDATES if Path(candidate).exists()),
        None,
    )


# What GitHub Pages sends compressed (gzip): text, scripts, styles, data and
# SVG; images and fonts go as they are. The local test server compresses
# nothing, so the transferred size is worked out from the bodies.
COMPRESSED_TYPES = re.compile(r"^(text/|application/(javascript|json)|image/svg)")


def transferred_size(body, headers):
    """The bytes a response takes over the network from GitHub Pages."""
    if COMPRESSED_TYPES.match(headers.get("content-type", "")):
        return len(gzip.compress(body))
    return len(body)


@contextlib.contextmanager
def serving(folder):
    """A built site in `folder`, served on 127.0.0.1 on a free port: its
    address."""

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def open_page(browser, url, color_scheme="light", wait_until="networkidle", **options):
    """Open `url` in a new browser context and record what loading it did:
    every request, console errors and uncaught exceptions, and the bytes of
    every response body (the page's weight on first load), as they are and
    as GitHub Pages would transfer them. By default it
    returns once the network has been idle for half a second (every request
    counted); wait_until="load" returns at the page's load event."""
    context = browser.new_context(color_scheme=color_scheme, **options)
    page = context.new_page()
    record = {"requests": [], "errors": [], "bytes": 0, "transferred": 0}
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
            body = response.body()
            record["bytes"] += len(body)
            record["transferred"] += transferred_size(body, response.headers)

    page.on("response", count)
    response = page.goto(url, wait_until=wait_until)
    return context, page, response, record


def make_targets():
    """The targets of the Makefile and of the files it includes."""
    makefile = (PROJECT_DIR / "Makefile").read_text()
    texts = [makefile] + [
        (PROJECT_DIR / name).read_text()
        for name in re.findall(r"^include (\S+)$", makefile, re.MULTILINE)
    ]
    return {
        target
        for text in texts
        for target in re.findall(r"^([a-z][a-z-]*):", text, re.MULTILINE)
    }
