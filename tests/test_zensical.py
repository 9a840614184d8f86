"""The site builds with Zensical too, Material for MkDocs' successor by its
authors, from the same mkdocs.yml and pages: the same pages and files, every
macro filled in, the same main text on each page (the themes' markup aside).

Zensical (requirements-zensical.txt) lives in a virtualenv of its own,
.venv-zensical, which `make test` installs.
"""

import os
import re
import shutil
import subprocess

import pytest
import yaml
from bs4 import BeautifulSoup

from helpers import PROJECT_DIR, open_page, serving

pytestmark = pytest.mark.slow

ZENSICAL = PROJECT_DIR / ".venv-zensical" / "bin" / "zensical"
# What Zensical writes that Material does not, and the other way round: each
# builder's own search index.
SEARCH_INDEX = {"material": "search/search_index.json", "zensical": "search.json"}
# The settings of mkdocs.yml that Zensical 0.0.73 ignores (in its config.py,
# it maps only the links' and anchors' validation); the README's "Building
# with Zensical" names them.
IGNORED_BY_ZENSICAL = ("omitted_files", "absolute_links", "unrecognized_links")


@pytest.fixture(scope="module")
def zensical_site():
    """`zensical build --strict` into test-output/zensical-site/. Zensical
    takes the project's root from its configuration file's folder, and its
    output folder, which must be inside the project, from the file: a copy of
    mkdocs.yml beside it names the folder."""
    assert ZENSICAL.exists(), (
        "Zensical is not installed: run `make .venv-zensical/.installed` "
        "(`make test` does)"
    )
    site = PROJECT_DIR / "test-output" / f"zensical-site-{os.getpid()}"
    shutil.rmtree(site, ignore_errors=True)
    config = PROJECT_DIR / f".zensical-test-{os.getpid()}.yml"
    config.write_text(
        (PROJECT_DIR / "mkdocs.yml").read_text() + f"\nsite_dir: {site}\n"
    )
    try:
        result = subprocess.run(
            [ZENSICAL, "build", "--strict", "--clean", "--config-file", config],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        config.unlink()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "No issues found" in output, output[-4000:]
    yield site
    shutil.rmtree(site, ignore_errors=True)


def files(site, builder):
    found = {
        path.relative_to(site).as_posix()
        for path in site.rglob("*")
        if path.is_file() and "assets" not in path.relative_to(site).parts
    }
    return found - {SEARCH_INDEX[builder], "sitemap.xml", "sitemap.xml.gz"}


def main_text(path):
    """A page's article as text: its words, without the headings' permalinks."""
    article = BeautifulSoup(path.read_text(), "html.parser").select_one("article")
    assert article is not None, path
    for link in article.select(".headerlink"):
        link.decompose()
    return re.sub(r"\s+", " ", article.get_text(" ")).strip()


def test_both_builders_make_the_same_pages_and_files(site_dir, zensical_site):
    assert files(zensical_site, "zensical") == files(site_dir, "material")


def test_every_page_has_the_same_main_text_and_no_macro_left(site_dir, zensical_site):
    pages = sorted(
        path.relative_to(site_dir)
        for path in site_dir.rglob("index.html")
        if "assets" not in path.parts
    )
    assert len(pages) > 20
    different = []
    for page in pages:
        text = main_text(zensical_site / page)
        assert "{{" not in text and "{%" not in text, page
        if text != main_text(site_dir / page):
            different.append(str(page))
    assert not different, different


def test_the_readme_says_what_zensical_does_not_do():
    validation = yaml.safe_load((PROJECT_DIR / "mkdocs.yml").read_text())["validation"]
    assert set(IGNORED_BY_ZENSICAL) <= set(validation)
    readme = (PROJECT_DIR / "README.md").read_text()
    section = readme.split("## Building with Zensical", 1)[1].split("\n## ", 1)[0]
    for setting in IGNORED_BY_ZENSICAL:
        assert f"`{setting}`" in section, setting
    assert "requirements-zensical.txt" in section


def test_the_zensical_site_works_in_a_browser(browser, zensical_site):
    """Its pages load with no console error and no request to another host,
    every code block has a copy button, and its search finds a lecture."""
    with serving(zensical_site) as address:
        for path in ("lectures/training/", "notebooks/keras-vs-pytorch/"):
            context, page, response, record = open_page(browser, f"{address}/{path}")
            assert response.status == 200, path
            assert not record["errors"], (path, record["errors"])
            foreign = [url for url in record["requests"] if not url.startswith(address)]
            assert not foreign, (path, foreign)
            blocks = page.locator(".md-content pre > code").count()
            assert blocks > 0
            assert page.locator("pre button.md-code__button").count() == blocks, path
            context.close()
        context, page, _, _ = open_page(browser, f"{address}/")
        page.locator("button.md-search__button").click()
        page.keyboard.type("CrossEntropyLoss", delay=20)
        page.locator("a[href*='lectures/training/']").first.wait_for(timeout=15000)
        context.close()
