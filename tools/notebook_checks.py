"""Checks for the exercises of the course notebook.

Each check tries what you wrote on a small fixed case and prints a verdict:
right, or what is wrong with a hint for the usual mistake. The checks judge
what your code does, not how it is spelt: a layer object or an activation
string, nn.Sequential or a class of your own, keyword or positional
arguments, either optimizer of the Configuration cell. Nothing is hidden:
this file is the whole of it. The notebook writes it next to itself
(tools/build_notebooks.py copies it in), so it needs neither the course's
repository nor a network.

A check cell calls `check_answers(globals(), check_..., ...)`: each check
takes the notebook's names it needs as its parameters. When the cell above
raised an error, the verdict says so and names each answer that cell did not
get to define, instead of failing on it or judging what an earlier run left.

Each framework is imported inside its own checks, so the Keras part runs
without PyTorch installed and the other way round.
"""

import ast
import copy
import inspect
import math
import numbers

import numpy as np

# A fixed case: 4 "images" of 784 features in [0, 1], 3 rows of 10 logits and
# their labels. Fixed seeds: the same case on every run and every machine.
INPUTS = np.random.default_rng(0).random((4, 784), dtype=np.float32)
LOGITS = np.random.default_rng(1).normal(0, 3, (3, 10)).astype(np.float32)
LABELS = np.array([3, 0, 7])
# With a softmax inside the model and another inside the loss, the loss's input
# is a probability vector: its smallest possible value, for 10 classes, is
# -log(e / (e + 9)), reached by a one-hot vector.
SOFTMAX_TWICE_FLOOR = math.log((math.e + 9) / math.e)
SOFTMAX_TWICE = (
    f"the softmax is applied twice, and the loss can never fall below "
    f"{SOFTMAX_TWICE_FLOOR:.2f}: the model learns slowly and ends worse"
)
# How a check cell starts: the checks keep no record of their own cells.
CHECK_CELL = "# Check the cell above"
MISSING = object()


def cross_entropy(logits, labels):
    """The mean cross-entropy of logits and class indices, in NumPy."""
    logits = np.asarray(logits, dtype=np.float64)
    log_sum = np.log(np.exp(logits).sum(axis=1))
    return float(np.mean(log_sum - logits[np.arange(len(labels)), labels]))


def softmax(logits):
    exponentials = np.exp(np.asarray(logits, dtype=np.float64))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def relu(values):
    return np.maximum(values, 0)


def report(what, problems):
    """Print the verdict: right, or each problem with its hint."""
    if not problems:
        print(f"✔ {what}: right.")
        return
    print(f"✘ {what}: not yet.")
    for problem in problems:
        print(f"  - {problem}")


def verdict(what):
    """Marks a check with what its verdict is about ("model", "loss", ...)."""

    def mark(check):
        check.what = what
        return check

    return mark


# What the cells defined: without it, a check after a cell that raised would
# judge (or fail on) what an earlier run of that cell left behind.


def assigned_names(source):
    """The names a cell's code binds at its top level (assignments, def,
    class, import), not those inside its functions and classes."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a cell magic, or a typo the cell's own run reports
        return set()
    names = set()
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        if isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        pending.extend(ast.iter_child_nodes(node))
    return names


class CellWatcher:
    """Follows the notebook's cells through IPython's events: for each name a
    cell binds, whether its latest run got to bind it, and the error of the
    latest cell that is not a check."""

    def __init__(self, shell):
        self.shell = shell
        self.before = {}
        # name -> None (its latest cell bound it), or the error that cell
        # raised before binding it.
        self.left_unset = {}
        self.last_error = None

    def pre_run_cell(self, info):
        names = assigned_names(self.shell.transform_cell(info.raw_cell or ""))
        namespace = self.shell.user_ns
        self.before = {name: namespace.get(name, MISSING) for name in names}

    def post_run_cell(self, result):
        before, self.before = self.before, {}
        if (result.info.raw_cell or "").startswith(CHECK_CELL):
            return
        error = result.error_before_exec or result.error_in_exec
        self.last_error = error
        namespace = self.shell.user_ns
        for name, old in before.items():
            new = namespace.get(name, MISSING)
            # A cell that raised bound only the names whose value changed.
            bound = new is not MISSING and (error is None or new is not old)
            self.left_unset[name] = None if bound else error


def watcher():
    """The kernel's CellWatcher, started on first use; None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None:
        return None
    found = getattr(shell, "notebook_checks_watcher", None)
    if found is None:
        found = CellWatcher(shell)
        shell.events.register("pre_run_cell", found.pre_run_cell)
        shell.events.register("post_run_cell", found.post_run_cell)
        shell.notebook_checks_watcher = found
    return found


