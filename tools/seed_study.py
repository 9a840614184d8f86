"""The seed study (`make seeds`): is "the same accuracy" more than one run each?

Trains both programs with their default configuration once per seed (seeds 0
to SEEDS - 1), each run in its own process (TensorFlow and PyTorch are never
imported together), and writes docs/seeds/seeds.json: every seed's test
accuracy, and per framework the mean, the sample standard deviation, the
minimum and the maximum; then the difference of the two means (Keras minus
PyTorch) with a 95% Welch t interval, which does not assume that the two
frameworks spread alike. Seed 0 is the run the lecture pages show
(docs/generated/); it is trained again here, so the study stands on its own.

Every run uses one thread (ONE_THREAD in tools/course.py says why), as the
retrain step's runs do.

MNIST comes from the `MNIST_DIR` environment variable (or the cache, or a
download), as for every step.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tools import CODE_DIR, PROJECT_DIR, fingerprint
from tools.course import FRAMEWORKS, MAIN_KERAS_BACKEND, ONE_THREAD
from tools.results import RESULT_SETS

RESULTS = RESULT_SETS["seeds"]
SEEDS = 5
CONFIDENCE = 0.95


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


def train(framework, seed, folder):
    output_dir = folder / f"{framework}-seed{seed}"
    print(f"seeds: {framework} seed {seed} ...", flush=True)
    completed = subprocess.run(
        [sys.executable, str(CODE_DIR / f"{framework}_mlp.py"), "--quiet"]
        + ["--seed", str(seed), "--output-dir", str(output_dir)],
        stdout=subprocess.DEVNULL,
        cwd=PROJECT_DIR,
        # Keras on its main backend, whatever the caller's KERAS_BACKEND says.
        env={**os.environ, **ONE_THREAD, "KERAS_BACKEND": MAIN_KERAS_BACKEND},
    )
    if completed.returncode != 0:
        sys.exit(f"seeds: {framework} seed {seed} failed; nothing was replaced.")
    metrics = json.loads((output_dir / "metrics.json").read_text())
    return metrics["test"]["accuracy"], metrics["best_epoch"]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--seeds", type=int, default=SEEDS)
    parser.add_argument("--output-dir", type=Path, default=RESULTS.path)
    args = parser.parse_args()

    study = {"seeds": list(range(args.seeds)), "threads": 1, "frameworks": {}}
    with tempfile.TemporaryDirectory(prefix="seed-study-") as runs:
        for framework in FRAMEWORKS:
            accuracies, best_epochs = [], []
            for seed in study["seeds"]:
                accuracy, best_epoch = train(framework, seed, Path(runs))
                accuracies.append(accuracy)
                best_epochs.append(best_epoch)
            study["frameworks"][framework] = summary(accuracies) | {
                "best_epochs": best_epochs
            }
    keras, pytorch = (study["frameworks"][name]["accuracies"] for name in FRAMEWORKS)
    study["difference"] = welch(keras, pytorch) | {"of": "keras - pytorch"}
    fingerprint.write_results(RESULTS, args.output_dir, {"seeds.json": study})
    for name in FRAMEWORKS:
        found = study["frameworks"][name]
        print(f"seeds: {name} mean {found['mean']:.4%}, sd {found['std']:.4%}")
    difference = study["difference"]
    print(
        f"seeds: keras - pytorch {difference['difference']:+.4%}, "
        f"95% [{difference['low']:+.4%}, {difference['high']:+.4%}]"
    )


if __name__ == "__main__":
    main()
