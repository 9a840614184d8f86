"""The Playground page: both trained models, running in the browser."""

import json

import numpy as np
import pytest
from conftest import FRAMEWORKS, GENERATED_DIR

PLAYGROUND = GENERATED_DIR / "playground"
PAGE_WEIGHT_LIMIT = 4e6  # bytes: HTML, scripts, styles and both models' weights


def manifest(framework):
    return json.loads((PLAYGROUND / f"{framework}.json").read_text())


def test_exported_weights_have_the_models_shapes():
    for framework in FRAMEWORKS:
        shapes = manifest(framework)["shapes"]
        hidden = shapes[0][0]
        assert shapes == [[hidden, 784], [hidden], [10, hidden], [10]]
        size = sum(int(np.prod(shape)) for shape in shapes) * 4
        assert (PLAYGROUND / f"{framework}.bin").stat().st_size == size


def test_reference_answers_match_the_committed_predictions():
    for framework in FRAMEWORKS:
        probabilities = np.array(manifest(framework)["reference_probabilities"])
        predicted = np.load(GENERATED_DIR / framework / "test-predictions.npy")
        assert probabilities.shape == (100, 10)
        assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
        assert (probabilities.argmax(axis=1) == predicted[:100]).all()


@pytest.fixture
def playground(browser, server):
    from test_browser import open_page

    context, page, response, record = open_page(browser, f"{server}/playground/")
    page.wait_for_function("window.playground && window.playground.ready()")
    yield page, record
    context.close()


@pytest.mark.slow
def test_the_page_reproduces_both_models_on_100_test_images(playground, mnist_dir):
    from mnist_data import load_mnist

    page, _ = playground
    _, (x_test, _) = load_mnist(mnist_dir)
    images = (x_test[:100].reshape(-1, 784).astype("float32") / 255).tolist()
    answers = page.evaluate("images => images.map(window.playground.classify)", images)
    for framework in FRAMEWORKS:
        expected = np.array(manifest(framework)["reference_probabilities"])
        got = np.array([answer[framework] for answer in answers])
        assert (got.argmax(axis=1) == expected.argmax(axis=1)).all(), framework
        assert np.abs(got - expected).max() < 1e-4, framework


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
def test_the_page_is_offline_and_under_4_mb(playground, server):
    page, record = playground
    assert all(url.startswith(server) for url in record["requests"])
    assert record["bytes"] < PAGE_WEIGHT_LIMIT, record["bytes"]


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
def test_test_images_can_be_shown_with_the_keyboard(playground):
    from playwright.sync_api import expect

    page, _ = playground
    caption = page.locator(".playground-sample-caption")
    labels = json.loads((PLAYGROUND / "test-images.json").read_text())["labels"]
    page.locator(".playground-sample").focus()
    for index in range(2):
        page.keyboard.press("Enter")
        expect(caption).to_have_text(
            f"Test image {index + 1} of {len(labels)}: labelled {labels[index]}."
        )
        for framework in FRAMEWORKS:
            expected = manifest(framework)["reference_probabilities"][index]
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
    from test_browser import open_page

    # 1300 px: Material shows both sidebars, which leaves the content narrowest.
    context, page, _, _ = open_page(
        browser, f"{server}/playground/", viewport={"width": 1300, "height": 900}
    )
    pad = page.locator(".playground-pad").bounding_box()
    results = page.locator(".playground-results").bounding_box()
    context.close()
    assert results["x"] >= pad["x"] + pad["width"], (pad, results)
