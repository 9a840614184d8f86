"""The seed study (`make seeds`): is "the same accuracy" more than one run each,
and which default of the frameworks makes the difference?

Trains both programs with their default configuration once per seed (seeds 0
to SEEDS - 1), each run in its own process (TensorFlow and PyTorch are never
imported together), and writes docs/seeds/seeds.json: every seed's test
accuracy, and per framework the mean, the sample standard deviation, the
minimum and the maximum; then the difference of the two means (Keras minus
PyTorch) with a 95% Welch t interval, which does not assume that the two
frameworks spread alike. Seed 0 is the run the lecture pages show
(docs/generated/); it is trained again here, so the study stands on its own.

The ablation: each of its variants gives one program one default of the other
framework (sections of code/FRAMEWORK_ablation.py, and Exercise 2.3's of
code/pytorch_exercises.py, applied by tools/variants.py) and is trained with
the same seeds; each is compared with its own framework's runs and with the
other framework's.

Every run uses one thread (ONE_THREAD in tools/course.py says why), as the
retrain step's runs do.

MNIST comes from the `MNIST_DIR` environment variable (or the cache, or a
download), as for every step.
"""

import argparse
import math
import statistics
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tools import fingerprint
from tools.course import FRAMEWORKS
from tools.results import RESULT_SETS
from tools.variants import Change, Variant, run

RESULTS = RESULT_SETS["seeds"]
SEEDS = 5
CONFIDENCE = 0.95
# Runs side by side: each uses one thread, and the numbers do not depend on
# how many run at once (the times, which the study does not keep, do).
JOBS = 2

# Where each default goes in the other framework's program.
# Keras' initial weights in PyTorch: Exercise 2.3's solution.
KERAS_INITIALISATION = Change(
    "glorot", "after", "exercise_model", "pytorch_exercises.py"
)
KERAS_EPSILON = Change(
    "keras_epsilon", "before", "exercise_training", "pytorch_ablation.py"
)
PYTORCH_INITIALISATION = Change(
    "pytorch_initialisation", "replace", "exercise_model", "keras_ablation.py"
)
# name: (framework, changes, what the pages call it)
ABLATION = {
    "pytorch_keras_initialisation": (
        "pytorch",
        (KERAS_INITIALISATION,),
        "PyTorch with Keras' initial weights",
    ),
    "pytorch_keras_epsilon": (
        "pytorch",
        (KERAS_EPSILON,),
        "PyTorch with Keras' Adam epsilon",
    ),
    "pytorch_keras_both": (
        "pytorch",
        (KERAS_INITIALISATION, KERAS_EPSILON),
        "PyTorch with both",
    ),
    "keras_pytorch_initialisation": (
        "keras",
        (PYTORCH_INITIALISATION,),
        "Keras with PyTorch's initial weights",
    ),
}


def t_cdf(x, df):
    """Student's t distribution function (Simpson's rule on the density)."""
    if x < 0:
        return 1 - t_cdf(-x, df)
    log_norm = (
        math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    )

    def density(t):
        return math.exp(log_norm - (df + 1) / 2 * math.log1p(t * t / df))

    steps = 2000
    h = x / steps
    total = density(0) + density(x)
    total += sum((4 if i % 2 else 2) * density(i * h) for i in range(1, steps))
    return 0.5 + total * h / 3


def t_quantile(p, df):
    """The t value below which a fraction p of the distribution lies (p > 0.5)."""
    low, high = 0.0, 100.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if t_cdf(middle, df) < p else (low, middle)
    return (low + high) / 2


