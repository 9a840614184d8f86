"""What the pages place beside the results: figures, excerpts of the training
logs and text artifacts, links to Colab, and the programs' own code by
section (pymdownx.snippets includes), with the programs' settings as their
source defines them."""

import textwrap

from tools import CODE_DIR, DOCS_DIR
from tools.course import (
    FRAMEWORKS,
    program_sections,
    settings,
    training_images,
)
from tools.pythons import supported_pythons

from .shared import macro, read_text


def figure(alt_texts, env, name, caption="", folder="generated/"):
    """Both colour-scheme variants of a figure; the theme shows one.
    `folder`: "benchmark/" for the benchmark's figures."""
    alt = alt_texts[folder][name].replace('"', "&quot;")
    # A link relative to the page's source, so the builder can check it.
    up = "../" * page_source(env.page.url).count("/")
    images = "\n".join(
        f"![{alt}]({up}{folder}figures/{name}-{scheme}.svg#only-{scheme})"
        "{ loading=lazy }"
        for scheme in ("light", "dark")
    )
    caption_html = f"\n<figcaption>{caption}</figcaption>" if caption else ""
    return f'<figure markdown="span">\n{images}{caption_html}\n</figure>'


def page_source(url):
    """The Markdown file under docs/ of the page at `url` ("lectures/data/"),
    from its address alone: both builders give a page its URL, not the same
    record of its file."""
    path = url.strip("/")
    if not path:
        return "index.md"
    return f"{path}.md" if (DOCS_DIR / f"{path}.md").is_file() else f"{path}/index.md"


def output(training_logs, framework, first, last=None):
    """The lines of a training log from the one starting with `first` to the
    one starting with `last` (or just that one line), as a text block."""
    lines = training_logs[framework].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    end = start
    if last is not None:
        end = next(
            i for i, line in enumerate(lines) if i >= start and line.startswith(last)
        )
    excerpt = "\n".join(lines[start : end + 1])
    return f"```text\n{excerpt}\n```"


def text_file(path):
    """A text artifact (summary, log) from docs/generated/, as a text block."""
    text = read_text("artifacts", path)
    return f"```text\n{text.rstrip()}\n```"


def colab(repo_url, notebook):
    """Colab's address for a notebook of docs/notebooks/ in the repository."""
    repository = repo_url.removeprefix("https://github.com/")
    return (
        f"https://colab.research.google.com/github/{repository}"
        f"/blob/main/docs/notebooks/{notebook}"
    )


def earlier_code(sections, section):
    """A collapsed block with the programs' sections before `section`,
    one tab per framework, so the code of any one page runs on its own."""
    before = sections[: sections.index(section)]
    tabs = []
    for framework, label in FRAMEWORKS.items():
        # A blank line between two sections: at Python's prompt, it ends
        # a statement that the first one may end with.
        includes = "\n\n".join(
            f'--8<-- "code/{framework}_mlp.py:{name}"' for name in before
        )
        tabs.append(
            f'=== "{label}"\n\n'
            + textwrap.indent(f"```python\n{includes}\n```", "    ")
        )
    return (
        '??? example "Code from the previous chapters: run it first"\n\n'
        + textwrap.indent("\n\n".join(tabs), "    ")
    )


def side_by_side_sections(sections):
    """Every top-level section of the programs, in order: a heading, and the section
    of each program side by side."""
    return "\n\n".join(
        f"### {section.capitalize()}\n\n"
        '<div class="grid" markdown>\n\n'
        + "\n\n".join(
            f'```python title="{framework}_mlp.py"\n'
            f'--8<-- "code/{framework}_mlp.py:{section}"\n'
            "```"
            for framework in FRAMEWORKS
        )
        + "\n\n</div>"
        for section in sections
    )


def lines_of_code(path):
    """Lines that are neither blank nor comments (section markers are comments)."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return sum(1 for line in lines if line and not line.startswith("#"))


def register(env, results):
    sections = program_sections()
    # The constants the programs define, read from their source.
    env.variables["settings"] = settings()
    oldest, newest = supported_pythons()
    env.variables["pythons"] = f"{oldest} to {newest}"
    env.variables["training_images"] = training_images()
    env.variables["program_sections"] = sections
    for framework in FRAMEWORKS:
        env.variables[f"{framework}_lines"] = lines_of_code(
            CODE_DIR / f"{framework}_mlp.py"
        )
    macro(env, figure, results.alt_texts, env)
    macro(env, output, results.training_logs)
    macro(env, text_file)
    macro(env, colab, env.conf["repo_url"])
    macro(env, earlier_code, sections)
    macro(env, side_by_side_sections, sections)
