"""Three things that change meaning between Keras and PyTorch, each run for
real: weight decay, resuming training, the same numbers twice.

The Porting page shows these sections and the numbers this script writes to
`<output-dir>/porting.json`. Each part trains fresh copies of the course's MLP
on the course's training split with a short schedule, so that a setting and
its alternative are compared under the same conditions. keras_porting.py does
the same for Keras.
"""

# --8<-- [start:setup]
import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from mnist_data import load_mnist

EPOCHS = 2  # before the checkpoint; resuming trains one more
HIDDEN_UNITS = 512  # as in the course's model
BATCH_SIZE = 128  # as in the course's model
LEARNING_RATE = 1e-3  # Adam's usual first step size, decayed to zero
WEIGHT_DECAY = 0.01  # PyTorch AdamW's default (Keras' AdamW: 0.004)
SEED = 0

parser = argparse.ArgumentParser(
    description="Run the PyTorch porting differences and record them.",
    formatter_class=argparse.ArgumentDefaultsHelpFormatter,
)
parser.add_argument(
    "--output-dir", default="runs/pytorch", help="where results go"
)
parser.add_argument("--data-dir", help="folder with the MNIST IDX files")
args = parser.parse_args()

(x_train, y_train), (x_test, y_test) = load_mnist(args.data_dir)
x_train = torch.from_numpy(x_train[:-6000].reshape(-1, 784) / 255).float()
y_train = torch.from_numpy(y_train[:-6000]).long()
x_test = torch.from_numpy(x_test.reshape(-1, 784) / 255).float()
y_test = torch.from_numpy(y_test).long()
steps_per_epoch = -(-len(x_train) // BATCH_SIZE)  # rounded up
loss_function = nn.CrossEntropyLoss()


def make_model():
    """The course's MLP; every variant starts from the same weights."""
    torch.manual_seed(SEED)
    return nn.Sequential(
        nn.Linear(784, HIDDEN_UNITS), nn.ReLU(), nn.Linear(HIDDEN_UNITS, 10)
    )


def train_epoch(model, optimizer, scheduler, generator):
    """One pass in a random order; the mean training loss."""
    loss_sum = 0.0
    for indices in torch.randperm(len(x_train), generator=generator).split(
        BATCH_SIZE
    ):
        optimizer.zero_grad()
        loss = loss_function(model(x_train[indices]), y_train[indices])
        loss.backward()
        optimizer.step()
        scheduler.step()
        loss_sum += loss.item() * len(indices)
    return loss_sum / len(x_train)


def test_accuracy(model):
    with torch.no_grad():
        return (model(x_test).argmax(1) == y_test).float().mean().item()


def weights(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def cosine(optimizer, epochs):
    return torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=epochs * steps_per_epoch
    )


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
# The same number, two meanings. Adam's weight_decay adds weight_decay * w to
# the gradient (an L2 penalty), which Adam then rescales like the rest of the
# gradient; decoupled_weight_decay=True, or AdamW, shrinks each weight by
# learning rate * weight_decay * w before the step, as Keras does.
optimizers = {
    "adam": lambda parameters: torch.optim.Adam(
        parameters, lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY
    ),
    "adam_decoupled": lambda parameters: torch.optim.Adam(
        parameters,
        lr=LEARNING_RATE,
        weight_decay=WEIGHT_DECAY,
        decoupled_weight_decay=True,
    ),
    "adamw": lambda parameters: torch.optim.AdamW(
        parameters, lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY
    ),
}
# --8<-- [end:weight_decay]

# --8<-- [start:weight_decay_measured]
# Pixels that are black in every training image: their weights get no
# gradient from the data, so only the weight decay moves them.
black = (x_train == 0).all(dim=0)
results["weight_decay"] = {
    "black_pixels": int(black.sum()),
    "adamw_default": torch.optim.AdamW(make_model().parameters()).defaults[
        "weight_decay"
    ],
}
for name, make_optimizer in optimizers.items():
    model = make_model()
    first_layer = model[0].weight
    before = first_layer[:, black].norm().item()
    optimizer = make_optimizer(model.parameters())
    train_epoch(model, optimizer, cosine(optimizer, 1), torch.Generator())
    results["weight_decay"][name] = {
        # what one epoch left of those weights (1: untouched, 0: gone)
        "black_pixel_weights_left": first_layer[:, black].norm().item()
        / before,
        "test_accuracy": test_accuracy(model),
        "weights": weights(model),
    }
decay = results["weight_decay"]
for name in optimizers:
    difference = decay[name]["weights"] - decay["adamw"]["weights"]
    decay[name]["against_adamw"] = difference.abs().max().item()
    del decay[name]["weights"]
# --8<-- [end:weight_decay_measured]


# --8<-- [start:save_checkpoint]
# The model's state_dict holds the weights only. Adam's moments and step
# count live in the optimizer, the learning rate's place in its schedule in
# the scheduler, the next batch order in the generator: save them all.
def save_checkpoint(path, model, optimizer, scheduler, generator):
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "generator": generator.get_state(),
        },
        path,
    )


