"""The parity experiment (`make artifacts`, docs/generated/parity.json): both
frameworks stepped from the same weights on the same batches, against each
Keras backend.

Its outcome words are decided by the tolerance it recorded: within it, every
step's losses differ by no more than float32 rounding explains.
"""

from tools.course import KERAS_BACKENDS

from .formatting import backend_list, steps_text, table
from .shared import macro

AGREE_WORDS = "agree to float32 rounding"
DIFFER_WORDS = "differ beyond float32 rounding"
# The libraries' versions, as the pages name them.
LIBRARIES = {
    "keras": "Keras",
    "tensorflow": "TensorFlow",
    "tensorflow-cpu": "TensorFlow (CPU build)",
    "jax": "JAX",
    "jaxlib": "jaxlib",
    "torch": "PyTorch",
    "numpy": "NumPy",
    "python": "Python",
}


def rounding_steps(parity, comparison):
    """The largest loss difference relative to the loss, in float32 rounding
    steps (machine epsilons)."""
    return (
        comparison["max_relative_loss_difference"] / parity["config"]["float32_epsilon"]
    )


def agrees_to_rounding(parity, comparison):
    """Whether a comparison stays within the experiment's rounding tolerance."""
    return rounding_steps(parity, comparison) <= parity["config"]["rounding_tolerance"]


def adam_drift(parity):
    """How much of Adam's drift between the frameworks is epsilon's."""
    experiments = parity["experiments"]
    runs = [
        experiments[name]
        for name in (
            "adam_default_epsilon",
            "adam_same_epsilon",
            "adam_negligible_epsilon",
        )
    ]
    default, same, negligible = (run["max_weight_difference"] for run in runs)
    losses = ", ".join(f"{run['max_loss_difference']:.2g}" for run in runs)
    return (
        f"Adam's weights end {default:.3f} apart (largest difference, over "
        f"the {len(parity['backends'])} Keras backends) with each framework's "
        f"default epsilon; the same epsilon in both shrinks that weight "
        f"difference by {1 - same / default:.0%} (to {same:.3f}), a negligible "
        f"one by {1 - negligible / default:.0%} (to {negligible:.3f}); the "
        f"largest loss differences of the three runs, in that order: {losses}"
    )


def parity_table(parity):
    """Each experiment against each Keras backend: the outcome and the
    largest loss difference in rounding steps."""
    backends = list(parity["backends"])
    rows = []
    for experiment in parity["experiments"].values():
        optimizer = "SGD" if experiment["optimizer"] == "sgd" else "Adam"
        epsilons = " / ".join(
            "—" if value is None else f"{value:g}"
            for value in (experiment["keras_epsilon"], experiment["pytorch_epsilon"])
        )
        cells = []
        for backend in backends:
            comparison = experiment["backends"][backend]
            words = (
                AGREE_WORDS if agrees_to_rounding(parity, comparison) else DIFFER_WORDS
            )
            cells.append(f"{words}: {steps_text(rounding_steps(parity, comparison))}")
        rows.append(
            [
                experiment["label"],
                f"{optimizer}, {experiment['learning_rate']:g}",
                epsilons,
                *cells,
            ]
        )
    return table(
        [
            "experiment",
            "optimizer, step size",
            "epsilon (Keras / PyTorch)",
            *(f"Keras on {KERAS_BACKENDS[backend]}" for backend in backends),
        ],
        ["---"] * (3 + len(backends)),
        rows,
    )


def parity_details(parity):
    """Every comparison's numbers: loss differences and final weights."""
    rows = []
    for experiment in parity["experiments"].values():
        for backend, comparison in experiment["backends"].items():
            weights = comparison["weight_differences"]
            largest = max(weights, key=weights.get)
            rows.append(
                [
                    experiment["label"],
                    KERAS_BACKENDS[backend],
                    f"{comparison['max_loss_difference']:.1e}",
                    f"{comparison['mean_loss_difference']:.1e}",
                    steps_text(rounding_steps(parity, comparison)),
                    f"{weights[largest]:.1e} ({largest})",
                ]
            )
    return table(
        [
            "experiment",
            "Keras on",
            "largest loss difference",
            "mean loss difference",
            "largest relative loss difference, in rounding steps",
            "largest final weight difference",
        ],
        ["---", "---"] + ["---:"] * 4,
        rows,
    )


def parity_outcome(parity, name):
    """One experiment's outcome over the backends, as a sentence's end:
    which backends agree to float32 rounding, which differ, by how much."""
    comparisons = parity["experiments"][name]["backends"]
    agree = [b for b, found in comparisons.items() if agrees_to_rounding(parity, found)]
    differ = [b for b in comparisons if b not in agree]
    parts = []
    for backends, words in ((agree, AGREE_WORDS), (differ, DIFFER_WORDS)):
        if backends:
            largest = max(rounding_steps(parity, comparisons[b]) for b in backends)
            parts.append(
                f"with Keras on {backend_list(backends, ', on ', ' and on ')}, the "
                f"losses {words} (up to {steps_text(largest)} rounding steps "
                "apart)"
            )
    return "; ".join(parts)


def parity_first_layer(parity):
    """How much of the first layer's output is bit for bit the same."""
    layers = {b: found["first_layer"] for b, found in parity["backends"].items()}
    shares = [
        f"{layer['identical_fraction']:.0%} with Keras on {KERAS_BACKENDS[b]}"
        for b, layer in layers.items()
    ]
    shares = ", ".join(shares[:-1]) + " and " + shares[-1]
    largest = max(layer["max_difference"] for layer in layers.values())
    return (
        f"of its numbers, {shares} are bit for bit the same; the others "
        f"differ by at most {largest:.1e}"
    )


def parity_versions(parity):
    """The libraries' versions that the experiment ran with."""
    versions = dict(parity["versions"], **parity["pytorch"]["versions"])
    for found in parity["backends"].values():
        versions.update(found["versions"])
    return ", ".join(
        f"{label} {versions[name]}"
        for name, label in LIBRARIES.items()
        if name in versions
    )


def parity_compiled(parity):
    """On which backends compile() chose to compile the step with XLA."""
    compiled = [b for b, found in parity["backends"].items() if found["jit_compile"]]
    eager = [b for b in parity["backends"] if b not in compiled]
    parts = []
    if compiled:
        parts.append(
            f"on {backend_list(compiled)}, Keras compiled each training step with XLA"
        )
    if eager:
        parts.append(f"on {backend_list(eager)}, it did not")
    return "; ".join(parts)


MACROS = (
    adam_drift,
    parity_table,
    parity_details,
    parity_outcome,
    parity_first_layer,
    parity_versions,
    parity_compiled,
)


def register(env, results):
    env.variables["parity"] = results.parity
    for function in MACROS:
        macro(env, function, results.parity)
