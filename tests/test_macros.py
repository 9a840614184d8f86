"""The pages' macros (tools/macros/), called directly, without building the
site: on the committed results, and on small hand-made results where a macro
decides what to say."""

import inspect
import re
from types import SimpleNamespace

import jinja2.filters
import pytest

import tools.macros
import tools.results
from tools import DOCS_DIR
from tools.macros import (
    backends,
    benchmark,
    deployment,
    exercises,
    formatting,
    pages,
    parity,
    pipelines,
    playground,
    scaling,
    seeds,
    shared,
)


class FakeEnv:
    """What `define_env` uses of mkdocs-macros' environment."""

    def __init__(self, url=""):
        self.variables, self.macros, self.filters = {}, {}, {}
        self.conf = {"repo_url": "https://github.com/owner/course"}
        # A page as both builders give it: its URL (no MkDocs `file`).
        self.page = SimpleNamespace(url=url)

    def macro(self, function, name=""):
        self.macros[name or function.__name__] = function
        return function

    def filter(self, function, name=""):
        self.filters[name or function.__name__] = function
        return function


@pytest.fixture(scope="module")
def results():
    return shared.load_results()


@pytest.fixture(scope="module")
def env():
    found = FakeEnv()
    tools.macros.define_env(found)
    return found


def listed(kind):
    """The names that the package's docstring lists under `kind`."""
    text = tools.macros.__doc__
    part = re.search(rf"^{kind}\n-+\n(.*?)(?=^\w+\n-+\n|\Z)", text, re.M | re.S)
    return re.findall(r"^- `(\w+)", part.group(1), re.M)


@pytest.mark.parametrize(
    ("kind", "registered"),
    [("Variables", "variables"), ("Macros", "macros"), ("Filters", "filters")],
)
def test_the_docstring_lists_exactly_what_define_env_registers(env, kind, registered):
    names = listed(kind)
    assert len(names) == len(set(names)), f"{kind} listed twice"
    assert set(names) == set(getattr(env, registered))


def test_every_macro_keeps_its_docstring(env):
    for name, function in env.macros.items():
        assert function.__name__ == name
        assert function.__doc__ and "partial(" not in function.__doc__, name


def test_every_macro_without_arguments_renders_the_committed_results(env):
    for name, function in env.macros.items():
        parameters = inspect.signature(function).parameters.values()
        if all(parameter.default is not parameter.empty for parameter in parameters):
            assert isinstance(function(), str) and function(), name


def test_a_missing_result_file_names_the_make_target(tmp_path, monkeypatch):
    # Every result folder, linked into a stand-in for docs/ ...
    for result_set in tools.results.RESULT_SETS.values():
        (tmp_path / result_set.folder).symlink_to(result_set.path)
    monkeypatch.setattr(tools.results, "DOCS_DIR", tmp_path)
    shared.load_results()
    # ... then each folder the macros read taken away in turn: every result
    # is read through tools.results, and the error says what to run.
    for target in ("artifacts", "seeds", "exercises", "bench", "export", "scale"):
        folder = tmp_path / tools.results.RESULT_SETS[target].folder
        folder.unlink()
        with pytest.raises(FileNotFoundError, match=f"run `make {target}`"):
            shared.load_results()
        folder.symlink_to(DOCS_DIR / folder.name)


def test_a_missing_text_file_names_the_make_target():
    with pytest.raises(FileNotFoundError, match="run `make artifacts`"):
        pages.text_file("keras/no-such-summary.txt")


def test_the_two_lookalikes_are_the_recorded_run_and_the_source(env):
    # hyperparameters: what the committed run recorded; settings: the code.
    recorded = env.variables["hyperparameters"]
    assert recorded is env.variables["results"]["keras"]["config"]
    assert all(name.isupper() for name in env.variables["settings"])
    assert all(name.islower() for name in recorded)


# Formatting.


