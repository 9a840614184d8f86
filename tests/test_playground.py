"""The Playground page: both trained models, in 8 bits, running in the browser."""

import json

import numpy as np
import pytest

from helpers import FRAMEWORKS, GENERATED_DIR, open_page

PLAYGROUND = GENERATED_DIR / "playground"
DTYPES = {"float32": "<f4", "int8": "i1"}


def manifest(framework):
    return json.loads((PLAYGROUND / f"{framework}.json").read_text())


def stored_arrays(framework):
    """The arrays of FRAMEWORK.bin, read the way the page reads them."""
    blob = (PLAYGROUND / f"{framework}.bin").read_bytes()
    return {
        entry["name"]: np.frombuffer(
            blob,
            DTYPES[entry["dtype"]],
            int(np.prod(entry["shape"])),
            entry["offset"],
        ).reshape(entry["shape"])
        for entry in manifest(framework)["arrays"]
    }


def page_probabilities(framework, images):
    """Written here independently of the export: weights = q * scale rounded to
    float32, then the MLP with double-precision sums, as playground.js does."""
    arrays = stored_arrays(framework)
    layers = []
    for layer in ("hidden", "output"):
        weight = arrays[f"{layer}.weight"].astype(np.float32)
        weight = weight * arrays[f"{layer}.scale"][:, None]
        layers.append((weight.astype(np.float64), arrays[f"{layer}.bias"]))
    (w1, b1), (w2, b2) = layers
    hidden = np.maximum(images.astype(np.float32).astype(np.float64) @ w1.T + b1, 0)
    logits = hidden @ w2.T + b2
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


def test_the_export_is_laid_out_as_its_manifest_says():
    for framework in FRAMEWORKS:
        info = manifest(framework)
        shapes = info["shapes"]
        hidden = shapes[0][0]
        assert shapes == [[hidden, 784], [hidden], [10, hidden], [10]]
        layout = {entry["name"]: entry for entry in info["arrays"]}
        expected = {}
        layers = {"hidden": shapes[0], "output": shapes[2]}
        for layer, (rows, columns) in layers.items():
            expected[f"{layer}.weight"] = ("int8", [rows, columns])
            expected[f"{layer}.scale"] = ("float32", [rows])
            expected[f"{layer}.bias"] = ("float32", [rows])
        assert {
            name: (entry["dtype"], entry["shape"]) for name, entry in layout.items()
        } == expected
        # One array after the other, each float32 one aligned for Float32Array.
        offset = 0
        for entry in info["arrays"]:
            assert entry["offset"] == offset, entry
            itemsize = np.dtype(DTYPES[entry["dtype"]]).itemsize
            assert entry["offset"] % itemsize == 0, entry
            offset += itemsize * int(np.prod(entry["shape"]))
        assert (PLAYGROUND / f"{framework}.bin").stat().st_size == offset
        assert info["bytes"] == offset < info["float32_bytes"] / 3.9


def test_each_row_is_scaled_to_use_the_whole_int8_range():
    for framework in FRAMEWORKS:
        arrays = stored_arrays(framework)
        largest = manifest(framework)["largest_integer"]
        assert largest == 127
        for layer in ("hidden", "output"):
            q = arrays[f"{layer}.weight"].astype(int)
            scale = arrays[f"{layer}.scale"]
            assert (np.abs(q).max(axis=1) == largest).all(), (framework, layer)
            assert (scale > 0).all() and np.isfinite(scale).all()


def test_reference_answers_match_the_committed_predictions():
    for framework in FRAMEWORKS:
        probabilities = np.array(manifest(framework)["reference_probabilities"])
        predicted = np.load(GENERATED_DIR / framework / "test-predictions.npy")
        assert probabilities.shape == (manifest(framework)["reference_images"], 10)
        assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
        assert (probabilities.argmax(axis=1) == predicted[:100]).all()


