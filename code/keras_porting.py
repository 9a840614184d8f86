"""Three things that change meaning between Keras and PyTorch, each run for
real: weight decay, resuming training, the same numbers twice.

The Porting page shows these sections and the numbers this script writes to
`<output-dir>/porting.json`. Each part trains fresh copies of the course's MLP
on the course's training split with a short schedule, so that a setting and
its alternative are compared under the same conditions. pytorch_porting.py
does the same for PyTorch; keras_train_step.py shows Keras' training step.
"""

# --8<-- [start:setup]
import argparse
import json
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mnist_data import load_mnist

EPOCHS = 2  # before the checkpoint; resuming trains one more
HIDDEN_UNITS = 512  # as in the course's model
BATCH_SIZE = 128  # as in the course's model
LEARNING_RATE = 1e-3  # Adam's usual first step size, decayed to zero
WEIGHT_DECAY = 0.01  # PyTorch AdamW's default (Keras' AdamW: 0.004)
SEED = 0

parser = argparse.ArgumentParser(
    description="Run the Keras porting differences and record them.",
    formatter_class=argparse.ArgumentDefaultsHelpFormatter,
)
parser.add_argument(
    "--output-dir", default="runs/keras", help="where results go"
)
parser.add_argument("--data-dir", help="folder with the MNIST IDX files")
args = parser.parse_args()

(x_train, y_train), (x_test, y_test) = load_mnist(args.data_dir)
x_train = x_train[:-6000].reshape(-1, 784).astype("float32") / 255
y_train = y_train[:-6000]
x_test = x_test.reshape(-1, 784).astype("float32") / 255
steps_per_epoch = -(-len(x_train) // BATCH_SIZE)  # rounded up


def make_model(regularizer=None):
    """The course's MLP; every variant starts from the same weights."""
    keras.utils.set_random_seed(SEED)
    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(
                HIDDEN_UNITS,
                activation="relu",
                kernel_regularizer=regularizer,
                bias_regularizer=regularizer,
            ),
            keras.layers.Dense(
                10,
                kernel_regularizer=regularizer,
                bias_regularizer=regularizer,
            ),
        ]
    )


def cosine(epochs):
    return keras.optimizers.schedules.CosineDecay(
        LEARNING_RATE, decay_steps=epochs * steps_per_epoch
    )


def compile_model(model, optimizer):
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])


def fit(model, epochs=1, initial_epoch=0):
    """The last epoch's mean training loss."""
    history = model.fit(
        x_train,
        y_train,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        initial_epoch=initial_epoch,
        verbose=0,
    )
    return history.history["loss"][-1]


def test_accuracy(model):
    return model.evaluate(x_test, y_test, verbose=0)[1]


def weights(model):
    return np.concatenate([w.numpy().ravel() for w in model.trainable_weights])


results = {
    "config": {
        "epochs": EPOCHS,
        "hidden_units": HIDDEN_UNITS,
        "batch_size": BATCH_SIZE,
        "learning_rate": LEARNING_RATE,
        "weight_decay": WEIGHT_DECAY,
    }
}
# --8<-- [end:setup]

# --8<-- [start:weight_decay]
# Keras' weight_decay shrinks each weight by learning rate * weight_decay * w
# before the step (decoupled, as PyTorch's AdamW); AdamW is Adam with a
# default weight_decay of 0.004. PyTorch's Adam(weight_decay=...) adds the
# decay to the gradient instead: in Keras, an L2 penalty of half the rate on
# every weight (the gradient of 0.005 * w**2 is 0.01 * w).
optimizers = {
    "adam": lambda: keras.optimizers.Adam(
        cosine(1), weight_decay=WEIGHT_DECAY
    ),
    "adamw": lambda: keras.optimizers.AdamW(
        cosine(1), weight_decay=WEIGHT_DECAY
    ),
    "adam_l2": lambda: keras.optimizers.Adam(cosine(1)),
}
l2 = keras.regularizers.L2(WEIGHT_DECAY / 2)  # for "adam_l2"
# --8<-- [end:weight_decay]

