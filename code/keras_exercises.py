"""The Exercises page's solutions for keras_mlp.py, as changes to the program.

Each section below is one solution: lines that replace, or go before or after,
lines of keras_mlp.py (the page says where). This file is not a program of its
own: `make exercises` (tools/exercises.py) applies each section to a copy of
keras_mlp.py, runs that copy, and the Exercises page shows what it measured.
The mirror of pytorch_exercises.py.
"""

# ruff: noqa: E402, F821
raise SystemExit("fragments of keras_mlp.py: `make exercises` runs them")

# 1.1, after the line that applies --train-size:
# --8<-- [start:standardise]
mean, std = x_train.mean(), x_train.std()
print(f"pixels after scaling: mean {mean:.4f}, standard deviation {std:.4f}")
x_train, x_val, x_test = ((x - mean) / std for x in (x_train, x_val, x_test))
# --8<-- [end:standardise]

# 2.2, the model:
# --8<-- [start:two_hidden_layers]
model = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        keras.layers.Dense(args.hidden_units, activation="relu"),
        keras.layers.Dense(args.hidden_units, activation="relu"),
        keras.layers.Dense(10),
    ]
)
# --8<-- [end:two_hidden_layers]

# 3.3, the model-selection callback, now stopping after 3 epochs without
# progress:
# --8<-- [start:early_stopping]
keep_best = keras.callbacks.EarlyStopping(
    monitor="val_loss", patience=3, restore_best_weights=True
)
# --8<-- [end:early_stopping]

# 4.1, after the predict section:
# --8<-- [start:per_digit]
import numpy as np

labels = np.asarray(y_test)
per_digit = [
    (predicted_labels[labels == digit] == digit).mean() for digit in range(10)
]
for digit, accuracy in enumerate(per_digit):
    print(f"digit {digit}: {accuracy:.2%}")
print(f"hardest digit: {int(np.argmin(per_digit))}")
# --8<-- [end:per_digit]

# 4.2, after the evaluate section: the same two numbers without model.evaluate:
# --8<-- [start:manual_evaluate]
logits = model(x_test, training=False)
loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
    y_test, logits
)
accuracy = keras.ops.mean(keras.ops.argmax(logits, axis=1) == y_test)
print(f"by hand: loss {float(loss):.6f}, accuracy {float(accuracy):.6f}")
print(f"evaluate: loss {test_loss:.6f}, accuracy {test_accuracy:.6f}")
# --8<-- [end:manual_evaluate]