def test_the_stated_agreement_holds_on_the_whole_test_set(mnist_dir):
    """The page's arithmetic on the committed 8-bit weights gives the committed
    predictions on every test image the manifest says, and only there."""
    from mnist_data import load_mnist

    _, (x_test, y_test) = load_mnist(mnist_dir)
    images = x_test.reshape(-1, 784).astype(np.float32) / 255
    for framework in FRAMEWORKS:
        stated = manifest(framework)["test_set_agreement"]
        predicted = np.load(GENERATED_DIR / framework / "test-predictions.npy")
        page = page_probabilities(framework, images).argmax(axis=1)
        differ = np.flatnonzero(page != predicted)
        assert stated["images"] == len(y_test) == 10_000
        assert stated["agree"] == len(y_test) - len(differ), framework
        assert [row["image"] for row in stated["disagreements"]] == differ.tolist()
        for row in stated["disagreements"]:
            assert row["page_digit"] == page[row["image"]]
            assert row["model_digit"] == predicted[row["image"]]
            assert row["label"] == y_test[row["image"]]
            # Only where the model itself hesitates between two digits.
            assert row["model_margin"] < stated["decisive_margin"] == 0.05
        assert 0 < stated["max_probability_difference"] < stated["decisive_margin"]


def test_the_export_refuses_weights_that_change_a_confident_answer():
    from tools.playground_export import agreement, check

    model = np.array([[0.9, 0.1, 0], [0.49, 0.51, 0], [0.2, 0.1, 0.7]])
    hesitant = np.array([[0.9, 0.1, 0], [0.51, 0.49, 0], [0.2, 0.1, 0.7]])
    result = agreement(model, hesitant, labels=np.array([0, 1, 2]))
    assert result["agree"] == 2 and result["images"] == 3
    assert [row["image"] for row in result["disagreements"]] == [1]
    check("keras", result)  # a hesitant image may change: no error
    wrong = np.array([[0.1, 0.9, 0], [0.49, 0.51, 0], [0.2, 0.1, 0.7]])
    with pytest.raises(SystemExit, match="decisive"):
        check("keras", agreement(model, wrong, labels=np.array([0, 1, 2])))


def test_quantised_weights_are_within_half_a_step():
    from tools.playground_export import dequantise, quantise

    weight = np.random.default_rng(0).normal(0, 0.05, (64, 784)).astype(np.float32)
    weight[3] = 0  # a row of zeros must not divide by zero
    q, scale = quantise(weight)
    assert q.dtype == np.int8 and scale.dtype == np.float32
    error = np.abs(dequantise(q, scale) - weight)
    assert (error <= scale[:, None] / 2 * 1.0001).all()
    assert (dequantise(q, scale)[3] == 0).all()


@pytest.fixture
def playground(browser, server):
    context, page, response, record = open_page(browser, f"{server}/playground/")
    page.wait_for_function("window.playground && window.playground.ready()")
    yield page, record
    context.close()


@pytest.mark.slow
def test_the_page_reproduces_both_models_on_100_test_images(playground, mnist_dir):
    from mnist_data import load_mnist

    page, _ = playground
    _, (x_test, _) = load_mnist(mnist_dir)
    images = x_test[:100].reshape(-1, 784).astype("float32") / 255
    answers = page.evaluate(
        "images => images.map(window.playground.classify)", images.tolist()
    )
    for framework in FRAMEWORKS:
        got = np.array([answer[framework] for answer in answers])
        # The page computes exactly what the export checked on the test set...
        assert np.abs(got - page_probabilities(framework, images)).max() < 1e-9
        # ...which is the model's answer, within what 8 bits change.
        info = manifest(framework)
        expected = np.array(info["reference_probabilities"])
        stated = info["test_set_agreement"]
        tolerance = stated["max_probability_difference"] + 1e-7
        assert np.abs(got - expected).max() <= tolerance, framework
        hesitant = {row["image"] for row in stated["disagreements"]}
        for index in set(range(100)) - hesitant:
            assert got[index].argmax() == expected[index].argmax(), (framework, index)


@pytest.mark.slow
def test_drawing_updates_both_charts_and_clear_resets_them(playground):
    page, _ = playground
    answers = {fw: page.locator(f"[data-answer={fw}]") for fw in FRAMEWORKS}
    assert all(answer.inner_text() == "draw a digit" for answer in answers.values())
    box = page.locator("canvas.playground-draw").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(
        box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.2, steps=5
    )
    page.mouse.move(
        box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.8, steps=5
    )
    page.mouse.up()
    pixels = np.array(page.evaluate("window.playground.input()")).reshape(28, 28)
    assert pixels.shape == (28, 28) and (pixels > 0).sum() > 20
    # MNIST's preprocessing: the digit fits in 20 x 20, its centre of mass is
    # at the centre of the 28 x 28 field.
    rows, columns = np.nonzero(pixels)
    assert max(np.ptp(rows), np.ptp(columns)) + 1 <= 20
    total = pixels.sum()
    centre = (
        pixels.sum(axis=1) @ np.arange(28) / total,
        pixels.sum(axis=0) @ np.arange(28) / total,
    )
    assert all(abs(value - 13.5) <= 1 for value in centre), centre
    for framework in FRAMEWORKS:
        assert answers[framework].inner_text()[0].isdigit()
        widths = page.eval_on_selector_all(
            f"[data-chart={framework}] .playground-bar",
            "bars => bars.map(b => b.style.width)",
        )
        assert sum(float(width.rstrip("%")) for width in widths) == pytest.approx(
            100, abs=0.5
        )
    page.click("text=Clear the drawing")
    assert all(answer.inner_text() == "draw a digit" for answer in answers.values())
    assert not any(page.evaluate("window.playground.input()"))