# Started when the part's first cell imports this module, so that it sees
# every exercise cell run after it.
watcher()


def error_text(error):
    return f"{type(error).__name__}: {error}"


def unseen_answers(names, namespace, watching):
    """Why each of `names` cannot be checked: not defined, or left from an
    earlier run by a cell that raised before binding it again."""
    problems = []
    for name in names:
        error = watching.left_unset.get(name) if watching else None
        if name not in namespace:
            cause = (
                f"the cell that defines it raised {error_text(error)} first"
                if error is not None
                else "run the cells above it, in order, and check that yours assigns it"
            )
            problems.append(f"`{name}` is not defined: {cause}.")
        elif error is not None:
            problems.append(
                f"`{name}` is left from an earlier run: the cell that defines it "
                f"raised {error_text(error)} before setting it again."
            )
    return problems


def check_answers(namespace, *checks):
    """Run each check on the names it takes from `namespace` (the notebook's
    globals()), and print one verdict per check, whatever happens."""
    watching = watcher()
    if watching is not None and watching.last_error is not None:
        print(
            f"✘ the cell above raised {error_text(watching.last_error)}.\n"
            "  Fix it, run it again, then this check. Below, the answers it "
            "defined before the error."
        )
    for check in checks:
        names = list(inspect.signature(check).parameters)
        problems = unseen_answers(names, namespace, watching)
        if not problems:
            try:
                problems = check(**{name: namespace[name] for name in names})
            except Exception as error:  # the student's code: any error is a verdict
                problems = [f"the check could not try your answer: {error_text(error)}"]
        report(check.what, problems)


# Models of both frameworks: the same behavioural test.


