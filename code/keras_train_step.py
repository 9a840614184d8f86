"""Keras' middle ground between fit and a hand-written loop: a model whose
train_step is written by hand, on the backend that KERAS_BACKEND names.

fit keeps its batching, callbacks, progress and logs, and calls train_step
once per batch. The step is written in the backend's own terms: a gradient
tape on TensorFlow, pure functions on JAX, backward() on PyTorch. This script
trains the course's MLP for one epoch with fit's own step and once with the
hand-written one, from the same weights over the same batches, and writes to
`<output-dir>/train_step.json` how far apart the two ended. The Porting page
shows the three steps.
"""

# --8<-- [start:setup]
import argparse
import json
from pathlib import Path

import keras
import numpy as np

from mnist_data import load_mnist

HIDDEN_UNITS = 512  # as in the course's model
BATCH_SIZE = 128  # as in the course's model
LEARNING_RATE = 1e-3  # Adam's usual step size, kept constant here
SEED = 0

parser = argparse.ArgumentParser(
    description="Train with fit's step and a hand-written one; compare.",
    formatter_class=argparse.ArgumentDefaultsHelpFormatter,
)
parser.add_argument(
    "--output-dir", default="runs/keras", help="where results go"
)
parser.add_argument("--data-dir", help="folder with the MNIST IDX files")
args = parser.parse_args()

(x_train, y_train), _ = load_mnist(args.data_dir)
x_train = x_train[:-6000].reshape(-1, 784).astype("float32") / 255
y_train = y_train[:-6000]
backend = keras.backend.backend()
# --8<-- [end:setup]

if backend == "tensorflow":
    import tensorflow as tf

    # --8<-- [start:train_step_tensorflow]
    class HandWrittenStep(keras.Sequential):
        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:  # records the forward pass
                logits = self(x, training=True)
                loss = self.compute_loss(x, y, logits)  # compile's loss
            gradients = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply(gradients, self.trainable_weights)
            return {"loss": loss}  # this batch's; fit's step logs the mean

    # --8<-- [end:train_step_tensorflow]

elif backend == "jax":
    import jax

    # --8<-- [start:train_step_jax]
    class HandWrittenStep(keras.Sequential):
        # JAX differentiates pure functions: the weights go in as arguments
        # and come out as results, and fit keeps them between the steps.
        def loss_and_state(self, trainable, non_trainable, x, y):
            logits, non_trainable = self.stateless_call(
                trainable, non_trainable, x, training=True
            )
            return self.compute_loss(x, y, logits), non_trainable

        def train_step(self, state, data):
            trainable, non_trainable, optimizer_state, metrics = state
            x, y = data
            gradient_function = jax.value_and_grad(
                self.loss_and_state, has_aux=True
            )
            (loss, non_trainable), gradients = gradient_function(
                trainable, non_trainable, x, y
            )
            trainable, optimizer_state = self.optimizer.stateless_apply(
                optimizer_state, gradients, trainable
            )
            state = (trainable, non_trainable, optimizer_state, metrics)
            return {"loss": loss}, state  # this batch's loss

    # --8<-- [end:train_step_jax]

else:
    import torch

    # --8<-- [start:train_step_torch]
    class HandWrittenStep(keras.Sequential):
        def train_step(self, data):
            x, y = data
            self.zero_grad()  # torch.nn.Module's: gradients add up
            logits = self(x, training=True)
            loss = self.compute_loss(x, y, logits)  # compile's loss
            loss.backward()
            gradients = [
                weight.value.grad for weight in self.trainable_weights
            ]
            with torch.no_grad():  # the update is no part of the graph
                self.optimizer.apply(gradients, self.trainable_weights)
            return {"loss": loss}  # this batch's; fit's step logs the mean

    # --8<-- [end:train_step_torch]


# --8<-- [start:compare]
def train(model_class):
    """One epoch of fit from the seed's weights, in the seed's order."""
    keras.utils.set_random_seed(SEED)
    model = model_class(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(HIDDEN_UNITS, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss=loss)
    model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=1, verbose=0)
    return np.concatenate(
        [
            keras.ops.convert_to_numpy(w).ravel()
            for w in model.trainable_weights
        ]
    )


difference = np.abs(train(keras.Sequential) - train(HandWrittenStep)).max()
results = {"backend": backend, "largest_weight_difference": float(difference)}
output_dir = Path(args.output_dir)
output_dir.mkdir(parents=True, exist_ok=True)
(output_dir / "train_step.json").write_text(
    json.dumps(results, indent=2) + "\n"
)
print(json.dumps(results, indent=2))
# --8<-- [end:compare]
