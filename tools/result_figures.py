"""Draw the figures of docs/generated/ from the results the retrain step saved.

Reads `<results>/keras/` and `<results>/pytorch/` (metrics.json,
test-predictions.npy, hidden-weights.npy), `<results>/parity.json` and the
MNIST images, and writes `<results>/figures/NAME-light.svg` and `NAME-dark.svg`
plus `<results>/figures.json`, the alt text of each figure, written from the
same numbers the figure shows.

Needs Matplotlib and NumPy, not TensorFlow or PyTorch.
"""

import argparse
import json
import textwrap
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from mnist_data import MnistError, load_mnist
from tools.course import FRAMEWORKS, KERAS_BACKENDS, training_images
from tools.figure_style import THEMES, draw_in_both_themes

DIGIT_COUNT = 24


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


# Each Keras backend's colour (its place in the theme's series) and line style,
# so that lines drawn on top of each other still show.
BACKEND_STYLES = {"tensorflow": (1, "-"), "jax": (3, "--"), "torch": (4, ":")}


def rounding_steps_so_far(parity, experiment, backend):
    """The largest difference so far between Keras' loss and PyTorch's,
    relative to the loss, in float32 rounding steps (machine epsilons)."""
    keras_losses = np.array(experiment["backends"][backend]["keras_losses"])
    pytorch_losses = np.array(experiment["pytorch_losses"])
    relative = np.abs(keras_losses - pytorch_losses) / np.abs(pytorch_losses)
    return np.maximum.accumulate(relative) / parity["config"]["float32_epsilon"]


def plot_parity(parity, theme):
    colors = THEMES[theme]
    experiments = parity["experiments"]
    tolerance = parity["config"]["rounding_tolerance"]
    figure, axes = plt.subplots(2, 3, figsize=(10, 6.4), sharex=True)
    loss_axis, *difference_axes = axes.ravel()
    sgd = experiments["sgd"]
    loss_axis.plot(
        sgd["pytorch_losses"], color=colors["pytorch"], linewidth=3, label="PyTorch"
    )
    for backend, (series, style) in BACKEND_STYLES.items():
        if backend in sgd["backends"]:
            loss_axis.plot(
                sgd["backends"][backend]["keras_losses"],
                style,
                color=colors["series"][series],
                linewidth=2 if style == ":" else 1,
                label=f"Keras on {KERAS_BACKENDS[backend]}",
            )
    loss_axis.set(ylabel="batch loss")
    loss_axis.set_title(f"{sgd['label']}: loss per step", fontsize=9)
    loss_axis.legend(fontsize=7, loc="lower left")
    # Identical losses so far (0) are drawn at the bottom edge.
    floor = 0.1
    largest = max(
        rounding_steps_so_far(parity, experiment, backend).max()
        for experiment in experiments.values()
        for backend in experiment["backends"]
    )
    for axis, experiment in zip(difference_axes, experiments.values(), strict=False):
        axis.axhline(
            tolerance,
            color=colors["text"],
            linewidth=0.8,
            linestyle=(0, (1, 3)),
            label="float32 rounding tolerance",
        )
        for backend, (series, style) in BACKEND_STYLES.items():
            if backend in experiment["backends"]:
                axis.plot(
                    np.maximum(
                        rounding_steps_so_far(parity, experiment, backend), floor
                    ),
                    style,
                    color=colors["series"][series],
                    # A dotted line shows only if drawn thicker.
                    linewidth=2.5 if style == ":" else 1.5,
                    label=f"Keras on {KERAS_BACKENDS[backend]}",
                )
        axis.set(yscale="log", ylim=(floor, largest * 3))
        axis.set_title(textwrap.fill(experiment["label"], 32), fontsize=9)
    difference_axes[0].legend(fontsize=7)
    for axis in axes.ravel():
        axis.grid(True, linewidth=0.5)
    axes[0, 1].set_ylabel("largest loss difference so far\n(float32 rounding steps)")
    axes[1, 0].set_ylabel("largest loss difference so far\n(float32 rounding steps)")
    for axis in axes[1]:
        axis.set_xlabel("training step")
    figure.tight_layout()
    return figure


