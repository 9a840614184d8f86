"""The pages' variables, macros and filters (mkdocs-macros-plugin).

Every number a page shows comes from a result file that a `make` target
wrote; nothing here trains or measures, it only reads, compares and formats.
`define_env` reads every JSON result file once per build, through
`tools.results.load` (the training logs through `shared.read_text`), and each
topic's module registers what the pages use of it. Each macro is a plain
function of the results it reads (its first parameters, bound by
`shared.macro`) and of the page's arguments: a test calls it with loaded or
hand-made results. Every table with a row per result is built by a macro,
never by a Jinja loop in the page; tables with fixed rows stay in the page.

`hyperparameters` and `settings` look alike and are not the same thing:
`hyperparameters` is the configuration that the committed Keras lecture run
recorded in its metrics.json (lower-case keys, `make artifacts`): what the
results on the pages were trained with. `settings` is the constants that
code/keras_mlp.py and code/pytorch_mlp.py define at their top (upper-case
names, read from their source by `tools.course.settings()`, no `make`
target): what the code says now. Text about a result uses `hyperparameters`;
text about the code uses `settings`.

Variables
---------
make artifacts (docs/generated/):
- `results`: each lecture run's metrics.json, by framework
- `hyperparameters`: the configuration the Keras lecture run recorded (above)
- `figures`: figures.json, what the lecture figures show (curves, misclassified)
- `keras_backends`: the metrics.json of Keras trained on each backend
- `pitfalls`: each framework's pitfalls.json, the Pitfalls page's runs
- `playground`: each framework's playground/FRAMEWORK.json, the 8-bit models
- `parity`: parity.json, the step-by-step comparison
- `bridge`: bridge.json, what code/input_pipelines.py recorded of its pipelines
make seeds, make exercises, make porting, make bench, make export, make scale:
- `seeds`: docs/seeds/seeds.json, the seed study
- `exercises`: docs/exercises/exercises.json, every solution's results
- `porting`: docs/porting/porting.json, the Porting page's runs
- `benchmark`: docs/benchmark/benchmark.json, the Performance page's timings
- `pipelines`: docs/benchmark/pipelines.json, the input pipelines' costs
- `deployment`: docs/deployment/deployment.json, the six saved forms
- `scaling`: docs/scaling/scaling.json, the runs on one and two workers
the programs' source (code/, no make target):
- `settings`: the constants the programs define, by name (above)
- `training_images`: images per training epoch with the default settings
- `program_sections`: the programs' top-level section names, in order
- `pythons`: the Pythons the project supports, from pyproject.toml ("3.11 to 3.13")
- `keras_lines`: lines of code/keras_mlp.py, blank and comment lines not counted
- `pytorch_lines`: the same for code/pytorch_mlp.py

Macros
------
training (make artifacts):
- `median_epoch_seconds(framework)`: a lecture run's median epoch, in seconds
- `training_curves()`: a list item per framework on its loss curves
seeds (make seeds; seed_gap also make artifacts):
- `seed_table()`: each seed's test accuracy, and mean, spread and range
- `seed_verdict()`: the difference of the means, its interval, what it says
- `seed_gap()`: the lecture runs' gap against the spread between seeds
- `ablation_table()`: each framework with one default of the other's, over seeds
- `ablation_verdict()`: every variant of the ablation in words, and the conclusion
- `ablation_effect(name)`: one variant in words (its name in seeds.json)
- `ablation_conclusion()`: which default, if any, accounts for the gap
parity (make artifacts):
- `adam_drift()`: how much of Adam's drift between the frameworks is epsilon's
- `parity_table()`: each experiment's outcome on each backend
- `parity_details()`: every comparison's loss and weight differences
- `parity_outcome(name)`: one experiment's outcome, as a sentence's end
- `parity_first_layer()`: how much of the first layer's output is identical
- `parity_versions()`: the libraries' versions the experiment ran with
- `parity_compiled()`: on which backends Keras compiled the step with XLA
pitfalls (make artifacts):
- `adam_epsilon_table()`: Adam's first steps in both frameworks
playground (make artifacts):
- `playground_chart()`: the empty bars of a model's chart, one per digit
- `playground_agreement()`: a list item per framework: 8 bits against float32
backends (make artifacts):
- `measured_on(run="keras")`: where a run computed, as a sentence part
- `backend_table()`: Keras on each backend, and PyTorch: accuracy, time, device
- `backend_speed()`: which backend trained fastest, and by how much
- `backend_accuracy_range()`: the lowest and highest accuracy of the backends
pipelines (make bench; the batches and the bridge make artifacts):
- `pipeline_cost_table()`: every runner's pipelines: seconds per epoch
- `pipeline_against(runner, pipeline, baseline=None)`: one against another
- `pipeline_advice()`: which pipelines beat their program's way, if any
- `pipeline_batches_verdict()`: whether every pipeline gave the same batches
- `pipeline_batches_table()`: what each pipeline yielded over one epoch
- `bridge_table()`: what the bridge between the frameworks observed
benchmark (make bench):
- `bench_epoch_table()`: one epoch of each runner, against the limits
- `bench_comparison(measure="epoch")`: which runner is faster, spreads apart
- `bench_matmul_table()`: each runner's float32 matrix-multiply throughput
- `bench_matmul_order()`: the libraries by that throughput, fastest first
- `bench_speed_table()`: every setting of every runner: seconds per epoch
- `bench_effect(runner, variant, against="defaults")`: a setting's effect
- `bench_resolved_jit(runner)`: what jit_compile="auto" became on a runner
- `bench_default_adam()`: which Adam implementation PyTorch chose by default
- `bench_compiled_step_graphs()`: how TorchDynamo split the compiled step
- `bench_program_table()`: the course's programs, against the bare loop
- `bench_program_effect(runner)`: a program's epoch against the bare loop
- `bench_fastest()`: the fastest way to train found, against the limit
- `bench_step_gap(runner, variant="defaults")`: ms per step above the arithmetic
- `bench_step_table()`: one step's time at each batch size
- `bench_inference_table()`: inference times and peak memory of each runner
- `bench_original_lecture_table()`: the original lecture's way against ours
deployment (make export):
- `deployment_speed_table()`: every form's file size, load and prediction times
- `deployment_agreement_table()`: every reloaded form against the saved model
- `deployment_runtime_table()`: what each form needs, what its loader imported
- `deployment_damaged_files()`: the error each loader gave on a truncated file
- `form_name(form)`: a form of `deployment.formats` by name: 'PyTorch ONNX'
scaling (make scale; scaling_outcomes also make artifacts):
- `scaling_table()`: every run on one and two workers
- `scaling_outcomes()`: a list item per framework: two workers against one
- `scaling_logs()`: what worker 0 printed, one collapsed block per framework
porting (make porting):
- `porting_weight_decay_table()`: each optimizer's decay, on weights no gradient moves
- `porting_weight_decay_verdict()`: decoupled against coupled, and the schedule's figure
- `porting_resume_table()`: training stopped and resumed, against not stopping
- `porting_resume_verdict()`: whether the whole checkpoint resumed exactly
- `porting_determinism_table()`: two runs with and without the determinism switch
- `porting_determinism_verdict()`: what the switch changed on this CPU
- `porting_train_step_verdict()`: the hand-written train_step against fit's own
exercises (make exercises), each an exercise's table of results:
- `exercise_standardise_table()`: 1.1, inputs scaled against standardised
- `exercise_width_table()`: 2.1, accuracy and time at each hidden size
- `exercise_depth_table()`: 2.2, one hidden layer against two
- `exercise_sgd_table()`: 3.1, accuracy at each SGD learning rate tried
- `exercise_zero_grad_table()`: 3.2, loss and accuracy without zero_grad()
- `exercise_early_stopping_table()`: 3.3, epochs run and kept, patience 3
- `exercise_per_digit_table()`: 4.1, each digit's test accuracy
pages (figures, logs and summaries: make artifacts, make bench; code/):
- `figure(name, caption="", folder="generated/")`: a figure in both schemes
- `output(framework, first, last=None)`: lines of a lecture run's training log
- `text_file(path)`: a text file of docs/generated/ as a text block
- `colab(notebook)`: Colab's address for a notebook of docs/notebooks/
- `earlier_code(section)`: the programs' sections before `section`, collapsed
- `side_by_side_sections()`: every top-level section of both programs, side by side

Filters
-------
- `percent(digits=2)`: 0.98261 -> '98.26%'
- `milliseconds`: seconds as '0.123 ms', '45.6 ms' or '1.50 s'
- `megabytes`: bytes as '1.63 MB'
- `thousands`: 407050 -> '407,050'
"""

