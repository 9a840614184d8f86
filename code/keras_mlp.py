"""Train a multi-layer perceptron with one hidden layer on MNIST, in Keras 3.

The mirror of pytorch_mlp.py: same sections in the same order, same names,
same data, same architecture, same hyperparameters. Run
`python code/keras_mlp.py --help` for the options.
"""

# --8<-- [start:setup]
import argparse
import math
import os
import sys
import time
from pathlib import Path

HIDDEN_UNITS = 512  # width of the one hidden layer (Exercise 2.1 tries others)
EPOCHS = 20  # passes over the training set; the step size reaches zero at the end
BATCH_SIZE = 128  # images per training step (one gradient update)
LEARNING_RATE = 1e-3  # Adam's usual step size, decayed to zero along a cosine
OPTIMIZER = "adam"  # adapts the step per weight (Exercise 3.1 tries plain SGD)
VALIDATION_SIZE = 6000  # the last 10% of the training set, held out for model selection
SEED = 0  # one seed for weights and shuffling: same command, same numbers


# Option types whose errors say what is wanted ("--epochs: must be a positive
# integer, got 'ten'"), where int() alone would say "invalid int value".
def positive_int(text):
    if not text.isdecimal() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return int(text)


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


parser = argparse.ArgumentParser(
    description="Train a one-hidden-layer MLP on MNIST with Keras.",
    formatter_class=argparse.ArgumentDefaultsHelpFormatter,
)
parser.add_argument(
    "--epochs", type=positive_int, default=EPOCHS, help="passes over the training set"
)
parser.add_argument(
    "--hidden-units",
    type=positive_int,
    default=HIDDEN_UNITS,
    help="width of the hidden layer",
)
parser.add_argument(
    "--batch-size",
    type=positive_int,
    default=BATCH_SIZE,
    help="images per training step",
)
parser.add_argument(
    "--learning-rate",
    type=positive_float,
    default=LEARNING_RATE,
    help="initial step size of the optimizer",
)
parser.add_argument(
    "--optimizer", choices=["adam", "sgd"], default=OPTIMIZER, help="update rule"
)
parser.add_argument(
    "--seed", type=int, default=SEED, help="seed for initial weights and shuffling"
)
parser.add_argument(
    "--train-size",
    type=positive_int,
    help="train on the first N training images only, for quick runs; None: all",
)
parser.add_argument(
    "--backend",
    choices=["tensorflow", "jax", "torch"],
    help="the library Keras computes with; None: $KERAS_BACKEND, else the one in"
    " ~/.keras/keras.json, else tensorflow",
)
parser.add_argument(
    "--device",
    choices=["auto", "cpu"],
    default="auto",
    help="auto: a GPU if the backend sees one, else the CPU; cpu: the CPU only",
)
parser.add_argument("--output-dir", default="runs/keras", help="where results go")
parser.add_argument(
    "--data-dir",
    help="folder with the MNIST IDX files; None: $MNIST_DIR, else cache or download",
)
parser.add_argument("--quiet", action="store_true", help="no progress bars")
args = parser.parse_args()

# --8<-- [start:backend]
# Keras picks its backend when it is imported, from KERAS_BACKEND: an option
# can choose it only because the program reads its options first. (That order
# also makes --help and a mistyped option answer at once.)
if args.backend:
    os.environ["KERAS_BACKEND"] = args.backend
if args.device == "cpu":
    # Keras puts the work on a GPU by itself when its backend sees one. Each
    # backend has its own switch to keep to the CPU, read once, when it starts.
    os.environ["CUDA_VISIBLE_DEVICES"] = ""  # TensorFlow: hide the CUDA GPUs
    os.environ["JAX_PLATFORMS"] = "cpu"  # JAX: the CPU platform only
    os.environ["KERAS_TORCH_DEVICE"] = "cpu"  # Keras on PyTorch: its device
import keras

# --8<-- [end:backend]
from mnist_data import MnistError, load_mnist
from run_record import save_run

# Seeds Python's, NumPy's and the backend's random generators in one call.
keras.utils.set_random_seed(args.seed)
# --8<-- [end:setup]

# --8<-- [start:data]
try:
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data_dir)
except MnistError as error:
    sys.exit(f"error: {error}")
print(f"loaded: x_train {x_train.shape} {x_train.dtype}, y_train {y_train.shape}")

