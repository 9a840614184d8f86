"""Export a trained model for the Playground page: its weights in 8 bits, checked.

The retrain step runs this once per framework, in that framework's own process,
on the model the program saved. It writes, into the output folder:

- `FRAMEWORK.bin`: the weights in 8 bits. Each row of a weight matrix (one
  hidden unit's 784 input weights, one digit's weights over the hidden units)
  is stored as whole numbers from -127 to 127 and one float32 scale, the row's
  largest magnitude divided by 127; the biases stay float32. PyTorch's layout
  (units x inputs): a Keras kernel is transposed. The manifest's `arrays` say
  where each array starts, float32 ones first so that each is aligned;
- `FRAMEWORK.json`: that layout, the model's own probabilities for the first
  test images (the browser test checks the page against them), and how the
  page's arithmetic agrees with the model on the whole test set;
- `test-images.bin` and `test-images.json`: those first test images (uint8,
  784 bytes each) and their labels, which the page can show instead of a
  drawing.

Why 8 bits: in float32 each model is 1.6 MB, and the page, models included,
must load in at most 1.5 MiB. The price is rounding: every weight moves by up
to half a step, which moves the probabilities a little. `page_probabilities`
below is the page's forward pass (`predict` in docs/javascripts/playground.js)
in NumPy: the same dequantised float32 weights, sums and softmax in double
precision like JavaScript's numbers. It runs on all 10,000 test images and
must give the model's digit on every image where the model is decisive: its
answer at least DECISIVE_MARGIN more probable than its second choice.

Why not all 10,000: MNIST's test set has a few images on which a trained
model's first two choices are a fraction of a percentage point apart (both
near 50%). Any rounding of the weights can swap those two, and does for a few
images in 8 bits; float16, which rounds less, would not fit (0.8 MB per
model). Those disagreements are allowed, counted and listed in the manifest,
and the page states them.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from mnist_data import load_mnist

REFERENCE_IMAGES = 100  # test images whose probabilities the page must match
LARGEST_INTEGER = 127  # symmetric int8: -127 ... 127 (-128 unused)
# Where the model's first and second choices are closer than this, rounding
# the weights may swap them. Int8 rounding moves these models' probabilities
# by up to about 0.03 (the manifest records the largest change); 0.05 leaves a
# margin, and still fails on any mistake in the encoding, which would change
# the answer on confident images too.
DECISIVE_MARGIN = 0.05
LAYERS = ("hidden", "output")


def keras_weights_and_probabilities(model_path, images):
    import keras

    model = keras.saving.load_model(model_path, safe_mode=True)
    kernel_1, bias_1, kernel_2, bias_2 = model.get_weights()
    logits = model.predict(images, batch_size=1000, verbose=0)
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    return [kernel_1.T, bias_1, kernel_2.T, bias_2], probabilities


def pytorch_weights_and_probabilities(model_path, images):
    import torch

    state = torch.load(model_path, weights_only=True)
    weights = [state[name] for name in ("hidden.weight", "hidden.bias")]
    weights += [state[name] for name in ("output.weight", "output.bias")]
    with torch.no_grad():
        hidden = torch.relu(torch.from_numpy(images) @ weights[0].T + weights[1])
        probabilities = torch.softmax(hidden @ weights[2].T + weights[3], dim=1)
    return [weight.numpy() for weight in weights], probabilities.numpy()


def quantise(weight):
    """Symmetric int8 per row: weight ~ q * scale, q in -127..127."""
    largest = np.abs(weight).max(axis=1)
    scale = np.where(largest > 0, largest / LARGEST_INTEGER, 1).astype(np.float32)
    q = (
        np.rint(weight / scale[:, None])
        .clip(-LARGEST_INTEGER, LARGEST_INTEGER)
        .astype(np.int8)
    )
    return q, scale


def dequantise(q, scale):
    """What the page computes: q * scale, rounded to float32."""
    return q.astype(np.float32) * scale[:, None]


def encode(weights):
    """The arrays to store, in file order (float32 first), and their layout."""
    arrays = {}
    for layer, (weight, bias) in zip(LAYERS, (weights[:2], weights[2:]), strict=True):
        q, scale = quantise(weight)
        arrays[f"{layer}.weight"] = q
        arrays[f"{layer}.scale"] = scale
        arrays[f"{layer}.bias"] = np.asarray(bias, np.float32)
    order = sorted(arrays, key=lambda name: arrays[name].dtype != np.float32)
    layout, offset = [], 0
    for name in order:
        array = arrays[name]
        layout.append(
            {
                "name": name,
                "dtype": str(array.dtype),
                "shape": list(array.shape),
                "offset": offset,
            }
        )
        offset += array.nbytes
    blob = b"".join(
        np.ascontiguousarray(
            arrays[name], arrays[name].dtype.newbyteorder("<")
        ).tobytes()
        for name in order
    )
    return arrays, layout, blob


def page_layers(arrays):
    """The float32 weights and biases the page works with, layer by layer."""
    return [
        (
            dequantise(arrays[f"{layer}.weight"], arrays[f"{layer}.scale"]),
            arrays[f"{layer}.bias"],
        )
        for layer in LAYERS
    ]


def page_probabilities(layers, images):
    """The page's forward pass: float32 weights and inputs, double-precision sums."""
    (w1, b1), (w2, b2) = [
        (weight.astype(np.float64), bias.astype(np.float64)) for weight, bias in layers
    ]
    hidden = np.maximum(images.astype(np.float64) @ w1.T + b1, 0)
    logits = hidden @ w2.T + b2
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