def is_number(value):
    """A Python or NumPy real number, not a bool, a tensor or an array."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def close(actual, expected, tolerance=1e-4):
    actual, expected = np.asarray(actual), np.asarray(expected)
    return actual.shape == expected.shape and np.allclose(
        actual, expected, rtol=tolerance, atol=tolerance
    )


def model_problems(outputs, layers, hidden_units, softmax_hint):
    """What is wrong with a model whose dense layers, in the order it calls
    them, are `layers` [(weights as (in, out), bias or None)], and which gave
    `outputs` on INPUTS: it must compute Dense -> ReLU -> Dense, logits."""
    inputs = INPUTS.astype(np.float64)
    sizes = [weights.shape for weights, _ in layers]
    if len(sizes) != 2:
        return [
            f"{len(sizes)} dense layer{'' if len(sizes) == 1 else 's'} where "
            "the course's model has two, a hidden "
            f"layer of {hidden_units} units and an output layer of 10."
        ]
    problems = []
    if sizes[0] != (784, hidden_units):
        problems.append(
            f"the hidden layer maps {sizes[0][0]} -> {sizes[0][1]}, not 784 -> "
            f"{hidden_units} (args.hidden_units)."
        )
    if sizes[1][1] != 10:
        problems.append(
            f"the output layer has {sizes[1][1]} outputs, not 10: one logit per digit."
        )
    if problems or sizes[1][0] != sizes[0][1]:
        return problems or ["the output layer does not take the hidden layer's units."]
    (hidden_weights, hidden_bias), (output_weights, output_bias) = layers

    def output_layer(hidden):
        return hidden @ output_weights + (0 if output_bias is None else output_bias)

    hidden = inputs @ hidden_weights + (0 if hidden_bias is None else hidden_bias)
    logits = output_layer(relu(hidden))
    outputs = np.asarray(outputs, dtype=np.float64)
    if close(outputs, logits):
        return []
    if close(outputs, softmax(logits)):
        return [softmax_hint]
    if close(outputs, logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))):
        return [
            "the outputs are log-probabilities: the output layer ends with a "
            "log-softmax. The loss applies its own; leave the output layer "
            "without activation, so that the model returns the logits."
        ]
    if close(outputs, relu(logits)):
        return [
            "the output layer ends with a ReLU: the outputs are never negative. "
            "Logits must be free to go below zero (the loss turns them into "
            "probabilities): leave the output layer without activation."
        ]
    if close(outputs, output_layer(hidden)):
        return [
            "no ReLU after the hidden layer: without it the two layers compose "
            "into a single linear map, no better than one layer."
        ]
    return [
        "the outputs are not Dense -> ReLU -> Dense of the input: apply ReLU "
        "(max(0, x)) to the hidden layer's output, and nothing else."
    ]


# Keras


def keras_dense_layers(model):
    """The model's Dense layers in order, those of nested models included."""
    import keras

    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            found.append(layer)
        elif hasattr(layer, "layers"):
            found.extend(keras_dense_layers(layer))
    return found


KERAS_SOFTMAX = (
    "the outputs are probabilities (each row sums to 1): the model ends "
    "with a softmax. Leave the output layer linear (logits): the loss, "
    "told from_logits=True, applies the softmax itself. On the TensorFlow "
    "backend Keras notices a final softmax activation, warns and uses the "
    "logits underneath; do not count on it (the course's Pitfalls page)."
)


@verdict("model")
def check_keras_model(model, args):
    import keras

    if not isinstance(model, keras.Model):
        return [f"`model` is of type {type(model).__name__}, not a Keras model."]
    if not model.built:
        return [
            "the model has no weights yet: start the Sequential with "
            "keras.Input(shape=(784,)), so that Keras creates them now (the "
            "cells below read them, and model.summary() shows their shapes)."
        ]
    dense = keras_dense_layers(model)
    if not model.layers or not dense or model.layers[0] is not dense[0]:
        first = type(model.layers[0]).__name__ if model.layers else "none"
        why = {
            "InputLayer": "a functional keras.Model lists its Input there: "
            "build the keras.Sequential the exercise asks for",
            "Flatten": "a Flatten is not needed: the images already are 784 features",
        }.get(first, "start the Sequential with it, after keras.Input")
        return [
            "the model's first layer must be the hidden Dense layer: the cells "
            f"below read it as model.layers[0], here of type {first} ({why})."
        ]
    try:
        outputs = keras.ops.convert_to_numpy(model(INPUTS))
    except Exception as error:  # the student's code: any error is a verdict
        return [f"it fails on 4 images of 784 features: {error_text(error)}"]
    layers = [
        (
            keras.ops.convert_to_numpy(layer.kernel).astype(np.float64),
            None
            if layer.bias is None
            else keras.ops.convert_to_numpy(layer.bias).astype(np.float64),
        )
        for layer in dense
    ]
    return model_problems(outputs, layers, args.hidden_units, KERAS_SOFTMAX)


