"""The tools that build the site from the lesson's code; readers never need them.

`code/` holds what the pages show and readers run; this package runs that code
and turns what it produced into the site's results, figures and notebooks.
Run each tool from the project root as a module, the way the Makefile does
(`python -m tools.retrain`). The pipeline, one `make` target per result set,
each declared once in `results` (what makes it, from which files, where it
goes), from which the Makefile's rules (results.mk) are written:

- `make artifacts`: `retrain` runs both programs, the pitfalls, the parity
  experiment and the input pipelines' bridge (each in its own process),
  `playground_export` and `result_figures`, into docs/generated/; then
  seeds, exercises and notebook.
- `make seeds`: `seed_study`, into docs/seeds/.
- `make exercises`: `exercises`, into docs/exercises/.
- `make notebook`: `build_notebooks` (with `notebook_checks`), into
  docs/notebooks/.
- `make bench`: `benchmark`, `benchmark_figures` and `pipeline_benchmark`,
  into docs/benchmark/.
- `make export`: `deployment` (with `deployment_reload` in child processes),
  into docs/deployment/.
- `make scale`: `scaling`, into docs/scaling/.

Each result folder carries a fingerprint of the files it was made from
(`fingerprint`); `course` reads the course's settings from the programs and
`sections` their marked sections; the site's pages read the results through
the `macros` package (mkdocs-macros).

MNIST reaches every step one way: the `MNIST_DIR` environment variable (see
README), read by `code/mnist_data.py`; no tool has a data option of its own.
"""

import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
CODE_DIR = PROJECT_DIR / "code"
DOCS_DIR = PROJECT_DIR / "docs"

# The tools import the lesson's modules (mnist_data, run_record) by the same
# names a reader uses when running a program from code/.
if str(CODE_DIR) not in sys.path:
    sys.path.insert(0, str(CODE_DIR))