import importlib
import sys
from pathlib import Path

# mkdocs-macros imports this package by its folder (module_name: tools/macros)
# as a top-level package, `macros`, and Zensical as a module named
# "tools/macros", which cannot import relatively: the topics are imported
# from the project's `tools` package, made importable here.
PROJECT_DIR = Path(__file__).resolve().parents[2]
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from tools.macros import (  # noqa: E402
    backends,
    benchmark,
    deployment,
    exercises,
    formatting,
    pages,
    parity,
    pipelines,
    pitfalls,
    playground,
    porting,
    scaling,
    seeds,
    shared,
    training,
)

# Each topic registers its variables and macros; the ones a topic imports
# from come first (the order in which `define_env` reloads them).
TOPICS = (
    training,
    seeds,
    parity,
    pitfalls,
    playground,
    backends,
    pipelines,
    benchmark,
    deployment,
    scaling,
    exercises,
    porting,
    pages,
)


def define_env(env):
    """Read the results once, and register every topic's variables, macros
    and filters. `mkdocs serve` imports this package once, then calls this on
    every rebuild: the modules are reloaded first, so that an edited macro
    shows on the next rebuild."""
    for module in (shared, formatting, *TOPICS):
        importlib.reload(module)
    results = shared.load_results()
    for function in formatting.FILTERS:
        env.filter(function)
    for topic in TOPICS:
        topic.register(env, results)
