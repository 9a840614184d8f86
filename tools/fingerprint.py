"""Which files each set of committed results was made from, and whether they changed.

Every result folder under docs/ is made by one `make` target from a known set of
files. The step that makes it writes `fingerprint.json` beside its results: the
SHA-256 of each of those files. `python -m tools.fingerprint` (and a test) lists
the result sets whose files changed since, with the target that regenerates
them. A fingerprint is only ever written by rerunning that target.
"""

import hashlib
import json
import sys
from dataclasses import dataclass

from tools import DOCS_DIR, PROJECT_DIR

FILE_NAME = "fingerprint.json"


@dataclass(frozen=True)
class ResultSet:
    folder: str  # under docs/
    target: str  # the make target that regenerates it
    files: tuple  # paths from the project root that its results depend on

    @property
    def path(self):
        return DOCS_DIR / self.folder


# The lesson's helpers every training run and every tool uses.
SHARED = ("code/mnist_data.py", "code/run_record.py", "tools/__init__.py")
# What trains the course's two models (their settings included).
PROGRAMS = ("code/keras_mlp.py", "code/pytorch_mlp.py", *SHARED)

RESULT_SETS = {
    result_set.target: result_set
    for result_set in (
        ResultSet(
            "generated",
            "artifacts",
            (
                *PROGRAMS,
                "code/keras_pitfalls.py",
                "code/pytorch_pitfalls.py",
                "code/parity.py",
                "code/input_pipelines.py",
                "tools/course.py",
                "tools/retrain.py",
                "tools/playground_export.py",
                "tools/result_figures.py",
                "tools/figure_style.py",
            ),
        ),
        ResultSet(
            "seeds",
            "seeds",
            (*PROGRAMS, "tools/course.py", "tools/seed_study.py"),
        ),
        ResultSet(
            "exercises",
            "exercises",
            (
                *PROGRAMS,
                "code/keras_exercises.py",
                "code/pytorch_exercises.py",
                "tools/course.py",
                "tools/exercises.py",
            ),
        ),
        ResultSet(
            "benchmark",
            "bench",
            (
                *SHARED,
                "tools/course.py",
                "tools/benchmark.py",
                "tools/benchmark_figures.py",
                "tools/figure_style.py",
                # The course's settings, which the benchmark reads from them.
                "code/keras_mlp.py",
                "code/pytorch_mlp.py",
                # The input pipelines' costs (pipelines.json).
                "code/input_pipelines.py",
                "tools/pipeline_benchmark.py",
            ),
        ),
        ResultSet(
            "deployment",
            "export",
            (
                # The exports start from the models the two programs trained.
                *PROGRAMS,
                "code/keras_export.py",
                "code/pytorch_export.py",
                "code/onnx_inference.py",
                "tools/course.py",
                "tools/deployment.py",
                "tools/deployment_reload.py",
            ),
        ),
        ResultSet(
            "scaling",
            "scale",
            (
                *SHARED,
                "code/keras_multiworker.py",
                "code/pytorch_ddp.py",
                "tools/course.py",
                "tools/scaling.py",
            ),
        ),
    )
}


def file_hashes(files):
    """SHA-256 of each file, line endings normalised (a Windows checkout
    gives the same hashes)."""
    return {
        name: hashlib.sha256(
            (PROJECT_DIR / name).read_bytes().replace(b"\r\n", b"\n")
        ).hexdigest()
        for name in files
    }


def stamp(result_set):
    """The fingerprint of a result set's files, as its step writes it."""
    return (
        json.dumps(
            {
                "regenerate_with": f"make {result_set.target}",
                "files": file_hashes(result_set.files),
            },
            indent=2,
        )
        + "\n"
    )


def write(result_set, folder=None):
    from run_record import write_atomically

    folder = folder or result_set.path
    write_atomically(folder / FILE_NAME, stamp(result_set).encode())


def changes(result_set):
    """What changed since the results were made: a list of sentences, or []."""
    path = result_set.path / FILE_NAME
    if not path.exists():
        return [f"docs/{result_set.folder}/{FILE_NAME} is missing"]
    recorded = json.loads(path.read_text()).get("files")
    if recorded is None:
        return [f"docs/{result_set.folder}/{FILE_NAME} lists no files"]
    current = file_hashes(result_set.files)
    found = [
        f"{name} changed" if name in recorded else f"{name} is a new input"
        for name in current
        if recorded.get(name) != current[name]
    ]
    found += [f"{name} is no longer an input" for name in recorded.keys() - current]
    return sorted(found)


def stale_report():
    """One line per result set whose inputs changed, naming the target."""
    lines = []
    for result_set in RESULT_SETS.values():
        if found := changes(result_set):
            lines.append(
                f"docs/{result_set.folder}/ is stale ({'; '.join(found)}): "
                f"run `make {result_set.target}` and commit the result"
            )
    return lines


if __name__ == "__main__":
    report = stale_report()
    print("\n".join(report) or "every result set matches its code")
    sys.exit(1 if report else 0)
