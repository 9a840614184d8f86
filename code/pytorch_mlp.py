"""Train a multi-layer perceptron with one hidden layer on MNIST, in PyTorch.

The mirror of keras_mlp.py: same sections in the same order, same names,
same data, same architecture, same hyperparameters. Run
`python code/pytorch_mlp.py --help` for the options.
"""

# --8<-- [start:setup]
import argparse
import copy
import math
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
    description="Train a one-hidden-layer MLP on MNIST with PyTorch.",
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
    "--device",
    default="auto",
    help="where to train: cpu, cuda, cuda:1, mps...; auto: the accelerator"
    " PyTorch finds, else the CPU",
)
parser.add_argument("--output-dir", default="runs/pytorch", help="where results go")
parser.add_argument(
    "--data-dir",
    help="folder with the MNIST IDX files; None: $MNIST_DIR, else cache or download",
)
parser.add_argument("--quiet", action="store_true", help="no progress bars")
args = parser.parse_args()

# The framework loads once the options are read: --help and a mistyped option
# answer at once, without waiting for PyTorch to start.
import torch
from torch import nn
from tqdm import tqdm

from mnist_data import MnistError, load_mnist
from run_record import save_run

# Seeds the generator behind the initial weights and the shuffling below.
torch.manual_seed(args.seed)

# --8<-- [start:device]
# PyTorch computes where the tensors are, and puts nothing on a GPU by itself:
# the model and the data move there by hand, below. The accelerator is CUDA,
# Apple's MPS or another kind that torch.accelerator reports.
accelerator = torch.accelerator.current_accelerator(check_available=True)
if args.device == "auto":
    device = accelerator or torch.device("cpu")
else:
    try:
        device = torch.device(args.device)
    except RuntimeError:
        sys.exit(f"error: --device {args.device!r} is not a device name (cpu, cuda...)")
    # torch.device accepts the name of any kind of device: is this one here?
    if device.type != "cpu" and (
        accelerator is None
        or device.type != accelerator.type
        or (device.index or 0) >= torch.accelerator.device_count()
    ):
        here = accelerator.type if accelerator else "none"
        sys.exit(
            f"error: --device {args.device}: no such device here (accelerator: "
            f"{here}); use --device cpu or --device auto"
        )
print(f"device: {device}")
# --8<-- [end:device]
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
# Whole arrays become tensors once (sharing memory with NumPy where it can),
# not one sample at a time, and move to the device once, not batch by batch.
# .long() makes the labels int64, PyTorch's usual type for class indices
# (CrossEntropyLoss also accepts the file's uint8).
x_train, x_val, x_test = (
    torch.from_numpy(x).to(device) for x in (x_train, x_val, x_test)
)
y_train, y_val, y_test = (
    torch.from_numpy(y).long().to(device) for y in (y_train, y_val, y_test)
)
print(f"inputs: x_train {x_train.shape} {x_train.dtype}, y_train {y_train.dtype}")
print(f"split:  {len(x_train)} train, {len(x_val)} validation, {len(x_test)} test")
# --8<-- [end:data]


# --8<-- [start:model]
# --8<-- [start:exercise_model]
class MLP(nn.Module):
    def __init__(self, hidden_units):
        super().__init__()
        self.hidden = nn.Linear(784, hidden_units)
        self.output = nn.Linear(hidden_units, 10)

    def forward(self, x):
        # No softmax: the model outputs logits; CrossEntropyLoss applies
        # log-softmax itself.
        return self.output(torch.relu(self.hidden(x)))


model = MLP(args.hidden_units)
# --8<-- [end:exercise_model]
# The weights move to the data's device: both sides of a product must be there.
model = model.to(device)
print(model)
parameter_count = sum(parameter.numel() for parameter in model.parameters())
print(f"Total params: {parameter_count:,}")
# --8<-- [end:model]

# --8<-- [start:train]
if args.optimizer == "adam":
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
else:
    optimizer = torch.optim.SGD(model.parameters(), lr=args.learning_rate)
# Large steps first, then ever finer ones: the step size follows a cosine from
# the learning rate down to zero over every training step (batch).
steps_per_epoch = math.ceil(len(x_train) / args.batch_size)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
    optimizer, T_max=args.epochs * steps_per_epoch
)
# --8<-- [start:exercise_loss]
loss_function = nn.CrossEntropyLoss()
# --8<-- [end:exercise_loss]


