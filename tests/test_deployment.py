"""Deployment (`make export`): every saved form reloads to the saved model's answers."""

import json
import shutil
import textwrap

import pytest
from bs4 import BeautifulSoup

from helpers import (
    CODE_DIR,
    DOCS_DIR,
    FRAMEWORKS,
    GENERATED_DIR,
    HELPERS,
    code_blocks,
    run_program,
    run_tool,
)
from tools.deployment_reload import FORMATS

RESULTS = DOCS_DIR / "deployment" / "deployment.json"
TEST_IMAGES = 10_000


@pytest.fixture(scope="module")
def committed():
    return json.loads(RESULTS.read_text())


def test_the_committed_exports_are_of_the_lectures_models(committed):
    # The exports' own test accuracy is that of the models the lectures show.
    for framework in FRAMEWORKS:
        metrics = json.loads((GENERATED_DIR / framework / "metrics.json").read_text())
        assert committed["test_accuracy"][framework] == pytest.approx(
            metrics["test"]["accuracy"], abs=1e-6
        )


def check_every_form(results):
    assert set(results["formats"]) == set(FORMATS)
    for name, form in results["formats"].items():
        assert form["label"] == FORMATS[name]["label"], name
        assert form["images"] == TEST_IMAGES, name
        assert form["same_digit"] == TEST_IMAGES, name
        assert form["largest_probability_difference"] <= 1e-5, name
        assert form["damaged_file_error"].startswith("error: "), name
        assert "make export" in form["damaged_file_error"], name
        assert form["bytes"] > 0 and form["load_seconds"] > 0, name
        assert 0 < form["one_image_seconds"] < form["test_set_seconds"], name


def test_every_committed_form_gave_the_saved_models_answers(committed):
    check_every_form(committed)


def test_onnx_files_run_without_either_framework(committed):
    for name in ("keras_onnx", "pytorch_onnx"):
        assert committed["formats"][name]["frameworks_imported"] == []
    assert "torch" not in committed["formats"]["saved_model"]["frameworks_imported"]
    assert committed["formats"]["exported_program"]["frameworks_imported"] == ["torch"]


