"""Export a trained model's weights for the Playground page, with reference answers.

The retrain step runs this once per framework, in that framework's own process,
on the model the program saved. It writes, into the output folder:

- `FRAMEWORK.bin`: the weights as little-endian float32, in the order hidden
  weight (units x 784), hidden bias, output weight (10 x units), output bias:
  PyTorch's layout; a Keras kernel is transposed;
- `FRAMEWORK.json`: the shapes, and the model's own probabilities for the
  first test images, which the page must reproduce;
- `test-images.bin` and `test-images.json`: those test images (uint8, 784
  bytes each) and their labels, which the page can show instead of a drawing.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from mnist_data import load_mnist

REFERENCE_IMAGES = 100  # test images whose probabilities the page must match


def keras_weights_and_probabilities(model_path, images):
    import keras

    model = keras.saving.load_model(model_path, safe_mode=True)
    kernel_1, bias_1, kernel_2, bias_2 = model.get_weights()
    logits = model.predict(images, verbose=0)
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
    images = x_test[:REFERENCE_IMAGES].reshape(-1, 784).astype("float32") / 255
    if args.framework == "keras":
        weights, probabilities = keras_weights_and_probabilities(args.model, images)
    else:
        weights, probabilities = pytorch_weights_and_probabilities(args.model, images)
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    blob = b"".join(np.ascontiguousarray(w, "<f4").tobytes() for w in weights)
    (output_dir / f"{args.framework}.bin").write_bytes(blob)
    manifest = {
        "framework": args.framework,
        "shapes": [list(w.shape) for w in weights],
        "reference_images": REFERENCE_IMAGES,
        "reference_probabilities": probabilities.astype(float).round(8).tolist(),
    }
    (output_dir / f"{args.framework}.json").write_text(json.dumps(manifest) + "\n")
    # The same images for both frameworks: whichever runs last rewrites them.
    (output_dir / "test-images.bin").write_bytes(x_test[:REFERENCE_IMAGES].tobytes())
    labels = {"labels": y_test[:REFERENCE_IMAGES].tolist()}
    (output_dir / "test-images.json").write_text(json.dumps(labels) + "\n")


if __name__ == "__main__":
    main()
