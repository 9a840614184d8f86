"""Deployment (`make export`, docs/deployment/deployment.json): both models
saved in six forms, each reloaded in a fresh process, checked and timed, and
a truncated copy of each refused."""

from markupsafe import escape

from tools.course import FRAMEWORKS

from .formatting import megabytes, milliseconds, table, thousands
from .shared import macro


def form_name(form):
    """A saved form by its name with its framework's: 'PyTorch ONNX'; a form
    named after Keras already ('Keras file') keeps its own."""
    if form["label"].startswith("Keras"):
        return form["label"]
    return f"{FRAMEWORKS[form['framework']]} {form['label']}"


def form_cells(form):
    """The first two cells of a form's row: its framework and its label."""
    return [FRAMEWORKS[form["framework"]], form["label"]]


def deployment_speed_table(deployment):
    """Every form: its file size, and the times of its load and predictions."""
    forms = deployment["formats"]
    images = thousands(forms["keras_file"]["images"])
    rows = [
        [
            *form_cells(form),
            megabytes(form["bytes"]),
            milliseconds(form["load_seconds"]),
            milliseconds(form["first_call_seconds"]),
            milliseconds(form["one_image_seconds"]),
            milliseconds(form["test_set_seconds"]),
        ]
        for form in forms.values()
    ]
    return table(
        [
            "framework",
            "form",
            "file size",
            "load",
            "first prediction",
            "one image",
            f"{images} images at once",
        ],
        ["---", "---"] + ["---:"] * 5,
        rows,
    )


def deployment_agreement_table(deployment):
    """Every reloaded form against the model that was saved, on the test set."""
    rows = [
        [
            *form_cells(form),
            f"{thousands(form['same_digit'])} / {thousands(form['images'])}",
            f"{form['largest_probability_difference']:.1e}",
        ]
        for form in deployment["formats"].values()
    ]
    return table(
        [
            "framework",
            "form",
            "same predicted digit",
            "largest probability difference",
        ],
        ["---", "---", "---:", "---:"],
        rows,
    )


def deployment_runtime_table(deployment):
    """What a server needs for each form, and what its loading process imported."""
    rows = [
        [
            *form_cells(form),
            form["runtime"],
            ", ".join(form["frameworks_imported"]) or "neither TensorFlow nor PyTorch",
        ]
        for form in deployment["formats"].values()
    ]
    return table(
        ["framework", "form", "a server needs", "imported by the loading process"],
        ["---"] * 4,
        rows,
    )


def deployment_damaged_files(deployment):
    """The one error line each form's loader gave on a truncated copy."""
    return "\n\n".join(
        f"**{form_name(form)}**\n\n"
        f'<pre class="error-line"><code>{escape(form["damaged_file_error"])}'
        "</code></pre>"
        for form in deployment["formats"].values()
    )


MACROS = (
    deployment_speed_table,
    deployment_agreement_table,
    deployment_runtime_table,
    deployment_damaged_files,
)


def register(env, results):
    env.variables["deployment"] = results.deployment
    macro(env, form_name)
    for function in MACROS:
        macro(env, function, results.deployment)