def test_the_filters_format_numbers():
    assert formatting.percent(0.98261) == "98.26%"
    assert formatting.milliseconds(0.000123) == "0.123 ms"
    assert formatting.milliseconds(0.0456) == "45.6 ms"
    assert formatting.milliseconds(1.5) == "1.50 s"
    assert formatting.megabytes(1629268) == "1.63 MB"
    assert formatting.thousands(407050) == "407,050"
    assert formatting.steps_text(202033) == "2.0 × 10⁵"
    assert formatting.backend_list(["tensorflow", "jax"]) == "TensorFlow and JAX"


def test_a_table_keeps_its_empty_cells():
    assert formatting.table(["", "a"], ["---", "---:"], [[1, ""]]) == (
        "| | a |\n| --- | ---: |\n| 1 | |"
    )


@pytest.mark.parametrize("text", ["one\ntwo\n\nthree", "one", "one\n", "a\n  \nb"])
@pytest.mark.parametrize("first", [False, True])
def test_indent_is_jinjas(text, first):
    assert formatting.indent(text, 4, first) == jinja2.filters.do_indent(text, 4, first)


APART = {"median": 3.0, "min": 2.8, "max": 3.2}
BASELINE = {"median": 2.0, "min": 1.9, "max": 2.1}
OVERLAPPING = {"median": 2.2, "min": 2.0, "max": 2.4}
NEAR_APART = {"median": 2.9, "min": 2.5, "max": 3.0}  # overlaps APART


def test_times_are_compared_only_where_the_spreads_are_apart():
    assert formatting.time_against(APART, BASELINE) == (
        "1.50 times as long, spreads apart"
    )
    assert "no difference shown" in formatting.time_against(OVERLAPPING, BASELINE)
    baseline = {"epoch": BASELINE}
    assert formatting.versus({"epoch": APART}, baseline, "bare").endswith("1.5x slower")
    assert formatting.versus(baseline, {"epoch": APART}, "bare").endswith("1.5x faster")
    assert "overlap" in formatting.versus({"epoch": OVERLAPPING}, baseline, "bare")


# Seeds.


def made_seeds(difference, low, high):
    return {
        "seeds": [0, 1, 2],
        "difference": {
            "difference": difference,
            "low": low,
            "high": high,
            "confidence": 0.95,
        },
    }


def test_seed_verdict_when_the_interval_contains_zero():
    verdict = seeds.seed_verdict(made_seeds(0.0005, -0.001, 0.002))
    assert "from -0.100 to 0.200 points" in verdict
    assert verdict.endswith("cannot tell the two frameworks' accuracy apart.")


def test_seed_verdict_when_the_interval_excludes_zero():
    small = seeds.seed_verdict(made_seeds(0.002, 0.001, 0.003))
    assert small.endswith(
        "on average Keras scores higher here, by a fraction of a point."
    )
    large = seeds.seed_verdict(made_seeds(-0.02, -0.03, -0.01))
    assert large.endswith("The interval excludes zero: PyTorch scores higher.")


def test_seed_table_has_a_column_per_seed(results):
    header, alignments, *rows = seeds.seed_table(results.seeds).splitlines()
    columns = len(results.seeds["seeds"]) + 5
    assert header.count("|") == alignments.count("|") == columns + 1
    assert [row.split(" | ")[0] for row in rows] == ["| Keras", "| PyTorch"]


def made_variant(label, changes, own, other):
    """An ablation variant of PyTorch: (low, high) against PyTorch and Keras."""
    return {
        "framework": "pytorch",
        "label": label,
        "changes": changes,
        "against_own": {"difference": sum(own) / 2, "low": own[0], "high": own[1]},
        "against_other": {
            "difference": sum(other) / 2,
            "low": other[0],
            "high": other[1],
        },
    }


