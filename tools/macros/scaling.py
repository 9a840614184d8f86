"""Scaling (`make scale`, docs/scaling/scaling.json): each framework trained
by one worker and by two (torchrun DDP, tf.distribute) over loopback."""

from tools.course import FRAMEWORKS

from .formatting import indent, percent, table, thousands
from .shared import macro


def scaling_table(scaling):
    """Every run: its workers and threads, time per epoch, images per second,
    test accuracy, and whether every worker ended with the same weights."""
    rows = [
        [
            FRAMEWORKS[framework],
            workers,
            run["threads_per_worker"],
            f"{run['median_epoch_seconds']:.2f}",
            thousands(round(run["images_per_second"])),
            percent(run["test_accuracy"]),
            "yes" if run["identical_weights"] else "no",
        ]
        for framework, result in scaling["frameworks"].items()
        for workers, run in result["runs"].items()
    ]
    return table(
        [
            "framework",
            "workers",
            "threads per worker",
            "seconds per epoch (median)",
            "images per second",
            "test accuracy",
            "identical weights in every worker",
        ],
        ["---"] + ["---:"] * 5 + ["---"],
        rows,
    )


def scaling_outcomes(scaling, metrics):
    """A list item per framework: two workers against one, and against the
    lecture's single-process run."""
    items = []
    for framework, result in scaling["frameworks"].items():
        runs = result["runs"]
        items.append(
            f"- **{FRAMEWORKS[framework]}**: two workers reach\n"
            f"  {percent(runs['2']['test_accuracy'])}, one worker\n"
            f"  {percent(runs['1']['test_accuracy'])}, a difference of\n"
            f"  {result['accuracy_difference_points']:+.2f} points. The\n"
            "  lecture's single-process program reached\n"
            f"  {percent(metrics[framework]['test']['accuracy'])} (it also keeps "
            "the epoch with\n"
            "  the lowest validation loss, which these runs do not). Two workers "
            "process\n"
            f"  {result['speedup']:.2f} times as many images per second as one."
        )
    return "\n\n".join(items)


def scaling_logs(scaling):
    """What worker 0 printed in each framework's run on two workers, one
    collapsed block each."""
    return "\n\n".join(
        f'??? example "{FRAMEWORKS[framework]}, two workers"\n\n'
        "    ```text\n"
        f"{indent(result['runs']['2']['log'].strip(), 4, first=True)}\n"
        "    ```"
        for framework, result in scaling["frameworks"].items()
    )


def register(env, results):
    env.variables["scaling"] = results.scaling
    macro(env, scaling_table, results.scaling)
    macro(env, scaling_outcomes, results.scaling, results.metrics)
    macro(env, scaling_logs, results.scaling)
