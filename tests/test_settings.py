"""The course's settings are stated once, as constants of the two programs
(tools.course.settings()); everything that restates or records them agrees."""

import json
import re
import shutil

import pytest

from helpers import CODE_DIR, DOCS_DIR, FRAMEWORKS, GENERATED_DIR
from tools import course

SETTINGS = course.settings()
DISTRIBUTED = ("HIDDEN_UNITS", "EPOCHS", "BATCH_SIZE", "LEARNING_RATE")
DISTRIBUTED += ("VALIDATION_SIZE", "SEED")
# The lesson files that restate some of the course's settings, and which.
# The pitfalls train for fewer epochs, with a constant step size, on purpose:
# only the model and the batch are the course's.
RESTATED = {
    "keras_pitfalls.py": ("HIDDEN_UNITS", "BATCH_SIZE"),
    "pytorch_pitfalls.py": ("HIDDEN_UNITS", "BATCH_SIZE"),
    "parity.py": ("HIDDEN_UNITS", "BATCH_SIZE"),
    "keras_porting.py": ("HIDDEN_UNITS", "BATCH_SIZE"),
    "pytorch_porting.py": ("HIDDEN_UNITS", "BATCH_SIZE"),
    "keras_train_step.py": ("HIDDEN_UNITS", "BATCH_SIZE"),
    "input_pipelines.py": (
        "HIDDEN_UNITS",
        "BATCH_SIZE",
        "LEARNING_RATE",
        "VALIDATION_SIZE",
    ),
    # Data-parallel training of the course's model: the same run, on workers.
    "keras_multiworker.py": DISTRIBUTED,
    "pytorch_ddp.py": DISTRIBUTED,
}
# A constant whose comment says it is the course's ("as in keras_mlp.py",
# "as in the course's model", "the course's batch size").
SAYS_COURSE = re.compile(r"^([A-Z_]+) = .*#.*(\bas in\b|the course's)", re.MULTILINE)


def test_both_programs_define_every_setting():
    assert {
        "HIDDEN_UNITS",
        "EPOCHS",
        "BATCH_SIZE",
        "LEARNING_RATE",
        "OPTIMIZER",
        "VALIDATION_SIZE",
        "TRAIN_SIZE",
        "SEED",
    } <= set(SETTINGS)


def test_the_training_set_is_every_image_not_held_out():
    assert SETTINGS["TRAIN_SIZE"] == course.training_images()


@pytest.mark.parametrize("file_name", RESTATED)
def test_a_lesson_file_restates_the_courses_settings_unchanged(file_name):
    constants = course.constants(CODE_DIR / file_name)
    for name in RESTATED[file_name]:
        assert name in constants, f"code/{file_name} no longer defines {name}"
        assert constants[name] == SETTINGS[name], (
            f"code/{file_name}: {name} = {constants[name]!r}, the course's "
            f"is {SETTINGS[name]!r}"
        )


def test_every_constant_said_to_be_the_courses_is_checked():
    programs = {path.name for path in course.PROGRAMS.values()}
    for path in sorted(CODE_DIR.glob("*.py")):
        if path.name in programs:
            continue
        said = set(SAYS_COURSE.findall(path.read_text()))
        unchecked = {name for name, _ in said} - set(RESTATED.get(path.name, ()))
        assert not unchecked, f"code/{path.name}: add {unchecked} to RESTATED"


def test_the_settings_disagree_loudly_when_the_programs_do(tmp_path, monkeypatch):
    copies = {}
    for framework, path in course.PROGRAMS.items():
        copies[framework] = tmp_path / path.name
        shutil.copyfile(path, copies[framework])
    monkeypatch.setattr(course, "PROGRAMS", copies)
    assert course.settings() == SETTINGS
    text = copies["pytorch"].read_text()
    # Another batch size than the course's, whatever the course's is.
    other = SETTINGS["BATCH_SIZE"] * 2
    copies["pytorch"].write_text(
        re.sub(r"^BATCH_SIZE = \d+", f"BATCH_SIZE = {other}", text, flags=re.MULTILINE)
    )
    with pytest.raises(SystemExit, match=r"different settings: BATCH_SIZE$"):
        course.settings()
    # A setting that only one of them defines counts too.
    copies["pytorch"].write_text(text + "\nMOMENTUM = 0.9\n")
    with pytest.raises(SystemExit, match=r"different settings: MOMENTUM$"):
        course.settings()


def test_the_committed_runs_used_the_settings():
    for framework in FRAMEWORKS:
        metrics = json.loads((GENERATED_DIR / framework / "metrics.json").read_text())
        config = metrics["config"]
        recorded = {key.upper(): value for key, value in config.items()}
        # Every setting is an option, recorded as given.
        assert set(recorded) >= set(SETTINGS), framework
        for name in SETTINGS:
            assert recorded[name] == SETTINGS[name], (
                f"docs/generated/{framework}/ was trained with {name} = "
                f"{recorded[name]!r}, the programs now say {SETTINGS[name]!r}: "
                "run `make artifacts`"
            )


def test_the_committed_benchmark_used_the_settings():
    config = json.loads((DOCS_DIR / "benchmark" / "benchmark.json").read_text())[
        "config"
    ]
    expected = {
        "hidden_units": SETTINGS["HIDDEN_UNITS"],
        "batch_size": SETTINGS["BATCH_SIZE"],
        "training_images": course.training_images(),
    }
    for key, value in expected.items():
        assert config[key] == value, (
            f"docs/benchmark/ was measured with {key} {config[key]}, the "
            f"programs' settings give {value}: run `make bench`"
        )
    # The benchmark's model is the course's: as many parameters as it has.
    metrics = json.loads((GENERATED_DIR / "keras" / "metrics.json").read_text())
    assert config["parameters"] == metrics["parameter_count"], (
        "the benchmark's model and the course's differ in size: run `make bench`"
    )


def test_the_committed_scaling_runs_used_the_settings():
    scaling = json.loads((DOCS_DIR / "scaling" / "scaling.json").read_text())
    remake = "the programs' settings changed since: run `make scale`"
    assert scaling["epochs"] == SETTINGS["EPOCHS"], remake
    for framework, result in scaling["frameworks"].items():
        for workers, run in result["runs"].items():
            assert run["epochs"] == SETTINGS["EPOCHS"], (framework, workers, remake)
            assert run["training_images"] == course.training_images(), (
                framework,
                remake,
            )


def test_the_committed_parity_experiment_used_the_courses_model():
    config = json.loads((GENERATED_DIR / "parity.json").read_text())["config"]
    remake = "the programs' settings changed since: run `make artifacts`"
    assert config["hidden_units"] == SETTINGS["HIDDEN_UNITS"], remake
    assert config["batch_size"] == SETTINGS["BATCH_SIZE"], remake
