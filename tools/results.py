"""The course's result sets, declared once: what makes each, from which files,
and where it is written.

Every folder of committed results under docs/ is made by one `make` target
from a known set of files. This declaration is read by:
- `fingerprint`: the stamp each step writes beside its results, and
  `make stale`, which lists the sets whose files changed since;
- the Makefile: its rules for these targets are in `results.mk`, written from
  here by `python -m tools.results` (a test checks that it is up to date);
- the pages' macros, which read every JSON result through `load`;
- the tests, which check each set's files against what its commands import
  and start.
"""

import json
import sys
from dataclasses import dataclass

from tools import DOCS_DIR, PROJECT_DIR
from tools.course import FRAMEWORKS, MAIN_KERAS_BACKEND

MAKEFILE_PART = PROJECT_DIR / "results.mk"

# The lesson's helpers, beside each program.
LESSON_HELPERS = ("code/mnist_data.py", "code/run_record.py")
# What every training run and every tool uses.
SHARED = (*LESSON_HELPERS, "tools/__init__.py")
# The course's two programs (their settings included), and how the tools read
# them: the settings and the marked sections.
PROGRAM_FILES = tuple(f"code/{framework}_mlp.py" for framework in FRAMEWORKS)
PROGRAMS = (*PROGRAM_FILES, *SHARED, "tools/course.py", "tools/sections.py")


@dataclass(frozen=True)
class ResultSet:
    folder: str  # under docs/
    target: str  # the make target that regenerates it
    help: str  # what `make help` says of the target
    commands: tuple  # each run by make as `$(BIN)/python COMMAND` (make syntax)
    files: tuple  # paths from the project root that its results depend on
    needs: tuple = ()  # files that make builds first (the trained models)
    then: tuple = ()  # targets that `make TARGET` runs after its commands

    @property
    def path(self):
        return DOCS_DIR / self.folder


# The trained models that `make export` starts from, retrained by make only
# when their program or the lesson's helpers changed: path -> (framework,
# its run folder).
TRAINED_MODELS = {
    "runs/keras/mlp.keras": ("keras", "runs/keras"),
    "runs/pytorch/mlp.pt": ("pytorch", "runs/pytorch"),
}

