"""Every page of the built site in a real browser (Chromium, driven by Playwright).

The built site is served on 127.0.0.1; the browser runs with its background
networking off. Screenshots of every page, light and dark, and a page-weight
report go to test-output/ for a person to review (CI keeps that folder).
"""

import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers import PROJECT_DIR, open_page

pytestmark = pytest.mark.slow

OUTPUT_DIR = PROJECT_DIR / "test-output"
AXE = PROJECT_DIR / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
COPY_BUTTON = "button[data-md-type='copy']"
# Bytes a page may transfer on first load (1.5 MiB), scrolled to the end so
# that lazy images count: every page, the Playground's models included.
PAGE_WEIGHT_BUDGET = 1.5 * 2**20
# The notebooks' pages, text and code only, have a budget of their own: what
# they transfer from GitHub Pages (compressed, see helpers.transferred_size).
NOTEBOOK_PAGE_BUDGET = 600 * 2**10


def is_notebook_page(path):
    return path.startswith("notebooks/") and path != "notebooks/"


@pytest.fixture(scope="session")
def pages(site_dir):
    """Every page of the site, as a path below the site's root."""
    found = sorted(
        path.parent.relative_to(site_dir).as_posix()
        for path in site_dir.rglob("index.html")
        if "assets" not in path.parts
    )
    return ["" if page == "." else f"{page}/" for page in found]


@pytest.fixture(scope="session")
def weights():
    """Bytes transferred per page on first load (the light scheme's loads),
    written out at the end by the test worker that measured them."""
    report = {}
    yield report
    if not report:
        return
    OUTPUT_DIR.mkdir(exist_ok=True)
    (OUTPUT_DIR / "page-weight.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"{weight['bytes'] / 2**20:7.2f} MiB, {weight['transferred'] / 2**10:5.0f} "
        f"KiB transferred  /{page}"
        for page, weight in sorted(report.items())
    ]
    heavy = [
        page
        for page, weight in report.items()
        if weight["bytes"] > PAGE_WEIGHT_BUDGET
        or (is_notebook_page(page) and weight["transferred"] > NOTEBOOK_PAGE_BUDGET)
    ]
    verdict = "met" if not heavy else f"exceeded by {', '.join(heavy)}"
    print("\npage weight, first load:\n" + "\n".join(lines))
    print(
        "budget, every page at most 1.5 MiB, a notebook's page 600 KiB "
        f"transferred: {verdict}"
    )


def scroll_through(page):
    """Scroll down a screen at a time, as a reader would: lazy images load."""
    height = page.evaluate("document.body.scrollHeight")
    for offset in range(0, height, 600):
        page.evaluate(f"window.scrollTo(0, {offset})")
        page.wait_for_timeout(50)
    page.wait_for_load_state("networkidle")


# Each colour scheme is a test of its own, so that two test workers can share
# the pages (pytest -n 2).
SCHEMES = ("light", "dark")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_page_loads_cleanly_and_privately(
    browser, server, pages, weights, scheme
):
    shots = OUTPUT_DIR / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob(f"*-{scheme}.png"):
        old.unlink()
    problems = []
    for path in pages:
        context, page, response, record = open_page(browser, f"{server}/{path}", scheme)
        scroll_through(page)
        if response.status != 200:
            problems.append(f"/{path}: status {response.status}")
        problems += [f"/{path} ({scheme}): console error {e}" for e in record["errors"]]
        foreign = [url for url in record["requests"] if not url.startswith(server)]
        problems += [f"/{path}: request to {url}" for url in foreign]
        for image in page.eval_on_selector_all(
            "img",
            """images => images.map(image => ({
                src: image.currentSrc || image.src, alt: image.alt,
                shown: image.offsetParent !== null,
                loaded: image.complete && image.naturalWidth > 0}))""",
        ):
            if not image["alt"].strip():
                problems.append(f"/{path}: image {image['src']} has no alt text")
            if image["shown"] and not image["loaded"]:
                problems.append(
                    f"/{path} ({scheme}): image {image['src']} did not load"
                )
            if not image["shown"]:
                status = page.request.get(image["src"]).status
                if status != 200:
                    problems.append(f"/{path}: image {image['src']}: status {status}")
        if scheme == "light":
            weights[path] = {key: record[key] for key in ("bytes", "transferred")}
            if record["bytes"] > PAGE_WEIGHT_BUDGET:
                problems.append(
                    f"/{path}: {record['bytes']:,} bytes on first load, over "
                    f"the budget of {PAGE_WEIGHT_BUDGET:,.0f} (1.5 MiB)"
                )
            if is_notebook_page(path) and record["transferred"] > NOTEBOOK_PAGE_BUDGET:
                problems.append(
                    f"/{path}: {record['transferred']:,} bytes transferred on "
                    f"first load, over the notebooks' budget of 600 KiB"
                )
        name = path.strip("/").replace("/", "-") or "home"
        page.screenshot(path=shots / f"{name}-{scheme}.png", full_page=True)
        context.close()
    assert not problems, "\n".join(problems)


