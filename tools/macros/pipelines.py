"""The Data lecture's input pipelines: the cost of an epoch fed by each
(`make bench`, docs/benchmark/pipelines.json), and what code/input_pipelines.py
recorded, the bridge between the frameworks included (`make artifacts`,
docs/generated/bridge.json)."""

from .formatting import table, time_against
from .shared import macro


def program_way(pipelines, runner):
    """The runner's first pipeline: its program's own way, the baseline."""
    return next(iter(pipelines["runners"][runner]["pipelines"].values()))


def pipeline_cost_table(pipelines):
    """Every runner's pipelines: seconds per epoch, against the program's way."""
    rows = []
    for runner, found in pipelines["runners"].items():
        baseline = program_way(pipelines, runner)
        for measure in found["pipelines"].values():
            comparison = (
                "the program's way"
                if measure is baseline
                else time_against(measure, baseline)
            )
            rows.append(
                [
                    found["label"],
                    measure["label"],
                    f"{measure['median']:.2f} s ({measure['min']:.2f} – "
                    f"{measure['max']:.2f})",
                    comparison,
                ]
            )
    return table(
        [
            "runner",
            "fed by",
            "seconds per epoch, median (fastest – slowest)",
            "against the program's way",
        ],
        ["---"] * 4,
        rows,
    )


def pipeline_against(pipelines, runner, pipeline, baseline=None):
    """One pipeline's epoch against another of its runner (by default the
    program's own way), in words."""
    found = pipelines["runners"][runner]["pipelines"]
    against = found[baseline] if baseline else program_way(pipelines, runner)
    ratio, spreads = time_against(found[pipeline], against).split(", ", 1)
    return f"{ratio} as {against['label']} ({spreads})"


def pipeline_advice(pipelines):
    """Which pipelines, if any, took less time than their program's way,
    with the spreads of the repeats apart, as a sentence."""
    quicker = [
        f"{measure['label']} with {found['label']} ("
        + time_against(measure, program_way(pipelines, runner)).split(",")[0]
        + ")"
        for runner, found in pipelines["runners"].items()
        for measure in found["pipelines"].values()
        if measure["max"] < program_way(pipelines, runner)["min"]
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


def pipeline_batches_verdict(bridge):
    """Whether every pipeline gave the same batches in number and shape."""
    shapes = {
        (found["batches"], found["images"], *found["x"]["shape"])
        for found in bridge["pipelines"].values()
    }
    if len(shapes) == 1:
        return "Every pipeline gave the same number of batches, of the same shapes"
    return "The pipelines did not give the same batches in number and shape"


def batch_text(found):
    """A batch as recorded: its type, dtype and shape."""
    shape = " × ".join(str(size) for size in found["shape"])
    return f"`{found['type']}`, {found['dtype']}, {shape}"


def pipeline_batches_table(bridge):
    """What each pipeline yielded over one epoch, as the program recorded."""
    return table(
        [
            "function",
            "batches per epoch",
            "images",
            "a batch of images",
            "a batch of labels",
        ],
        ["---", "---:", "---:", "---", "---"],
        [
            [
                f"`{name}`",
                found["batches"],
                f"{found['images']:,}",
                batch_text(found["x"]),
                batch_text(found["y"]),
            ]
            for name, found in bridge["pipelines"].items()
        ],
    )


def bridge_table(bridge):
    """What the bridge observed, as the program recorded it."""
    found = bridge["bridge"]
    return table(
        ["what the program checked", "recorded"],
        ["---", "---"],
        [
            ["Keras' backend", bridge["backend"]],
            ["`isinstance(model, torch.nn.Module)`", found["is_torch_module"]],
            [
                "`model.parameters()`",
                f"{found['parameter_tensors']} tensors, "
                f"{found['parameter_count_torch']:,} numbers (`model.count_params()`: "
                f"{found['parameter_count_keras']:,})",
            ],
            [
                "`model(x_val)`, given a `torch.Tensor`, returns",
                f"`{found['output_type']}`",
            ],
            [
                "validation accuracy after one epoch, `fit` on the DataLoader",
                f"{found['fit_on_data_loader_accuracy']:.2%}",
            ],
            [
                "validation accuracy after one epoch, the PyTorch loop",
                f"{found['pytorch_loop_accuracy']:.2%}",
            ],
        ],
    )


def register(env, results):
    env.variables["pipelines"] = results.pipelines
    env.variables["bridge"] = results.bridge
    for function in (pipeline_cost_table, pipeline_against, pipeline_advice):
        macro(env, function, results.pipelines)
    for function in (pipeline_batches_verdict, pipeline_batches_table, bridge_table):
        macro(env, function, results.bridge)