# --8<-- [end:save_checkpoint]


# --8<-- [start:load_checkpoint]
def load_checkpoint(path, model, optimizer, scheduler, generator):
    checkpoint = torch.load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    generator.set_state(checkpoint["generator"])


# --8<-- [end:load_checkpoint]


# --8<-- [start:resume_measured]
def fresh():
    """A model, Adam, the cosine over all epochs and a seeded generator: what
    the training script makes when it starts."""
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    scheduler = cosine(optimizer, EPOCHS + 1)
    return model, optimizer, scheduler, torch.Generator().manual_seed(SEED)


uninterrupted = fresh()
for _ in range(EPOCHS + 1):
    last_loss = train_epoch(*uninterrupted)
results["resume"] = {
    "uninterrupted": {
        "last_epoch_loss": last_loss,
        "test_accuracy": test_accuracy(uninterrupted[0]),
    }
}
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "checkpoint.pt"
    stopped = fresh()
    for _ in range(EPOCHS):
        train_epoch(*stopped)
    save_checkpoint(path, *stopped)
    for name in ("checkpoint", "weights_only"):
        resumed = fresh()
        if name == "checkpoint":
            load_checkpoint(path, *resumed)
        else:  # the model's state_dict alone, as many examples save it
            resumed[0].load_state_dict(torch.load(path)["model"])
        model, optimizer, scheduler, _ = resumed
        results["resume"][name] = {
            "step": scheduler.last_epoch,  # steps taken before resuming
            "learning_rate": optimizer.param_groups[0]["lr"],
            "last_epoch_loss": train_epoch(*resumed),
            "test_accuracy": test_accuracy(model),
            "against_uninterrupted": (
                weights(model) - weights(uninterrupted[0])
            )
            .abs()
            .max()
            .item(),
        }
# --8<-- [end:resume_measured]

# --8<-- [start:determinism]
# On a GPU, cuBLAS needs this before CUDA starts, or the deterministic mode
# raises a RuntimeError at the first matrix multiply.
os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"
# Ops with no deterministic kernel raise a RuntimeError instead of varying.
torch.use_deterministic_algorithms(True)
torch.backends.cudnn.benchmark = False  # cuDNN's fastest kernel may vary
torch.manual_seed(SEED)  # the weights and every random draw
# --8<-- [end:determinism]


# --8<-- [start:determinism_measured]
def one_epoch():
    """One epoch from the same start: its seconds and the weights."""
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    start = time.perf_counter()
    train_epoch(model, optimizer, cosine(optimizer, 1), torch.Generator())
    return time.perf_counter() - start, weights(model)


# Off and on in turn (A B A B), so that the machine's load hits both alike.
runs = {False: [], True: []}
for deterministic in (False, True, False, True):
    torch.use_deterministic_algorithms(deterministic)
    runs[deterministic].append(one_epoch())
results["determinism"] = {
    "device": "cpu",
    "order": "off, on, off, on",
    **{
        "on" if deterministic else "off": {
            "seconds": [seconds for seconds, _ in pair],
            # the two runs' largest difference in any weight (0: the same)
            "difference": (pair[0][1] - pair[1][1]).abs().max().item(),
        }
        for deterministic, pair in runs.items()
    },
}
# --8<-- [end:determinism_measured]

# --8<-- [start:save]
output_dir = Path(args.output_dir)
output_dir.mkdir(parents=True, exist_ok=True)
(output_dir / "porting.json").write_text(json.dumps(results, indent=2) + "\n")
print(json.dumps(results, indent=2))
# --8<-- [end:save]
