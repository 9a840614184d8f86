"""The site: a strict build, every page present, nothing fetched from elsewhere."""

import json
import re
from html.parser import HTMLParser

import pytest
import yaml

from helpers import FRAMEWORKS, GENERATED_DIR, PROJECT_DIR


class ResourceCollector(HTMLParser):
    """What a browser would fetch by itself: scripts, styles, images, frames."""

    FETCHED = {
        "script": "src",
        "img": "src",
        "iframe": "src",
        "source": "src",
        "audio": "src",
        "video": "src",
        "embed": "src",
        "object": "data",
    }

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.FETCHED and attrs.get(self.FETCHED[tag]):
            self.urls.append(attrs[self.FETCHED[tag]])
        if tag == "link" and attrs.get("rel") in {
            "stylesheet",
            "preload",
            "icon",
            "preconnect",
            "dns-prefetch",
            "modulepreload",
        }:
            self.urls.append(attrs.get("href", ""))
        if "srcset" in attrs:
            self.urls.extend(part.split()[0] for part in attrs["srcset"].split(","))
        if "style" in attrs:
            self.urls.extend(re.findall(r"url\(['\"]?([^'\")]+)", attrs["style"]))


def is_third_party(url):
    return bool(re.match(r"^(https?:)?//", url)) and not re.match(
        r"^(https?:)?//(127\.0\.0\.1|localhost)[:/]", url
    )


def nav_pages(entries):
    """The source files of the pages in a mkdocs.yml nav, in order."""
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            yield from nav_pages(value)
        else:
            yield value


def built_path(source):
    """Where MkDocs (use_directory_urls) writes the page of a source file."""
    stem = source.rsplit(".", 1)[0]
    if stem == "index" or stem.endswith("/index"):
        return f"{stem.removesuffix('index')}index.html"
    return f"{stem}/index.html"


@pytest.mark.slow
def test_every_page_of_the_nav_is_built_and_nothing_else(site_dir):
    config = yaml.safe_load((PROJECT_DIR / "mkdocs.yml").read_text())
    expected = {built_path(source) for source in nav_pages(config["nav"])}
    assert len(expected) >= 10
    built = {
        path.relative_to(site_dir).as_posix()
        for path in site_dir.rglob("index.html")
        if "assets" not in path.parts
    }
    assert built == expected


@pytest.mark.slow
def test_no_page_fetches_from_a_third_party_host(site_dir):
    for page in site_dir.rglob("*.html"):
        collector = ResourceCollector()
        collector.feed(page.read_text())
        external = [url for url in collector.urls if is_third_party(url)]
        assert not external, f"{page.relative_to(site_dir)} fetches {external}"
    for stylesheet in site_dir.rglob("*.css"):
        imports = re.findall(
            r"(?:@import|url\()\s*['\"]?((?:https?:)?//[^'\")]+)",
            stylesheet.read_text(),
        )
        assert not imports, f"{stylesheet.relative_to(site_dir)} fetches {imports}"


@pytest.mark.slow
def test_repository_link_does_not_call_the_github_api(site_dir):
    html = (site_dir / "index.html").read_text()
    assert 'class="md-source"' in html
    assert 'data-md-component="source"' not in html


@pytest.mark.slow
def test_home_page_shows_the_committed_results(site_dir):
    html = (site_dir / "index.html").read_text()
    for framework in FRAMEWORKS:
        metrics = json.loads((GENERATED_DIR / framework / "metrics.json").read_text())
        assert f"{metrics['test']['accuracy']:.2%}" in html
        assert f"{metrics['parameter_count']:,}" in html
    assert "training-curves-light.svg#only-light" in html
    assert "training-curves-dark.svg#only-dark" in html


@pytest.mark.slow
def test_the_notebook_pages_are_searched_by_their_text_not_their_code(site_dir):
    """The notebooks' headings and text are in the search index that every
    page loads; their code, which the lectures' pages index already, is not."""
    index = json.loads((site_dir / "search" / "search_index.json").read_text())
    for name in ("keras-vs-pytorch", "keras-vs-pytorch-exercises"):
        entries = [
            entry
            for entry in index["docs"]
            if entry["location"].startswith(f"notebooks/{name}/")
        ]
        assert any(entry["title"] == "Set-up" for entry in entries), name
        text = " ".join(entry["text"] for entry in entries)
        assert "Run these cells once" in text
        assert "check_answers(" not in text and "COURSE_VERSIONS" not in text