def parity_alt(parity):
    """The parity figure's alt text, from the numbers it draws."""
    experiments = parity["experiments"]
    tolerance = parity["config"]["rounding_tolerance"]
    sgd = experiments["sgd"]
    names = [KERAS_BACKENDS[backend] for backend in sgd["backends"]]
    names = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
    losses = [sgd["pytorch_losses"]] + [
        found["keras_losses"] for found in sgd["backends"].values()
    ]
    text = (
        f"Six charts over {parity['config']['steps']} training steps from the same "
        f"initial weights. First, the batch loss with {sgd['label']} of PyTorch and "
        f"of Keras on {names}, from {losses[0][0]:.2f} to {losses[0][-1]:.2f}; "
        f"at every step the curves are at most {sgd['max_loss_difference']:.1e} "
        "apart. Then one chart per experiment: the largest difference so far "
        "between the loss of Keras and that of PyTorch, relative to the loss, in "
        "float32 rounding steps (log scale), one line per Keras backend, and a "
        f"dotted line at the tolerance of {tolerance} steps."
    )
    for experiment in experiments.values():
        finals = {
            backend: rounding_steps_so_far(parity, experiment, backend)[-1]
            for backend in experiment["backends"]
        }
        values = ", ".join(
            f"{KERAS_BACKENDS[backend]} "
            + (f"{value:.1f}" if value < 10 else f"{value:,.0f}")
            for backend, value in finals.items()
        )
        below = [b for b, value in finals.items() if value <= tolerance]
        side = (
            "all within the tolerance"
            if len(below) == len(finals)
            else "none within the tolerance"
            if not below
            else "within the tolerance: "
            + ", ".join(KERAS_BACKENDS[backend] for backend in below)
        )
        text += f" {experiment['label']}: {values}; {side}."
    return text


def most_confused(matrix):
    errors = matrix.copy()
    np.fill_diagonal(errors, 0)
    true, predicted = np.unravel_index(errors.argmax(), errors.shape)
    return int(true), int(predicted), int(errors[true, predicted])


def load_runs(results_dir, y_test):
    """Each framework's saved run: metrics, predictions, hidden weights, and
    from them the confusion matrix and the test digits it gets wrong."""
    runs = SimpleNamespace(metrics={}, predictions={}, hidden_weights={})
    for framework in FRAMEWORKS:
        folder = results_dir / framework
        runs.metrics[framework] = json.loads((folder / "metrics.json").read_text())
        runs.predictions[framework] = np.load(folder / "test-predictions.npy")
        runs.hidden_weights[framework] = np.load(folder / "hidden-weights.npy")
    runs.matrices = {
        fw: confusion_matrix(y_test, runs.predictions[fw]) for fw in FRAMEWORKS
    }
    runs.wrong = {
        fw: np.flatnonzero(runs.predictions[fw] != y_test) for fw in FRAMEWORKS
    }
    return runs


def figures_of(theme, runs, parity, mnist):
    """Every figure of docs/generated/ in one colour scheme."""
    (x_train, y_train), (x_test, y_test) = mnist
    predictions, colors = runs.predictions, THEMES[theme]
    figures = {
        "sample-digits": plot_digits(
            x_train[:DIGIT_COUNT],
            [f"label {y}" for y in y_train[:DIGIT_COUNT]],
            [colors["text"]] * DIGIT_COUNT,
            12,
            theme,
        ),
        "training-curves": plot_curves(runs.metrics, theme),
        "parity": plot_parity(parity, theme),
    }
    titles, title_colors = [], []
    for index in range(DIGIT_COUNT):
        keras_guess, pytorch_guess = (predictions[fw][index] for fw in FRAMEWORKS)
        titles.append(f"K {keras_guess} · P {pytorch_guess}")
        correct = keras_guess == pytorch_guess == y_test[index]
        title_colors.append(colors["text"] if correct else colors["wrong"])
    figures["test-predictions"] = plot_digits(
        x_test[:DIGIT_COUNT], titles, title_colors, 12, theme
    )
    for framework, label in FRAMEWORKS.items():
        figures[f"confusion-{framework}"] = plot_confusion(
            runs.matrices[framework], label, theme
        )
        shown = runs.wrong[framework][:DIGIT_COUNT]
        figures[f"misclassified-{framework}"] = plot_digits(
            x_test[shown],
            [f"{y_test[i]} → {predictions[framework][i]}" for i in shown],
            [colors["wrong"]] * len(shown),
            12,
            theme,
        )
        figures[f"hidden-weights-{framework}"] = plot_hidden_weights(
            runs.hidden_weights[framework], label, theme
        )
    return figures


def pixel_facts(x_train):
    """Pixels that are zero in every image the models train on: their input
    weights get a zero gradient, so no optimizer moves them."""
    training = x_train[: training_images()].reshape(-1, 784)
    always_zero = ~training.any(axis=0).reshape(28, 28)
    border = np.ones((28, 28), bool)
    border[1:-1, 1:-1] = False
    return {
        "training_images": len(training),
        "always_zero": int(always_zero.sum()),
        "border": int(border.sum()),
        "border_always_zero": int((always_zero & border).sum()),
    }