def test_the_ablation_names_what_accounts_for_the_gap_and_what_does_not():
    study = made_seeds(0.001, 0.0005, 0.002) | {
        "ablation": {
            "closes": made_variant("A", ["a"], (0.0002, 0.002), (-0.001, 0.0005)),
            "stays": made_variant("B", ["b"], (-0.0005, 0.001), (-0.002, -0.0001)),
            "both": made_variant("A and B", ["a", "b"], (0.0002, 0.002), (-1, 1)),
        }
    }
    conclusion = seeds.ablation_conclusion(study)
    assert "may account for the gap: A. What 3 seeds cannot decide: B (from " in (
        conclusion
    )
    assert "A and B" not in conclusion  # two changes at once decide nothing
    found = seeds.ablation_effect(study, "stays")
    assert "does not move PyTorch" in found and "stays below Keras" in found
    assert "cannot be told apart from Keras" in seeds.ablation_effect(study, "closes")
    study["ablation"] = {"stays": study["ablation"]["stays"]}
    assert seeds.ablation_conclusion(study).startswith("None of the defaults")
    study["ablation"] = {
        "short": made_variant("C", ["c"], (0.0001, 0.001), (-0.002, -0.0001))
    }
    assert "moves its framework but leaves a gap: C." in (
        seeds.ablation_conclusion(study)
    )
    no_gap = made_seeds(0.0005, -0.001, 0.002) | {"ablation": {}}
    assert "no gap" in seeds.ablation_conclusion(no_gap)


def test_the_ablation_table_has_a_row_per_framework_and_variant(results):
    header, alignments, *rows = seeds.ablation_table(results.seeds).splitlines()
    assert header.count("|") == alignments.count("|") == 6
    assert len(rows) == 2 + len(results.seeds["ablation"])


# Benchmark, pipelines, backends.


def made_benchmark(fast, slow):
    return {
        "runners": {
            "a": {"label": "A", "epoch": fast},
            "b": {"label": "B", "epoch": slow},
        }
    }


def test_bench_comparison_ranks_only_spreads_apart():
    assert benchmark.bench_comparison(made_benchmark(BASELINE, APART)) == (
        "A is faster than B (1.5x, spreads apart)."
    )
    assert benchmark.bench_comparison(made_benchmark(OVERLAPPING, BASELINE)) == (
        "B and A cannot be told apart (their spreads overlap)."
    )


def test_the_step_table_has_a_row_per_batch_size(results):
    rows = benchmark.bench_step_table(results.benchmark).splitlines()[2:]
    sizes = results.benchmark["config"]["batch_sizes"]
    assert [int(row.split(" | ")[0].strip("| ")) for row in rows] == sizes


def test_pipeline_advice_names_only_pipelines_quicker_with_spreads_apart():
    made = {
        "runners": {
            "pytorch": {
                "label": "PyTorch",
                "pipelines": {
                    "own": dict(APART, label="the program's way"),
                    "loader": dict(BASELINE, label="a DataLoader"),
                    "other": dict(NEAR_APART, label="tf.data"),
                },
            }
        }
    }
    advice = pipelines.pipeline_advice(made)
    assert "a DataLoader with PyTorch (0.67 times as long)" in advice
    assert "tf.data" not in advice


def test_backend_speed_refuses_runs_on_different_core_counts(results):
    runs = {
        backend: dict(run, machine=dict(run["machine"], cores_used=index + 1))
        for index, (backend, run) in enumerate(results.keras_backends.items())
    }
    with pytest.raises(ValueError, match="make artifacts"):
        backends.backend_speed(runs, results.metrics)


# Parity.


def test_parity_outcome_splits_the_backends_by_the_rounding_tolerance():
    made = {
        "config": {"float32_epsilon": 1e-7, "rounding_tolerance": 10},
        "experiments": {
            "sgd": {
                "backends": {
                    "tensorflow": {"max_relative_loss_difference": 5e-7},
                    "jax": {"max_relative_loss_difference": 2e-6},
                }
            }
        },
    }
    assert parity.parity_outcome(made, "sgd") == (
        "with Keras on TensorFlow, the losses agree to float32 rounding (up to "
        "5.0 rounding steps apart); with Keras on JAX, the losses differ beyond "
        "float32 rounding (up to 20 rounding steps apart)"
    )


# Pages.