@verdict("loss")
def check_keras_loss(loss_function):
    import keras

    expected = cross_entropy(LOGITS, LABELS)
    if isinstance(loss_function, type):
        return [
            f"`loss_function` is the class {loss_function.__name__}, not a loss: "
            "a class was passed where an instance is needed. Create one: "
            "keras.losses.SparseCategoricalCrossentropy(from_logits=True)."
        ]
    if isinstance(loss_function, str):
        return [
            f"{loss_function!r} is a name: Keras makes it a loss with "
            "from_logits=False, which reads the model's outputs as probabilities. "
            "Create keras.losses.SparseCategoricalCrossentropy(from_logits=True)."
        ]
    try:
        # A loss object gives the batch's mean; a loss function, one per image.
        value = float(
            np.mean(keras.ops.convert_to_numpy(loss_function(LABELS, LOGITS)))
        )
    except Exception as error:  # the student's code: any error is a verdict
        return [
            f"it fails on integer labels and 10 logits per image: {error_text(error)}. "
            "The labels are class indices (0 to 9), not one-hot vectors: "
            "that is the Sparse categorical cross-entropy."
        ]
    if math.isclose(value, expected, rel_tol=1e-4):
        return []
    config = getattr(loss_function, "get_config", dict)()
    if config.get("reduction") == "sum":
        return [
            "reduction='sum' adds up the batch's losses, so the step size grows "
            "with the batch: keep the default, their mean."
        ]
    if config.get("from_logits") is False:
        return [
            f"on fixed logits it gives {value:.4f}, not the cross-entropy "
            f"{expected:.4f}: without from_logits=True Keras reads the logits as "
            "probabilities. Pass from_logits=True."
        ]
    return [
        f"on fixed logits and labels it gives {value:.4f}, not the "
        f"cross-entropy {expected:.4f}: use "
        "keras.losses.SparseCategoricalCrossentropy(from_logits=True)."
    ]


NOT_COMPILED = (
    "the model is not compiled: the model cell ran after the training cell, "
    "which compiles and trains it. Run the training cell again."
)


@verdict("training")
def check_keras_training(
    history, epoch_seconds, keep_best, args, model, x_train, x_val, y_val
):
    """What fit did: its epochs, its steps over the whole training set, its
    validation on the course's held-out split, its callbacks."""
    if not isinstance(history, dict) or "loss" not in history:
        return ["`history` should be what model.fit(...) returns."]
    if not model.compiled:
        return [NOT_COMPILED]
    problems = []
    epochs = len(history["loss"])
    if epochs != args.epochs:
        problems.append(
            f"it trained {epochs} epoch{'' if epochs == 1 else 's'}, not args.epochs "
            f"({args.epochs}): pass epochs=args.epochs."
        )
    steps = int(model.optimizer.iterations)
    expected_steps = epochs * math.ceil(len(x_train) / args.batch_size)
    if steps == 2 * expected_steps:
        problems.append(
            f"it took {steps} steps, twice {expected_steps}: fit ran twice in the "
            "cell, and the model trained twice as long. Call model.fit once."
        )
    elif steps != expected_steps:
        problems.append(
            f"it took {steps} steps, not {expected_steps} ({epochs} epochs of "
            f"{len(x_train)} images in batches of args.batch_size, "
            f"{args.batch_size}): train on all of x_train, y_train, with "
            "batch_size=args.batch_size."
        )
    if "val_loss" not in history:
        problems.append("no validation loss: pass validation_data=(x_val, y_val).")
    else:
        # The kept weights' loss on the held-out split is one of the epochs'.
        evaluated = model.evaluate(x_val, y_val, batch_size=args.batch_size, verbose=0)
        val_loss = evaluated[0] if isinstance(evaluated, list) else evaluated
        if not any(
            math.isclose(val_loss, value, rel_tol=1e-3, abs_tol=1e-5)
            for value in history["val_loss"]
        ):
            problems.append(
                "the validation loss is not the loss on (x_val, y_val), the "
                "course's held-out split: pass validation_data=(x_val, y_val) "
                "(validation_split would hold out the end of the training set "
                "instead, and train on less)."
            )
    if len(epoch_seconds) != epochs or keep_best.model is None:
        problems.append(
            "the callbacks did not run: pass callbacks=[EpochTimer(), keep_best]."
        )
    if not all(math.isfinite(value) for value in history["loss"]):
        problems.append("the training loss is not a finite number.")
    return problems


