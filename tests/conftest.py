import os
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


def run_program(*arguments, cwd=PROJECT_DIR, env=None, timeout=600):
    """Run a Python program of the project in its own process."""
    import subprocess

    return subprocess.run(
        [sys.executable, *map(str, arguments)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
