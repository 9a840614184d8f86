"""The benchmark (`make bench`, docs/benchmark/benchmark.json): four runners
(Keras on each backend, PyTorch) timed on the course's MLP, with the
settings that change their speed, against the machine's compute limit.

A runner is said faster than another only where the spreads of the repeats
(fastest to slowest) do not overlap.
"""

from .formatting import seconds, table, thousands, versus
from .shared import macro


def bench_comparison(benchmark, measure="epoch"):
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


def timed_over(benchmark, result):
    """How an epoch's time was taken, when not from whole epochs."""
    steps, per_epoch = result["steps_timed"], benchmark["config"]["steps_per_epoch"]
    if steps >= per_epoch:
        return ""
    return f" (timed over {steps} steps, × {per_epoch / steps:.1f} for an epoch)"


def bench_epoch_table(benchmark):
    """One epoch of each runner with its library's defaults: its time, images
    per second, and that time against the machine's and its library's limit."""
    images = benchmark["config"]["training_images"]
    limit = benchmark["compute_limit"]["epoch_seconds"]
    rows = [
        [
            result["label"],
            f"{result['epoch']['median']:.2f} ({result['epoch']['min']:.2f} – "
            f"{result['epoch']['max']:.2f})",
            thousands(round(images / result["epoch"]["median"])),
            f"{result['epoch']['median'] / limit:.1f}",
            f"{result['epoch']['median'] / result['own_epoch_limit_seconds']:.1f}",
        ]
        for result in benchmark["runners"].values()
    ]
    return table(
        [
            "runner",
            "seconds per epoch, median (fastest – slowest)",
            "images per second",
            "× the machine's compute limit",
            "× its own library's limit",
        ],
        ["---"] + ["---:"] * 4,
        rows,
    )


def bench_matmul_table(benchmark):
    """Each runner's float32 matrix-multiply throughput, as measured in it."""
    return table(
        ["runner", "its library's float32 matrix multiply"],
        ["---", "---:"],
        [
            [
                result["label"],
                f"{result['matmul_flops'] / 1e9:.0f} GFLOP/s ({result['library']})",
            ]
            for result in benchmark["runners"].values()
        ],
    )


def bench_speed_table(benchmark):
    """Every change a reader can make, runner by runner: seconds per epoch
    and that as a multiple of the machine's limit and of its library's."""
    rows = []
    for runner in benchmark["runners"].values():
        for result in runner["variants"].values():
            change = f"`{result['label']}`"
            if not result["supported"]:
                reason = result["reason"].replace("`", "")
                rows.append(
                    [runner["label"], change, f"not supported: {reason}", "", ""]
                )
                continue
            rows.append(
                [
                    runner["label"],
                    change,
                    seconds(result["epoch"]) + timed_over(benchmark, result),
                    f"{result['machine_limit_ratio']:.1f}",
                    f"{result['own_limit_ratio']:.1f}",
                ]
            )
    return table(
        [
            "runner",
            "change",
            "seconds per epoch, median (fastest – slowest)",
            "× the machine's compute limit",
            "× its library's limit",
        ],
        ["---", "---", "---", "---:", "---:"],
        rows,
    )


def bench_program_table(benchmark):
    """The course's programs on their defaults, against the bare loop (the
    defaults variant) and the limits."""
    rows = []
    for runner in benchmark["runners"].values():
        program = runner["program"]
        rows.append(
            [
                f"`{program['command']}`",
                seconds(program["epoch"]) + timed_over(benchmark, program),
                f"{runner['variants']['defaults']['epoch']['median']:.2f} s",
                f"{program['machine_limit_ratio']:.1f}",
                f"{program['own_limit_ratio']:.1f}",
            ]
        )
    return table(
        [
            "program",
            "seconds per epoch, median (fastest – slowest)",
            "the bare loop, same library",
            "× the machine's compute limit",
            "× its library's limit",
        ],
        ["---", "---", "---", "---:", "---:"],
        rows,
    )


def bench_step_table(benchmark):
    """The time of one training step at each batch size: the compute limit
    and each runner's median, in milliseconds."""
    runners = benchmark["runners"].values()
    limits = benchmark["compute_limit"]["step_seconds"]
    rows = [
        [
            size,
            f"{limits[str(size)] * 1e3:.2f} ms",
            *(
                f"{result['steps'][str(size)]['median'] * 1e3:.2f} ms"
                for result in runners
            ),
        ]
        for size in benchmark["config"]["batch_sizes"]
    ]
    return table(
        ["batch size", "compute limit", *(result["label"] for result in runners)],
        ["---:"] * (2 + len(runners)),
        rows,
    )


