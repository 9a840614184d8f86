"""The notebooks as pages of the site, written by `make notebook`.

Each page is Markdown made from a notebook as it was executed: its Markdown
cells as they are, each code cell as a code block of the site (with its copy
button), and each output (the check cells' verdicts among them) as a block
titled "Output". Nothing runs when the site is built. The folded cells that
write the helper modules show a link to the module instead of its code.
"""

import base64
import re

# What a page says in place of a folded cell's code.
FOLDED = (
    "*A folded cell of the notebook writes `{name}` next to it: read it "
    "[in the repository]({url}).*"
)
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def fence(text, language="python", title=None, css_class=None):
    """A fenced code block that no backtick in `text` can end. It stays out
    of the site's search index, which every page loads: the lectures' pages
    index the same code, and the notebooks' headings and text are indexed."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    heading = f' title="{title}"' if title else ""
    extra = f" .{css_class}" if css_class else ""
    attributes = f'{{ .{language}{extra}{heading} data-search-exclude="" }}'
    return f"{ticks} {attributes}\n{text.rstrip()}\n{ticks}"


def site_links(text, site_url):
    """The notebook's links to the course site, as links between its pages:
    they stay on the site being read (a local build, a fork's)."""

    def relative(match):
        path = match.group(1).strip("/")
        page = f"{path}.md" if path else "index.md"
        return f"](../{page}{match.group(2) or ''})"

    return re.sub(rf"\]\({re.escape(site_url)}([^)#]*)(#[^)]*)?\)", relative, text)


def merged_streams(outputs):
    """The outputs, each run of text on the same stream joined into one (a
    notebook keeps a log as many pieces, one per write)."""
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.output_type == "stream"
            and previous is not None
            and previous.output_type == "stream"
            and previous.name == output.name
        ):
            merged[-1] = type(previous)(
                {**previous, "text": previous.text + output.text}
            )
            continue
        merged.append(output)
    return merged


def output_blocks(cell, images):
    """Each output of a code cell as a Markdown block; a PNG image becomes a
    file in `images` (name -> bytes) and an image of the page."""
    blocks = []
    for output in merged_streams(cell.get("outputs", [])):
        data = output.get("data", {})
        if output.output_type == "stream":
            text = output.text
        elif output.output_type == "error":
            text = f"{output.ename}: {output.evalue}"
        elif "image/png" in data:
            name = f"{cell.get('id', 'cell')}-{len(images)}.png"
            images[name] = base64.b64decode(data["image/png"])
            alt = data.get("text/plain", "A figure the cell drew")
            blocks.append(f"![{alt}]({name})")
            continue
        elif "text/plain" in data:
            text = data["text/plain"]
        else:
            raise SystemExit(
                f"notebook page: an output of {sorted(data)} has no text to show"
            )
        if ANSI_COLOUR.sub("", text).strip():
            blocks.append(fence(ANSI_COLOUR.sub("", text), "text", "Output", "output"))
    return blocks


def page(notebook, download, site_url, folded_urls):
    """The page of `notebook`: its Markdown, and its images (name -> bytes).
    `download`: the notebook's file name, linked at the top; `folded_urls`:
    each helper module's name -> the address of its code."""
    blocks, images = [], {}
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            blocks.append(site_links(cell.source, site_url))
        elif "folded" in cell.metadata.get("tags", []):
            name = cell.source.split("\n", 1)[0].removeprefix("%%writefile ")
            blocks.append(FOLDED.format(name=name, url=folded_urls[name]))
        else:
            blocks.append(fence(cell.source))
            blocks.extend(output_blocks(cell, images))
        if number == 0:
            ran = any(c.get("outputs") for c in notebook.cells if c.cell_type == "code")
            shown = (
                "This page shows it as it was last run, with its outputs."
                if ran
                else "This page shows it as you get it, not run."
            )
            blocks.append(
                f"**[Download the notebook]({download})** (`{download}`), to "
                f"run it in Jupyter. {shown}"
            )
    return "\n\n".join(blocks) + "\n", images
