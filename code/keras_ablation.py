"""The seed study's ablation for keras_mlp.py: PyTorch's defaults, as changes
to the program.

The section below gives keras_mlp.py PyTorch's initial weights (the comment
above it says where it goes). This file is not a program of its own: `make
seeds` (tools/seed_study.py) applies it to a copy of keras_mlp.py, trains that
copy once per seed, and the Model and Parity pages compare what it scored with
PyTorch. The mirror of pytorch_ablation.py; PyTorch's epsilon has no mirror
here, because Keras' Adam reads its epsilon as a constant.
"""

# ruff: noqa: E402, F821
raise SystemExit("fragments of keras_mlp.py: `make seeds` runs them")


# In place of the model: PyTorch's initial weights.
# --8<-- [start:pytorch_initialisation]
def pytorch_dense(units, fan_in, **options):
    """A Dense layer that starts as PyTorch's nn.Linear(fan_in, units)."""
    # Kaiming uniform with a = sqrt(5) is uniform within ±sqrt(1 / fan_in),
    # which VarianceScaling draws within ±sqrt(3 * scale / fan_in).
    kernel = keras.initializers.VarianceScaling(
        scale=1 / 3, mode="fan_in", distribution="uniform"
    )
    # The bias's bound comes from the layer's inputs, which an initialiser
    # never sees (it gets the bias's shape only): written out.
    bound = 1 / math.sqrt(fan_in)
    bias = keras.initializers.RandomUniform(-bound, bound)
    return keras.layers.Dense(
        units, kernel_initializer=kernel, bias_initializer=bias, **options
    )


model = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        pytorch_dense(args.hidden_units, 784, activation="relu"),
        pytorch_dense(10, args.hidden_units),
    ]
)
# --8<-- [end:pytorch_initialisation]
