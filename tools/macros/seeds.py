"""The seed study (`make seeds`, docs/seeds/seeds.json): each framework
trained with several seeds, what the spread says of the lecture runs, and the
ablation: each framework with one default of the other's."""

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


def interval(found):
    """A Welch comparison in points: '+0.12 [+0.03, +0.22]'."""
    return (
        f"{found['difference'] * 100:+.2f} "
        f"[{found['low'] * 100:+.2f}, {found['high'] * 100:+.2f}]"
    )


def other_framework(found):
    """The framework whose defaults a variant of the ablation borrowed."""
    return next(name for name in FRAMEWORKS if name != found["framework"])


def excludes_zero(found):
    return not found["low"] <= 0 <= found["high"]


def ablation_table(seeds):
    """Each variant of the ablation: its mean and spread over the seeds, and
    its difference from its own framework's runs and from the other's."""
    rows = []
    for name, label in FRAMEWORKS.items():
        found = seeds["frameworks"][name]
        rows.append([label, percent(found["mean"]), points(found["std"]), "", ""])
    for found in seeds["ablation"].values():
        own = FRAMEWORKS[found["framework"]]
        other = FRAMEWORKS[other_framework(found)]
        rows.append(
            [
                found["label"],
                percent(found["mean"]),
                points(found["std"]),
                f"{interval(found['against_own'])} vs {own}",
                f"{interval(found['against_other'])} vs {other}",
            ]
        )
    return table(
        [
            "runs",
            "mean test accuracy",
            "standard deviation (points)",
            "against its own framework (points, 95% interval)",
            "against the other framework (points, 95% interval)",
        ],
        ["---", "---:", "---:", "---", "---"],
        rows,
    )


def ablation_finding(found):
    """One variant in words: did the change move its framework, and is the
    gap to the other framework still there?"""
    other = FRAMEWORKS[other_framework(found)]
    own = FRAMEWORKS[found["framework"]]
    change = interval(found["against_own"])
    if excludes_zero(found["against_own"]):
        moved = f"moves {own} by {change} points"
    else:
        moved = (
            f"does not move {own} by more than the seeds do ({change} points, "
            "an interval that contains zero)"
        )
    if excludes_zero(found["against_other"]):
        side = "above" if found["against_other"]["difference"] > 0 else "below"
        gap = f"and stays {side} {other} ({interval(found['against_other'])})"
    else:
        gap = (
            f"and cannot be told apart from {other} "
            f"({interval(found['against_other'])}, an interval that contains zero)"
        )
    return f"{found['label']} {moved}, {gap}"


def accounts_for_gap(found):
    """A default accounts for the gap when giving it to a framework moves that
    framework's mean and leaves it indistinguishable from the other's."""
    return excludes_zero(found["against_own"]) and not excludes_zero(
        found["against_other"]
    )


def ablation_effect(seeds, name):
    """One variant of the ablation in words, by its name in seeds.json."""
    return ablation_finding(seeds["ablation"][name])


def ablation_conclusion(seeds):
    """Which default, if any, accounts for the difference between the
    frameworks, by the ablation's test."""
    if not excludes_zero(seeds["difference"]):
        return (
            "The frameworks' own runs cannot be told apart here, so there is no "
            "gap for one of their defaults to account for."
        )
    # One default at a time: a variant that changes two says nothing new.
    single = [
        found for found in seeds["ablation"].values() if found["changes"][1:] == []
    ]
    does = [found["label"] for found in single if accounts_for_gap(found)]
    # An interval that contains zero shows no effect, and excludes none
    # inside it: such a change is neither credited nor ruled out.
    unshown = [
        f"{found['label']} (from {points_between(found['against_own'])} points, "
        "which includes no effect and effects that large)"
        for found in single
        if not excludes_zero(found["against_own"])
    ]
    short = [
        found["label"]
        for found in single
        if excludes_zero(found["against_own"]) and not accounts_for_gap(found)
    ]
    test = (
        "a change that moves its framework, after which the two frameworks "
        "cannot be told apart"
    )
    if does:
        sentence = (
            f"What passes this test ({test}), and so may account for the gap: "
            + "; ".join(does)
        )
    else:
        sentence = f"None of the defaults tried passes the test ({test})"
    if short:
        sentence += ". What moves its framework but leaves a gap: " + "; ".join(short)
    if unshown:
        sentence += f". What {len(seeds['seeds'])} seeds cannot decide: " + "; ".join(
            unshown
        )
    return sentence + "."


def points_between(found):
    """A Welch interval's ends in points: '-0.05 to +0.11'."""
    return f"{found['low'] * 100:+.2f} to {found['high'] * 100:+.2f}"


def ablation_verdict(seeds):
    """What the ablation found: each variant, then which default, if any,
    accounts for the difference between the frameworks."""
    findings = "; ".join(map(ablation_finding, seeds["ablation"].values()))
    return (
        f"Over the same {len(seeds['seeds'])} seeds each (points of test "
        "accuracy, the variant's mean minus the mean it is compared with, and "
        f"a 95% Welch t interval): {findings}. {ablation_conclusion(seeds)}"
    )


def register(env, results):
    env.variables["seeds"] = results.seeds
    macro(env, seed_table, results.seeds)
    macro(env, seed_verdict, results.seeds)
    macro(env, seed_gap, results.seeds, results.metrics)
    macro(env, ablation_table, results.seeds)
    macro(env, ablation_verdict, results.seeds)
    macro(env, ablation_effect, results.seeds)
    macro(env, ablation_conclusion, results.seeds)
