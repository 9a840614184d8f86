"""Draw every figure the site shows from the results the two programs saved.

Reads `<results>/keras/` and `<results>/pytorch/` (metrics.json,
test-predictions.npy, hidden-weights.npy) and the MNIST test images, and writes
`<results>/figures/NAME-light.svg` and `NAME-dark.svg` (one for each of the
site's colour schemes) plus `figures.json`, the alt text of each figure,
written from the same numbers the figure shows.

Needs Matplotlib and NumPy, not TensorFlow or PyTorch.
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from mnist_data import MnistError, load_mnist  # noqa: E402

FRAMEWORKS = {"keras": "Keras", "pytorch": "PyTorch"}
# Okabe-Ito colours: told apart with any colour vision, on light and dark pages.
THEMES = {
    "light": {
        "text": "#1f2328",
        "grid": "#d0d7de",
        "keras": "#0072b2",
        "pytorch": "#d55e00",
        "wrong": "#d55e00",
        "digits": "gray_r",  # dark ink on a light page
        "series": ["#000000", "#0072b2", "#d55e00", "#009e73", "#cc79a7"],
    },
    "dark": {
        "text": "#e6edf3",
        "grid": "#484f58",
        "keras": "#56b4e9",
        "pytorch": "#e69f00",
        "wrong": "#e69f00",
        "digits": "gray",  # light ink on a dark page
        "series": ["#ffffff", "#56b4e9", "#e69f00", "#009e73", "#cc79a7"],
    },
}
DIGIT_COUNT = 24


def theme_style(theme):
    colors = THEMES[theme]
    return {
        "figure.facecolor": "none",
        "axes.facecolor": "none",
        "savefig.transparent": True,
        "text.color": colors["text"],
        "axes.labelcolor": colors["text"],
        "axes.edgecolor": colors["grid"],
        "xtick.color": colors["text"],
        "ytick.color": colors["text"],
        "grid.color": colors["grid"],
        "legend.frameon": False,
        "font.size": 10,
        # Same input, same bytes: fixed ids and no date in the SVG files.
        "svg.hashsalt": "keras-vs-pytorch-lab",
    }


def save(figure, folder, name, theme):
    figure.savefig(
        folder / f"{name}-{theme}.svg", bbox_inches="tight", metadata={"Date": None}
    )
    plt.close(figure)


def plot_digits(images, titles, title_colors, columns, theme):
    rows = -(-len(images) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 0.95, rows * 1.15))
    for axis in np.ravel(axes):
        axis.axis("off")
    for axis, image, title, color in zip(
        np.ravel(axes), images, titles, title_colors, strict=False
    ):
        axis.imshow(image, cmap=THEMES[theme]["digits"], vmin=0, vmax=255)
        axis.set_title(title, fontsize=8, color=color)
    figure.tight_layout()
    return figure


def plot_curves(metrics, theme):
    colors = THEMES[theme]
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(10, 3.8))
    for framework, label in FRAMEWORKS.items():
        history = metrics[framework]["history"]
        epochs = np.arange(1, len(history["loss"]) + 1)
        for split, style in (("", "-"), ("val_", "--")):
            name = "validation" if split else "training"
            loss_axis.plot(
                epochs,
                history[f"{split}loss"],
                style,
                color=colors[framework],
                label=f"{label} {name}",
            )
            accuracy_axis.plot(
                epochs,
                np.array(history[f"{split}accuracy"]) * 100,
                style,
                color=colors[framework],
                label=f"{label} {name}",
            )
        best = metrics[framework]["best_epoch"]
        loss_axis.plot(
            best, history["val_loss"][best - 1], "o", color=colors[framework]
        )
    loss_axis.set(yscale="log", xlabel="epoch", ylabel="cross-entropy loss (log scale)")
    accuracy_axis.set(xlabel="epoch", ylabel="accuracy (%)", ylim=(95, 100.2))
    for axis in (loss_axis, accuracy_axis):
        axis.grid(True, linewidth=0.5)
    loss_axis.legend(fontsize=8)
    loss_axis.set_title("Loss (dots: kept epoch, lowest validation loss)", fontsize=10)
    accuracy_axis.set_title("Accuracy", fontsize=10)
    figure.tight_layout()
    return figure


def confusion_matrix(true_labels, predicted_labels):
    matrix = np.zeros((10, 10), dtype=int)
    np.add.at(matrix, (true_labels, predicted_labels), 1)
    return matrix


def plot_confusion(matrix, label, theme):
    colors = THEMES[theme]
    figure, axis = plt.subplots(figsize=(5.2, 4.6))
    # A log scale, so the few mistakes show beside the ~1,000 correct per digit.
    image = axis.imshow(matrix + 0.5, cmap="viridis", norm=LogNorm(0.5, matrix.max()))
    for true in range(10):
        for predicted in range(10):
            count = matrix[true, predicted]
            if count:
                shade = image.cmap(image.norm(count + 0.5))
                luminance = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2]
                axis.text(
                    predicted,
                    true,
                    str(count),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="black" if luminance > 0.5 else "white",
                )
    axis.set(
        xticks=range(10),
        yticks=range(10),
        xlabel="predicted digit",
        ylabel="true digit",
    )
    axis.set_title(f"{label}: confusion matrix on the 10,000 test digits", fontsize=10)
    axis.tick_params(length=0)
    for spine in axis.spines.values():
        spine.set_color(colors["grid"])
    figure.tight_layout()
    return figure


def plot_hidden_weights(weights, label, theme):
    figure, axes = plt.subplots(2, 8, figsize=(9, 2.6))
    for unit, axis in enumerate(np.ravel(axes)):
        image = weights[unit].reshape(28, 28)
        limit = np.abs(image).max()
        # Diverging map centred on zero: red pixels excite the unit, blue inhibit it.
        axis.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
        axis.set_title(f"unit {unit}", fontsize=8)
        axis.axis("off")
    figure.suptitle(f"{label}: input weights of the first 16 hidden units", fontsize=10)
    figure.tight_layout()
    return figure


PARITY_LABELS = {
    "sgd": "SGD",
    "sgd_large_step": "SGD, 10x step",
    "adam_default_epsilon": "Adam, default epsilons",
    "adam_same_epsilon": "Adam, same epsilon",
    "adam_negligible_epsilon": "Adam, epsilon 1e-12",
}


def plot_parity(parity, theme):
    colors = THEMES[theme]
    figure, (loss_axis, difference_axis) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, style in (("sgd", "-"), ("adam_default_epsilon", "--")):
        experiment = parity["experiments"][name]
        for framework, label in FRAMEWORKS.items():
            loss_axis.plot(
                experiment[f"{framework}_losses"],
                style,
                color=colors[framework],
                linewidth=1,
                label=f"{label}, {PARITY_LABELS[name]}",
            )
    loss_axis.set(yscale="log", xlabel="training step", ylabel="batch loss (log scale)")
    loss_axis.set_title("Loss per step: the two frameworks overlap", fontsize=10)
    loss_axis.legend(fontsize=8)
    for (name, experiment), color in zip(
        parity["experiments"].items(), colors["series"], strict=False
    ):
        difference = np.abs(
            np.array(experiment["keras_losses"])
            - np.array(experiment["pytorch_losses"])
        )
        # The largest difference so far: how the drift grows, without the
        # step-to-step noise. Identical steps (0) are drawn at 1e-9.
        difference_axis.plot(
            np.maximum(np.maximum.accumulate(difference), 1e-9),
            linewidth=1.5,
            color=color,
            label=PARITY_LABELS[name],
        )
    difference_axis.set(
        yscale="log",
        xlabel="training step",
        ylabel="largest |Keras loss - PyTorch loss| so far",
    )
    difference_axis.set_title("How far the two drift apart", fontsize=10)
    difference_axis.legend(fontsize=8)
    for axis in (loss_axis, difference_axis):
        axis.grid(True, linewidth=0.5)
    figure.tight_layout()
    return figure


BENCH_RUNNERS = {
    "keras-tensorflow": ("Keras, TensorFlow backend", "keras", "o-"),
    "keras-torch": ("Keras, PyTorch backend", "keras", "s--"),
    "pytorch": ("PyTorch", "pytorch", "o-"),
}


def plot_step_times(benchmark, theme):
    colors = THEMES[theme]
    figure, axis = plt.subplots(figsize=(7, 4.2))
    batch_sizes = benchmark["config"]["batch_sizes"]
    for runner, (label, color, style) in BENCH_RUNNERS.items():
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
    figure, axis = plt.subplots(figsize=(7, 2.6))
    for row, (runner, (_, color, _)) in enumerate(BENCH_RUNNERS.items()):
        epoch = benchmark["runners"][runner]["epoch"]
        # The two Keras runners share a colour; the PyTorch backend is hatched.
        hatch = "//" if runner == "keras-torch" else None
        axis.barh(row, epoch["median"], color=colors[color], alpha=0.8, hatch=hatch)
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
    axis.set_yticks(range(len(BENCH_RUNNERS)), [v[0] for v in BENCH_RUNNERS.values()])
    axis.set_xlabel("seconds per training epoch (54,000 images, batch size 128)")
    axis.legend(fontsize=8, loc="lower right")
    axis.grid(True, axis="x", linewidth=0.5)
    figure.tight_layout()
    return figure


def draw_benchmark(folder):
    """The benchmark's figures, from folder/benchmark.json, with alt text."""
    benchmark = json.loads((folder / "benchmark.json").read_text())
    figures_dir = folder / "figures"
    figures_dir.mkdir(exist_ok=True)
    for theme in THEMES:
        with plt.style.context(theme_style(theme)):
            save(plot_step_times(benchmark, theme), figures_dir, "step-times", theme)
            save(plot_epoch_times(benchmark, theme), figures_dir, "epoch-times", theme)
    epochs = ", ".join(
        f"{label} {benchmark['runners'][runner]['epoch']['median']:.2f} s"
        for runner, (label, _, _) in BENCH_RUNNERS.items()
    )
    limit = benchmark["compute_limit"]
    alt = {
        "step-times": "Log-log chart of the time of one training step against the "
        "batch size, from 16 to 1024, for Keras on TensorFlow, Keras on PyTorch and "
        "PyTorch, with the compute limit as a dotted line: at small batches every "
        "framework is far above the limit, at large batches they approach it.",
        "epoch-times": f"Bar chart of seconds per training epoch: {epochs}; "
        f"the compute limit is {limit['epoch_seconds']:.2f} s.",
    }
    (folder / "figures.json").write_text(json.dumps({"alt": alt}, indent=2) + "\n")


