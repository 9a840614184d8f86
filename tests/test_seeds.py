"""The seed study: its statistics, its results, its ablation, and the pages
that show them."""

import ast
import json
import math
import os
import statistics

import numpy as np
import pytest

from helpers import CODE_DIR, DOCS_DIR, FRAMEWORKS, GENERATED_DIR, run_program
from tools import sections, seed_study, variants

SEEDS = json.loads((DOCS_DIR / "seeds" / "seeds.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("df", "quantile"),
    # Student's t, 97.5% quantiles, from any table.
    [(1, 12.706), (4, 2.776), (8, 2.306), (30, 2.042)],
)
def test_t_quantile_matches_the_tables(df, quantile):
    assert seed_study.t_quantile(0.975, df) == pytest.approx(quantile, abs=2e-3)


def test_welch_interval_on_a_known_case():
    found = seed_study.welch([1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0, 5.0])
    # Means 2 and 3; variances 1/3 and 2.5/5; df = (5/6)^2 / ((1/3)^2/2 + (1/2)^2/4).
    assert found["difference"] == pytest.approx(-1.0)
    assert found["standard_error"] == pytest.approx((1 / 3 + 1 / 2) ** 0.5)
    assert found["degrees_of_freedom"] == pytest.approx(
        (5 / 6) ** 2 / ((1 / 3) ** 2 / 2 + (1 / 2) ** 2 / 4)
    )
    assert found["low"] < -1 < found["high"]


def test_the_study_has_five_seeds_or_more_and_its_numbers_add_up():
    assert len(SEEDS["seeds"]) >= 5
    for framework in FRAMEWORKS:
        found = SEEDS["frameworks"][framework]
        accuracies = found["accuracies"]
        assert len(accuracies) == len(SEEDS["seeds"])
        assert found["mean"] == pytest.approx(statistics.mean(accuracies))
        assert found["std"] == pytest.approx(statistics.stdev(accuracies))
        assert (found["min"], found["max"]) == (min(accuracies), max(accuracies))
    difference = SEEDS["difference"]
    assert difference["method"] == "Welch t interval"
    assert difference["low"] < difference["difference"] < difference["high"]
    assert difference["difference"] == pytest.approx(
        SEEDS["frameworks"]["keras"]["mean"] - SEEDS["frameworks"]["pytorch"]["mean"]
    )


def test_the_study_includes_the_lectures_seed_on_one_thread():
    """Seed 0, the lecture runs' seed, is in the study. The study's runs use one
    thread each, so its seed 0 need not repeat the lecture runs' last digits;
    the home page says so when they differ."""
    assert SEEDS["threads"] == 1
    for framework in FRAMEWORKS:
        metrics = json.loads((GENERATED_DIR / framework / "metrics.json").read_text())
        assert metrics["seed"] in SEEDS["seeds"]


@pytest.mark.parametrize(
    "page", ["index.md", "keras-or-pytorch.md", "parity.md", "lectures/model.md"]
)
def test_the_comparison_pages_read_the_seed_study(page):
    text = (DOCS_DIR / page).read_text(encoding="utf-8")
    assert "seed_verdict()" in text or "seeds." in text


# Adam's steps in Keras (TensorFlow, in a process of its own: PyTorch's
# optimizer crashes in a process that imported TensorFlow), on gradients of
# the size of the epsilons, so that where epsilon goes shows in the weights.
KERAS_ADAM = """
import json
import numpy as np
import keras

rng = np.random.default_rng(0)
start = rng.normal(size=64).astype("float32")
gradients = rng.normal(size=(50, 64)).astype("float32") * 1e-7
variable = keras.Variable(start)
adam = keras.optimizers.Adam(learning_rate=1e-3)
for gradient in gradients:
    adam.apply([keras.ops.convert_to_tensor(gradient)], [variable])
print(json.dumps([start.tolist(), gradients.tolist(), np.asarray(variable).tolist()]))
"""


def pytorch_adam(start, gradients, change):
    """PyTorch's Adam from `start` on `gradients`, running the code `change`
    before each step (where the ablation puts it); the final weights."""
    import torch

    weights = torch.nn.Parameter(torch.tensor(start))
    optimizer = torch.optim.Adam([weights], lr=1e-3)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    for gradient in gradients:
        exec(change, {"optimizer": optimizer, "scheduler": scheduler, "math": math})
        weights.grad = torch.tensor(gradient)
        optimizer.step()
        scheduler.step()
    return weights.detach().numpy()


@pytest.mark.slow
def test_keras_epsilon_makes_pytorch_adam_take_keras_steps():
    """The ablation's change gives PyTorch's Adam Keras' steps: on gradients
    as small as the epsilons, the weights follow Keras' to float32 rounding,
    and without the change they do not."""
    environment = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    completed = run_program("-c", KERAS_ADAM, env=environment)
    assert completed.returncode == 0, completed.stderr[-2000:]
    start, gradients, keras_weights = map(
        np.array, json.loads(completed.stdout.splitlines()[-1])
    )
    start, gradients = start.astype("float32"), gradients.astype("float32")
    moved = np.abs(keras_weights - start).max()
    change = sections.read(CODE_DIR / "pytorch_ablation.py", "keras_epsilon")
    for code, agrees in (("pass", False), (change, True)):
        weights = pytorch_adam(start, gradients, code)
        difference = np.abs(weights - keras_weights).max()
        assert (difference < 1e-4 * moved) == agrees, (code, difference, moved)


@pytest.mark.parametrize("name", seed_study.ABLATION)
def test_each_ablation_change_applies_and_gives_valid_python(name):
    framework, changes, _ = seed_study.ABLATION[name]
    source = (CODE_DIR / f"{framework}_mlp.py").read_text(encoding="utf-8")
    for change in changes:
        changed = variants.apply(source, framework, change)
        assert changed != source
        source = changed
    ast.parse(source)


def test_the_ablation_ran_every_variant_on_the_studys_seeds():
    for name, (framework, changes, label) in seed_study.ABLATION.items():
        found = SEEDS["ablation"][name]
        assert (found["framework"], found["label"]) == (framework, label)
        assert found["changes"] == [change.solution for change in changes]
        assert len(found["accuracies"]) == len(SEEDS["seeds"])
        assert found["mean"] == pytest.approx(statistics.mean(found["accuracies"]))
        own = SEEDS["frameworks"][framework]["mean"]
        assert found["against_own"]["difference"] == pytest.approx(found["mean"] - own)
        for side in ("against_own", "against_other"):
            assert found[side]["low"] < found[side]["difference"] < found[side]["high"]


def test_the_ablation_sections_are_on_the_model_page():
    page = (DOCS_DIR / "lectures" / "model.md").read_text(encoding="utf-8")
    for framework in FRAMEWORKS:
        text = (CODE_DIR / f"{framework}_ablation.py").read_text(encoding="utf-8")
        for name in sections.parse(text):
            assert f'--8<-- "code/{framework}_ablation.py:{name}"' in page, name
    assert "ablation_table()" in page and "ablation_verdict()" in page