def curve_facts(metrics):
    """What the training curves show, per framework, in numbers."""
    curves = {}
    for framework in FRAMEWORKS:
        history = metrics[framework]["history"]
        loss, val_loss = history["loss"], history["val_loss"]
        curves[framework] = {
            "loss_first": loss[0],
            "loss_last": loss[-1],
            "loss_falls_every_epoch": all(
                later < earlier for earlier, later in zip(loss, loss[1:], strict=False)
            ),
            "val_loss_min": min(val_loss),
            "val_loss_min_epoch": val_loss.index(min(val_loss)) + 1,
            "val_loss_last": val_loss[-1],
        }
    return curves


def shared_alt_texts(runs, curves, y_train, y_test):
    """The alt texts of the figures that show both frameworks."""
    metrics, predictions = runs.metrics, runs.predictions
    sample_labels = ", ".join(map(str, y_train[:DIGIT_COUNT]))
    epochs = len(metrics["keras"]["history"]["loss"])
    return {
        "sample-digits": "The first 24 handwritten digits of the MNIST training set, "
        f"28 by 28 pixels each, with their labels: {sample_labels}.",
        "training-curves": f"Two line charts over {epochs} epochs. Left, the loss of "
        "Keras and PyTorch on the training and validation sets (log scale): "
        + "; ".join(
            f"the training loss of {label} goes from {curves[fw]['loss_first']:.3f} to "
            f"{curves[fw]['loss_last']:.4f}, its validation loss is lowest at epoch "
            f"{curves[fw]['val_loss_min_epoch']} ({curves[fw]['val_loss_min']:.4f}) "
            f"and ends at {curves[fw]['val_loss_last']:.4f}"
            for fw, label in FRAMEWORKS.items()
        )
        + ". Right, accuracy: "
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


def framework_alt_texts(runs, pixels, both_wrong):
    """The alt texts of each framework's own figures."""
    alt = {}
    for framework, label in FRAMEWORKS.items():
        matrix, wrong = runs.matrices[framework], runs.wrong[framework]
        true, predicted, count = most_confused(matrix)
        alt[f"confusion-{framework}"] = (
            f"Confusion matrix of the {label} model: {np.trace(matrix):,} of 10,000 "
            "test digits on the diagonal (correct); the most frequent mistake is a "
            f"{true} predicted as {predicted}, {count} times."
        )
        alt[f"misclassified-{framework}"] = (
            f"The first {min(DIGIT_COUNT, len(wrong))} of the "
            f"{len(wrong)} test digits the {label} model gets wrong, each "
            f"titled true digit, arrow, predicted digit. {both_wrong} test digits "
            "fool both models."
        )
        alt[f"hidden-weights-{framework}"] = (
            "The 784 input weights of each of the first 16 hidden units of the "
            f"{label} model drawn as 28 by 28 images, red for positive and blue for "
            f"negative. {pixels['always_zero']} of the 784 pixels are zero in all "
            f"{pixels['training_images']:,} training images "
            f"({pixels['border_always_zero']} of the {pixels['border']} on the "
            "outer edge): their weights get no gradient and keep their initial "
            "values."
        )
    return alt


def main():
    parser = argparse.ArgumentParser(
        description="Draw the figures of docs/generated/ from saved results.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "results_dir", type=Path, help="folder with keras/, pytorch/ and parity.json"
    )
    args = parser.parse_args()
    try:
        mnist = (x_train, y_train), (_, y_test) = load_mnist()
    except MnistError as error:
        parser.exit(1, f"error: {error}\n")

    parity = json.loads((args.results_dir / "parity.json").read_text())
    runs = load_runs(args.results_dir, y_test)
    draw_in_both_themes(
        args.results_dir / "figures",
        lambda theme: figures_of(theme, runs, parity, mnist),
    )
    both_wrong = np.intersect1d(runs.wrong["keras"], runs.wrong["pytorch"]).size
    pixels, curves = pixel_facts(x_train), curve_facts(runs.metrics)
    alt = shared_alt_texts(runs, curves, y_train, y_test)
    alt["parity"] = parity_alt(parity)
    alt.update(framework_alt_texts(runs, pixels, both_wrong))
    summary = {
        "alt": alt,
        "misclassified": {fw: int(len(runs.wrong[fw])) for fw in FRAMEWORKS},
        "misclassified_by_both": int(both_wrong),
        "pixels": pixels,
        "curves": curves,
    }
    (args.results_dir / "figures.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
