"""The Pythons the project supports, as pyproject.toml declares them: read by
the pages (the `pythons` variable) and by the tests of the README and the
Check workflow's matrix."""

import re
import tomllib

from tools import PROJECT_DIR


def supported_pythons():
    """The oldest and newest supported Python, from requires-python
    (">=3.11,<3.14" gives "3.11" and "3.13")."""
    text = (PROJECT_DIR / "pyproject.toml").read_text()
    declared = tomllib.loads(text)["project"]["requires-python"]
    oldest = re.search(r">=\s*3\.(\d+)", declared).group(1)
    below = re.search(r"<\s*3\.(\d+)", declared).group(1)
    return f"3.{oldest}", f"3.{int(below) - 1}"