@verdict("evaluation")
def check_keras_evaluation(test_loss, test_accuracy, model, x_test, y_test):
    import keras

    if not model.compiled:
        return [NOT_COMPILED]
    if check_keras_loss(model.loss):
        return [
            "the model was compiled with a loss that is not yet right (see the "
            "check of the loss): fix it, then run the training and this cell again."
        ]
    for name, value in (("test_loss", test_loss), ("test_accuracy", test_accuracy)):
        if getattr(value, "shape", None) == ():
            return [
                f"{name} holds one value of type {type(value).__name__}, not a Python "
                f"number: convert it with float({name})."
            ]
        if not is_number(value):
            return [
                f"{name} is of type {type(value).__name__}, not a number: evaluate "
                "returns a list [loss, accuracy]; unpack it: "
                "test_loss, test_accuracy = model.evaluate(...)."
            ]
    logits = keras.ops.convert_to_numpy(model.predict(x_test, verbose=0))
    loss = cross_entropy(logits, y_test)
    accuracy = float(np.mean(logits.argmax(axis=1) == y_test))
    if not (math.isclose(test_loss, loss, rel_tol=1e-3, abs_tol=1e-4)):
        if math.isclose(test_loss, accuracy, abs_tol=1e-4):
            return [
                "test_loss and test_accuracy are swapped: evaluate returns the "
                "loss first, then the metrics."
            ]
        return [
            f"test_loss is {test_loss:.4f}; the model's loss on the test set is "
            f"{loss:.4f}: evaluate on x_test and y_test."
        ]
    if not math.isclose(test_accuracy, accuracy, abs_tol=1e-4):
        return [
            f"test_accuracy is {test_accuracy}; the model's accuracy on the test "
            f"set is {accuracy:.4f} (a fraction, not a percentage)."
        ]
    return []


# PyTorch


PYTORCH_SOFTMAX = (
    "the outputs are probabilities (each row sums to 1): forward applies "
    "a softmax. Return the logits: nn.CrossEntropyLoss applies log-softmax "
    f"itself. With both, {SOFTMAX_TWICE}."
)


@verdict("model")
def check_pytorch_model(model, args):
    import torch
    from torch import nn

    if isinstance(model, type):
        return [
            f"`model` is the class {model.__name__}, not a model: create one, "
            f"with (): model = {model.__name__}(args.hidden_units)."
        ]
    if not isinstance(model, nn.Module):
        return [
            f"`model` is of type {type(model).__module__}.{type(model).__name__}, "
            "not a PyTorch nn.Module: define class MLP(nn.Module), then "
            "model = MLP(args.hidden_units)."
        ]
    listed = [
        name
        for name, value in vars(model).items()
        if isinstance(value, list | tuple)
        and any(isinstance(item, nn.Module) for item in value)
    ]
    if listed:
        return [
            f"`{listed[0]}` is a Python list of layers, which nn.Module does not "
            "see (their weights are not the model's, and no optimizer trains "
            f"them): make it an nn.ModuleList, or give each layer its own name."
        ]
    # The linear layers in the order forward calls them, whatever their names.
    called = []
    hooks = [
        layer.register_forward_hook(lambda layer, *_: called.append(layer))
        for layer in model.modules()
        if isinstance(layer, nn.Linear)
    ]
    device = next(model.parameters(), torch.zeros(0)).device
    # In evaluation mode, as the model is judged on the test set: a dropout
    # layer, say, then passes its input on.
    training = model.training
    model.eval()
    try:
        with torch.no_grad():
            outputs = model(torch.from_numpy(INPUTS).to(device)).cpu().numpy()
            first_call = list(called)
            again = model(torch.from_numpy(INPUTS).to(device)).cpu().numpy()
    except Exception as error:  # the student's code: any error is a verdict
        return [f"it fails on 4 images of 784 features: {error_text(error)}"]
    finally:
        model.train(training)
        for hook in hooks:
            hook.remove()
    if not close(outputs, again):
        return [
            "the outputs change from one call to the next: forward creates a "
            "layer each time, with new weights, which no optimizer trains. "
            "Create the layers in __init__, and only call them in forward."
        ]
    layers = [
        (
            layer.weight.detach().cpu().double().numpy().T,
            None if layer.bias is None else layer.bias.detach().cpu().double().numpy(),
        )
        for layer in first_call
    ]
    return model_problems(outputs, layers, args.hidden_units, PYTORCH_SOFTMAX)


