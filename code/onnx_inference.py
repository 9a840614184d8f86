"""Run an ONNX model with ONNX Runtime: the same code for the Keras and
PyTorch exports.

Neither TensorFlow nor PyTorch is imported: a server that runs these files
needs NumPy and the onnxruntime package only.
"""

# --8<-- [start:load_onnx]
import onnxruntime


def load_onnx(path):
    """An inference session on the CPU for an ONNX file."""
    return onnxruntime.InferenceSession(
        path, providers=["CPUExecutionProvider"]
    )


def predict(session, images):
    """Logits as a NumPy array, for a float32 array of flattened images."""
    # The input's name is whatever the exporter chose; ask the file for it.
    input_name = session.get_inputs()[0].name
    return session.run(None, {input_name: images})[0]


# --8<-- [end:load_onnx]
