"""The porting step (`make porting`): what changes meaning between Keras and
PyTorch, run for real.

Runs code/keras_porting.py and code/pytorch_porting.py (weight decay,
resuming, the same numbers twice) and code/keras_train_step.py on each of
Keras' backends, each in its own process on one thread, and writes what they
recorded to docs/porting/porting.json, which the Porting page reads. It adds
what the decoupled weight decay should leave of a weight that no gradient
moves, from the schedule alone, to check both frameworks against.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tools import CODE_DIR, PROJECT_DIR, fingerprint
from tools.course import KERAS_BACKENDS, MAIN_KERAS_BACKEND, ONE_THREAD
from tools.results import RESULT_SETS

RESULTS = RESULT_SETS["porting"]


def run_program(name, folder, backend=MAIN_KERAS_BACKEND):
    """Run code/NAME in its own process; the JSON it wrote to `folder`."""
    on = f" on {backend}" if name.startswith("keras") else ""
    print(f"porting: {name}{on} ...", flush=True)
    completed = subprocess.run(
        [sys.executable, str(CODE_DIR / name), "--output-dir", str(folder)],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env={**os.environ, **ONE_THREAD, "KERAS_BACKEND": backend},
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        sys.exit(f"porting: {name} failed; nothing was replaced.")
    (written,) = Path(folder).glob("*.json")
    return json.loads(written.read_text(encoding="utf-8"))


def decay_left(config, steps):
    """What decoupled decay leaves of a weight with no gradient, over `steps`
    steps of the cosine schedule: the product of (1 - rate * decay)."""
    rate, decay = config["learning_rate"], config["weight_decay"]
    return math.prod(
        1 - rate * 0.5 * (1 + math.cos(math.pi * step / steps)) * decay
        for step in range(steps)
    )


def run_all(runs):
    results = {
        framework: run_program(f"{framework}_porting.py", Path(runs) / framework)
        for framework in ("keras", "pytorch")
    }
    results["train_step"] = {
        backend: run_program("keras_train_step.py", Path(runs) / backend, backend)
        for backend in KERAS_BACKENDS
    }
    config = results["pytorch"]["config"]
    steps = results["pytorch"]["resume"]["checkpoint"]["step"] // config["epochs"]
    results["decay_left_by_schedule"] = decay_left(config, steps)
    return results


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--output-dir", type=Path, default=RESULTS.path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="porting-") as runs:
        results = run_all(runs)
    fingerprint.write_results(RESULTS, args.output_dir, {"porting.json": results})
    print(f"porting: wrote {args.output_dir}")


if __name__ == "__main__":
    main()
