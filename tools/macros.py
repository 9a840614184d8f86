"""Variables and macros for the pages (mkdocs-macros-plugin).

Every number a page shows comes from the files the retrain step wrote in
docs/generated/, or `make bench`, `make export` and `make scale` in
docs/benchmark/, docs/deployment/ and docs/scaling/; nothing here computes a
result, it only reads and formats.
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
    # Written by `make export` and `make scale`.
    for name in ("deployment", "scaling"):
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
    env.variables["hyperparameters"] = results["keras"]["config"]
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