def test_figure_links_relative_to_the_page():
    alt = {"generated/": {"curves": 'Loss "per" epoch'}}
    env = FakeEnv("lectures/training/")
    html = pages.figure(alt, env, "curves", "Caption")
    assert "![Loss &quot;per&quot; epoch](../generated/figures/curves-light.svg" in html
    assert "<figcaption>Caption</figcaption>" in html
    # A folder's index page and the home page, from their URLs.
    assert "](../generated/figures/" in pages.figure(
        alt, FakeEnv("notebooks/"), "curves"
    )
    assert "](generated/figures/" in pages.figure(alt, FakeEnv(""), "curves")


def test_output_is_the_lines_from_first_to_last():
    logs = {"keras": "start\nEpoch 1/2\nloss\nkept the weights\nafter"}
    assert pages.output(logs, "keras", "Epoch 1/", "kept") == (
        "```text\nEpoch 1/2\nloss\nkept the weights\n```"
    )
    assert pages.output(logs, "keras", "loss") == "```text\nloss\n```"


def test_earlier_code_includes_only_the_sections_before():
    block = pages.earlier_code(["data", "model", "train"], "train")
    assert '--8<-- "code/pytorch_mlp.py:model"' in block
    assert ":train" not in block


def test_side_by_side_shows_each_section_of_both_programs():
    text = pages.side_by_side_sections(["data", "model"])
    assert text.count("### ") == 2 and text.startswith("### Data\n")
    assert text.count('--8<-- "code/keras_mlp.py:model"') == 1


def test_colab_opens_the_notebook_of_the_repository():
    assert pages.colab("https://github.com/owner/course", "n.ipynb") == (
        "https://colab.research.google.com/github/owner/course"
        "/blob/main/docs/notebooks/n.ipynb"
    )


# Deployment, scaling, playground, exercises.


def test_a_form_is_named_with_its_framework_unless_it_says_keras():
    assert deployment.form_name({"label": "ONNX", "framework": "pytorch"}) == (
        "PyTorch ONNX"
    )
    assert deployment.form_name({"label": "Keras file", "framework": "keras"}) == (
        "Keras file"
    )


def test_damaged_file_errors_are_escaped_for_html():
    made = {
        "formats": {
            "onnx": {
                "label": "ONNX",
                "framework": "keras",
                "damaged_file_error": "a <b> & 'c'",
            }
        }
    }
    assert deployment.deployment_damaged_files(made) == (
        "**Keras ONNX**\n\n"
        '<pre class="error-line"><code>a &lt;b&gt; &amp; &#39;c&#39;</code></pre>'
    )


def test_scaling_logs_are_indented_into_their_block():
    made = {"frameworks": {"pytorch": {"runs": {"2": {"log": "\none\n\ntwo\n"}}}}}
    assert scaling.scaling_logs(made) == (
        '??? example "PyTorch, two workers"\n\n    ```text\n    one\n\n    two\n    ```'
    )


def test_the_playground_mentions_swaps_only_where_there_are_some(results):
    made = {
        framework: {
            "test_set_agreement": dict(
                results.playground[framework]["test_set_agreement"], disagreements=[]
            )
        }
        for framework in results.playground
    }
    assert "swaps" not in playground.playground_agreement(made)
    assert "swaps" in playground.playground_agreement(results.playground)


def test_the_sgd_table_marks_rates_one_framework_did_not_try():
    made = {
        "3.1": {
            "keras": {"tried": {"0.01": 0.9}},
            "pytorch": {"tried": {"0.01": 0.8, "0.1": 0.97}},
        }
    }
    assert exercises.exercise_sgd_table(made).splitlines()[2:] == [
        "| 0.01 | 90.00% | 80.00% |",
        "| 0.1 | — | 97.00% |",
    ]


# The pages build every table from the results with a macro.


def test_no_page_builds_with_a_jinja_loop_or_macro():
    for page in DOCS_DIR.rglob("*.md"):
        source = page.read_text(encoding="utf-8")
        loops = len(re.findall(r"\{%-?\s*(?:for|macro)\b", source))
        name = str(page.relative_to(DOCS_DIR))
        assert not loops, f"{name}: build it in tools/macros/"
