"""Train a multi-layer perceptron with one hidden layer on MNIST, in PyTorch.

The mirror of keras_mlp.py, section by section. It trains on the accelerator
that PyTorch finds (CUDA, Apple's MPS, ...), else on the CPU.
"""

# --8<-- [start:setup]
import copy
import math
import sys
import time

import torch
from torch import nn
from tqdm import tqdm

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
args = read_options(
    globals(), choices, output_dir="runs/pytorch", device="auto"
)
generator = torch.manual_seed(args.seed)  # for the weights and the shuffling
# --8<-- [start:device]
# PyTorch computes where the tensors are and puts nothing on a GPU by
# itself: the model and the data move to `device` by hand, below.
accelerator = torch.accelerator.current_accelerator(check_available=True)
auto = accelerator or torch.device("cpu")
if args.device.split(":")[0] not in ("auto", "cpu", auto.type):
    sys.exit(f"error: no device {args.device} here; auto is {auto}")

device = auto if args.device == "auto" else torch.device(args.device)
print(f"device: {device}")
# --8<-- [end:device]
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
# Tensors made once from whole arrays (sharing NumPy's memory), moved to the
# device once; .long(): int64 labels, PyTorch's usual type for classes.
x_train, x_val, x_test = (
    torch.from_numpy(x).to(device) for x in (x_train, x_val, x_test)
)
# --8<-- [start:labels]
y_train, y_val, y_test = (
    torch.from_numpy(y).long().to(device) for y in (y_train, y_val, y_test)
)
# --8<-- [end:labels]
print(f"inputs: x_train {x_train.shape} {x_train.dtype}, y {y_train.dtype}")
print(f"split: {len(x_train)} train, {len(x_val)} val, {len(x_test)} test")
# --8<-- [end:data]


# --8<-- [start:model]
# --8<-- [start:exercise_model]
class MLP(nn.Module):
    def __init__(self, hidden_units):
        super().__init__()
        self.hidden = nn.Linear(784, hidden_units)
        self.output = nn.Linear(hidden_units, 10)
    def forward(self, x):  # no softmax: logits, for CrossEntropyLoss
        return self.output(torch.relu(self.hidden(x)))


model = MLP(args.hidden_units)
# --8<-- [end:exercise_model]
model = model.to(device)  # the weights go where the data are
print(model)
parameter_count = sum(parameter.numel() for parameter in model.parameters())
print(f"Total params: {parameter_count:,}")
# --8<-- [end:model]

# --8<-- [start:train]
if args.optimizer == "adam":
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
else:
    optimizer = torch.optim.SGD(model.parameters(), lr=args.learning_rate)

# Large steps first, then ever finer ones: the step size follows a cosine
# from the learning rate down to zero over every training step (batch).
steps_per_epoch = math.ceil(len(x_train) / args.batch_size)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
    optimizer, T_max=args.epochs * steps_per_epoch
)
# --8<-- [start:exercise_loss]
loss_function = nn.CrossEntropyLoss()
# --8<-- [end:exercise_loss]


def train_epoch(model, x, y, epoch):
    """One pass over the training set, as each epoch of Keras' fit."""
    model.train()  # training mode for layers such as dropout (none here)
    # A new order every epoch, as fit's shuffle=True; batches are slices.
    batches = torch.randperm(len(x), device=x.device).split(args.batch_size)
    loss_sum, correct = 0.0, 0
    epoch_name = f"Epoch {epoch}/{args.epochs}"
    for indices in tqdm(batches, desc=epoch_name, disable=args.quiet):
        x_batch, y_batch = x[indices], y[indices]
        # --8<-- [start:exercise_training]
        optimizer.zero_grad()  # gradients add up across backward calls
        logits = model(x_batch)
        loss = loss_function(logits, y_batch)
        loss.backward()
        optimizer.step()
        # --8<-- [end:exercise_training]
        scheduler.step()  # Keras advances its schedule by itself
        loss_sum += loss.item() * len(indices)
        correct += (logits.argmax(dim=1) == y_batch).sum().item()
    # As fit's: means over the epoch's batches, while the weights changed.
    return loss_sum / len(x), correct / len(x)


def evaluate(model, x, y):
    """Mean loss and accuracy over a whole set, as Keras' evaluate returns."""
    model.eval()  # inference mode for layers such as dropout (none here)
    with torch.no_grad():  # no graph for backward: less memory, faster
        # --8<-- [start:exercise_evaluate]
        logits = model(x)
        loss = loss_function(logits, y).item()
        accuracy = (logits.argmax(dim=1) == y).float().mean().item()
        # --8<-- [end:exercise_evaluate]
    return loss, accuracy


history = {"accuracy": [], "loss": [], "val_accuracy": [], "val_loss": []}
epoch_seconds = []
for epoch in range(1, args.epochs + 1):
    start = time.perf_counter()
    loss, accuracy = train_epoch(model, x_train, y_train, epoch)
    val_loss, val_accuracy = evaluate(model, x_val, y_val)
    seconds = time.perf_counter() - start
    # Model selection on the validation split: keep a copy of the weights of
    # the epoch with the lowest validation loss.
    if val_loss < min(history["val_loss"], default=math.inf):
        best_epoch, best_weights = epoch, copy.deepcopy(model.state_dict())
    epoch_seconds.append(seconds)
    figures = (accuracy, loss, val_accuracy, val_loss)
    for key, value in zip(history, figures, strict=True):
        history[key].append(value)
    # --8<-- [start:epoch_log]
    log = [f"{key}: {values[-1]:.4f}" for key, values in history.items()]
    print(f"Epoch {epoch}/{args.epochs} - {seconds:.1f}s - " + " - ".join(log))
    # --8<-- [end:epoch_log]

# load_state_dict returns the keys it missed or did not expect: none here.
result = model.load_state_dict(best_weights)
print(f"kept the weights of epoch {best_epoch} (lowest validation loss)")
# --8<-- [end:train]

# --8<-- [start:evaluate]
test_loss, test_accuracy = evaluate(model, x_test, y_test)
print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.2%}")
# --8<-- [end:evaluate]

# --8<-- [start:predict]
with torch.no_grad():
    logits = model(x_test)  # in evaluation mode still, from evaluate

# NumPy works in the CPU's memory: results come back from the device first.
probabilities = torch.softmax(logits, dim=1).cpu().numpy()
predicted_labels = probabilities.argmax(axis=1)
print(f"first test digits: {y_test[:10].cpu().numpy()}")
print(f"predicted:         {predicted_labels[:10]}")
# --8<-- [end:predict]

# --8<-- [start:save]
# What the course's pages show of a run: metrics, summary, predictions.
test = {"loss": test_loss, "accuracy": test_accuracy}
output_dir = save_run(
    args, model, history, epoch_seconds, best_epoch, test, predicted_labels
)
# The state_dict holds the weights only; the class above rebuilds the model.
torch.save(model.state_dict(), output_dir / "mlp.pt")
print(f"saved the model and results in {output_dir}")
# --8<-- [end:save]
