r"""Data-parallel training of the course's MLP with Keras and tf.distribute.

The strategy is TensorFlow's MultiWorkerMirroredStrategy. Start one process
per worker, each with TF_CONFIG naming every worker's address and its own
index. On one machine, over loopback (what `make scale` runs, through
tools/scaling.py):

    CLUSTER='"cluster": {"worker": ["127.0.0.1:12345", "127.0.0.1:12346"]}'
    TF_CONFIG="{$CLUSTER, \"task\": {\"type\": \"worker\", \"index\": 0}}" \
        python code/keras_multiworker.py --threads 1 &
    TF_CONFIG="{$CLUSTER, \"task\": {\"type\": \"worker\", \"index\": 1}}" \
        python code/keras_multiworker.py --threads 1

Every worker holds a copy of the model. Each step, the global batch of 128
images is split between the workers; each computes the gradients on its share,
the strategy sums them across the workers, and every copy takes the same step.
So the training is that of keras_mlp.py, on the same 54,000 images, without
its model selection. The mirror of pytorch_ddp.py.

Keras 3's model.fit does not run under this strategy (keras-team/keras#20585);
`--fit` shows its error. The training step below is written out instead, with
the same Keras model, loss and optimizer.
"""

# --8<-- [start:setup]
import argparse
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mnist_data import MnistError, load_mnist

HIDDEN_UNITS = 512  # as in keras_mlp.py
EPOCHS = 20  # as in keras_mlp.py
BATCH_SIZE = 128  # global, as in keras_mlp.py: the workers share each batch
LEARNING_RATE = 1e-3  # as in keras_mlp.py, with the same cosine decay
VALIDATION_SIZE = 6000  # held out as in keras_mlp.py: the same training images
SEED = 0  # the same in every worker: the same shuffled order everywhere

parser = argparse.ArgumentParser(
    description="Data-parallel training of the MLP with Keras and "
    "MultiWorkerMirroredStrategy; TF_CONFIG describes the workers.",
    formatter_class=argparse.ArgumentDefaultsHelpFormatter,
)
parser.add_argument(
    "--epochs", type=int, default=EPOCHS, help="passes over the training set"
)
parser.add_argument(
    "--threads",
    type=int,
    default=os.cpu_count(),
    help="CPU threads per worker",
)
parser.add_argument(
    "--seed", type=int, default=SEED, help="seed for weights and order"
)
parser.add_argument(
    "--output-dir",
    default="runs/scaling/keras",
    help="where each worker's record goes",
)
parser.add_argument(
    "--data-dir",
    help="folder with the MNIST IDX files; None: $MNIST_DIR, else cache "
    "or download",
)
parser.add_argument(
    "--fit",
    action="store_true",
    help="train with model.fit (fails with Keras 3)",
)
args = parser.parse_args()

# Workers on one machine share its cores: one thread each on 2 cores. This
# must come before TensorFlow starts its runtime.
tf.config.threading.set_intra_op_parallelism_threads(args.threads)
tf.config.threading.set_inter_op_parallelism_threads(args.threads)
# Reads TF_CONFIG and connects to the other workers (gRPC on their ports).
# No timeout for the exchanges (CommunicationOptions): with one, TensorFlow
# 2.21 started thousands of threads per epoch here, until it could start no
# more. The launcher's time limit stops workers that wait for ever instead.
strategy = tf.distribute.MultiWorkerMirroredStrategy()
rank, world_size = (
    strategy.cluster_resolver.task_id,
    strategy.num_replicas_in_sync,
)
if BATCH_SIZE % world_size:
    sys.exit(
        f"error: {world_size} workers cannot share a batch of {BATCH_SIZE}"
    )
keras.utils.set_random_seed(args.seed)
# --8<-- [end:setup]

# --8<-- [start:data]
try:
    (x_train, y_train), (x_test, y_test) = load_mnist(args.data_dir)
except MnistError as error:
    sys.exit(f"error: {error}")
