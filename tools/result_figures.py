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
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from mnist_data import MnistError, load_mnist
from tools.course import FRAMEWORKS, training_images
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
                label=f"{label}, {experiment['label']}",
            )
    loss_axis.set(yscale="log", xlabel="training step", ylabel="batch loss (log scale)")
    loss_axis.set_title("Loss per step: the two frameworks overlap", fontsize=10)
    loss_axis.legend(fontsize=8)
    for experiment, color in zip(
        parity["experiments"].values(), colors["series"], strict=False
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
            label=experiment["label"],
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


def most_confused(matrix):
    errors = matrix.copy()
    np.fill_diagonal(errors, 0)
    true, predicted = np.unravel_index(errors.argmax(), errors.shape)
    return int(true), int(predicted), int(errors[true, predicted])


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
        (x_train, y_train), (x_test, y_test) = load_mnist()
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

    def draw(theme):
        colors = THEMES[theme]
        figures = {
            "sample-digits": plot_digits(
                x_train[:DIGIT_COUNT],
                [f"label {y}" for y in y_train[:DIGIT_COUNT]],
                [colors["text"]] * DIGIT_COUNT,
                12,
                theme,
            ),
            "training-curves": plot_curves(metrics, theme),
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
                matrices[framework], label, theme
            )
            shown = wrong[framework][:DIGIT_COUNT]
            figures[f"misclassified-{framework}"] = plot_digits(
                x_test[shown],
                [f"{y_test[i]} → {predictions[framework][i]}" for i in shown],
                [colors["wrong"]] * len(shown),
                12,
                theme,
            )
            figures[f"hidden-weights-{framework}"] = plot_hidden_weights(
                hidden_weights[framework], label, theme
            )
        return figures

    draw_in_both_themes(args.results_dir / "figures", draw)

    both_wrong = np.intersect1d(wrong["keras"], wrong["pytorch"]).size
    # Pixels that are zero in every image the models train on: their input
    # weights get a zero gradient, so no optimizer moves them.
    training = x_train[: training_images()].reshape(-1, 784)
    always_zero = ~training.any(axis=0).reshape(28, 28)
    border = np.ones((28, 28), bool)
    border[1:-1, 1:-1] = False
    pixels = {
        "training_images": len(training),
        "always_zero": int(always_zero.sum()),
        "border": int(border.sum()),
        "border_always_zero": int((always_zero & border).sum()),
    }
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
    sample_labels = ", ".join(map(str, y_train[:DIGIT_COUNT]))
    epochs = len(metrics["keras"]["history"]["loss"])
    alt = {
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
    sgd, adam = (
        parity["experiments"][name] for name in ("sgd", "adam_default_epsilon")
    )
    alt["parity"] = (
        f"Two charts over {parity['config']['steps']} training steps from the same "
        "initial weights. Left, the batch loss of Keras and PyTorch with SGD and with "
        "Adam, one curve per framework. Right, the largest absolute "
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
    summary = {
        "alt": alt,
        "misclassified": {fw: int(len(wrong[fw])) for fw in FRAMEWORKS},
        "misclassified_by_both": int(both_wrong),
        "pixels": pixels,
        "curves": curves,
    }
    (args.results_dir / "figures.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