# Flatten each 28x28 image into 784 features and scale them to [0, 1].
# float32, not NumPy's default float64: it is what the layers compute in.
x_train = x_train.reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255
x_train, x_val = x_train[:-VALIDATION_SIZE], x_train[-VALIDATION_SIZE:]
y_train, y_val = y_train[:-VALIDATION_SIZE], y_train[-VALIDATION_SIZE:]
x_train, y_train = x_train[: args.train_size], y_train[: args.train_size]
# Keras takes NumPy arrays as they are: integer labels, no one-hot encoding.
print(f"inputs: x_train {x_train.shape} {x_train.dtype}, y_train {y_train.dtype}")
print(f"split:  {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test")
# --8<-- [end:data]

# --8<-- [start:model]
# --8<-- [start:exercise_model]
model = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        keras.layers.Dense(args.hidden_units, activation="relu"),
        # No softmax: the model outputs logits and the loss is told so below.
        keras.layers.Dense(10),
    ]
)
# --8<-- [end:exercise_model]
model.summary()
parameter_count = model.count_params()
# Where Keras put the weights: "cpu:0", or "gpu:0" (TensorFlow) and "cuda:0"
# (JAX, PyTorch) on a GPU.
device = str(model.layers[0].kernel.value.device).rsplit("device:", 1)[-1].lower()
print(f"backend: {keras.backend.backend()}, device: {device}")
# --8<-- [end:model]

# --8<-- [start:train]
# Large steps first, then ever finer ones: the step size follows a cosine from
# the learning rate down to zero over every training step (batch).
steps_per_epoch = math.ceil(len(x_train) / args.batch_size)
learning_rate = keras.optimizers.schedules.CosineDecay(
    args.learning_rate, decay_steps=args.epochs * steps_per_epoch
)
if args.optimizer == "adam":
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
else:
    optimizer = keras.optimizers.SGD(learning_rate=learning_rate)
# --8<-- [start:exercise_loss]
loss_function = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
# --8<-- [end:exercise_loss]
model.compile(optimizer=optimizer, loss=loss_function, metrics=["accuracy"])


class EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        epoch_seconds.append(time.perf_counter() - self.start)


epoch_seconds = []
# Model selection on the validation split: keep the weights of the epoch with
# the lowest validation loss. patience=epochs: never stop early.
keep_best = keras.callbacks.EarlyStopping(
    monitor="val_loss", patience=args.epochs, restore_best_weights=True
)
# --8<-- [start:exercise_training]
history = model.fit(
    x_train,
    y_train,
    batch_size=args.batch_size,
    epochs=args.epochs,
    validation_data=(x_val, y_val),
    callbacks=[EpochTimer(), keep_best],
    # fit shuffles the training set every epoch by default.
    verbose=2 if args.quiet else 1,
)
# --8<-- [end:exercise_training]
history = history.history
best_epoch = keep_best.best_epoch + 1
print(f"kept the weights of epoch {best_epoch} (lowest validation loss)")
# --8<-- [end:train]

# --8<-- [start:evaluate]
# --8<-- [start:exercise_evaluate]
test_loss, test_accuracy = model.evaluate(
    x_test, y_test, batch_size=args.batch_size, verbose=0
)
# --8<-- [end:exercise_evaluate]
print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.2%}")
# --8<-- [end:evaluate]

# --8<-- [start:predict]
logits = model.predict(x_test, batch_size=args.batch_size, verbose=0)
probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
predicted_labels = probabilities.argmax(axis=1)
print(f"first test digits: {y_test[:10]}")
print(f"predicted:         {predicted_labels[:10]}")
# --8<-- [end:predict]

# --8<-- [start:save]
output_dir = Path(args.output_dir)
output_dir.mkdir(parents=True, exist_ok=True)
model.save(output_dir / "mlp.keras")
summary_lines = []
model.summary(print_fn=lambda line, line_break=True: summary_lines.append(line))
save_run(
    output_dir,
    framework="keras",
    backend=keras.backend.backend(),
    device=device,
    config=args,
    parameter_count=parameter_count,
    history=history,
    epoch_seconds=epoch_seconds,
    best_epoch=best_epoch,
    test_loss=test_loss,
    test_accuracy=test_accuracy,
    predicted_labels=predicted_labels,
    # A Dense kernel is (inputs, units); store it as (units, inputs) like PyTorch.
    hidden_weights=keras.ops.convert_to_numpy(model.layers[0].kernel).T,
    summary="\n".join(summary_lines),
)
print(f"saved the model and results in {output_dir}")
# --8<-- [end:save]