RESULT_SETS = {
    result_set.target: result_set
    for result_set in (
        ResultSet(
            "generated",
            "artifacts",
            "retrain both models, regenerate docs/generated/, the seed study, "
            "the exercises' and porting results and the notebooks",
            ("-m tools.retrain",),
            (
                *PROGRAMS,
                "code/keras_pitfalls.py",
                "code/pytorch_pitfalls.py",
                "code/parity.py",
                "code/input_pipelines.py",
                "tools/retrain.py",
                "tools/playground_export.py",
                "tools/result_figures.py",
                "tools/figure_style.py",
            ),
            then=("seeds", "exercises", "porting", "notebook"),
        ),
        ResultSet(
            "seeds",
            "seeds",
            "train both models with several seeds, and with each other's "
            "defaults; the seed study in docs/seeds/",
            ("-m tools.seed_study",),
            (
                *PROGRAMS,
                "code/keras_ablation.py",
                "code/pytorch_ablation.py",
                # Keras' initial weights in PyTorch: Exercise 2.3's solution.
                "code/pytorch_exercises.py",
                "tools/seed_study.py",
                "tools/variants.py",
            ),
        ),
        ResultSet(
            "exercises",
            "exercises",
            "run every solution of the Exercises page; results in docs/exercises/",
            ("-m tools.exercises",),
            (
                *PROGRAMS,
                "code/keras_exercises.py",
                "code/pytorch_exercises.py",
                "tools/exercises.py",
                "tools/variants.py",
            ),
        ),
        ResultSet(
            "porting",
            "porting",
            "run what changes meaning between Keras and PyTorch (weight decay, "
            "resuming, determinism, train_step); results in docs/porting/",
            ("-m tools.porting",),
            (
                "code/mnist_data.py",
                "tools/__init__.py",
                "code/keras_porting.py",
                "code/pytorch_porting.py",
                "code/keras_train_step.py",
                "tools/course.py",
                "tools/sections.py",
                "tools/porting.py",
            ),
        ),
        ResultSet(
            "notebooks",
            "notebook",
            "assemble the notebooks from the programs and execute the solution",
            ("-m tools.build_notebooks",),
            (
                *PROGRAMS,
                "tools/build_notebooks.py",
                "tools/notebook_checks.py",
                "tools/notebook_pages.py",
            ),
        ),
        ResultSet(
            "benchmark",
            "bench",
            "benchmark Keras (three backends), PyTorch and their input "
            "pipelines; results in docs/benchmark/",
            ("-m tools.benchmark", "-m tools.pipeline_benchmark"),
            (
                # The course's settings, which the benchmark reads from them.
                *PROGRAMS,
                "tools/benchmark.py",
                "tools/benchmark_figures.py",
                "tools/figure_style.py",
                # The input pipelines' costs (pipelines.json).
                "code/input_pipelines.py",
                "tools/pipeline_benchmark.py",
            ),
        ),
        ResultSet(
            "deployment",
            "export",
            "save both models in six deployable forms, reload and time each; "
            "results in docs/deployment/",
            ("-m tools.deployment",),
            (
                # The exports start from the models the two programs trained.
                *PROGRAMS,
                "code/keras_export.py",
                "code/pytorch_export.py",
                "code/onnx_inference.py",
                "tools/deployment.py",
                "tools/deployment_reload.py",
            ),
            needs=tuple(TRAINED_MODELS),
        ),
        ResultSet(
            "scaling",
            "scale",
            "train on 1 and 2 workers (torchrun DDP, tf.distribute) over "
            "loopback; results in docs/scaling/ (EPOCHS=n to shorten)",
            ("-m tools.scaling $(if $(EPOCHS),--epochs $(EPOCHS))",),
            (
                *SHARED,
                "tools/course.py",
                "tools/sections.py",
                "code/keras_multiworker.py",
                "code/pytorch_ddp.py",
                "tools/scaling.py",
            ),
        ),
    )
}


def load(target, name):
    """A JSON file of a result set, by the set's target and the file's path in
    its folder; if it is missing, the error names the target that makes it."""
    result_set = RESULT_SETS[target]
    path = result_set.path / name
    if not path.is_file():
        raise FileNotFoundError(
            f"docs/{result_set.folder}/{name} is missing: run `make {target}`"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def makefile_part():
    """The Makefile's rules for the result sets and the trained models."""
    lines = [
        "# Written by `python -m tools.results` from tools/results.py: edit that",
        "# file, then rerun the command (a test checks that this one matches).",
        "",
        ".PHONY: " + " ".join(RESULT_SETS),
        "",
    ]
    for result_set in RESULT_SETS.values():
        prerequisites = " ".join(("$(VENV)/.installed", *result_set.needs))
        lines.append(f"{result_set.target}: {prerequisites} ## {result_set.help}")
        lines += [f"\t$(BIN)/python {command}" for command in result_set.commands]
        if result_set.then:
            lines.append(f"\t$(MAKE) {' '.join(result_set.then)}")
        lines.append("")
    for model, (framework, folder) in TRAINED_MODELS.items():
        program = f"code/{framework}_mlp.py"
        backend = f"KERAS_BACKEND={MAIN_KERAS_BACKEND} " * (framework == "keras")
        lines += [
            f"{model}: {' '.join((program, *LESSON_HELPERS))} | $(VENV)/.installed",
            f"\t{backend}$(BIN)/python {program} --quiet --output-dir {folder}",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    MAKEFILE_PART.write_text(makefile_part())
    print(f"wrote {MAKEFILE_PART.relative_to(PROJECT_DIR)}", file=sys.stderr)
