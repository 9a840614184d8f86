import os
import shutil
import subprocess
import sys
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
