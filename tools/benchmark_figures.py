"""Draw the figures of docs/benchmark/ from the benchmark's results.

Reads `<results>/benchmark.json` (written by `tools.benchmark`) and writes
`<results>/figures/NAME-light.svg` and `NAME-dark.svg` plus
`<results>/figures.json`, the alt text of each figure, from the same numbers.
"""

import argparse
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from run_record import write_atomically
from tools.figure_style import THEMES, draw_in_both_themes

# How each runner is drawn: its framework's colour, a line style that tells
# the Keras backends apart, and a hatch for their bars.
RUNNER_STYLES = {
    "keras-tensorflow": ("keras", "o-"),
    "keras-jax": ("keras", "^-."),
    "keras-torch": ("keras", "s--"),
    "pytorch": ("pytorch", "o-"),
}
HATCHES = {"keras-jax": "..", "keras-torch": "//"}


def plot_step_times(benchmark, theme):
    colors = THEMES[theme]
    figure, axis = plt.subplots(figsize=(7, 4.2))
    batch_sizes = benchmark["config"]["batch_sizes"]
    for runner, (color, style) in RUNNER_STYLES.items():
        label = benchmark["runners"][runner]["label"]
        steps = benchmark["runners"][runner]["steps"]
        median = np.array([steps[str(b)]["median"] for b in batch_sizes]) * 1e3
        low = median - np.array([steps[str(b)]["min"] for b in batch_sizes]) * 1e3
        high = np.array([steps[str(b)]["max"] for b in batch_sizes]) * 1e3 - median
        axis.errorbar(
            batch_sizes,
            median,
            yerr=[low, high],
            fmt=style,
            color=colors[color],
            markersize=4,
            capsize=2,
            linewidth=1,
            label=label,
        )
    limit = [
        benchmark["compute_limit"]["step_seconds"][str(b)] * 1e3 for b in batch_sizes
    ]
    axis.plot(
        batch_sizes,
        limit,
        ":",
        color=colors["text"],
        linewidth=1.5,
        label="compute limit (measured matmul throughput)",
    )
    axis.set(
        xscale="log",
        yscale="log",
        xlabel="batch size",
        ylabel="time per training step (ms, log scale)",
    )
    axis.set_xticks(batch_sizes, [str(b) for b in batch_sizes])
    axis.grid(True, linewidth=0.5)
    axis.legend(fontsize=8)
    axis.set_title(
        "One training step: median, bars from fastest to slowest repeat", fontsize=10
    )
    figure.tight_layout()
    return figure


def plot_epoch_times(benchmark, theme):
    colors = THEMES[theme]
    figure, axis = plt.subplots(figsize=(7, 3))
    for row, (runner, (color, _)) in enumerate(RUNNER_STYLES.items()):
        epoch = benchmark["runners"][runner]["epoch"]
        # The Keras runners share a colour; the backends other than
        # TensorFlow are hatched.
        axis.barh(
            row,
            epoch["median"],
            color=colors[color],
            alpha=0.8,
            hatch=HATCHES.get(runner),
            hatchcolor=colors["text"],  # black by default: unseen on a dark page
        )
        axis.errorbar(
            epoch["median"],
            row,
            xerr=[[epoch["median"] - epoch["min"]], [epoch["max"] - epoch["median"]]],
            color=colors["text"],
            capsize=3,
            linewidth=1,
        )
    axis.axvline(
        benchmark["compute_limit"]["epoch_seconds"],
        linestyle=":",
        color=colors["text"],
        label="compute limit",
    )
    labels = [benchmark["runners"][runner]["label"] for runner in RUNNER_STYLES]
    axis.set_yticks(range(len(labels)), labels)
    axis.invert_yaxis()  # the first runner on top, as in the tables
    config = benchmark["config"]
    axis.set_xlabel(
        f"seconds per training epoch ({config['training_images']:,} images, "
        f"batch size {config['batch_size']})"
    )
    axis.legend(fontsize=8, loc="lower right")
    axis.grid(True, axis="x", linewidth=0.5)
    figure.tight_layout()
    return figure