@verdict("loss")
def check_pytorch_loss(loss_function):
    import torch
    from torch import nn

    if isinstance(loss_function, type):
        return [
            f"`loss_function` is the class {loss_function.__name__}, not a loss: "
            "a class was passed where an instance is needed. Create one, with "
            "(): nn.CrossEntropyLoss()."
        ]
    logits, labels = torch.from_numpy(LOGITS), torch.from_numpy(LABELS)
    expected = cross_entropy(LOGITS, LABELS)
    try:
        value = float(loss_function(logits, labels))
    except Exception as error:  # the student's code: any error is a verdict
        return [
            f"it fails on (logits, class indices): {error_text(error)}. Use "
            "nn.CrossEntropyLoss(), which takes the labels as int64 indices."
        ]
    if math.isclose(value, expected, rel_tol=1e-4):
        return []
    if isinstance(loss_function, nn.NLLLoss):
        return [
            "nn.NLLLoss expects log-probabilities and only picks -input[label]: "
            "on logits it is not a cross-entropy. Use nn.CrossEntropyLoss()."
        ]
    if math.isclose(value, cross_entropy(softmax(LOGITS), LABELS), rel_tol=1e-4):
        return [
            f"it applies a softmax before the cross-entropy: {SOFTMAX_TWICE}. "
            "nn.CrossEntropyLoss takes the logits as they are."
        ]
    if getattr(loss_function, "label_smoothing", 0):
        return [
            f"label_smoothing={loss_function.label_smoothing} mixes a uniform "
            "distribution into the targets: the course's loss has none. Use "
            "nn.CrossEntropyLoss()."
        ]
    if math.isclose(value, expected * len(LABELS), rel_tol=1e-4):
        return [
            "it sums the losses of the batch instead of averaging them: the "
            "step size then grows with the batch. Keep reduction='mean', the "
            "default."
        ]
    return [
        f"on fixed logits and labels it gives {value:.4f}, not the "
        f"cross-entropy {expected:.4f}: use nn.CrossEntropyLoss()."
    ]


def dropout_case():
    """A small fixed model with dropout (in training mode its outputs change
    from call to call, in evaluation mode they do not), 8 images and labels of
    which 5 are its eval-mode predictions: an accuracy of 5/8."""
    import torch
    from torch import nn

    generator = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 10), nn.Dropout(0.5))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) / 10)
    x = torch.from_numpy(np.concatenate([INPUTS, 1 - INPUTS]))
    model.eval()
    with torch.no_grad():
        logits = model(x).numpy()
    labels = logits.argmax(axis=1)
    labels[5:] = (labels[5:] + 1) % 10
    return model, x, torch.from_numpy(labels).long(), logits