def welch(a, b, confidence=CONFIDENCE):
    """Mean of a minus mean of b, its standard error, Welch's degrees of
    freedom and the two-sided confidence interval."""
    var_a, var_b = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    difference = statistics.mean(a) - statistics.mean(b)
    standard_error = math.sqrt(var_a + var_b)
    df = (var_a + var_b) ** 2 / (var_a**2 / (len(a) - 1) + var_b**2 / (len(b) - 1))
    half_width = t_quantile(0.5 + confidence / 2, df) * standard_error
    return {
        "difference": difference,
        "standard_error": standard_error,
        "degrees_of_freedom": df,
        "confidence": confidence,
        "low": difference - half_width,
        "high": difference + half_width,
        "method": "Welch t interval",
    }


def summary(accuracies):
    return {
        "accuracies": accuracies,
        "mean": statistics.mean(accuracies),
        "std": statistics.stdev(accuracies),
        "min": min(accuracies),
        "max": max(accuracies),
    }


def train_all(variants, seeds, jobs, folder):
    """Each variant's (test accuracies, best epochs), one run per seed."""
    runs = [(name, seed) for name in variants for seed in seeds]

    def train(name_and_seed):
        name, seed = name_and_seed
        framework, changes = variants[name]
        variant = Variant(
            framework, changes, ("--seed", seed), label=f"{name} seed {seed}"
        )
        return run(variant, folder / f"{name}-seed{seed}", tool="seeds")

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        found = dict(zip(runs, pool.map(train, runs), strict=True))
    return {
        name: (
            [found[name, seed]["test_accuracy"] for seed in seeds],
            [found[name, seed]["best_epoch"] for seed in seeds],
        )
        for name in variants
    }


def ablation_results(trained, frameworks):
    """Each variant: its runs, and its mean against each framework's."""
    results = {}
    for name, (framework, changes, label) in ABLATION.items():
        accuracies, best_epochs = trained[name]
        other = next(other for other in FRAMEWORKS if other != framework)
        results[name] = (
            {
                "framework": framework,
                "label": label,
                "changes": [change.solution for change in changes],
            }
            | summary(accuracies)
            | {"best_epochs": best_epochs}
            | {
                "against_own": welch(accuracies, frameworks[framework]["accuracies"])
                | {"of": f"{name} - {framework}"},
                "against_other": welch(accuracies, frameworks[other]["accuracies"])
                | {"of": f"{name} - {other}"},
            }
        )
    return results


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--seeds", type=int, default=SEEDS)
    parser.add_argument("--output-dir", type=Path, default=RESULTS.path)
    parser.add_argument("--jobs", type=int, default=JOBS)
    args = parser.parse_args()

    seeds = list(range(args.seeds))
    variants = {name: (name, ()) for name in FRAMEWORKS} | {
        name: (framework, changes) for name, (framework, changes, _) in ABLATION.items()
    }
    with tempfile.TemporaryDirectory(prefix="seed-study-") as runs:
        trained = train_all(variants, seeds, args.jobs, Path(runs))
    study = {"seeds": seeds, "threads": 1, "frameworks": {}}
    for name in FRAMEWORKS:
        accuracies, best_epochs = trained[name]
        study["frameworks"][name] = summary(accuracies) | {"best_epochs": best_epochs}
    keras, pytorch = (study["frameworks"][name]["accuracies"] for name in FRAMEWORKS)
    study["difference"] = welch(keras, pytorch) | {"of": "keras - pytorch"}
    study["ablation"] = ablation_results(trained, study["frameworks"])
    fingerprint.write_results(RESULTS, args.output_dir, {"seeds.json": study})
    for name in FRAMEWORKS:
        found = study["frameworks"][name]
        print(f"seeds: {name} mean {found['mean']:.4%}, sd {found['std']:.4%}")
    difference = study["difference"]
    print(
        f"seeds: keras - pytorch {difference['difference']:+.4%}, "
        f"95% [{difference['low']:+.4%}, {difference['high']:+.4%}]"
    )
    for name, found in study["ablation"].items():
        other = found["against_other"]
        print(
            f"seeds: {name} mean {found['mean']:.4%}, against {other['of']} "
            f"[{other['low']:+.4%}, {other['high']:+.4%}]"
        )


if __name__ == "__main__":
    main()