# Every worker loads the whole set (47 MB); the strategy picks its share.
x_train = x_train[:-VALIDATION_SIZE].reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255
y_train = y_train[:-VALIDATION_SIZE].astype("int64")
# Every worker shuffles with the same seed, so all see the same order. The
# strategy cuts each global batch of 128 into one share per worker (DATA
# sharding: by elements, since there are no files to hand out).
dataset = (
    tf.data.Dataset.from_tensor_slices((x_train, y_train))
    .shuffle(len(x_train), seed=args.seed)
    .batch(BATCH_SIZE)
)
options = tf.data.Options()
options.experimental_distribute.auto_shard_policy = (
    tf.data.experimental.AutoShardPolicy.DATA
)
dataset = dataset.with_options(options)
# --8<-- [end:data]

# --8<-- [start:model]
# Variables created in the strategy's scope are mirrored: one copy per worker,
# kept equal. Worker 0's initial values are sent to the others.
with strategy.scope():
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(HIDDEN_UNITS, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    steps_per_epoch = math.ceil(len(x_train) / BATCH_SIZE)
    learning_rate = keras.optimizers.schedules.CosineDecay(
        LEARNING_RATE, decay_steps=args.epochs * steps_per_epoch
    )
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
# --8<-- [end:model]

# --8<-- [start:train]
# reduction=None: one loss per image; compute_average_loss below divides their
# sum by the global batch size, so that summing across workers gives the mean.
loss_function = keras.losses.SparseCategoricalCrossentropy(
    from_logits=True, reduction=None
)
if args.fit:
    model.compile(optimizer=optimizer, loss=loss_function)
    model.fit(dataset, epochs=args.epochs, verbose=2)


def worker_step(images, labels):
    with tf.GradientTape() as tape:
        logits = model(images, training=True)
        loss = tf.nn.compute_average_loss(loss_function(labels, logits))
    gradients = tape.gradient(loss, model.trainable_variables)
    # Under the strategy, the optimizer sums the workers' gradients (an
    # all-reduce) before it updates every copy.
    optimizer.apply_gradients(
        zip(gradients, model.trainable_variables, strict=True)
    )
    return loss


# One graph for the whole step, as fit would build. The batch is taken from
# the iterator inside the graph: taken in Python, each batch would cost the
# workers an extra exchange.
@tf.function
def train_step(iterator):
    images, labels = next(iterator)
    losses = strategy.run(worker_step, args=(images, labels))
    return strategy.reduce("SUM", losses, axis=None)


distributed_dataset = strategy.experimental_distribute_dataset(dataset)
epoch_seconds = []
for epoch in range(1, args.epochs + 1):
    start = time.perf_counter()
    iterator = iter(distributed_dataset)
    loss_sum = 0.0
    for _ in range(steps_per_epoch):
        loss_sum += float(train_step(iterator))
    epoch_seconds.append(time.perf_counter() - start)
    if rank == 0:
        print(
            f"Epoch {epoch}/{args.epochs} - {epoch_seconds[-1]:.1f}s"
            f" - loss: {loss_sum / steps_per_epoch:.4f}",
            flush=True,
        )
# --8<-- [end:train]

# --8<-- [start:evaluate]
# Every copy has taken the same steps, so every worker evaluates
# the same model.
logits = keras.ops.convert_to_numpy(model(x_test))
test_loss = float(
    np.mean(keras.ops.convert_to_numpy(loss_function(y_test, logits)))
)
test_accuracy = float((logits.argmax(axis=1) == y_test).mean())
if rank == 0:
    print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.2%}")
# --8<-- [end:evaluate]

# --8<-- [start:save]
# A record per worker, with a hash of its weights: equal hashes show the
# copies stayed identical.
weights = np.concatenate([weight.ravel() for weight in model.get_weights()])
output_dir = Path(args.output_dir)
output_dir.mkdir(parents=True, exist_ok=True)
record = {
    "framework": "keras",
    "workers": world_size,
    "worker": rank,
    "threads": args.threads,
    "epochs": args.epochs,
    "training_images": len(x_train),
    "epoch_seconds": epoch_seconds,
    "test_loss": test_loss,
    "test_accuracy": test_accuracy,
    "weights_sha256": hashlib.sha256(weights.tobytes()).hexdigest(),
}
(output_dir / f"worker-{rank}.json").write_text(
    json.dumps(record, indent=2) + "\n"
)
# --8<-- [end:save]
