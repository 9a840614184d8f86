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
from tools.course import (  # noqa: E402
    FRAMEWORKS,
    KERAS_BACKENDS,
    MAIN_KERAS_BACKEND,
    keras_run,
    program_sections,
    settings,
    training_images,
)

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
    # The programs' sections, in order (for the pages that show them all).
    env.variables["program_sections"] = program_sections()
    env.variables["training_images"] = training_images()
    env.variables["results"] = results
    define_backend_macros(env, results)
    define_pipeline_macros(env)
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
            f"Adam's weights end {default:.3f} apart (largest difference, over "
            f"the {len(parity['backends'])} Keras backends) with each framework's "
            f"default epsilon; the same epsilon in both shrinks that by "
            f"{1 - same / default:.0%} (to {same:.3f}), a negligible one by "
            f"{1 - negligible / default:.0%} (to {negligible:.3f})"
        )

    # The parity experiment's outcome words, decided by the tolerance it
    # recorded: within it, every step's losses differ by no more than float32
    # rounding explains.
    parity_config = parity["config"]
    rounding_tolerance = parity_config["rounding_tolerance"]
    agree_words = "agree to float32 rounding"
    differ_words = "differ beyond float32 rounding"

    def rounding_steps(comparison):
        """The largest loss difference relative to the loss, in float32
        rounding steps (machine epsilons)."""
        return (
            comparison["max_relative_loss_difference"]
            / parity_config["float32_epsilon"]
        )

    def agrees_to_rounding(comparison):
        return rounding_steps(comparison) <= rounding_tolerance

    def steps_text(value):
        """2.18 -> '2.2', 153.7 -> '154', 202033 -> '2.0 × 10⁵'."""
        if value < 10:
            return f"{value:.1f}"
        if value < 10_000:
            return f"{value:.0f}"
        mantissa, exponent = f"{value:.1e}".split("e")
        superscript = str(int(exponent)).translate(
            str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
        )
        return f"{mantissa} × 10{superscript}"

    def backend_list(backends, between=", ", last=" and "):
        """['tensorflow', 'jax'] -> 'TensorFlow and JAX'."""
        names = [KERAS_BACKENDS[backend] for backend in backends]
        return (
            last.join([between.join(names[:-1]), names[-1]]) if names[1:] else names[0]
        )

    @env.macro
    def parity_table():
        """Each experiment against each Keras backend: the outcome and the
        largest loss difference in rounding steps."""
        backends = list(parity["backends"])
        header = " | ".join(
            f"Keras on {KERAS_BACKENDS[backend]}" for backend in backends
        )
        rows = [
            "| experiment | optimizer, step size | epsilon (Keras / PyTorch) | "
            f"{header} |",
            "| --- | --- | --- |" + " --- |" * len(backends),
        ]
        for experiment in parity["experiments"].values():
            optimizer = "SGD" if experiment["optimizer"] == "sgd" else "Adam"
            epsilons = " / ".join(
                "—" if value is None else f"{value:g}"
                for value in (
                    experiment["keras_epsilon"],
                    experiment["pytorch_epsilon"],
                )
            )
            cells = []
            for backend in backends:
                comparison = experiment["backends"][backend]
                words = agree_words if agrees_to_rounding(comparison) else differ_words
                cells.append(f"{words}: {steps_text(rounding_steps(comparison))}")
            rows.append(
                f"| {experiment['label']} | {optimizer}, "
                f"{experiment['learning_rate']:g} | {epsilons} | {' | '.join(cells)} |"
            )
        return "\n".join(rows)

    @env.macro
    def parity_details():
        """Every comparison's numbers: loss differences and final weights."""
        rows = [
            "| experiment | Keras on | largest loss difference | mean loss "
            "difference | largest relative loss difference, in rounding steps | "
            "largest final weight difference |",
            "| --- | --- |" + " ---: |" * 4,
        ]
        for experiment in parity["experiments"].values():
            for backend, comparison in experiment["backends"].items():
                weights = comparison["weight_differences"]
                largest = max(weights, key=weights.get)
                rows.append(
                    f"| {experiment['label']} | {KERAS_BACKENDS[backend]} | "
                    f"{comparison['max_loss_difference']:.1e} | "
                    f"{comparison['mean_loss_difference']:.1e} | "
                    f"{steps_text(rounding_steps(comparison))} | "
                    f"{weights[largest]:.1e} ({largest}) |"
                )
        return "\n".join(rows)

    @env.macro
    def parity_outcome(name):
        """One experiment's outcome over the backends, as a sentence's end:
        which backends agree to float32 rounding, which differ, by how much."""
        comparisons = parity["experiments"][name]["backends"]
        agree = [b for b, found in comparisons.items() if agrees_to_rounding(found)]
        differ = [b for b in comparisons if b not in agree]
        parts = []
        for backends, words in ((agree, agree_words), (differ, differ_words)):
            if backends:
                largest = max(rounding_steps(comparisons[b]) for b in backends)
                parts.append(
                    f"with Keras on {backend_list(backends, ', on ', ' and on ')}, the "
                    f"losses {words} (up to {steps_text(largest)} rounding steps "
                    "apart)"
                )
        return "; ".join(parts)

    @env.macro
    def parity_first_layer():
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

    @env.macro
    def parity_versions():
        """The libraries' versions that the experiment ran with."""
        versions = dict(parity["versions"], **parity["pytorch"]["versions"])
        for found in parity["backends"].values():
            versions.update(found["versions"])
        names = {
            "keras": "Keras",
            "tensorflow": "TensorFlow",
            "tensorflow-cpu": "TensorFlow (CPU build)",
            "jax": "JAX",
            "jaxlib": "jaxlib",
            "torch": "PyTorch",
            "numpy": "NumPy",
            "python": "Python",
        }
        return ", ".join(
            f"{label} {versions[name]}"
            for name, label in names.items()
            if name in versions
        )

    @env.macro
    def parity_compiled():
        """On which backends compile() chose to compile the step with XLA."""
        compiled = [
            b for b, found in parity["backends"].items() if found["jit_compile"]
        ]
        eager = [b for b in parity["backends"] if b not in compiled]
        parts = []
        if compiled:
            parts.append(
                f"on {backend_list(compiled)}, Keras compiled each training step "
                "with XLA"
            )
        if eager:
            parts.append(f"on {backend_list(eager)}, it did not")
        return "; ".join(parts)

    @env.macro
    def earlier_code(section):
        """A collapsed block with the programs' sections before `section`,
        one tab per framework, so the code of any one page runs on its own."""
        order = env.variables["program_sections"]
        sections = order[: order.index(section)]
        tabs = []
        for framework, label in FRAMEWORKS.items():
            # A blank line between two sections: at Python's prompt, it ends
            # a statement that the first one may end with.
            includes = "\n\n".join(
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

    def seconds(measure):
        """A time measure: '0.54 s (0.52 – 0.60)', median (fastest – slowest)."""
        return (
            f"{measure['median']:.2f} s ({measure['min']:.2f} – {measure['max']:.2f})"
        )

    def timed_over(result):
        """How an epoch's time was taken, when not from whole epochs."""
        steps, per_epoch = result["steps_timed"], benchmark["config"]["steps_per_epoch"]
        if steps >= per_epoch:
            return ""
        return f" (timed over {steps} steps, × {per_epoch / steps:.1f} for an epoch)"

    def versus(new, old, old_name):
        """new against old, in words: how many times faster or slower, and only
        where the spreads of the repeats do not overlap."""
        a, b = new["epoch"], old["epoch"]
        text = f"{a['median']:.2f} s against {b['median']:.2f} s {old_name}"
        if a["max"] < b["min"]:
            return f"{text}: {b['median'] / a['median']:.1f}x faster"
        if b["max"] < a["min"]:
            return f"{text}: {a['median'] / b['median']:.1f}x slower"
        return f"{text}: the spreads of the repeats overlap, no difference shown"

    @env.macro
    def bench_speed_table():
        """Every change a reader can make, runner by runner: seconds per epoch
        and that as a multiple of the machine's limit and of its library's."""
        rows = [
            "| runner | change | seconds per epoch, median (fastest – slowest) "
            "| × the machine's compute limit | × its library's limit |",
            "| --- | --- | --- | ---: | ---: |",
        ]
        for runner in benchmark["runners"].values():
            for result in runner["variants"].values():
                change = f"`{result['label']}`"
                if not result["supported"]:
                    rows.append(
                        f"| {runner['label']} | {change} | not supported: "
                        f"{result['reason'].replace('`', '')} | | |"
                    )
                    continue
                rows.append(
                    f"| {runner['label']} | {change} | {seconds(result['epoch'])}"
                    f"{timed_over(result)} | {result['machine_limit_ratio']:.1f} "
                    f"| {result['own_limit_ratio']:.1f} |"
                )
        return "\n".join(rows)

    @env.macro
    def bench_program_table():
        """The course's programs on their defaults, against the bare loop (the
        defaults variant) and the limits."""
        rows = [
            "| program | seconds per epoch, median (fastest – slowest) | the bare "
            "loop, same library | × the machine's compute limit | × its library's "
            "limit |",
            "| --- | --- | --- | ---: | ---: |",
        ]
        for runner in benchmark["runners"].values():
            program = runner["program"]
            rows.append(
                f"| `{program['command']}` | {seconds(program['epoch'])}"
                f"{timed_over(program)} | "
                f"{runner['variants']['defaults']['epoch']['median']:.2f} s | "
                f"{program['machine_limit_ratio']:.1f} | "
                f"{program['own_limit_ratio']:.1f} |"
            )
        return "\n".join(rows)

    @env.macro
    def bench_effect(runner, variant, against="defaults"):
        """A variant's epoch against another of the same runner, in words."""
        variants = benchmark["runners"][runner]["variants"]
        new, old = variants[variant], variants[against]
        if not new["supported"]:
            return f"`{new['label']}` is refused: “{new['reason']}”"
        return versus(new, old, f"with `{old['label']}`")

    @env.macro
    def bench_program_effect(runner):
        """A course program's epoch against the bare loop of its runner."""
        found = benchmark["runners"][runner]
        return versus(found["program"], found["variants"]["defaults"], "bare")

    @env.macro
    def bench_resolved_jit(runner):
        """What jit_compile="auto" became on this runner, as Keras resolved it."""
        value = benchmark["runners"][runner]["variants"]["defaults"]["jit_compile"]
        return f"`jit_compile={value}`"

    @env.macro
    def bench_default_adam():
        """Which of its implementations PyTorch's Adam chose by default here."""
        adam = benchmark["runners"]["pytorch"]["variants"]["defaults"]["adam"]
        if adam["fused"]:
            return "the fused implementation"
        if adam["foreach"]:
            return "the foreach implementation, one operation over all parameters"
        return "the for-loop implementation, one parameter at a time"

    @env.macro
    def bench_compiled_step_graphs():
        """How TorchDynamo split the compiled training step, and why."""
        found = benchmark["runners"]["pytorch"]["variants"]["compiled-step"]
        reasons = "; ".join(f"“{reason}”" for reason in found["graph_breaks"])
        breaks = len(found["graph_breaks"])
        return (
            f"{found['graphs']} compiled graphs, {breaks} graph "
            f"{'break' if breaks == 1 else 'breaks'}"
            + (f": {reasons}" if breaks else "")
        )

    @env.macro
    def bench_step_gap(runner, variant="defaults"):
        """Milliseconds per step that a variant spends above the arithmetic."""
        epoch = benchmark["runners"][runner]["variants"][variant]["epoch"]["median"]
        gap = epoch - benchmark["compute_limit"]["epoch_seconds"]
        return f"{gap / benchmark['config']['steps_per_epoch'] * 1e3:.2f} ms"

    @env.macro
    def bench_fastest():
        """The fastest way to train found here, against the machine's limit."""
        found = benchmark["fastest"]
        runner = benchmark["runners"][found["runner"]]
        label = runner["variants"][found["variant"]]["label"]
        return (
            f"{runner['label']} with `{label}`: {found['epoch']['median']:.2f} s "
            f"per epoch, {found['machine_limit_ratio']:.1f}x the machine's compute "
            "limit"
        )

    @env.macro
    def bench_matmul_order():
        """The libraries by float32 matrix-multiply throughput, fastest first."""
        best = {}
        for runner in benchmark["runners"].values():
            flops = runner["matmul_flops"]
            best[runner["library"]] = max(flops, best.get(runner["library"], 0))
        ordered = sorted(best.items(), key=lambda item: -item[1])
        return ", ".join(
            f"{library} {flops / 1e9:.0f} GFLOP/s" for library, flops in ordered
        )

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


def device_name(metrics):
    """Where a run computed, as a sentence part: 'the CPU (Intel Xeon, 1 core)'."""
    device = metrics["device"]
    machine = metrics["machine"]
    if device.startswith("cpu"):
        cores = machine.get("cores_used", machine["cpu_count"])
        return f"the CPU ({machine['cpu']}, {cores} core{'s' * (cores != 1)})"
    return f"the {device.split(':')[0].upper()} device {device}"


def define_backend_macros(env, results):
    """The Backends page: Keras' program trained on each backend by the retrain
    step (docs/generated/keras/, keras-jax/, keras-torch/), beside PyTorch's."""
    runs = {
        backend: json.loads(
            (GENERATED_DIR / keras_run(backend) / "metrics.json").read_text(
                encoding="utf-8"
            )
        )
        for backend in KERAS_BACKENDS
    }
    env.variables["keras_backends"] = runs

    def epoch(metrics):
        return statistics.median(metrics["epoch_seconds"])

    @env.macro
    def measured_on(run="keras"):
        """Where a main run (keras, pytorch) or a backend's run was measured."""
        return device_name(runs[run] if run in runs else results[run])

    @env.macro
    def backend_table():
        """Accuracy, epoch time and device of Keras on each backend, and PyTorch."""
        rows = [
            "| program | backend | test accuracy | kept epoch "
            "| median epoch | device | library |",
            "| --- | --- | ---: | ---: | ---: | --- | --- |",
        ]
        library = {"tensorflow": "tensorflow-cpu", "jax": "jax", "torch": "torch"}
        for backend, label in KERAS_BACKENDS.items():
            metrics = runs[backend]
            versions = metrics["versions"]
            name = library[backend] if library[backend] in versions else backend
            main = " (the main comparison)" * (backend == MAIN_KERAS_BACKEND)
            rows.append(
                f"| `KERAS_BACKEND={backend} python keras_mlp.py` | {label}{main} | "
                f"{metrics['test']['accuracy']:.2%} | {metrics['best_epoch']} | "
                f"{epoch(metrics):.2f} s | {metrics['device']} | "
                f"{name} {versions.get(name, '?')} |"
            )
        metrics = results["pytorch"]
        rows.append(
            f"| `pytorch_mlp.py` | (PyTorch itself) | "
            f"{metrics['test']['accuracy']:.2%} | {metrics['best_epoch']} | "
            f"{epoch(metrics):.2f} s | {metrics['device']} | "
            f"torch {metrics['versions']['torch']} |"
        )
        return "\n".join(rows)

    @env.macro
    def backend_speed():
        """Which backend trained fastest here, and by how much, from the runs."""
        cores = {
            metrics["machine"].get("cores_used")
            for metrics in (*runs.values(), results["pytorch"])
        }
        if len(cores) != 1 or None in cores:
            raise ValueError(
                "backend_speed: the runs were not made on the same number of cores "
                f"({cores}); run `make artifacts` again"
            )
        fastest, *others = sorted(runs, key=lambda backend: epoch(runs[backend]))
        parts = " and ".join(
            f"{epoch(runs[backend]) / epoch(runs[fastest]):.1f} times as long on "
            f"{KERAS_BACKENDS[backend]}"
            for backend in others
        )
        pytorch = epoch(results["pytorch"]) / epoch(runs[fastest])
        return (
            f"Keras on {KERAS_BACKENDS[fastest]} trained fastest, at "
            f"{epoch(runs[fastest]):.2f} s per epoch (median); Keras took {parts}, "
            f"and the PyTorch program {pytorch:.1f} times as long"
        )

    @env.macro
    def backend_accuracy_range():
        """The lowest and highest test accuracy over the three backends."""
        accuracies = [metrics["test"]["accuracy"] for metrics in runs.values()]
        return f"from {min(accuracies):.2%} to {max(accuracies):.2%}"


def time_against(measure, baseline):
    """A time against another, in words: how many times as long, and whether
    the spreads of the repeats (fastest to slowest) keep them apart."""
    ratio = measure["median"] / baseline["median"]
    if measure["max"] < baseline["min"] or baseline["max"] < measure["min"]:
        return f"{ratio:.2f} times as long, spreads apart"
    return f"{ratio:.2f} times as long, spreads overlap: no difference shown"


def define_pipeline_macros(env):
    """The Data lecture's input pipelines: the cost of an epoch fed by each
    (docs/benchmark/pipelines.json, `make bench`), and what code/input_pipelines.py
    recorded, the bridge between the frameworks included
    (docs/generated/bridge.json, `make artifacts`)."""
    pipelines = json.loads(
        (DOCS_DIR / "benchmark" / "pipelines.json").read_text(encoding="utf-8")
    )
    bridge = json.loads((GENERATED_DIR / "bridge.json").read_text(encoding="utf-8"))
    env.variables["pipelines"] = pipelines
    env.variables["bridge"] = bridge
    runners = pipelines["runners"]

    def program_way(runner):
        """The runner's first pipeline: its program's own way, the baseline."""
        return next(iter(runners[runner]["pipelines"].values()))

    @env.macro
    def pipeline_cost_table():
        """Every runner's pipelines: seconds per epoch, against the program's way."""
        rows = [
            "| runner | fed by | seconds per epoch, median (fastest – slowest) "
            "| against the program's way |",
            "| --- | --- | --- | --- |",
        ]
        for runner, found in runners.items():
            baseline = program_way(runner)
            for measure in found["pipelines"].values():
                comparison = (
                    "the program's way"
                    if measure is baseline
                    else time_against(measure, baseline)
                )
                rows.append(
                    f"| {found['label']} | {measure['label']} | "
                    f"{measure['median']:.2f} s ({measure['min']:.2f} – "
                    f"{measure['max']:.2f}) | {comparison} |"
                )
        return "\n".join(rows)

    @env.macro
    def pipeline_against(runner, pipeline, baseline=None):
        """One pipeline's epoch against another of its runner (by default the
        program's own way), in words."""
        found = runners[runner]["pipelines"]
        against = found[baseline] if baseline else program_way(runner)
        ratio, spreads = time_against(found[pipeline], against).split(", ", 1)
        return f"{ratio} as {against['label']} ({spreads})"

    @env.macro
    def pipeline_batches_verdict():
        """Whether every pipeline gave the same batches in number and shape."""
        shapes = {
            (found["batches"], found["images"], *found["x"]["shape"])
            for found in bridge["pipelines"].values()
        }
        if len(shapes) == 1:
            return "Every pipeline gave the same number of batches, of the same shapes"
        return "The pipelines did not give the same batches in number and shape"

    @env.macro
    def pipeline_advice():
        """Which pipelines, if any, took less time than their program's way,
        with the spreads of the repeats apart, as a sentence."""
        quicker = [
            f"{measure['label']} with {found['label']} ("
            + time_against(measure, program_way(runner)).split(",")[0]
            + ")"
            for runner, found in runners.items()
            for measure in found["pipelines"].values()
            if measure["max"] < program_way(runner)["min"]
        ]
        if not quicker:
            return (
                "In the table, no pipeline took less time than its program's own "
                "way with the spreads apart."
            )
        return (
            "In the table, these took less time than their program's own way, "
            f"with the spreads apart: {'; '.join(quicker)}. Time such a change on "
            "your own machine before making it for speed."
        )

    @env.macro
    def pipeline_batches_table():
        """What each pipeline yielded over one epoch, as the program recorded."""
        rows = [
            "| function | batches per epoch | images | a batch of images "
            "| a batch of labels |",
            "| --- | ---: | ---: | --- | --- |",
        ]

        def batch(found):
            shape = " × ".join(str(size) for size in found["shape"])
            return f"`{found['type']}`, {found['dtype']}, {shape}"

        for name, found in bridge["pipelines"].items():
            rows.append(
                f"| `{name}` | {found['batches']} | {found['images']:,} | "
                f"{batch(found['x'])} | {batch(found['y'])} |"
            )
        return "\n".join(rows)

    @env.macro
    def bridge_table():
        """What the bridge observed, as the program recorded it."""
        found = bridge["bridge"]
        rows = [
            "| what the program checked | recorded |",
            "| --- | --- |",
            f"| Keras' backend | {bridge['backend']} |",
            f"| `isinstance(model, torch.nn.Module)` | {found['is_torch_module']} |",
            f"| `model.parameters()` | {found['parameter_tensors']} tensors, "
            f"{found['parameter_count_torch']:,} numbers (`model.count_params()`: "
            f"{found['parameter_count_keras']:,}) |",
            f"| `model(x_val)`, given a `torch.Tensor`, returns | "
            f"`{found['output_type']}` |",
            f"| validation accuracy after one epoch, `fit` on the DataLoader "
            f"| {found['fit_on_data_loader_accuracy']:.2%} |",
            f"| validation accuracy after one epoch, the PyTorch loop "
            f"| {found['pytorch_loop_accuracy']:.2%} |",
        ]
        return "\n".join(rows)
