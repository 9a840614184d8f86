"""The programs' marked sections: the one reader and editor of their markers.

A section is the lines between `# --8<-- [start:NAME]` and
`# --8<-- [end:NAME]` (pymdownx.snippets' markers), at any indentation;
sections nest. The pages include sections by name
(`--8<-- "code/keras_mlp.py:data"`); the notebook builder, the exercises
driver, the macros and the tests read and change the programs through them,
never through copies of the programs' lines.
"""

import re
import textwrap
from dataclasses import dataclass

# A marker line, at any indentation.
MARKER = re.compile(
    r"^(?P<indent>[ \t]*)# --8<-- \[(?P<kind>start|end):(?P<name>[a-z0-9_]+)\]"
    r"[ \t]*(?:\n|\Z)",
    re.MULTILINE,
)
# A page's include of a section: --8<-- "code/keras_mlp.py:data".
INCLUDE = re.compile(r"""--8<-- ["'](?P<file>[\w/.]+\.py):(?P<name>[a-z0-9_]+)["']""")


@dataclass(frozen=True)
class Section:
    name: str
    depth: int  # 0 for a section that no other section holds
    indent: str  # its markers' indentation
    start: int  # where its start marker's line begins
    body_start: int  # after the start marker's line
    body_end: int  # where its end marker's line begins
    end: int  # after the end marker's line


def parse(source):
    """Every section of `source` by name, in the order they start; a start
    without its end, an end out of order or a name used twice is an error."""
    found, open_sections = {}, []
    for marker in MARKER.finditer(source):
        name = marker["name"]
        if marker["kind"] == "start":
            if name in found or name in (opened["name"] for opened in open_sections):
                raise ValueError(f"section {name!r} starts twice")
            open_sections.append(marker)
            continue
        if not open_sections or open_sections[-1]["name"] != name:
            raise ValueError(f"section {name!r} ends out of order")
        opened = open_sections.pop()
        found[name] = Section(
            name,
            len(open_sections),
            opened["indent"],
            opened.start(),
            opened.end(),
            marker.start(),
            marker.end(),
        )
    if open_sections:
        raise ValueError(
            f"sections {[opened['name'] for opened in open_sections]} never end"
        )
    return dict(sorted(found.items(), key=lambda item: item[1].start))


def top_level(source):
    """The names of the sections that no other section holds, in order."""
    return [name for name, section in parse(source).items() if section.depth == 0]


def strip_markers(text):
    """`text` without its marker lines."""
    return MARKER.sub("", text)


def text(source, name):
    """Section `name`'s lines, without the markers of the sections inside it
    and without its leading and trailing blank lines; LookupError if there is
    none."""
    sections = parse(source)
    if name not in sections:
        raise LookupError(f"no section {name!r}")
    section = sections[name]
    return strip_markers(source[section.body_start : section.body_end]).strip("\n")


def read(path, name):
    """Section `name` of the file at `path`; the error names the file."""
    try:
        return text(path.read_text(encoding="utf-8"), name)
    except (LookupError, ValueError) as error:
        raise LookupError(f"{path.name}: {error}") from None


def change(source, name, lines, how="replace"):
    """`source` with `lines` put in place of section `name`'s lines
    ("replace", keeping its markers), or before its start marker ("before"),
    or after its end marker ("after"), at the markers' indentation."""
    sections = parse(source)
    if name not in sections:
        raise LookupError(f"no section {name!r}")
    section = sections[name]
    new = textwrap.indent(textwrap.dedent(lines).strip("\n") + "\n", section.indent)
    where = {
        "replace": (section.body_start, section.body_end),
        "before": (section.start, section.start),
        "after": (section.end, section.end),
    }
    if how not in where:
        raise ValueError(f"unknown change {how!r}: one of {sorted(where)}")
    begin, finish = where[how]
    if how == "after" and not source[:begin].endswith("\n"):
        new = "\n" + new  # the end marker was the file's last line
    return source[:begin] + new + source[finish:]
