"""The lecture runs (`make artifacts`, docs/generated/): each program trained
once with its defaults; their times per epoch and their training curves."""

import statistics

from tools.course import FRAMEWORKS

from .shared import macro


def median_epoch(metrics):
    """The median wall time of a run's epochs, in seconds."""
    return statistics.median(metrics["epoch_seconds"])


def median_epoch_seconds(metrics, framework):
    """Median wall time of one epoch (training and validation), in seconds."""
    return f"{median_epoch(metrics[framework]):.1f}"


def training_curves(figures):
    """A list item per framework: how its training and validation losses
    went, epoch by epoch, as the training-curves figure shows them."""
    items = []
    for framework, label in FRAMEWORKS.items():
        curve = figures["curves"][framework]
        falls = ", lower at every epoch" if curve["loss_falls_every_epoch"] else ""
        items.append(
            f"- **{label}**: the training loss goes from {curve['loss_first']:.3f}\n"
            f"  in the first epoch to {curve['loss_last']:.4f} in the last{falls};\n"
            "  the validation loss is lowest at epoch "
            f"{curve['val_loss_min_epoch']}\n"
            f"  ({curve['val_loss_min']:.4f}) and ends at "
            f"{curve['val_loss_last']:.4f}."
        )
    return "\n".join(items)


def register(env, results):
    env.variables["results"] = results.metrics
    # The configuration the committed Keras run recorded in its metrics.json.
    env.variables["hyperparameters"] = results.metrics["keras"]["config"]
    env.variables["figures"] = results.figures
    macro(env, median_epoch_seconds, results.metrics)
    macro(env, training_curves, results.figures)