def test_figures_follow_the_colour_scheme(browser, server):
    for scheme, other in (("light", "dark"), ("dark", "light")):
        context, page, _, _ = open_page(browser, f"{server}/lectures/training/", scheme)
        shown = page.eval_on_selector_all(
            "figure img",
            "images => images.filter(i => i.offsetParent !== null).map(i => i.src)",
        )
        shown = [src.split("#")[0] for src in shown]
        assert shown and all(src.endswith(f"-{scheme}.svg") for src in shown), shown
        assert not any(src.endswith(f"-{other}.svg") for src in shown)
        context.close()


def test_the_palette_toggle_switches_light_and_dark(browser, server):
    context, page, _, _ = open_page(browser, f"{server}/", "light")
    scheme = "document.body.getAttribute('data-md-color-scheme')"
    assert page.evaluate(scheme) == "default"
    page.click("label[for='__palette_1']")
    assert page.evaluate(scheme) == "slate"
    shown = page.eval_on_selector_all(
        "figure img",
        "images => images.filter(i => i.offsetParent !== null).map(i => i.src)",
    )
    assert shown and all(src.split("#")[0].endswith("-dark.svg") for src in shown)
    page.click("label[for='__palette_0']")
    assert page.evaluate(scheme) == "default"
    context.close()


def test_choosing_pytorch_switches_every_tab_and_survives_navigation(browser, server):
    context, page, _, _ = open_page(browser, f"{server}/lectures/model/")
    # The label of the selected tab of every tab set outside a closed block.
    selected = """() => [...document.querySelectorAll('.tabbed-set')]
        .filter(set => !set.closest('details:not([open])'))
        .map(set => {
            const input = set.querySelector(':scope > input:checked');
            const label = document.querySelector(`label[for="${input.id}"]`);
            return label.textContent.trim();
        })"""
    assert set(page.evaluate(selected)) == {"Keras"}
    page.locator(".tabbed-labels label:visible", has_text="PyTorch").first.click()
    # The theme links the tab sets asynchronously, right after the click.
    page.wait_for_function(f"({selected})().every(label => label === 'PyTorch')")
    page.goto(f"{server}/lectures/training/", wait_until="networkidle")
    page.wait_for_function(f"({selected})().every(label => label === 'PyTorch')")
    # Opening the collapsed code of the earlier chapters shows PyTorch too.
    page.locator("details summary", has_text="Code from the previous chapters").click()
    with contextlib.suppress(Exception):  # the toggle event comes after the click
        page.wait_for_function(f"({selected})().every(label => label === 'PyTorch')")
    tabs = page.evaluate(selected)
    assert len(tabs) >= 3 and set(tabs) == {"PyTorch"}, tabs
    context.close()


def test_every_code_block_has_a_copy_button_that_copies_it(browser, server, pages):
    missing = []
    for path in pages:
        context, page, _, _ = open_page(
            browser,
            f"{server}/{path}",
            wait_until="load",
            permissions=["clipboard-read", "clipboard-write"],
        )
        # Material puts a copy button in every code block of the pages, the
        # notebooks' cells and outputs included.
        has_button = page.eval_on_selector_all(
            ".md-content pre > code",
            "codes => codes.map(code => "
            f"!!code.parentElement.querySelector({COPY_BUTTON!r}))",
        )
        missing += [f"/{path}: block {i}" for i, ok in enumerate(has_button) if not ok]
        blocks = page.locator(f".md-content pre:has(> code):has({COPY_BUTTON})")
        visible = [
            blocks.nth(i) for i in range(blocks.count()) if blocks.nth(i).is_visible()
        ]
        if visible:
            block = visible[0]
            block.hover()
            block.locator(COPY_BUTTON).click()
            copied = page.evaluate("navigator.clipboard.readText()")
            expected = block.locator("code").inner_text()
            assert copied.strip() == expected.strip(), f"/{path}"
        context.close()
    assert not missing, "\n".join(missing)


