"""What the topics share: the results, read once per build, and the one way a
topic registers a macro with the results it reads."""

import functools
from dataclasses import dataclass

from tools.course import FRAMEWORKS, KERAS_BACKENDS, keras_run
from tools.results import RESULT_SETS, load


@dataclass(frozen=True)
class Results:
    """Every result file the pages read, as loaded from it; by framework
    ("keras", "pytorch") or Keras backend where there is one file each."""

    # make artifacts (docs/generated/)
    metrics: dict  # framework -> FRAMEWORK/metrics.json, the lecture runs
    keras_backends: dict  # backend -> metrics.json of Keras on it
    pitfalls: dict  # framework -> FRAMEWORK/pitfalls.json
    figures: dict  # figures.json: alt texts, and what the figures show
    playground: dict  # framework -> playground/FRAMEWORK.json
    parity: dict  # parity.json
    bridge: dict  # bridge.json, what code/input_pipelines.py recorded
    training_logs: dict  # framework -> FRAMEWORK/training-log.txt
    # make seeds, make exercises, make porting (docs/seeds/, ...)
    seeds: dict
    exercises: dict
    porting: dict  # porting.json: both programs' runs, and train_step's
    # make bench (docs/benchmark/)
    benchmark: dict  # benchmark.json
    benchmark_figures: dict  # figures.json: the alt texts
    pipelines: dict  # pipelines.json, the input pipelines' costs
    # make export, make scale (docs/deployment/, docs/scaling/)
    deployment: dict
    scaling: dict

    @property
    def alt_texts(self):
        """The figures' alt texts, by the folder that holds the figures."""
        return {
            "generated/": self.figures["alt"],
            "benchmark/": self.benchmark_figures["alt"],
        }


def read_text(target, name):
    """A text file of a result set, as `tools.results.load` reads a JSON one:
    by the set's target and the file's path in its folder."""
    result_set = RESULT_SETS[target]
    path = result_set.path / name
    if not path.is_file():
        raise FileNotFoundError(
            f"docs/{result_set.folder}/{name} is missing: run `make {target}`"
        )
    return path.read_text(encoding="utf-8")


def load_results():
    """Every result file the pages read, each read once."""

    def each(target, name):
        return {framework: load(target, name(framework)) for framework in FRAMEWORKS}

    return Results(
        metrics=each("artifacts", lambda framework: f"{framework}/metrics.json"),
        keras_backends={
            backend: load("artifacts", f"{keras_run(backend)}/metrics.json")
            for backend in KERAS_BACKENDS
        },
        pitfalls=each("artifacts", lambda framework: f"{framework}/pitfalls.json"),
        figures=load("artifacts", "figures.json"),
        playground=each("artifacts", lambda framework: f"playground/{framework}.json"),
        parity=load("artifacts", "parity.json"),
        bridge=load("artifacts", "bridge.json"),
        training_logs={
            framework: read_text("artifacts", f"{framework}/training-log.txt")
            for framework in FRAMEWORKS
        },
        seeds=load("seeds", "seeds.json"),
        exercises=load("exercises", "exercises.json"),
        porting=load("porting", "porting.json"),
        benchmark=load("bench", "benchmark.json"),
        benchmark_figures=load("bench", "figures.json"),
        pipelines=load("bench", "pipelines.json"),
        deployment=load("export", "deployment.json"),
        scaling=load("scale", "scaling.json"),
    )


def macro(env, function, *data):
    """Register `function` as a macro under its own name, with `data` (the
    results it reads) bound to its first parameters: the page passes the
    rest. Its docstring stays, for mkdocs-macros' `macros_info()`."""
    bound = functools.partial(function, *data)
    bound.__name__ = function.__name__
    bound.__doc__ = function.__doc__
    env.macro(bound, function.__name__)
