"""The Pitfalls page's demonstrations (`make artifacts`,
docs/generated/FRAMEWORK/pitfalls.json), each run for real in both frameworks."""

from .formatting import table
from .shared import macro


def adam_epsilon_table(pitfalls):
    """Adam's first steps in both frameworks: how far the weight moved."""
    keras = pitfalls["keras"]["adam_epsilon"]["steps"]
    pytorch = pitfalls["pytorch"]["adam_epsilon"]["steps"]
    return table(
        [
            "step",
            "Keras: how far the weight moved",
            "PyTorch: how far the weight moved",
        ],
        ["---:"] * 3,
        [
            [step, f"{keras_step:.3e}", f"{pytorch[step - 1]:.3e}"]
            for step, keras_step in enumerate(keras, start=1)
        ],
    )


def register(env, results):
    env.variables["pitfalls"] = results.pitfalls
    macro(env, adam_epsilon_table, results.pitfalls)
