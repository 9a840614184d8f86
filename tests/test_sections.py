"""tools/sections.py, the one reader and editor of the programs' marked
sections: nesting, the errors it names, and each kind of change."""

import pytest

from tools import sections

SOURCE = """\
# --8<-- [start:outer]
a = 1
    # --8<-- [start:inner]
    b = 2
    # --8<-- [end:inner]
c = 3
# --8<-- [end:outer]

# --8<-- [start:last]
d = 4
# --8<-- [end:last]"""


def test_sections_nest_and_their_text_has_no_markers():
    found = sections.parse(SOURCE)
    assert list(found) == ["outer", "inner", "last"]
    assert [found[name].depth for name in found] == [0, 1, 0]
    assert found["inner"].indent == "    "
    assert sections.top_level(SOURCE) == ["outer", "last"]
    assert sections.text(SOURCE, "outer") == "a = 1\n    b = 2\nc = 3"
    assert sections.text(SOURCE, "inner") == "    b = 2"
    assert "--8<--" not in sections.strip_markers(SOURCE)


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("# --8<-- [start:a]\nx = 1\n", r"\['a'\] never end"),
        ("# --8<-- [end:a]\n", "'a' ends out of order"),
        (
            "# --8<-- [start:a]\n# --8<-- [start:b]\n# --8<-- [end:a]\n",
            "'a' ends out of order",
        ),
        (
            "# --8<-- [start:a]\n# --8<-- [end:a]\n# --8<-- [start:a]\n"
            "# --8<-- [end:a]\n",
            "'a' starts twice",
        ),
    ],
)
def test_broken_markers_are_named(broken, message):
    with pytest.raises(ValueError, match=message):
        sections.parse(broken)


def test_a_missing_section_is_named_with_its_file(tmp_path):
    with pytest.raises(LookupError, match="no section 'nowhere'"):
        sections.text(SOURCE, "nowhere")
    path = tmp_path / "program.py"
    path.write_text(SOURCE)
    with pytest.raises(LookupError, match="program.py: no section 'nowhere'"):
        sections.read(path, "nowhere")


def test_a_change_takes_the_markers_indentation():
    replaced = sections.change(SOURCE, "inner", "x = 1\nif x:\n    y = 2\n")
    assert sections.text(replaced, "inner") == "    x = 1\n    if x:\n        y = 2"
    before = sections.change(SOURCE, "inner", "z = 0", "before")
    assert "a = 1\n    z = 0\n    # --8<-- [start:inner]" in before
    after = sections.change(SOURCE, "inner", "z = 0", "after")
    assert "# --8<-- [end:inner]\n    z = 0\nc = 3" in after
    at_the_end = sections.change(SOURCE, "last", "e = 5", "after")
    assert at_the_end.endswith("# --8<-- [end:last]\ne = 5\n")
    with pytest.raises(ValueError, match="unknown change 'around'"):
        sections.change(SOURCE, "inner", "z = 0", "around")
