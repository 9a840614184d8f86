"""Save the trained Keras model in the forms a deployment uses, and load
them back.

The mirror of pytorch_export.py. It reads the model that keras_mlp.py saved
(`runs/keras/mlp.keras`) and writes, into the output folder:

- `mlp.keras`: Keras' own format, the architecture with the weights;
- `saved_model/`: a TensorFlow SavedModel, the computation with the weights,
  for TensorFlow Serving or any TensorFlow program, no Keras needed;
- `mlp.onnx`: the same computation as an ONNX graph, for ONNX Runtime;
- `reference-probabilities.npy`: the saved model's probabilities on the test
  set, which every reloaded copy must reproduce.

`python -m tools.deployment` (`make export`) runs this, then reloads each file
in a fresh process. Run `python code/keras_export.py --help` for the options.
"""

# --8<-- [start:setup]
import argparse
import sys
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mnist_data import MnistError, load_mnist

# --8<-- [end:setup]


# --8<-- [start:load_keras_file]
def load_keras_file(path):
    """Rebuild the trained model from a .keras file."""
    # safe_mode=True (the default, written out here) refuses to deserialise
    # Python code stored in the file, such as a Lambda layer's bytecode.
    return keras.saving.load_model(path, safe_mode=True)


# --8<-- [end:load_keras_file]


# --8<-- [start:export]
def export_model(model, output_dir):
    model.save(output_dir / "mlp.keras")
    # The batch size stays open in both: Keras exports the Input's
    # (None, 784) shape as it is.
    model.export(
        output_dir / "saved_model", format="tf_saved_model", verbose=False
    )
    # Through tf2onnx, the converter Keras calls for the TensorFlow backend.
    model.export(output_dir / "mlp.onnx", format="onnx", verbose=False)


# --8<-- [end:export]


# --8<-- [start:load_saved_model]
def load_saved_model(path):
    """Load a SavedModel: no Keras code needed, only TensorFlow."""
    return tf.saved_model.load(str(path))


def predict_saved_model(saved_model, images):
    """Logits as a NumPy array, for a loaded SavedModel and a float32 array."""
    # model.export names the inference function `serve`.
    return saved_model.serve(images).numpy()


# --8<-- [end:load_saved_model]


# --8<-- [start:predict]
def predict(model, images):
    """Logits as a NumPy array, for the loaded model and a float32 array."""
    # Calling the model runs one forward pass; model.predict would split the
    # images into batches and add a progress loop around them.
    return keras.ops.convert_to_numpy(model(images))


# --8<-- [end:predict]


def main():
    parser = argparse.ArgumentParser(
        description="Save the trained Keras model as .keras, a SavedModel "
        "and ONNX.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--model",
        default="runs/keras/mlp.keras",
        help="what keras_mlp.py saved",
    )
    parser.add_argument(
        "--output-dir", default="runs/export/keras", help="where the files go"
    )
    parser.add_argument(
        "--data-dir",
        help="folder with the MNIST IDX files; None: $MNIST_DIR, else cache "
        "or download",
    )
    args = parser.parse_args()
    if not Path(args.model).is_file():
        sys.exit(
            f"error: no trained model at {args.model}: run "
            "`python code/keras_mlp.py` first, or `make export`, which does"
        )
    try:
        _, (x_test, _) = load_mnist(args.data_dir)
    except MnistError as error:
        sys.exit(f"error: {error}")
    images = x_test.reshape(-1, 784).astype("float32") / 255
    try:
        model = load_keras_file(args.model)
    except Exception as error:  # Keras raises several kinds for a bad file
        sys.exit(
            f"error: {args.model} is not a loadable .keras file ({error}): "
            "train again with `python code/keras_mlp.py`"
        )
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    export_model(model, output_dir)
    probabilities = keras.ops.softmax(predict(model, images))
    np.save(
        output_dir / "reference-probabilities.npy",
        keras.ops.convert_to_numpy(probabilities),
    )
    print(f"saved mlp.keras, saved_model/ and mlp.onnx in {output_dir}")


if __name__ == "__main__":
    main()