def bench_inference_table(benchmark):
    """Each runner's inference: one image (by calling the model, and with
    Keras' `predict`), the test set at once, and its process's peak memory."""
    rows = []
    for result in benchmark["runners"].values():
        inference = result["inference"]
        one_image = f"{inference['one_image_call']['median'] * 1e3:.2f} ms"
        if "one_image_predict" in inference:
            one_image += (
                f" (`model(x)`), {inference['one_image_predict']['median'] * 1e3:.1f}"
                " ms (`predict`)"
            )
        rows.append(
            [
                result["label"],
                one_image,
                f"{inference['test_set_predict']['median'] * 1e3:.0f} ms",
                f"{result['peak_memory_mb']:.0f} MB",
            ]
        )
    return table(
        [
            "runner",
            "one image",
            "10,000 test images",
            "peak memory of the runner's process",
        ],
        ["---"] + ["---:"] * 3,
        rows,
    )


def bench_original_lecture_table(benchmark):
    """The original lecture's way of feeding PyTorch (a per-sample `Dataset`,
    one image at a time) against the course's in-memory batches."""
    found = benchmark["runners"]["pytorch"]["original_lecture"]
    rows = []
    for task, slow, fast in (
        ("one epoch of training", "train_per_sample", "train_in_memory"),
        ("evaluating the test set", "evaluate_one_at_a_time", "evaluate_at_once"),
    ):
        slow, fast = found[slow]["median"], found[fast]["median"]
        rows.append([task, f"{slow:.3f} s", f"{fast:.3f} s", f"{slow / fast:.1f}x"])
    return table(
        [
            "",
            "per-sample `Dataset`, one image at a time",
            "in-memory batches (this course)",
            "time ratio",
        ],
        ["---"] + ["---:"] * 3,
        rows,
    )


def bench_effect(benchmark, runner, variant, against="defaults"):
    """A variant's epoch against another of the same runner, in words."""
    variants = benchmark["runners"][runner]["variants"]
    new, old = variants[variant], variants[against]
    if not new["supported"]:
        return f"`{new['label']}` is refused: “{new['reason']}”"
    return versus(new, old, f"with `{old['label']}`")


def bench_program_effect(benchmark, runner):
    """A course program's epoch against the bare loop of its runner."""
    found = benchmark["runners"][runner]
    return versus(found["program"], found["variants"]["defaults"], "bare")


def bench_resolved_jit(benchmark, runner):
    """What jit_compile="auto" became on this runner, as Keras resolved it."""
    value = benchmark["runners"][runner]["variants"]["defaults"]["jit_compile"]
    return f"`jit_compile={value}`"


def bench_default_adam(benchmark):
    """Which of its implementations PyTorch's Adam chose by default here."""
    adam = benchmark["runners"]["pytorch"]["variants"]["defaults"]["adam"]
    if adam["fused"]:
        return "the fused implementation"
    if adam["foreach"]:
        return "the foreach implementation, one operation over all parameters"
    return "the for-loop implementation, one parameter at a time"


def bench_compiled_step_graphs(benchmark):
    """How TorchDynamo split the compiled training step, and why."""
    found = benchmark["runners"]["pytorch"]["variants"]["compiled-step"]
    reasons = "; ".join(f"“{reason}”" for reason in found["graph_breaks"])
    breaks = len(found["graph_breaks"])
    return (
        f"{found['graphs']} compiled graphs, {breaks} graph "
        f"{'break' if breaks == 1 else 'breaks'}" + (f": {reasons}" if breaks else "")
    )


def bench_step_gap(benchmark, runner, variant="defaults"):
    """Milliseconds per step that a variant spends above the arithmetic."""
    epoch = benchmark["runners"][runner]["variants"][variant]["epoch"]["median"]
    gap = epoch - benchmark["compute_limit"]["epoch_seconds"]
    return f"{gap / benchmark['config']['steps_per_epoch'] * 1e3:.2f} ms"


def bench_fastest(benchmark):
    """The fastest way to train found here, against the machine's limit."""
    found = benchmark["fastest"]
    runner = benchmark["runners"][found["runner"]]
    label = runner["variants"][found["variant"]]["label"]
    return (
        f"{runner['label']} with `{label}`: {found['epoch']['median']:.2f} s "
        f"per epoch, {found['machine_limit_ratio']:.1f}x the machine's compute "
        "limit"
    )


def bench_matmul_order(benchmark):
    """The libraries by float32 matrix-multiply throughput, fastest first."""
    best = {}
    for runner in benchmark["runners"].values():
        flops = runner["matmul_flops"]
        best[runner["library"]] = max(flops, best.get(runner["library"], 0))
    ordered = sorted(best.items(), key=lambda item: -item[1])
    return ", ".join(
        f"{library} {flops / 1e9:.0f} GFLOP/s" for library, flops in ordered
    )


MACROS = (
    bench_comparison,
    bench_epoch_table,
    bench_matmul_table,
    bench_speed_table,
    bench_program_table,
    bench_step_table,
    bench_inference_table,
    bench_original_lecture_table,
    bench_effect,
    bench_program_effect,
    bench_resolved_jit,
    bench_default_adam,
    bench_compiled_step_graphs,
    bench_step_gap,
    bench_fastest,
    bench_matmul_order,
)


def register(env, results):
    env.variables["benchmark"] = results.benchmark
    for function in MACROS:
        macro(env, function, results.benchmark)