def most_confused(matrix):
    errors = matrix.copy()
    np.fill_diagonal(errors, 0)
    true, predicted = np.unravel_index(errors.argmax(), errors.shape)
    return int(true), int(predicted), int(errors[true, predicted])


def main():
    parser = argparse.ArgumentParser(
        description="Draw the site's figures from saved results.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "results_dir", type=Path, help="folder with keras/ and pytorch/"
    )
    parser.add_argument(
        "--benchmark",
        action="store_true",
        help="results_dir holds benchmark.json: draw the benchmark's figures only",
    )
    parser.add_argument(
        "--data-dir",
        help="folder with the MNIST IDX files; default: $MNIST_DIR or download",
    )
    args = parser.parse_args()
    if args.benchmark:
        draw_benchmark(args.results_dir)
        return
    try:
        (x_train, y_train), (x_test, y_test) = load_mnist(args.data_dir)
    except MnistError as error:
        parser.exit(1, f"error: {error}\n")

    parity = json.loads((args.results_dir / "parity.json").read_text())
    metrics, predictions, hidden_weights = {}, {}, {}
    for framework in FRAMEWORKS:
        folder = args.results_dir / framework
        metrics[framework] = json.loads((folder / "metrics.json").read_text())
        predictions[framework] = np.load(folder / "test-predictions.npy")
        hidden_weights[framework] = np.load(folder / "hidden-weights.npy")
    matrices = {fw: confusion_matrix(y_test, predictions[fw]) for fw in FRAMEWORKS}
    wrong = {fw: np.flatnonzero(predictions[fw] != y_test) for fw in FRAMEWORKS}

    figures_dir = args.results_dir / "figures"
    figures_dir.mkdir(exist_ok=True)
    for theme in THEMES:
        with plt.style.context(theme_style(theme)):
            colors = THEMES[theme]
            save(
                plot_digits(
                    x_train[:DIGIT_COUNT],
                    [f"label {y}" for y in y_train[:DIGIT_COUNT]],
                    [colors["text"]] * DIGIT_COUNT,
                    12,
                    theme,
                ),
                figures_dir,
                "sample-digits",
                theme,
            )
            save(plot_curves(metrics, theme), figures_dir, "training-curves", theme)
            save(plot_parity(parity, theme), figures_dir, "parity", theme)
            titles, title_colors = [], []
            for index in range(DIGIT_COUNT):
                keras_guess, pytorch_guess = (
                    predictions[fw][index] for fw in FRAMEWORKS
                )
                titles.append(f"K {keras_guess} · P {pytorch_guess}")
                correct = keras_guess == pytorch_guess == y_test[index]
                title_colors.append(colors["text"] if correct else colors["wrong"])
            save(
                plot_digits(x_test[:DIGIT_COUNT], titles, title_colors, 12, theme),
                figures_dir,
                "test-predictions",
                theme,
            )
            for framework, label in FRAMEWORKS.items():
                save(
                    plot_confusion(matrices[framework], label, theme),
                    figures_dir,
                    f"confusion-{framework}",
                    theme,
                )
                shown = wrong[framework][:DIGIT_COUNT]
                save(
                    plot_digits(
                        x_test[shown],
                        [f"{y_test[i]} → {predictions[framework][i]}" for i in shown],
                        [colors["wrong"]] * len(shown),
                        12,
                        theme,
                    ),
                    figures_dir,
                    f"misclassified-{framework}",
                    theme,
                )
                save(
                    plot_hidden_weights(hidden_weights[framework], label, theme),
                    figures_dir,
                    f"hidden-weights-{framework}",
                    theme,
                )

    both_wrong = np.intersect1d(wrong["keras"], wrong["pytorch"]).size
    sample_labels = ", ".join(map(str, y_train[:DIGIT_COUNT]))
    epochs = len(metrics["keras"]["history"]["loss"])
    alt = {
        "sample-digits": "The first 24 handwritten digits of the MNIST training set, "
        f"28 by 28 pixels each, with their labels: {sample_labels}.",
        "training-curves": f"Two line charts over {epochs} epochs. Left, the loss of "
        "Keras and PyTorch on the training and validation sets (log scale): training "
        "loss falls steadily while validation loss levels off. Right, accuracy: "
        + "; ".join(
            f"{label} ends at {metrics[fw]['history']['accuracy'][-1]:.1%} training "
            f"and {metrics[fw]['history']['val_accuracy'][-1]:.1%} validation accuracy"
            for fw, label in FRAMEWORKS.items()
        )
        + ".",
        "test-predictions": "The first 24 test digits, each titled with the Keras (K) "
        "and PyTorch (P) predictions; "
        + (
            "both models get all of them right."
            if all(
                (predictions[fw][:DIGIT_COUNT] == y_test[:DIGIT_COUNT]).all()
                for fw in FRAMEWORKS
            )
            else "titles in colour mark a wrong prediction."
        ),
    }
    sgd, adam = (
        parity["experiments"][name] for name in ("sgd", "adam_default_epsilon")
    )
    alt["parity"] = (
        f"Two charts over {parity['config']['steps']} training steps from the same "
        "initial weights. Left, the batch loss of Keras and PyTorch with SGD and with "
        "Adam: the curves lie on top of each other. Right, the largest absolute "
        "difference of the two losses so far, log scale: with SGD it stays below "
        f"{sgd['max_loss_difference']:.0e}; with Adam and the default epsilons it "
        f"reaches {adam['max_loss_difference']:.0e}."
    )
    for framework, label in FRAMEWORKS.items():
        matrix = matrices[framework]
        true, predicted, count = most_confused(matrix)
        alt[f"confusion-{framework}"] = (
            f"Confusion matrix of the {label} model: {np.trace(matrix):,} of 10,000 "
            "test digits on the diagonal (correct); the most frequent mistake is a "
            f"{true} predicted as {predicted}, {count} times."
        )
        alt[f"misclassified-{framework}"] = (
            f"The first {min(DIGIT_COUNT, len(wrong[framework]))} of the "
            f"{len(wrong[framework])} test digits the {label} model gets wrong, each "
            "titled true digit, arrow, predicted digit; many are badly written or "
            f"ambiguous. {both_wrong} digits fool both models."
        )
        alt[f"hidden-weights-{framework}"] = (
            "The 784 input weights of each of the first 16 hidden units of the "
            f"{label} model drawn as 28 by 28 images, red for positive and blue for "
            "negative: speckled patterns with faint strokes; the border pixels, "
            "which no digit touches, keep their random initial values."
        )
    summary = {
        "alt": alt,
        "misclassified": {fw: int(len(wrong[fw])) for fw in FRAMEWORKS},
        "misclassified_by_both": int(both_wrong),
    }
    (args.results_dir / "figures.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
