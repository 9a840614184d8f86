"""Train a multi-layer perceptron with one hidden layer on MNIST, in Keras 3.

The mirror of pytorch_mlp.py, section by section. Keras computes with the
library that KERAS_BACKEND names: tensorflow (the default), jax or torch.
"""

# --8<-- [start:setup]
import math
import sys
import time

import keras

from mnist_data import MnistError, load_mnist
from run_record import read_options, save_run

# --8<-- [start:settings]
HIDDEN_UNITS = 512  # width of the one hidden layer
EPOCHS = 20  # passes over the training set
BATCH_SIZE = 128  # images per training step (one gradient update)
LEARNING_RATE = 1e-3  # Adam's usual first step size, decayed to zero
OPTIMIZER = "adam"  # Adam adapts the step per weight; "sgd" does not
VALIDATION_SIZE = 6000  # the last 10% of the training set, held out
TRAIN_SIZE = 54000  # the other 90%; fewer trains faster, and worse
SEED = 0  # one seed for weights and shuffling: same run, same numbers
# --8<-- [end:settings]
# --8<-- [end:setup]

# --8<-- [start:options]
# Options change the settings in a shell (--epochs 5; --help lists them).
# In a notebook or at the prompt, which have no options, edit them above.
choices = {"optimizer": ["adam", "sgd"]}
args = read_options(globals(), choices, output_dir="runs/keras")
keras.utils.set_random_seed(args.seed)  # Python's, NumPy's, the backend's
# --8<-- [end:options]

# --8<-- [start:data]
try:
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data_dir)
except MnistError as error:
    sys.exit(f"error: {error}")

print(f"loaded: x_train {x_train.shape} {x_train.dtype}")
# Flatten each 28x28 image into 784 features and scale them to [0, 1].
# float32, not NumPy's default float64: it is what the layers compute in.
x_train = x_train.reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255
# --8<-- [start:split]
held_out = args.validation_size  # the last images, for validation
x_train, x_val = x_train[:-held_out], x_train[-held_out:]
y_train, y_val = y_train[:-held_out], y_train[-held_out:]
x_train, y_train = x_train[: args.train_size], y_train[: args.train_size]
# --8<-- [end:split]
# Keras takes NumPy arrays as they are: integer labels, no one-hot encoding.
print(f"inputs: x_train {x_train.shape} {x_train.dtype}, y {y_train.dtype}")
print(f"split: {len(x_train)} train, {len(x_val)} val, {len(x_test)} test")
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
# Where Keras put the weights: "cpu:0", or on a GPU (where it puts them by
# itself) "gpu:0" on TensorFlow, "cuda:0" on JAX and PyTorch.
device = str(model.layers[0].kernel.value.device).rsplit("device:")[-1]
print(f"backend: {keras.backend.backend()}, device: {device.lower()}")
# --8<-- [end:model]

# --8<-- [start:train]
# Large steps first, then ever finer ones: the step size follows a cosine
# from the learning rate down to zero over every training step (batch).
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
    """Records each epoch's seconds (Keras' history has no times)."""
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None):
        epoch_seconds.append(time.perf_counter() - self.start)


epoch_seconds = []
# Model selection on the validation split: keep the weights of the epoch
# with the lowest validation loss. patience=epochs: never stop early.
# --8<-- [start:selection]
keep_best = keras.callbacks.EarlyStopping(
    monitor="val_loss", patience=args.epochs, restore_best_weights=True
)
# --8<-- [end:selection]
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
# What the course's pages show of a run: metrics, summary, predictions.
test = {"loss": test_loss, "accuracy": test_accuracy}
output_dir = save_run(
    args, model, history, epoch_seconds, best_epoch, test, predicted_labels
)
# One file: the architecture, the weights and the optimizer's state.
model.save(output_dir / "mlp.keras")
print(f"saved the model and results in {output_dir}")
# --8<-- [end:save]
