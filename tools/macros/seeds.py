"""The seed study (`make seeds`, docs/seeds/seeds.json): each framework
trained with several seeds, and what the spread says of the lecture runs."""

from tools.course import FRAMEWORKS

from .formatting import percent, points, table
from .shared import macro


def seed_table(seeds):
    """The seed study: each seed's test accuracy, and mean, spread and range."""
    rows = []
    for framework, label in FRAMEWORKS.items():
        found = seeds["frameworks"][framework]
        rows.append(
            [
                label,
                *map(percent, found["accuracies"]),
                percent(found["mean"]),
                f"{points(found['std'])} points",
                percent(found["min"]),
                percent(found["max"]),
            ]
        )
    return table(
        [
            "framework",
            *(f"seed {seed}" for seed in seeds["seeds"]),
            "mean",
            "standard deviation",
            "min",
            "max",
        ],
        ["---"] + ["---:"] * (len(seeds["seeds"]) + 4),
        rows,
    )


def seed_verdict(seeds):
    """The difference of the means with its interval, and what it says."""
    found = seeds["difference"]
    count = len(seeds["seeds"])
    sentence = (
        f"Over {count} seeds per framework, the mean test accuracy of Keras "
        f"minus that of PyTorch is {points(found['difference'], 3)} points, "
        f"with a {found['confidence']:.0%} Welch t interval from "
        f"{points(found['low'], 3)} to {points(found['high'], 3)} points"
    )
    if found["low"] <= 0 <= found["high"]:
        return (
            sentence + ". The interval contains zero: these runs cannot tell "
            "the two frameworks' accuracy apart."
        )
    higher = "Keras" if found["difference"] > 0 else "PyTorch"
    if abs(found["difference"]) < 0.01:
        return (
            sentence + f". The interval excludes zero: on average {higher} scores "
            "higher here, by a fraction of a point."
        )
    return sentence + f". The interval excludes zero: {higher} scores higher."


def seed_gap(seeds, metrics):
    """The lecture runs' gap (seed 0) against the spread between seeds."""
    gap = abs(
        metrics["keras"]["test"]["accuracy"] - metrics["pytorch"]["test"]["accuracy"]
    )
    ranges = {
        framework: found["max"] - found["min"]
        for framework, found in seeds["frameworks"].items()
    }
    widest = max(ranges.values())
    comparison = "no larger than" if gap <= widest else "larger than"
    return (
        f"the lecture runs (seed {metrics['keras']['config']['seed']}) end "
        f"{points(gap)} points of test accuracy apart, {comparison} the "
        f"range that one framework covers over its {len(seeds['seeds'])} "
        f"seeds ({points(ranges['keras'])} points for Keras, "
        f"{points(ranges['pytorch'])} for PyTorch)"
    )


def register(env, results):
    env.variables["seeds"] = results.seeds
    macro(env, seed_table, results.seeds)
    macro(env, seed_verdict, results.seeds)
    macro(env, seed_gap, results.seeds, results.metrics)