def variant_rows(benchmark):
    """(runner, variant name, its result) for every variant, runner by runner."""
    return [
        (runner, name, result)
        for runner in RUNNER_STYLES
        for name, result in benchmark["runners"][runner]["variants"].items()
    ]


def plot_variants(benchmark, theme):
    colors = THEMES[theme]
    rows = variant_rows(benchmark)
    figure, axis = plt.subplots(figsize=(8, 0.32 * len(rows) + 1.2))
    labels = []
    for row, (runner, _, result) in enumerate(rows):
        labels.append(f"{benchmark['runners'][runner]['label']}: {result['label']}")
        if not result["supported"]:
            axis.text(
                benchmark["compute_limit"]["epoch_seconds"] * 1.1,
                row,
                "not supported",
                va="center",
                fontsize=8,
                color=colors["text"],
            )
            continue
        epoch = result["epoch"]
        axis.barh(
            row,
            epoch["median"],
            color=colors[RUNNER_STYLES[runner][0]],
            alpha=0.8,
            hatch=HATCHES.get(runner),
            hatchcolor=colors["text"],  # black by default: unseen on a dark page
        )
        axis.errorbar(
            epoch["median"],
            row,
            xerr=[[epoch["median"] - epoch["min"]], [epoch["max"] - epoch["median"]]],
            color=colors["text"],
            capsize=2,
            linewidth=1,
        )
    axis.axvline(
        benchmark["compute_limit"]["epoch_seconds"],
        linestyle=":",
        color=colors["text"],
        label="the machine's compute limit",
    )
    axis.set_yticks(range(len(labels)), labels, fontsize=8)
    axis.invert_yaxis()  # the first runner on top, as in the tables
    axis.set_xscale("log")
    axis.set_xlabel("seconds per training epoch (log scale)")
    axis.legend(fontsize=8, loc="lower right")
    axis.grid(True, axis="x", which="both", linewidth=0.5)
    figure.tight_layout()
    return figure


def main():
    parser = argparse.ArgumentParser(
        description="Draw the benchmark's figures from its results.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("results_dir", type=Path, help="folder with benchmark.json")
    folder = parser.parse_args().results_dir
    benchmark = json.loads((folder / "benchmark.json").read_text())
    draw_in_both_themes(
        folder / "figures",
        lambda theme: {
            "step-times": plot_step_times(benchmark, theme),
            "epoch-times": plot_epoch_times(benchmark, theme),
            "variants": plot_variants(benchmark, theme),
        },
    )
    runners = benchmark["runners"]
    batch_sizes = benchmark["config"]["batch_sizes"]
    epochs = ", ".join(
        f"{runners[runner]['label']} {runners[runner]['epoch']['median']:.2f} s"
        for runner in RUNNER_STYLES
    )
    limit = benchmark["compute_limit"]
    alt = {
        "step-times": "Log-log chart of the time of one training step against the "
        f"batch size, from {batch_sizes[0]} to {batch_sizes[-1]}, for "
        + ", ".join(runners[runner]["label"] for runner in RUNNER_STYLES)
        + ", with the compute limit (the machine's measured matrix-multiply "
        "throughput) as a dotted line.",
        "epoch-times": f"Bar chart of seconds per training epoch: {epochs}; "
        f"the compute limit is {limit['epoch_seconds']:.2f} s.",
        "variants": "Bar chart, on a log scale, of seconds per training epoch for "
        "each change to each runner: "
        + "; ".join(
            f"{runners[runner]['label']}, {result['label']}: "
            + (
                f"{result['epoch']['median']:.2f} s"
                if result["supported"]
                else "not supported"
            )
            for runner, _, result in variant_rows(benchmark)
        )
        + f"; the machine's compute limit is {limit['epoch_seconds']:.2f} s.",
    }
    write_atomically(
        folder / "figures.json", (json.dumps({"alt": alt}, indent=2) + "\n").encode()
    )


if __name__ == "__main__":
    main()