# --8<-- [start:weight_decay_measured]
# Pixels that are black in every training image: their weights get no
# gradient from the data, so only the weight decay moves them.
black = (x_train == 0).all(axis=0)
results["weight_decay"] = {
    "black_pixels": int(black.sum()),
    "adamw_default": keras.optimizers.AdamW().weight_decay,
}
trained = {}
for name, make_optimizer in optimizers.items():
    model = make_model(l2 if name == "adam_l2" else None)
    first_layer = model.layers[0].kernel
    before = np.linalg.norm(first_layer.numpy()[black])
    compile_model(model, make_optimizer())
    fit(model)
    trained[name] = weights(model)
    results["weight_decay"][name] = {
        # what one epoch left of those weights (1: untouched, 0: gone)
        "black_pixel_weights_left": float(
            np.linalg.norm(first_layer.numpy()[black]) / before
        ),
        "test_accuracy": test_accuracy(model),
    }
for name in optimizers:
    difference = np.abs(trained[name] - trained["adamw"]).max()
    results["weight_decay"][name]["against_adamw"] = float(difference)
# --8<-- [end:weight_decay_measured]


# --8<-- [start:resume_measured]
def fresh():
    """A model and Adam with the cosine over all epochs, compiled: what the
    training script makes when it starts."""
    model = make_model()
    compile_model(model, keras.optimizers.Adam(cosine(EPOCHS + 1)))
    return model


uninterrupted = fresh()
results["resume"] = {
    "uninterrupted": {
        "last_epoch_loss": fit(uninterrupted, EPOCHS + 1),
        "test_accuracy": test_accuracy(uninterrupted),
    }
}
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "checkpoint.keras"
    model = fresh()
    fit(model, EPOCHS)
    # --8<-- [start:save_checkpoint]
    # A .keras file holds the optimizer too: its step count, Adam's moments
    # and the learning rate's schedule, beside the weights and the loss.
    model.save(path)
    # --8<-- [end:save_checkpoint]
    for name in ("checkpoint", "weights_only"):
        if name == "checkpoint":
            # --8<-- [start:load_checkpoint]
            model = keras.models.load_model(path)  # compiled, as saved
            # --8<-- [end:load_checkpoint]
        else:  # the weights alone, into what the script makes at its start
            model = fresh()
            model.set_weights(keras.models.load_model(path).get_weights())
        results["resume"][name] = {
            "step": int(model.optimizer.iterations),  # steps taken before
            "learning_rate": float(model.optimizer.learning_rate),
            # initial_epoch only numbers the epochs: the steps count on.
            "last_epoch_loss": fit(model, EPOCHS + 1, initial_epoch=EPOCHS),
            "test_accuracy": test_accuracy(model),
            "against_uninterrupted": float(
                np.abs(weights(model) - weights(uninterrupted)).max()
            ),
        }
# --8<-- [end:resume_measured]


# --8<-- [start:determinism_measured]
def one_epoch():
    """One epoch from the same start: its seconds and the weights."""
    model = make_model()
    compile_model(model, keras.optimizers.Adam(cosine(1)))
    start = time.perf_counter()
    fit(model)
    return time.perf_counter() - start, weights(model)


# No exported call switches op determinism off: the runs without it first.
runs = {"off": [one_epoch(), one_epoch()]}
# --8<-- [start:determinism]
# Python's, NumPy's and TensorFlow's seeds, and ops that give the same result
# for the same input (on a GPU, kernels that add in a fixed order);
# TensorFlow exports no call that switches the second off again.
keras.utils.set_random_seed(SEED)
tf.config.experimental.enable_op_determinism()
# --8<-- [end:determinism]
runs["on"] = [one_epoch(), one_epoch()]
results["determinism"] = {
    "device": "cpu",
    "order": "off, off, on, on",
    **{
        name: {
            "seconds": [seconds for seconds, _ in pair],
            # the two runs' largest difference in any weight (0: the same)
            "difference": float(np.abs(pair[0][1] - pair[1][1]).max()),
        }
        for name, pair in runs.items()
    },
}
# --8<-- [end:determinism_measured]

# --8<-- [start:save]
output_dir = Path(args.output_dir)
output_dir.mkdir(parents=True, exist_ok=True)
(output_dir / "porting.json").write_text(json.dumps(results, indent=2) + "\n")
print(json.dumps(results, indent=2))
# --8<-- [end:save]
