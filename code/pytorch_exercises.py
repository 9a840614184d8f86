"""The Exercises page's solutions for pytorch_mlp.py, as changes to the
program.

Each section below is one solution: lines that replace, or go before or after,
lines of pytorch_mlp.py (the page says where). This file is not a program of
its own: `make exercises` (tools/exercises.py) applies each section to a copy
of pytorch_mlp.py, runs that copy, and the Exercises page shows what it
measured. The mirror of keras_exercises.py.
"""

# ruff: noqa: E402, F821
raise SystemExit("fragments of pytorch_mlp.py: `make exercises` runs them")

# 1.1, after the line that applies --train-size:
# --8<-- [start:standardise]
mean, std = x_train.mean(), x_train.std()
print(f"pixels after scaling: mean {mean:.4f}, standard deviation {std:.4f}")
x_train, x_val, x_test = ((x - mean) / std for x in (x_train, x_val, x_test))
# --8<-- [end:standardise]

# 1.2, the line that makes the labels tensors, without .long():
# --8<-- [start:no_long]
y_train, y_val, y_test = (
    torch.from_numpy(y).to(device) for y in (y_train, y_val, y_test)
)
# --8<-- [end:no_long]

# 1.2, the same line with int32 labels instead:
# --8<-- [start:int32_labels]
y_train, y_val, y_test = (
    torch.from_numpy(y).int().to(device) for y in (y_train, y_val, y_test)
)
# --8<-- [end:int32_labels]


# 2.2, the model:
# --8<-- [start:two_hidden_layers]
class MLP(nn.Module):
    def __init__(self, hidden_units):
        super().__init__()
        self.hidden = nn.Linear(784, hidden_units)
        self.hidden2 = nn.Linear(hidden_units, hidden_units)
        self.output = nn.Linear(hidden_units, 10)

    def forward(self, x):
        x = torch.relu(self.hidden(x))
        x = torch.relu(self.hidden2(x))
        return self.output(x)


model = MLP(args.hidden_units)
# --8<-- [end:two_hidden_layers]

# 2.3, after `model = MLP(args.hidden_units)`:
# --8<-- [start:glorot]
for layer in (model.hidden, model.output):
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
# --8<-- [end:glorot]

# 3.3, before the train section:
# --8<-- [start:early_stopping_setup]
patience = 3  # epochs without a lower validation loss before stopping
# --8<-- [end:early_stopping_setup]

for epoch in range(1, args.epochs + 1):  # the program's epoch loop
    for indices in batches:  # and, in train_epoch, its loop over batches
        x_batch, y_batch = x_train[indices], y_train[indices]
        # 3.2, the training step without zero_grad():
        # --8<-- [start:no_zero_grad]
        logits = model(x_batch)
        loss = loss_function(logits, y_batch)
        loss.backward()  # adds this batch's gradients to those already there
        optimizer.step()
        # --8<-- [end:no_zero_grad]
    # 3.3, at the end of the epoch, after its log line:
    # --8<-- [start:early_stopping]
    if epoch - best_epoch >= patience:
        print(f"stopped early after epoch {epoch}")
        break
    # --8<-- [end:early_stopping]

# 4.1, after the predict section:
# --8<-- [start:per_digit]
import numpy as np

labels = y_test.cpu().numpy()  # from the device, as NumPy needs
per_digit = [
    (predicted_labels[labels == digit] == digit).mean() for digit in range(10)
]
for digit, accuracy in enumerate(per_digit):
    print(f"digit {digit}: {accuracy:.2%}")
print(f"hardest digit: {int(np.argmin(per_digit))}")
# --8<-- [end:per_digit]
