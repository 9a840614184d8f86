"""Save the trained PyTorch model in the forms a deployment uses, and load
them back.

The mirror of keras_export.py. It reads the state_dict that pytorch_mlp.py
saved (`runs/pytorch/mlp.pt`) and writes, into the output folder:

- `mlp.pt`: the state_dict again, the weights only;
- `mlp.pt2`: a `torch.export` program, the weights with the computation;
- `mlp.onnx`: the same computation as an ONNX graph, for ONNX Runtime;
- `reference-probabilities.npy`: the saved model's probabilities on the test
  set, which every reloaded copy must reproduce.

`python -m tools.deployment` (`make export`) runs this, then reloads each file
in a fresh process. Run `python code/pytorch_export.py --help` for the options.
"""

# --8<-- [start:setup]
import argparse
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mnist_data import MnistError, load_mnist

# An example batch for the exporters to trace. Two images, not one: PyTorch
# treats a size of 1 as a special case and would fix the batch size to it.
EXAMPLE_BATCH = 2
# --8<-- [end:setup]


# --8<-- [start:load_state_dict]
def load_state_dict(path):
    """Rebuild the trained model from a state_dict file."""
    # weights_only=True unpickles tensors and plain containers only, never
    # arbitrary objects: loading a file from elsewhere cannot run its code.
    state_dict = torch.load(path, weights_only=True)
    hidden_units = state_dict["hidden.weight"].shape[0]
    # A state_dict holds named tensors, not the architecture: code must rebuild
    # it. Any module with the same names and shapes takes the weights; standard
    # layers named like pytorch_mlp.py's MLP spare a copy of that class.
    model = nn.Sequential(
        OrderedDict(
            hidden=nn.Linear(784, hidden_units),
            relu=nn.ReLU(),
            output=nn.Linear(hidden_units, 10),
        )
    )
    # strict: every name and shape must match
    model.load_state_dict(state_dict)
    return model.eval()


# --8<-- [end:load_state_dict]


# --8<-- [start:export]
def export_model(model, output_dir):
    torch.save(model.state_dict(), output_dir / "mlp.pt")
    example = (torch.zeros(EXAMPLE_BATCH, 784),)
    # Without this, both exporters would fix the batch size to the example's.
    dynamic_shapes = ({0: torch.export.Dim("batch")},)
    program = torch.export.export(
        model, example, dynamic_shapes=dynamic_shapes
    )
    torch.export.save(program, output_dir / "mlp.pt2")
    # dynamo=True: the exporter built on torch.export; the older TorchScript
    # one is deprecated.
    onnx_program = torch.onnx.export(
        model,
        example,
        dynamo=True,
        dynamic_shapes=dynamic_shapes,
        input_names=["images"],
        output_names=["logits"],
        verbose=False,
    )
    onnx_program.save(output_dir / "mlp.onnx")


# --8<-- [end:export]


# --8<-- [start:load_exported_program]
def load_exported_program(path):
    """Load a torch.export program: no Python class needed, only PyTorch."""
    # Loading an exported program does not unpickle Python objects.
    return torch.export.load(path).module()


# --8<-- [end:load_exported_program]


# --8<-- [start:predict]
def predict(model, images):
    """Logits as a NumPy array, for the loaded model and a float32 array."""
    with torch.no_grad():
        return model(torch.from_numpy(images)).numpy()


# --8<-- [end:predict]


def main():
    parser = argparse.ArgumentParser(
        description="Save the trained PyTorch model as a state_dict, a "
        "torch.export program and ONNX.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--model",
        default="runs/pytorch/mlp.pt",
        help="what pytorch_mlp.py saved",
    )
    parser.add_argument(
        "--output-dir",
        default="runs/export/pytorch",
        help="where the files go",
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
            "`python code/pytorch_mlp.py` first, or `make export`, which does"
        )
    try:
        _, (x_test, _) = load_mnist(args.data_dir)
    except MnistError as error:
        sys.exit(f"error: {error}")
    images = x_test.reshape(-1, 784).astype("float32") / 255
    try:
        model = load_state_dict(args.model)
    except Exception as error:  # torch raises several kinds for a bad file
        sys.exit(
            f"error: {args.model} is not a loadable state_dict ({error}): "
            "train again with `python code/pytorch_mlp.py`"
        )
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    export_model(model, output_dir)
    probabilities = torch.softmax(
        torch.from_numpy(predict(model, images)), dim=1
    )
    np.save(output_dir / "reference-probabilities.npy", probabilities.numpy())
    print(f"saved mlp.pt, mlp.pt2 and mlp.onnx in {output_dir}")


if __name__ == "__main__":
    main()
