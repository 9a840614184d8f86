"""Common PyTorch mistakes, each run for real: what goes wrong and by how much.

The Pitfalls page shows these sections and the numbers this script writes to
`<output-dir>/pitfalls.json`. Each demonstration trains a fresh copy of the
course's MLP for a few epochs with a constant learning rate, so a mistake and
its fix are compared under the same conditions. keras_pitfalls.py does the
same for Keras.
"""

# --8<-- [start:setup]
import argparse
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mnist_data import load_mnist

# enough to tell a mistake from its fix, short enough to run them all
EPOCHS = 3
HIDDEN_UNITS = 512  # as in the course's model
BATCH_SIZE = 128  # as in the course's model
LEARNING_RATE = 1e-3  # Adam's usual step size, kept constant here
SGD_LEARNING_RATE = 0.1  # plain SGD needs far larger steps than Adam
SEED = 0

parser = argparse.ArgumentParser(
    description="Run the PyTorch pitfalls and record their numbers.",
    formatter_class=argparse.ArgumentDefaultsHelpFormatter,
)
parser.add_argument(
    "--output-dir", default="runs/pytorch", help="where results go"
)
parser.add_argument("--data-dir", help="folder with the MNIST IDX files")
args = parser.parse_args()

(x_train_uint8, y_train), (x_test_uint8, y_test) = load_mnist(args.data_dir)
x_train = torch.from_numpy(
    x_train_uint8.reshape(-1, 784).astype("float32") / 255
)
x_test = torch.from_numpy(
    x_test_uint8.reshape(-1, 784).astype("float32") / 255
)
y_train, y_test = (
    torch.from_numpy(y_train).long(),
    torch.from_numpy(y_test).long(),
)


def make_model(output_layer=None, dropout=0.0):
    """The course's MLP, optionally with a layer after the logits
    or dropout."""
    torch.manual_seed(SEED)  # every variant starts from the same weights
    layers = [nn.Linear(784, HIDDEN_UNITS), nn.ReLU(), nn.Dropout(dropout)]
    layers.append(nn.Linear(HIDDEN_UNITS, 10))
    if output_layer is not None:
        layers.append(output_layer)
    return nn.Sequential(*layers)


def train(model, optimizer="adam", zero_grad=True):
    if optimizer == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=SGD_LEARNING_RATE)
    loss_function = nn.CrossEntropyLoss()
    torch.manual_seed(SEED)  # same batches for every variant
    for _ in range(EPOCHS):
        model.train()
        for indices in torch.randperm(len(x_train)).split(BATCH_SIZE):
            if zero_grad:
                optimizer.zero_grad()
            loss = loss_function(model(x_train[indices]), y_train[indices])
            loss.backward()
            optimizer.step()
    return loss.item()


def test_accuracy(model, eval_mode=True):
    model.train(not eval_mode)
    with torch.no_grad():
        return (model(x_test).argmax(dim=1) == y_test).float().mean().item()


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

# --8<-- [start:softmax]
# The original lecture's bug: a softmax layer in the model, then
# CrossEntropyLoss, which applies log-softmax again.
# Probabilities lie in [0, 1]: the best the loss can then do is log(1 + 9/e).
results["softmax"] = {"loss_floor": float(np.log(1 + 9 / np.e))}
for optimizer in ("sgd", "adam"):  # Adam last: `right` is used again below
    right = make_model()
    right_loss = train(right, optimizer)
    wrong = make_model(output_layer=nn.Softmax(dim=1))
    wrong_loss = train(wrong, optimizer)
    results["softmax"][optimizer] = {
        "logits_accuracy": test_accuracy(right),
        "softmax_accuracy": test_accuracy(wrong),
        "logits_last_loss": right_loss,
        "softmax_last_loss": wrong_loss,
    }
# --8<-- [end:softmax]

# --8<-- [start:zero_grad]
forgetful = make_model()
train(forgetful, zero_grad=False)  # gradients pile up from batch to batch
results["zero_grad"] = {
    "with_zero_grad_accuracy": test_accuracy(right),
    "without_zero_grad_accuracy": test_accuracy(forgetful),
}
# --8<-- [end:zero_grad]

# --8<-- [start:train_eval]
# Our MLP has no dropout, so train and eval mode give the same outputs.
# With dropout, forgetting model.eval() keeps dropping units at test time.
with_dropout = make_model(dropout=0.5)
train(with_dropout)
results["train_eval"] = {
    "no_dropout_same_outputs": test_accuracy(right, eval_mode=False)
    == test_accuracy(right, eval_mode=True),
    "dropout_eval_accuracy": test_accuracy(with_dropout, eval_mode=True),
    "dropout_train_mode_accuracy": test_accuracy(
        with_dropout, eval_mode=False
    ),
}
# --8<-- [end:train_eval]

# --8<-- [start:dtype]
scaled = x_test_uint8.reshape(-1, 784) / 255  # NumPy's default: float64
try:
    right(torch.from_numpy(scaled))
    float64_error = None
except RuntimeError as error:
    float64_error = str(error).splitlines()[0]
results["dtype"] = {
    "numpy_dtype": str(scaled.dtype),
    "tensor_dtype": str(torch.from_numpy(scaled).dtype),
    "error": float64_error,
}
# --8<-- [end:dtype]

# --8<-- [start:labels]
logits = right(x_test[:1000]).detach()
labels = y_test[:1000]
one_hot = nn.functional.one_hot(labels, num_classes=10)
loss_function = nn.CrossEntropyLoss()
try:
    loss_function(logits, one_hot)  # int64 one-hot: read as class indices
    one_hot_int_error = None
except RuntimeError as error:
    one_hot_int_error = str(error).splitlines()[0]
results["labels"] = {
    "index_loss": loss_function(logits, labels).item(),
    # Float targets are class probabilities: one-hot gives the same loss.
    "one_hot_float_loss": loss_function(logits, one_hot.float()).item(),
    "one_hot_int_error": one_hot_int_error,
}
# --8<-- [end:labels]

# --8<-- [start:adam_epsilon]
# One weight, the same tiny gradient at every step: how far does Adam move it?
weight = nn.Parameter(torch.zeros(1))
adam = torch.optim.Adam([weight], lr=LEARNING_RATE)
steps = []
for _ in range(5):
    before = weight.item()
    adam.zero_grad()
    weight.grad = torch.full((1,), 1e-6)
    adam.step()
    steps.append(before - weight.item())
results["adam_epsilon"] = {"epsilon": adam.defaults["eps"], "steps": steps}
# --8<-- [end:adam_epsilon]

# --8<-- [start:save]
output_dir = Path(args.output_dir)
output_dir.mkdir(parents=True, exist_ok=True)
(output_dir / "pitfalls.json").write_text(json.dumps(results, indent=2) + "\n")
print(json.dumps(results, indent=2))
# --8<-- [end:save]