def evaluate(model, x, y):
    """Mean loss and accuracy over a whole set, as Keras' evaluate returns."""
    model.eval()  # inference mode for layers such as dropout (none here, a good habit)
    with torch.no_grad():  # no graph for backward: less memory, faster
        # --8<-- [start:exercise_evaluate]
        logits = model(x)
        loss = loss_function(logits, y).item()
        accuracy = (logits.argmax(dim=1) == y).float().mean().item()
        # --8<-- [end:exercise_evaluate]
    return loss, accuracy


epoch_seconds = []
history = {"accuracy": [], "loss": [], "val_accuracy": [], "val_loss": []}
best_val_loss, best_epoch, best_weights = math.inf, 0, None
for epoch in range(1, args.epochs + 1):
    start = time.perf_counter()
    model.train()
    # A new order every epoch, drawn from the seeded generator: what fit's
    # shuffle=True does in Keras. Batches are slices of in-memory tensors.
    batches = torch.randperm(len(x_train), device=device).split(args.batch_size)
    loss_sum, correct = 0.0, 0
    for indices in tqdm(
        batches, desc=f"Epoch {epoch}/{args.epochs}", disable=args.quiet
    ):
        x_batch, y_batch = x_train[indices], y_train[indices]
        # --8<-- [start:exercise_training]
        optimizer.zero_grad()  # gradients add up across backward calls otherwise
        logits = model(x_batch)
        loss = loss_function(logits, y_batch)
        loss.backward()
        optimizer.step()
        # --8<-- [end:exercise_training]
        scheduler.step()  # Keras advances its schedule by itself
        loss_sum += loss.item() * len(indices)
        correct += (logits.argmax(dim=1) == y_batch).sum().item()
    val_loss, val_accuracy = evaluate(model, x_val, y_val)
    epoch_seconds.append(time.perf_counter() - start)
    # Like Keras' fit, the training figures are averages over the epoch's batches.
    history["accuracy"].append(correct / len(x_train))
    history["loss"].append(loss_sum / len(x_train))
    history["val_accuracy"].append(val_accuracy)
    history["val_loss"].append(val_loss)
    print(
        f"Epoch {epoch}/{args.epochs} - {epoch_seconds[-1]:.1f}s"
        f" - accuracy: {history['accuracy'][-1]:.4f} - loss: {history['loss'][-1]:.4f}"
        f" - val_accuracy: {val_accuracy:.4f} - val_loss: {val_loss:.4f}"
    )
    # Model selection on the validation split: keep the weights of the epoch
    # with the lowest validation loss.
    if val_loss < best_val_loss:
        best_val_loss, best_epoch = val_loss, epoch
        best_weights = copy.deepcopy(model.state_dict())
model.load_state_dict(best_weights)
print(f"kept the weights of epoch {best_epoch} (lowest validation loss)")
# --8<-- [end:train]

# --8<-- [start:evaluate]
test_loss, test_accuracy = evaluate(model, x_test, y_test)
print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.2%}")
# --8<-- [end:evaluate]

# --8<-- [start:predict]
model.eval()
with torch.no_grad():
    logits = model(x_test)
# NumPy works in the CPU's memory: results come back from the device first.
probabilities = torch.softmax(logits, dim=1).cpu().numpy()
predicted_labels = probabilities.argmax(axis=1)
print(f"first test digits: {y_test[:10].cpu().numpy()}")
print(f"predicted:         {predicted_labels[:10]}")
# --8<-- [end:predict]

# --8<-- [start:save]
output_dir = Path(args.output_dir)
output_dir.mkdir(parents=True, exist_ok=True)
# The state_dict holds the weights only; the class above rebuilds the model.
torch.save(model.state_dict(), output_dir / "mlp.pt")
save_run(
    output_dir,
    framework="pytorch",
    device=str(device),
    config=args,
    parameter_count=parameter_count,
    history=history,
    epoch_seconds=epoch_seconds,
    best_epoch=best_epoch,
    test_loss=test_loss,
    test_accuracy=test_accuracy,
    predicted_labels=predicted_labels,
    hidden_weights=model.hidden.weight.detach().cpu().numpy(),
    summary=f"{model}\nTotal params: {parameter_count:,}",
)
print(f"saved the model and results in {output_dir}")
# --8<-- [end:save]
