"""Common Keras mistakes, each run for real: what goes wrong and by how much.

The Pitfalls page shows these sections and the numbers this script writes to
`<output-dir>/pitfalls.json`. Each demonstration trains a fresh copy of the
course's MLP for a few epochs with a constant learning rate, so a mistake and
its fix are compared under the same conditions. pytorch_pitfalls.py does the
same for PyTorch.
"""

# --8<-- [start:setup]
import argparse
import json
from pathlib import Path

import keras
import numpy as np

from mnist_data import load_mnist

# enough to tell a mistake from its fix, short enough to run them all
EPOCHS = 3
HIDDEN_UNITS = 512  # as in the course's model
BATCH_SIZE = 128  # as in the course's model
LEARNING_RATE = 1e-3  # Adam's usual step size, kept constant here
SGD_LEARNING_RATE = 0.1  # plain SGD needs far larger steps than Adam
SEED = 0

parser = argparse.ArgumentParser(
    description="Run the Keras pitfalls and record their numbers.",
    formatter_class=argparse.ArgumentDefaultsHelpFormatter,
)
parser.add_argument(
    "--output-dir", default="runs/keras", help="where results go"
)
parser.add_argument("--data-dir", help="folder with the MNIST IDX files")
args = parser.parse_args()

(x_train_uint8, y_train), (x_test_uint8, y_test) = load_mnist(args.data_dir)
x_train = x_train_uint8.reshape(-1, 784).astype("float32") / 255
x_test = x_test_uint8.reshape(-1, 784).astype("float32") / 255


def make_model(output_activation=None):
    """The course's MLP, optionally with an activation on the last layer."""
    # every variant starts from the same weights
    keras.utils.set_random_seed(SEED)
    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(HIDDEN_UNITS, activation="relu"),
            keras.layers.Dense(10, activation=output_activation),
        ]
    )


def train(model, loss, optimizer="adam"):
    if optimizer == "adam":
        optimizer = keras.optimizers.Adam(learning_rate=LEARNING_RATE)
    else:
        optimizer = keras.optimizers.SGD(learning_rate=SGD_LEARNING_RATE)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    keras.utils.set_random_seed(SEED)  # same batches for every variant
    model.fit(
        x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0
    )
    return model.evaluate(x_test, y_test, verbose=0)[1]


results = {
    "config": {
        "epochs": EPOCHS,
        "hidden_units": HIDDEN_UNITS,
        "batch_size": BATCH_SIZE,
        "learning_rate": LEARNING_RATE,
        "sgd_learning_rate": SGD_LEARNING_RATE,
    }
}
# --8<-- [end:setup]

# --8<-- [start:from_logits]
# The last layer outputs logits (no activation). Only from_logits=True says so;
# the default, False, reads the outputs as probabilities.
results["from_logits"] = {}
for optimizer in ("sgd", "adam"):
    results["from_logits"][optimizer] = {
        "logits_true": train(
            make_model(),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            optimizer,
        ),
        "logits_false": train(
            make_model(),
            keras.losses.SparseCategoricalCrossentropy(),
            optimizer,
        ),
        # The Keras way to get the same: softmax in the model,
        # from_logits=False.
        "softmax_false": train(
            make_model("softmax"),
            keras.losses.SparseCategoricalCrossentropy(),
            optimizer,
        ),
        # The original lecture's PyTorch bug, in Keras: softmax, then a loss
        # that applies softmax again.
        "softmax_true": train(
            make_model("softmax"),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            optimizer,
        ),
    }
# --8<-- [end:from_logits]

# --8<-- [start:labels]
model = make_model()
logits = model(x_test[:1000])
labels = y_test[:1000]
one_hot = keras.utils.to_categorical(labels, num_classes=10)
sparse = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
categorical = keras.losses.CategoricalCrossentropy(from_logits=True)
try:
    categorical(labels, logits)  # integer labels given to the one-hot loss
    categorical_with_integers_error = None
except ValueError as error:
    categorical_with_integers_error = str(error).splitlines()[0]
results["labels"] = {
    "sparse_with_integers": float(sparse(labels, logits)),
    "categorical_with_one_hot": float(categorical(one_hot, logits)),
    "categorical_with_integers_error": categorical_with_integers_error,
}
# --8<-- [end:labels]

# --8<-- [start:dtype]
scaled = x_test_uint8.reshape(-1, 784) / 255  # NumPy's default: float64
outputs = model.predict(scaled, verbose=0)
results["dtype"] = {
    "numpy_dtype": str(scaled.dtype),
    # Keras casts inputs to the layer's dtype: no error, float32 computation.
    "output_dtype": str(outputs.dtype),
    "same_predictions": bool(
        (outputs.argmax(1) == model.predict(x_test, verbose=0).argmax(1)).all()
    ),
}
# --8<-- [end:dtype]

# --8<-- [start:adam_epsilon]
# One weight, the same tiny gradient at every step: how far does Adam move it?
weight = keras.Variable(np.zeros(1, "float32"))
adam = keras.optimizers.Adam(learning_rate=LEARNING_RATE)
steps = []
for _ in range(5):
    before = float(weight.numpy()[0])
    adam.apply_gradients([(np.full(1, 1e-6, "float32"), weight)])
    steps.append(before - float(weight.numpy()[0]))
results["adam_epsilon"] = {"epsilon": adam.epsilon, "steps": steps}
# --8<-- [end:adam_epsilon]

# --8<-- [start:save]
output_dir = Path(args.output_dir)
output_dir.mkdir(parents=True, exist_ok=True)
(output_dir / "pitfalls.json").write_text(json.dumps(results, indent=2) + "\n")
print(json.dumps(results, indent=2))
# --8<-- [end:save]