def test_search_finds_the_training_page(browser, server):
    context, page, _, _ = open_page(browser, f"{server}/")
    # The theme's search worker loads its index in the background and says
    # "Initializing search" until then; a query typed earlier is dropped.
    page.wait_for_function(
        "!document.querySelector('.md-search-result__meta')"
        ".textContent.includes('Initializing')"
    )
    # Typed key by key into the focused box, as a reader does: the theme
    # searches on keyboard events.
    page.focus("input.md-search__input")
    page.keyboard.type("CrossEntropyLoss", delay=20)
    results = page.locator(".md-search-result__item a")
    results.first.wait_for(timeout=15000)
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert any("lectures/training/" in href for href in hrefs), hrefs
    context.close()


def test_no_horizontal_overflow_on_a_phone(browser, server, pages):
    overflowing = []
    for path in pages:
        context, page, _, _ = open_page(
            browser, f"{server}/{path}", viewport={"width": 375, "height": 800}
        )
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 375:
            overflowing.append(f"/{path}: {width}px")
        context.close()
    assert not overflowing, "\n".join(overflowing)


LECTURES = [f"lectures/{name}/" for name in ("data", "model", "training", "evaluation")]
# The width at which no code block of a lecture may scroll sideways, and the
# height of the screen a reader sees first.
DESKTOP = {"width": 1280, "height": 800}


def test_no_lecture_code_block_scrolls_sideways_on_a_desktop(browser, server):
    scrolling = []
    for path in LECTURES:
        context, page, _, _ = open_page(browser, f"{server}/{path}", viewport=DESKTOP)
        # Every tab's block and every folded block shown, as a reader opens them.
        page.evaluate(
            """() => {
            document.querySelectorAll("details").forEach(d => { d.open = true; });
            document.querySelectorAll(".tabbed-block")
                .forEach(b => { b.style.display = "block"; });
        }"""
        )
        for block in page.eval_on_selector_all(
            "pre > code",
            """codes => codes.map(code => ({
                scroll: code.scrollWidth, width: code.clientWidth,
                line: code.textContent.split("\\n")
                    .reduce((a, b) => (b.length > a.length ? b : a), "")}))""",
        ):
            assert block["width"] > 0, f"/{path}: a code block is not shown"
            if block["scroll"] > block["width"]:
                scrolling.append(f"/{path}: {block['line']!r}")
        context.close()
    assert not scrolling, "\n".join(scrolling)


def test_the_first_screen_of_lecture_1_shows_loading_the_data(browser, server):
    context, page, _, _ = open_page(
        browser, f"{server}/lectures/data/", viewport=DESKTOP
    )
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=OUTPUT_DIR / "lecture-1-first-screen.png")
    # The first line of data-loading code, in the tab shown (Keras).
    top = page.evaluate(
        """() => {
        const code = [...document.querySelectorAll("pre > code")].find(
            c => c.offsetParent !== null && c.textContent.includes("load_mnist(")
        );
        const line = [...code.querySelectorAll("span")]
            .find(s => s.textContent.includes("load_mnist"));
        return line.getBoundingClientRect().bottom;
    }"""
    )
    context.close()
    assert top <= DESKTOP["height"], f"load_mnist( is {top}px down the page"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_no_serious_accessibility_violation(browser, server, pages, scheme):
    assert AXE.exists(), (
        f"{AXE} is missing: `npm ci --prefix tests/browser` installs it "
        "(`make test` does)"
    )
    violations = []
    for path in pages:
        context, page, _, _ = open_page(
            browser, f"{server}/{path}", scheme, wait_until="load"
        )
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document)")
        for violation in result["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [node["target"] for node in violation["nodes"][:3]]
                violations.append(
                    f"/{path} ({scheme}): {violation['id']} "
                    f"({violation['impact']}): {violation['help']} {targets}"
                )
        context.close()
    assert not violations, "\n".join(violations)


def test_mkdocs_serve_starts_serves_and_stops():
    mkdocs = Path(sys.executable).with_name("mkdocs")
    port = free_port()
    process = subprocess.Popen(
        [mkdocs, "serve", "--dev-addr", f"127.0.0.1:{port}", "--no-livereload"],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # A shell starts a background job with Ctrl-C ignored, and a child
        # inherits that: Python would then never raise KeyboardInterrupt.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        body, deadline = None, time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/", timeout=5
                ) as page:
                    body = page.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert body and "Keras vs PyTorch Lab" in body
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C does
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output[-2000:]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