@verdict("evaluate")
def check_pytorch_evaluate(evaluate, loss_function):
    import torch

    local_names = getattr(getattr(evaluate, "__code__", None), "co_varnames", None)
    unset = [
        name
        for name in ("logits", "loss", "accuracy")
        if local_names is not None and name not in local_names
    ]
    if unset:
        return [
            f"evaluate does not set {', '.join(f'`{n}`' for n in unset)} itself: "
            "it would return the training loop's (the notebook's globals). "
            "Compute logits = model(x), then loss and accuracy, inside it."
        ]
    global_names = getattr(getattr(evaluate, "__code__", None), "co_names", ())
    data = sorted(
        set(global_names) & {"x_train", "y_train", "x_val", "y_val", "x_test", "y_test"}
    )
    if data:
        return [
            f"evaluate reads {', '.join(f'`{n}`' for n in data)}, the notebook's "
            "data, not its arguments: use x and y, which each call passes (the "
            "validation set after each epoch, the test set at the end)."
        ]
    model, x, y, logits = dropout_case()
    try:
        own_loss = float(loss_function(torch.from_numpy(logits), y))
    except Exception:  # the loss's own check reports it
        own_loss = math.nan
    expected_loss = cross_entropy(logits, y.numpy())
    correct = int(np.sum(logits.argmax(axis=1) == y.numpy()))
    expected_accuracy = correct / len(y)
    model.train()  # as the training loop leaves it
    try:
        loss, accuracy = evaluate(model, x, y)
    except Exception as error:  # the student's code: any error is a verdict
        return [f"evaluate(model, x, y) fails: {error_text(error)}"]
    if not is_number(loss) or not is_number(accuracy):
        return [
            f"it returns {type(loss).__name__} and {type(accuracy).__name__}, not "
            "two Python floats: end each with .item()."
        ]
    problems = []
    if model.training:
        problems.append(
            "the model was in training mode (dropout on) when it computed the "
            "logits: evaluate calls model.eval() first; do not switch it back."
        )
    elif math.isclose(loss, cross_entropy(softmax(logits), y.numpy()), rel_tol=1e-4):
        problems.append(
            f"the loss applies a softmax before the cross-entropy: {SOFTMAX_TWICE}. "
            "Pass the logits to loss_function as they are."
        )
    elif math.isclose(loss, own_loss, rel_tol=1e-4) and not math.isclose(
        own_loss, expected_loss, rel_tol=1e-4
    ):
        problems.append(
            "the loss is loss_function's, which is not yet the cross-entropy "
            "(see the check of the loss): fix it there first."
        )
    elif not math.isclose(loss, expected_loss, rel_tol=1e-4):
        problems.append(
            f"on a fixed model the loss is {loss:.4f}, not {expected_loss:.4f}, "
            "the cross-entropy of its logits: loss_function(logits, y).item()."
        )
    if math.isclose(accuracy, expected_accuracy, abs_tol=1e-6):
        return problems
    if math.isclose(accuracy, correct):
        problems.append(
            f"accuracy is {accuracy!r}, a count of correct images ({correct} of "
            f"{len(y)}), not a fraction: divide by len(y), or take the mean "
            "of (argmax == y) as floats."
        )
    elif math.isclose(accuracy, 100 * expected_accuracy):
        problems.append(
            f"accuracy is {accuracy!r}, a percentage: return the fraction "
            f"({expected_accuracy}), as Keras does."
        )
    else:
        problems.append(
            f"accuracy is {accuracy}, not {expected_accuracy}: the fraction of "
            "images whose largest logit (argmax over dim=1) is the label."
        )
    return problems


THE_STEP = (
    "optimizer.zero_grad(), logits = model(x_batch), loss = "
    "loss_function(logits, y_batch), loss.backward(), optimizer.step()"
)


def reference_epoch(
    model, optimizer, scheduler, loss_function, x, y, batch_size, mistake=None
):
    """train_epoch's loop with the right step, or with one known `mistake`:
    what a student's train_epoch is compared with."""
    import torch

    model.train()
    for indices in torch.randperm(len(x), device=x.device).split(batch_size):
        x_batch, y_batch = x[indices], y[indices]
        if mistake != "no zero_grad":
            optimizer.zero_grad()
        loss = loss_function(model(x_batch), y_batch)
        loss.backward()
        optimizer.step()
        if mistake == "two steps":
            optimizer.step()
        scheduler.step()


