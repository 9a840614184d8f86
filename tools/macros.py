"""Variables and macros for the pages (mkdocs-macros-plugin).

Every number a page shows comes from the files the retrain step wrote in
docs/generated/, or `make seeds`, `make exercises`, `make bench`, `make export`
and `make scale` in docs/seeds/, docs/exercises/, docs/benchmark/,
docs/deployment/ and docs/scaling/; nothing here trains or measures, it only
reads, compares and formats.
"""

import json
import statistics
import sys
import textwrap
from pathlib import Path

# mkdocs-macros loads this file by its path, not as part of the tools package:
# make the package importable, so that the pages use the tools' own names.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import CODE_DIR, DOCS_DIR  # noqa: E402
from tools.course import FRAMEWORKS, settings, training_images  # noqa: E402

GENERATED_DIR = DOCS_DIR / "generated"


def define_env(env):
    results = {
        framework: json.loads(
            (GENERATED_DIR / framework / "metrics.json").read_text(encoding="utf-8")
        )
        for framework in FRAMEWORKS
    }
    pitfalls = {
        framework: json.loads(
            (GENERATED_DIR / framework / "pitfalls.json").read_text(encoding="utf-8")
        )
        for framework in FRAMEWORKS
    }
    figures = json.loads((GENERATED_DIR / "figures.json").read_text(encoding="utf-8"))
    env.variables["pitfalls"] = pitfalls
    benchmark_dir = GENERATED_DIR.parent / "benchmark"
    benchmark = json.loads(
        (benchmark_dir / "benchmark.json").read_text(encoding="utf-8")
    )
    env.variables["benchmark"] = benchmark
    alt_texts = {
        "generated/": figures["alt"],
        "benchmark/": json.loads(
            (benchmark_dir / "figures.json").read_text(encoding="utf-8")
        )["alt"],
    }
    env.variables["parity"] = json.loads(
        (GENERATED_DIR / "parity.json").read_text(encoding="utf-8")
    )
    # Written by `make seeds`, `make exercises`, `make export` and `make scale`.
    for name in ("seeds", "exercises", "deployment", "scaling"):
        path = GENERATED_DIR.parent / name / f"{name}.json"
        env.variables[name] = json.loads(path.read_text(encoding="utf-8"))
    env.variables["playground"] = {
        framework: json.loads(
            (GENERATED_DIR / "playground" / f"{framework}.json").read_text(
                encoding="utf-8"
            )
        )
        for framework in FRAMEWORKS
    }
    # The settings as the programs define them, for text about the code.
    env.variables["settings"] = settings()
    env.variables["training_images"] = training_images()
    env.variables["results"] = results
    env.variables["figures"] = figures
    env.variables["hyperparameters"] = hyperparameters = results["keras"]["config"]
    parity = env.variables["parity"]
    for framework in FRAMEWORKS:
        env.variables[f"{framework}_lines"] = lines_of_code(
            CODE_DIR / f"{framework}_mlp.py"
        )

    @env.filter
    def percent(fraction, digits=2):
        """0.98261 -> '98.26%'."""
        return f"{fraction:.{digits}%}"

    @env.filter
    def milliseconds(seconds):
        """0.000123 -> '0.123 ms', 0.0456 -> '45.6 ms', 1.5 -> '1.50 s'."""
        value = seconds * 1e3
        if value < 1:
            return f"{value:.3f} ms"
        return f"{value:.3g} ms" if value < 1000 else f"{seconds:.2f} s"

    @env.filter
    def megabytes(size):
        """1629268 -> '1.63 MB'."""
        return f"{size / 1e6:.2f} MB"

    @env.filter
    def thousands(number):
        """407050 -> '407,050'."""
        return f"{number:,}"

    @env.macro
    def median_epoch_seconds(framework):
        """Median wall time of one epoch (training and validation), in seconds."""
        return f"{statistics.median(results[framework]['epoch_seconds']):.1f}"

    seeds = env.variables["seeds"]

    def points(fraction, digits=2):
        """0.0012 -> '0.12' (percentage points)."""
        return f"{fraction * 100:.{digits}f}"

    @env.macro
    def seed_table():
        """The seed study: each seed's test accuracy, and mean, spread and range."""
        header = " | ".join(f"seed {seed}" for seed in seeds["seeds"])
        rows = [
            f"| framework | {header} | mean | standard deviation | min | max |",
            "| --- |" + " ---: |" * (len(seeds["seeds"]) + 4),
        ]
        for framework, label in FRAMEWORKS.items():
            found = seeds["frameworks"][framework]
            cells = " | ".join(percent(value) for value in found["accuracies"])
            rows.append(
                f"| {label} | {cells} | {percent(found['mean'])} | "
                f"{points(found['std'])} points | {percent(found['min'])} | "
                f"{percent(found['max'])} |"
            )
        return "\n".join(rows)

    @env.macro
    def seed_verdict():
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
        return (
            sentence + f". The interval excludes zero: on average {higher} scores "
            "higher here, by a fraction of a point."
            if abs(found["difference"]) < 0.01
            else sentence + f". The interval excludes zero: {higher} scores higher."
        )

    @env.macro
    def seed_gap():
        """The lecture runs' gap (seed 0) against the spread between seeds."""
        gap = abs(
            results["keras"]["test"]["accuracy"]
            - results["pytorch"]["test"]["accuracy"]
        )
        ranges = {
            framework: found["max"] - found["min"]
            for framework, found in seeds["frameworks"].items()
        }
        widest = max(ranges.values())
        comparison = "no larger than" if gap <= widest else "larger than"
        return (
            f"the lecture runs (seed {hyperparameters['seed']}) end "
            f"{points(gap)} points of test accuracy apart, {comparison} the "
            f"range that one framework covers over its {len(seeds['seeds'])} "
            f"seeds ({points(ranges['keras'])} points for Keras, "
            f"{points(ranges['pytorch'])} for PyTorch)"
        )

    @env.macro
    def adam_drift():
        """How much of Adam's drift between the frameworks is epsilon's."""
        experiments = parity["experiments"]
        default, same, negligible = (
            experiments[name]["max_weight_difference"]
            for name in (
                "adam_default_epsilon",
                "adam_same_epsilon",
                "adam_negligible_epsilon",
            )
        )
        return (
            f"Adam's weights end {default:.3f} apart (largest difference) with "
            f"each framework's default epsilon; the same epsilon in both shrinks "
            f"that by {1 - same / default:.0%} (to {same:.3f}), a negligible one "
            f"by {1 - negligible / default:.0%} (to {negligible:.3f})"
        )

    @env.macro
    def earlier_code(*sections):
        """A collapsed block with the program's sections from earlier chapters,
        one tab per framework, so the code of any one page runs on its own."""
        tabs = []
        for framework, label in FRAMEWORKS.items():
            includes = "\n".join(
                f'--8<-- "code/{framework}_mlp.py:{section}"' for section in sections
            )
            tabs.append(
                f'=== "{label}"\n\n'
                + textwrap.indent(f"```python\n{includes}\n```", "    ")
            )
        return (
            '??? example "Code from the previous chapters: run it first"\n\n'
            + textwrap.indent("\n\n".join(tabs), "    ")
        )

    @env.macro
    def bench_comparison(measure="epoch"):
        """Which runner is faster at `measure`, only where the spreads (fastest to
        slowest repeat) do not overlap; otherwise it says they cannot be told apart."""
        runners = benchmark["runners"]
        ordered = sorted(runners, key=lambda runner: runners[runner][measure]["median"])
        sentences = []
        for faster, slower in zip(ordered, ordered[1:], strict=False):
            a, b = runners[faster][measure], runners[slower][measure]
            first, second = runners[faster]["label"], runners[slower]["label"]
            if a["max"] < b["min"]:
                sentences.append(
                    f"{first} is faster than {second} "
                    f"({b['median'] / a['median']:.1f}x, spreads apart)"
                )
            else:
                sentences.append(
                    f"{first} and {second} cannot be told apart (their spreads overlap)"
                )
        return "; ".join(sentences) + "."

    @env.macro
    def colab(notebook):
        """Colab's address for a notebook of docs/notebooks/ in the repository."""
        repository = env.conf["repo_url"].removeprefix("https://github.com/")
        return (
            f"https://colab.research.google.com/github/{repository}"
            f"/blob/main/docs/notebooks/{notebook}"
        )

    @env.macro
    def output(framework, first, last=None):
        """The lines of a training log from the one starting with `first` to the
        one starting with `last` (or just that one line), as a text block."""
        lines = (GENERATED_DIR / framework / "training-log.txt").read_text(
            encoding="utf-8"
        )
        lines = lines.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith(first))
        end = start
        if last is not None:
            end = next(
                i
                for i, line in enumerate(lines)
                if i >= start and line.startswith(last)
            )
        excerpt = "\n".join(lines[start : end + 1])
        return f"```text\n{excerpt}\n```"

    @env.macro
    def text_file(path):
        """A text artifact (summary, log) from docs/generated/, as a text block."""
        text = (GENERATED_DIR / path).read_text(encoding="utf-8")
        return f"```text\n{text.rstrip()}\n```"

    @env.macro
    def figure(name, caption="", folder="generated/"):
        """Both colour-scheme variants of a figure; the theme shows one.
        `folder`: "benchmark/" for the benchmark's figures."""
        alt = alt_texts[folder][name].replace('"', "&quot;")
        # A link relative to the page, so MkDocs can check it.
        up = "../" * env.page.file.src_uri.count("/")
        images = "\n".join(
            f"![{alt}]({up}{folder}figures/{name}-{scheme}.svg#only-{scheme})"
            "{ loading=lazy }"
            for scheme in ("light", "dark")
        )
        caption_html = f"\n<figcaption>{caption}</figcaption>" if caption else ""
        return f'<figure markdown="span">\n{images}{caption_html}\n</figure>'


def lines_of_code(path):
    """Lines that are neither blank nor comments (section markers are comments)."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return sum(1 for line in lines if line and not line.startswith("#"))