@pytest.mark.slow
def test_the_first_load_fetches_both_models_from_the_site(playground, server):
    """The page-weight budget (test_browser) counts the models: they load at once."""
    _, record = playground
    assert all(url.startswith(server) for url in record["requests"])
    loaded = {url.rsplit("/", 1)[-1] for url in record["requests"]}
    assert {f"{fw}.{ext}" for fw in FRAMEWORKS for ext in ("bin", "json")} <= loaded
    models = sum((PLAYGROUND / f"{fw}.bin").stat().st_size for fw in FRAMEWORKS)
    assert record["bytes"] > models


@pytest.mark.slow
def test_the_page_states_the_agreement_from_the_manifests(playground):
    page, _ = playground
    text = " ".join(page.locator("article").inner_text().split())
    for framework, label in (("keras", "Keras"), ("pytorch", "PyTorch")):
        stated = manifest(framework)["test_set_agreement"]
        assert (
            f"{label}: the same digit on {stated['agree']:,} of "
            f"{stated['images']:,} test images"
        ) in text
        moved = f"{100 * stated['max_probability_difference']:.1f}"
        assert f"No probability moves by more than {moved} points" in text


def test_the_test_images_are_the_first_digits_of_the_test_set(mnist_dir):
    from mnist_data import load_mnist

    _, (x_test, y_test) = load_mnist(mnist_dir)
    info = json.loads((PLAYGROUND / "test-images.json").read_text())
    count = len(info["labels"])
    assert count == manifest("keras")["reference_images"]
    assert info["labels"] == y_test[:count].tolist()
    stored = np.frombuffer((PLAYGROUND / "test-images.bin").read_bytes(), np.uint8)
    assert (stored.reshape(count, 28, 28) == x_test[:count]).all()


@pytest.mark.slow
def test_test_images_can_be_shown_with_the_keyboard(playground, mnist_dir):
    from playwright.sync_api import expect

    from mnist_data import load_mnist

    page, _ = playground
    _, (x_test, _) = load_mnist(mnist_dir)
    caption = page.locator(".playground-sample-caption")
    labels = json.loads((PLAYGROUND / "test-images.json").read_text())["labels"]
    page.locator(".playground-sample").focus()
    for index in range(2):
        page.keyboard.press("Enter")
        expect(caption).to_have_text(
            f"Test image {index + 1} of {len(labels)}: labelled {labels[index]}."
        )
        image = x_test[index].reshape(1, 784).astype(np.float32) / 255
        for framework in FRAMEWORKS:
            expected = page_probabilities(framework, image)[0]
            best = int(np.argmax(expected))
            answer = page.locator(f"[data-answer={framework}]").inner_text()
            digit, percent = answer.rstrip("%)").split(" (")
            assert int(digit) == best, framework
            assert float(percent) == pytest.approx(expected[best] * 100, abs=0.06)
    # The image is on the drawing area too, so drawing goes on from it.
    assert sum(page.evaluate("window.playground.input()")) > 10
    page.click("text=Clear the drawing")
    expect(caption).to_have_text("")


@pytest.mark.slow
def test_the_charts_sit_beside_the_drawing_on_a_laptop(browser, server):
    # 1300 px: Material shows both sidebars, which leaves the content narrowest.
    context, page, _, _ = open_page(
        browser, f"{server}/playground/", viewport={"width": 1300, "height": 900}
    )
    pad = page.locator(".playground-pad").bounding_box()
    results = page.locator(".playground-results").bounding_box()
    context.close()
    assert results["x"] >= pad["x"] + pad["width"], (pad, results)