# Mistakes whose weights tell them apart: the reference epoch with each, and
# what the hint says when a student's weights are those.
STEP_MISTAKES = {
    "no zero_grad": "the gradients add up across batches: PyTorch adds each "
    "backward() to .grad. Call optimizer.zero_grad() before loss.backward().",
    "two steps": "optimizer.step() runs twice per batch: call it once, after "
    "loss.backward().",
}


@verdict("training step")
def check_pytorch_training(
    train_epoch, model, optimizer, scheduler, loss_function, x_train, y_train, args
):
    """Your train_epoch, run for one epoch of two small batches (the first 8
    training images, 4 per batch), against the same epoch with the right step:
    from the same weights, optimizer state, schedule and random numbers, it
    must end with the same weights and the schedule two steps on. Any
    optimizer passes; the model, the optimizer and the schedule are put back
    after."""
    import torch

    own = {id(parameter) for parameter in model.parameters()}
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if own != held:
        return [
            "the optimizer holds another model's weights: the model cell ran "
            "after the training cell, which creates the optimizer for the "
            "model. Run the training cell again."
        ]
    x, y = x_train[:8], y_train[:8]
    saved = [copy.deepcopy(part.state_dict()) for part in (model, optimizer, scheduler)]
    batch_size = args.batch_size

    def run(epoch):
        """One epoch from the saved state: the weights, the gradients and
        the schedule's step after it."""
        for part, state in zip((model, optimizer, scheduler), saved, strict=True):
            part.load_state_dict(copy.deepcopy(state))
        model.zero_grad(set_to_none=True)
        for group in optimizer.param_groups:
            group["lr"] = 1e-3  # the schedule ended at 0, where no step moves
        devices = {"device_type": x.device.type} if x.device.type != "cpu" else {}
        with torch.random.fork_rng(**devices):  # the same batches, each run
            epoch()
        weights = [parameter.detach().clone() for parameter in model.parameters()]
        return weights, [p.grad for p in model.parameters()], scheduler.last_epoch

    def same(these, those):
        return all(
            torch.allclose(a, b, rtol=1e-5, atol=1e-7)
            for a, b in zip(these, those, strict=True)
        )

    def reference(mistake=None):
        return run(
            lambda: reference_epoch(
                model, optimizer, scheduler, loss_function, x, y, 4, mistake
            )
        )

    try:
        args.batch_size = 4  # train_epoch reads it: two batches
        start = run(lambda: None)
        expected = reference()
        try:
            weights, grads, schedule = run(lambda: train_epoch(model, x, y, 1))
        except Exception as error:  # the student's code: any error is a verdict
            return [f"train_epoch raised {error_text(error)}. The step is: {THE_STEP}."]
        if schedule != expected[2]:
            return [
                f"the schedule took {schedule - start[2]} steps in 2 batches: the "
                "loop calls scheduler.step() after your lines; do not call it "
                "in the step too."
            ]
        if same(weights, expected[0]):
            return []
        if same(weights, start[0]):
            if all(grad is None for grad in grads):
                return [
                    "the weights did not change: optimizer.step() found no "
                    "gradients. Call loss.backward() before it, and "
                    "optimizer.zero_grad() before loss.backward(), not between "
                    "backward() and step()."
                ]
            return [
                "the weights did not change: call optimizer.step() after "
                "loss.backward()."
            ]
        for mistake, hint in STEP_MISTAKES.items():
            if same(weights, reference(mistake)[0]):
                return [hint]
        return [
            "after your step the weights are not those of one optimizer step "
            f"on each batch's loss. The step is: {THE_STEP}."
        ]
    finally:
        args.batch_size = batch_size
        for part, state in zip((model, optimizer, scheduler), saved, strict=True):
            part.load_state_dict(state)
