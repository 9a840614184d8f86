"""Whether each set of committed results still matches the files it was made from.

Every result folder under docs/ is made by one `make` target from the files
that tools/results.py declares. The step that makes it writes
`fingerprint.json` beside its results: the SHA-256 of each of those files.
`python -m tools.fingerprint` (`make stale`, and a test) lists the result sets
whose files changed since, with the target that regenerates them. A
fingerprint is only ever written by rerunning that target.
"""

import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

from tools import PROJECT_DIR
from tools.results import RESULT_SETS

FILE_NAME = "fingerprint.json"


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


def write_results(result_set, output_dir, files):
    """Replace the folder `output_dir` by one holding `files` (name -> data,
    each written as JSON) and the result set's fingerprint: written beside it
    first, then swapped in, so that a failure leaves the old folder whole."""
    output_dir = output_dir.resolve()
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{output_dir.name}-", dir=output_dir.parent)
    )
    for name, data in files.items():
        (staging / name).write_text(json.dumps(data, indent=2) + "\n")
    write(result_set, staging)
    shutil.rmtree(output_dir, ignore_errors=True)
    staging.rename(output_dir)


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