@pytest.fixture(scope="module")
def quick_export(tmp_path_factory, quick_runs, mnist_env):
    """The quickly trained models, exported and checked by `make export`'s
    tool (`tools.deployment`)."""
    folder = tmp_path_factory.mktemp("export")
    completed = run_tool(
        "deployment",
        *("--keras-model", quick_runs["keras"].output_dir / "mlp.keras"),
        *("--pytorch-model", quick_runs["pytorch"].output_dir / "mlp.pt"),
        *("--exports-dir", folder / "exports", "--output-dir", folder / "results"),
        env=mnist_env,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr[-5000:]
    return folder


@pytest.mark.slow
def test_export_reloads_every_form_in_a_fresh_process(quick_export):
    folder = quick_export
    results = json.loads((folder / "results" / "deployment.json").read_text())
    check_every_form(results)
    for framework in FRAMEWORKS:
        files = {path.name for path in (folder / "exports" / framework).iterdir()}
        expected = {
            form["path"] for form in FORMATS.values() if form["framework"] == framework
        }
        assert expected | {"reference-probabilities.npy"} == files


def reload(format_name, path, folder, environment):
    """`tools.deployment_reload`, the check `make export` runs on each file."""
    framework = FORMATS[format_name]["framework"]
    reference = folder / "exports" / framework / "reference-probabilities.npy"
    return run_tool(
        "deployment_reload",
        *(format_name, path, "--reference", reference),
        *("--record", folder / f"{format_name}-record.json"),
        env=environment,
    )


def assert_refused_clearly(completed):
    assert completed.returncode == 1, completed.stderr[-3000:]
    last_line = completed.stderr.strip().splitlines()[-1]
    assert last_line.startswith("error: ") and "make export" in last_line


@pytest.mark.slow
@pytest.mark.parametrize("format_name", ["keras_onnx", "state_dict", "keras_file"])
def test_a_file_of_another_kind_is_refused_with_one_clear_line(
    format_name, quick_export, mnist_env, tmp_path
):
    impostor = tmp_path / "model-file"
    impostor.write_text("this is not a model\n")
    assert_refused_clearly(reload(format_name, impostor, quick_export, mnist_env))


@pytest.mark.slow
def test_a_state_dict_cannot_run_code_when_loaded(quick_export, mnist_env, tmp_path):
    # A pickle whose loading would create a file: weights_only must refuse it.
    marker = tmp_path / "code-ran"
    malicious = tmp_path / "malicious.pt"
    script = textwrap.dedent(
        f"""
        import os, torch
        class Payload:
            def __reduce__(self):
                return (os.mkdir, ({str(marker)!r},))
        torch.save({{"hidden.weight": Payload()}}, {str(malicious)!r})
        """
    )
    made = run_program("-c", script)
    assert made.returncode == 0, made.stderr[-3000:]
    assert_refused_clearly(reload("state_dict", malicious, quick_export, mnist_env))
    assert not marker.exists()


@pytest.mark.slow
def test_a_keras_file_with_a_lambda_layer_is_refused(quick_export, mnist_env, tmp_path):
    # safe_mode: a Lambda layer's stored bytecode is not deserialised.
    unsafe = tmp_path / "lambda.keras"
    script = textwrap.dedent(
        f"""
        import keras
        model = keras.Sequential(
            [keras.Input(shape=(784,)), keras.layers.Lambda(lambda x: x * 2)]
        )
        model.save({str(unsafe)!r})
        """
    )
    made = run_program("-c", script)
    assert made.returncode == 0, made.stderr[-3000:]
    completed = reload("keras_file", unsafe, quick_export, mnist_env)
    assert_refused_clearly(completed)
    assert "safe_mode" in completed.stderr.strip().splitlines()[-1]


@pytest.mark.slow  # each program imports its framework first
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_export_without_a_trained_model_says_what_to_run(framework, tmp_path):
    completed = run_program(
        CODE_DIR / f"{framework}_export.py",
        *("--model", tmp_path / "missing", "--output-dir", tmp_path / "out"),
    )
    assert completed.returncode == 1
    assert f"run `python code/{framework}_mlp.py` first" in completed.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("missing", FRAMEWORKS)
def test_the_driver_checks_for_both_models_before_writing(missing, tmp_path):
    models = {}
    for framework in FRAMEWORKS:
        models[framework] = tmp_path / f"{framework}-model"
        if framework != missing:
            models[framework].write_text("a trained model\n")
    options = [
        f"--keras-model={models['keras']}",
        f"--pytorch-model={models['pytorch']}",
    ]
    completed = run_tool(
        "deployment",
        *options,
        *("--exports-dir", tmp_path / "exports", "--output-dir", tmp_path / "out"),
    )
    assert completed.returncode == 1
    assert f"no trained {missing} model at {models[missing]}" in completed.stderr
    assert not (tmp_path / "exports").exists() and not (tmp_path / "out").exists()


USE_COPIED_CODE = {
    # The functions a reader copied, used on the files the export wrote.
    "Keras": """
images = np.zeros((3, 784), dtype="float32")
model = load_keras_file(EXPORTS / "keras" / "mlp.keras")
export_model(model, OUTPUT)
print(predict(model, images).shape)
print(predict_saved_model(load_saved_model(OUTPUT / "saved_model"), images).shape)
""",
    "PyTorch": """
images = np.zeros((3, 784), dtype="float32")
model = load_state_dict(EXPORTS / "pytorch" / "mlp.pt")
export_model(model, OUTPUT)
print(predict(model, images).shape)
print(predict(load_exported_program(OUTPUT / "mlp.pt2"), images).shape)
""",
    "ONNX": """
import numpy as np
images = np.zeros((3, 784), dtype="float32")
print(predict(load_onnx(str(EXPORTS / "keras" / "mlp.onnx")), images).shape)
print(predict(load_onnx(str(EXPORTS / "pytorch" / "mlp.onnx")), images).shape)
""",
}


@pytest.mark.slow
@pytest.mark.parametrize("label", USE_COPIED_CODE)
def test_the_pages_code_runs_as_copied(
    label, site_dir, quick_export, mnist_env, tmp_path
):
    html = (site_dir / "deployment" / "index.html").read_text()
    if label == "ONNX":
        page = BeautifulSoup(html, "html.parser")
        blocks = [
            code.get_text()
            for code in page.select("div.language-python pre > code")
            if "onnxruntime" in code.get_text()
        ]
    else:
        blocks = code_blocks(html, label)
    assert blocks, label
    for helper in HELPERS:
        shutil.copy(CODE_DIR / helper, tmp_path)
    folder = quick_export
    program = "\n".join(blocks)
    program += f"\nEXPORTS = Path({str(folder / 'exports')!r})"
    program += f"\nOUTPUT = Path({str(tmp_path / 'out')!r})\nOUTPUT.mkdir()\n"
    program = "from pathlib import Path\n" + program + USE_COPIED_CODE[label]
    completed = run_program("-c", program, cwd=tmp_path, env=mnist_env)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.split() == ["(3,", "10)", "(3,", "10)"]