def agreement(model_probabilities, page, labels):
    """How the page's answers compare with the model's on every test image."""
    model_digits = model_probabilities.argmax(axis=1)
    page_digits = page.argmax(axis=1)
    ranked = np.sort(model_probabilities, axis=1)
    margins = ranked[:, -1] - ranked[:, -2]
    differ = np.flatnonzero(model_digits != page_digits)
    return {
        "agree": int(len(labels) - len(differ)),
        "images": int(len(labels)),
        "max_probability_difference": float(np.abs(page - model_probabilities).max()),
        "decisive_margin": DECISIVE_MARGIN,
        "disagreements": [
            {
                "image": int(index),
                "label": int(labels[index]),
                "model_digit": int(model_digits[index]),
                "page_digit": int(page_digits[index]),
                "model_margin": round(float(margins[index]), 6),
            }
            for index in differ
        ],
    }


def check(framework, result):
    """Fail, with the images to look at, if the page disagrees where it must not."""
    decisive = [
        row for row in result["disagreements"] if row["model_margin"] >= DECISIVE_MARGIN
    ]
    if decisive:
        sys.exit(
            f"playground_export: the 8-bit {framework} weights change the answer on "
            f"{len(decisive)} test image(s) where the model is decisive (first choice "
            f"at least {DECISIVE_MARGIN} more probable than the second): "
            f"{decisive[:5]}. The encoding is wrong, or 8 bits are not enough for "
            "this model; nothing was written."
        )


def main():
    parser = argparse.ArgumentParser(
        description="Export a trained model for the Playground page.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--framework", choices=["keras", "pytorch"], required=True)
    parser.add_argument("--model", required=True, help="mlp.keras or mlp.pt")
    parser.add_argument("--output-dir", required=True, help="where the files go")
    args = parser.parse_args()

    _, (x_test, y_test) = load_mnist()
    images = x_test.reshape(-1, 784).astype(np.float32) / 255
    if args.framework == "keras":
        weights, probabilities = keras_weights_and_probabilities(args.model, images)
    else:
        weights, probabilities = pytorch_weights_and_probabilities(args.model, images)
    arrays, layout, blob = encode(weights)
    page = page_probabilities(page_layers(arrays), images)
    result = agreement(probabilities.astype(np.float64), page, y_test)
    check(args.framework, result)

    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / f"{args.framework}.bin").write_bytes(blob)
    manifest = {
        "framework": args.framework,
        "shapes": [list(np.shape(w)) for w in weights],
        "encoding": "int8 per row: weight = q * scale",
        "largest_integer": LARGEST_INTEGER,
        "arrays": layout,
        "bytes": len(blob),
        "float32_bytes": sum(int(np.size(w)) * 4 for w in weights),
        "reference_images": REFERENCE_IMAGES,
        "reference_probabilities": probabilities[:REFERENCE_IMAGES]
        .astype(float)
        .round(8)
        .tolist(),
        "test_set_agreement": result,
    }
    (output_dir / f"{args.framework}.json").write_text(json.dumps(manifest) + "\n")
    # The same images for both frameworks: whichever runs last rewrites them.
    (output_dir / "test-images.bin").write_bytes(x_test[:REFERENCE_IMAGES].tobytes())
    labels = {"labels": y_test[:REFERENCE_IMAGES].tolist()}
    (output_dir / "test-images.json").write_text(json.dumps(labels) + "\n")
    print(
        f"playground_export: {args.framework}: {len(blob):,} bytes; the page gives "
        f"the model's digit on {result['agree']:,} of {result['images']:,} test "
        "images"
    )


if __name__ == "__main__":
    main()
