"""Checks for the exercises of the course notebook.

Each check tries what you wrote on a small fixed case and prints a verdict:
right, or what is wrong with a hint for the usual mistake. Nothing is hidden:
this file is the whole of it. The notebook writes it next to itself
(tools/build_notebooks.py copies it in), so it needs neither the course's
repository nor a network.

Each framework is imported inside its own checks, so the Keras part runs
without PyTorch installed and the other way round.
"""

import math

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


def cross_entropy(logits, labels):
    """The mean cross-entropy of logits and class indices, in NumPy."""
    logits = np.asarray(logits, dtype=np.float64)
    log_sum = np.log(np.exp(logits).sum(axis=1))
    return float(np.mean(log_sum - logits[np.arange(len(labels)), labels]))


def softmax(logits):
    exponentials = np.exp(np.asarray(logits, dtype=np.float64))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def report(what, problems):
    """Print the verdict: right, or each problem with its hint."""
    if not problems:
        print(f"✔ {what}: right.")
        return
    print(f"✘ {what}: not yet.")
    for problem in problems:
        print(f"  - {problem}")


def looks_like_probabilities(outputs):
    """Rows of non-negative numbers that each sum to 1: a softmax's output."""
    outputs = np.asarray(outputs, dtype=np.float64)
    return bool((outputs >= 0).all() and np.allclose(outputs.sum(axis=1), 1, atol=1e-4))


def layer_problems(sizes, activations_missing, hidden_units):
    """What is wrong with the (in, out) sizes of the two dense layers."""
    expected = [(784, hidden_units), (hidden_units, 10)]
    if len(sizes) != 2:
        return [
            f"{len(sizes)} dense layers: the course's model has two, a hidden "
            f"layer of {hidden_units} units and an output layer of 10."
        ]
    problems = []
    if sizes[0] != expected[0]:
        problems.append(
            f"the hidden layer maps {sizes[0][0]} -> {sizes[0][1]}, not 784 -> "
            f"{hidden_units} (args.hidden_units)."
        )
    if sizes[1][1] != 10:
        problems.append(
            f"the output layer has {sizes[1][1]} outputs, not 10: one logit per digit."
        )
    if activations_missing:
        problems.append(
            "no ReLU after the hidden layer: without it the two layers compose "
            "into a single linear map, no better than one layer."
        )
    return problems


# Keras


def check_keras_model(model, hidden_units):
    import keras

    if not isinstance(model, keras.Model):
        report("model", [f"`model` is a {type(model).__name__}, not a Keras model."])
        return
    try:
        outputs = keras.ops.convert_to_numpy(model(INPUTS))
    except Exception as error:  # any error: say which, with the likely cause
        report("model", [f"it fails on 4 images of 784 features: {error}"])
        return
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    sizes = [(layer.kernel.shape[0], layer.units) for layer in dense]
    no_relu = len(dense) == 2 and dense[0].activation.__name__ != "relu"
    problems = layer_problems(sizes, no_relu, hidden_units)
    if outputs.shape == (4, 10) and looks_like_probabilities(outputs):
        problems.append(
            "the outputs are probabilities (each row sums to 1): the model ends "
            "with a softmax. Leave the output layer linear (logits): the loss, "
            "told from_logits=True, applies the softmax itself. On the TensorFlow "
            "backend Keras notices a final softmax activation, warns and uses the "
            "logits underneath; do not count on it (the course's Pitfalls page)."
        )
    report("model", problems)


def check_keras_loss(loss_function):
    expected = cross_entropy(LOGITS, LABELS)
    if isinstance(loss_function, str):
        report(
            "loss",
            [
                f"{loss_function!r} is a name: Keras makes it a loss with "
                "from_logits=False, which reads the model's outputs as probabilities. "
                "Create keras.losses.SparseCategoricalCrossentropy(from_logits=True)."
            ],
        )
        return
    try:
        value = float(loss_function(LABELS, LOGITS))
    except Exception as error:  # any error: say which, with the likely cause
        report(
            "loss",
            [
                f"it fails on integer labels and 10 logits per image: {error}. "
                "The labels are class indices (0 to 9), not one-hot vectors: "
                "that is the Sparse categorical cross-entropy."
            ],
        )
        return
    problems = []
    if not math.isclose(value, expected, rel_tol=1e-4):
        if getattr(loss_function, "get_config", dict)().get("from_logits") is False:
            problems.append(
                f"on fixed logits it gives {value:.4f}, not the cross-entropy "
                f"{expected:.4f}: without from_logits=True Keras reads the logits as "
                "probabilities. Pass from_logits=True."
            )
        else:
            problems.append(
                f"on fixed logits and labels it gives {value:.4f}, not the "
                f"cross-entropy {expected:.4f}: use "
                "keras.losses.SparseCategoricalCrossentropy(from_logits=True)."
            )
    report("loss", problems)


def check_keras_training(history, epoch_seconds, keep_best, args):
    if not isinstance(history, dict) or "loss" not in history:
        report("training", ["`history` should be what model.fit(...) returns."])
        return
    problems = []
    if len(history["loss"]) != args.epochs:
        problems.append(
            f"it trained {len(history['loss'])} epochs, not args.epochs "
            f"({args.epochs}): pass epochs=args.epochs."
        )
    if "val_loss" not in history:
        problems.append("no validation loss: pass validation_data=(x_val, y_val).")
    if len(epoch_seconds) != len(history["loss"]) or keep_best.model is None:
        problems.append(
            "the callbacks did not run: pass callbacks=[EpochTimer(), keep_best]."
        )
    if not all(math.isfinite(value) for value in history["loss"]):
        problems.append("the training loss is not a finite number.")
    report("training", problems)


def check_keras_evaluation(test_loss, test_accuracy, model, x_test, y_test):
    import keras

    logits = keras.ops.convert_to_numpy(model.predict(x_test, verbose=0))
    loss = cross_entropy(logits, y_test)
    accuracy = float(np.mean(logits.argmax(axis=1) == y_test))
    problems = []
    if not (math.isclose(test_loss, loss, rel_tol=1e-3, abs_tol=1e-4)):
        if math.isclose(test_loss, accuracy, abs_tol=1e-4):
            problems.append(
                "test_loss and test_accuracy are swapped: evaluate returns the "
                "loss first, then the metrics."
            )
        else:
            problems.append(
                f"test_loss is {test_loss:.4f}; the model's loss on the test set is "
                f"{loss:.4f}: evaluate on x_test and y_test."
            )
    elif not math.isclose(test_accuracy, accuracy, abs_tol=1e-4):
        problems.append(
            f"test_accuracy is {test_accuracy}; the model's accuracy on the test "
            f"set is {accuracy:.4f} (a fraction, not a percentage)."
        )
    report("evaluation", problems)


# PyTorch


def check_pytorch_model(model, hidden_units):
    import torch
    from torch import nn

    if not isinstance(model, nn.Module):
        report(
            "model",
            [
                f"`model` is a {type(model).__module__}.{type(model).__name__}, "
                "not a PyTorch nn.Module: define class MLP(nn.Module), then "
                "model = MLP(args.hidden_units)."
            ],
        )
        return
    x = torch.from_numpy(INPUTS)
    try:
        with torch.no_grad():
            outputs, at_zero = model(torch.cat([x, -x])), model(torch.zeros(1, 784))
    except Exception as error:  # any error: say which, with the likely cause
        report("model", [f"it fails on 4 images of 784 features: {error}"])
        return
    linear = [layer for layer in model.modules() if isinstance(layer, nn.Linear)]
    sizes = [(layer.in_features, layer.out_features) for layer in linear]
    # A model without a non-linearity is affine: f(x) + f(-x) = 2 f(0).
    affine = torch.allclose(outputs[:4] + outputs[4:], 2 * at_zero, atol=1e-4)
    problems = layer_problems(sizes, len(linear) == 2 and affine, hidden_units)
    if outputs.shape == (8, 10) and looks_like_probabilities(outputs.numpy()):
        problems.append(
            "the outputs are probabilities (each row sums to 1): forward applies "
            "a softmax. Return the logits: nn.CrossEntropyLoss applies log-softmax "
            f"itself. With both, {SOFTMAX_TWICE}."
        )
    report("model", problems)


def check_pytorch_loss(loss_function):
    import torch
    from torch import nn

    logits, labels = torch.from_numpy(LOGITS), torch.from_numpy(LABELS)
    expected = cross_entropy(LOGITS, LABELS)
    try:
        value = float(loss_function(logits, labels))
    except Exception as error:  # any error: say which, with the likely cause
        report(
            "loss",
            [
                f"it fails on (logits, class indices): {error}. Use "
                "nn.CrossEntropyLoss(), which takes the labels as int64 indices."
            ],
        )
        return
    problems = []
    if isinstance(loss_function, nn.NLLLoss):
        problems.append(
            "nn.NLLLoss expects log-probabilities and only picks -input[label]: "
            "on logits it is not a cross-entropy. Use nn.CrossEntropyLoss()."
        )
    elif math.isclose(value, cross_entropy(softmax(LOGITS), LABELS), rel_tol=1e-4):
        problems.append(
            f"it applies a softmax before the cross-entropy: {SOFTMAX_TWICE}. "
            "nn.CrossEntropyLoss takes the logits as they are."
        )
    elif not math.isclose(value, expected, rel_tol=1e-4):
        problems.append(
            f"on fixed logits and labels it gives {value:.4f}, not the "
            f"cross-entropy {expected:.4f}: use nn.CrossEntropyLoss()."
        )
    report("loss", problems)


def check_pytorch_evaluate(evaluate):
    import torch
    from torch import nn

    # A small fixed model with dropout: in training mode its outputs change
    # from call to call, in evaluation mode they do not.
    generator = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 10), nn.Dropout(0.5))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) / 10)
    x, y = torch.from_numpy(INPUTS), torch.tensor([0, 1, 2, 3])
    model.eval()
    with torch.no_grad():
        logits = model(x).numpy()
    expected_loss = cross_entropy(logits, y.numpy())
    expected_accuracy = float(np.mean(logits.argmax(axis=1) == y.numpy()))
    model.train()  # as the training loop leaves it
    try:
        loss, accuracy = evaluate(model, x, y)
    except Exception as error:  # any error: say which, with the likely cause
        report("evaluate", [f"evaluate(model, x, y) fails: {error}"])
        return
    problems = []
    if not isinstance(loss, float) or not isinstance(accuracy, float):
        problems.append(
            f"it returns {type(loss).__name__} and {type(accuracy).__name__}, not "
            "two Python floats: end each with .item()."
        )
    elif model.training or not math.isclose(loss, expected_loss, rel_tol=1e-4):
        problems.append(
            f"on a fixed model with dropout the loss is {loss:.4f}, not "
            f"{expected_loss:.4f}: the model was in training mode (dropout on). "
            "Call model.eval() before computing the logits."
        )
    elif not math.isclose(accuracy, expected_accuracy, abs_tol=1e-6):
        problems.append(
            f"accuracy is {accuracy}, not {expected_accuracy}: the fraction of "
            "images whose largest logit (argmax over dim=1) is the label."
        )
    report("evaluate", problems)


def check_pytorch_training(
    train_epoch, model, optimizer, scheduler, loss_function, x_train, y_train
):
    """Your train_epoch, run for one epoch of one small batch (the first 8
    training images), from the trained weights: after it, the weights must
    have moved, and the stored gradients must be those of that batch's loss
    alone. The model, the optimizer and the schedule are put back after."""
    import copy

    import torch

    x, y = x_train[:8], y_train[:8]
    # The gradients of this batch's loss, at the weights the step starts from.
    probe = copy.deepcopy(model)
    probe.zero_grad()
    loss_function(probe(x), y).backward()
    expected = [parameter.grad for parameter in probe.parameters()]
    saved = [copy.deepcopy(part.state_dict()) for part in (model, optimizer, scheduler)]
    for parameter in model.parameters():
        # What an earlier step would leave behind, and zero_grad() clears.
        parameter.grad = torch.ones_like(parameter)
    for group in optimizer.param_groups:
        group["lr"] = 1e-3  # the schedule ended at 0, where no step moves
    before = [parameter.detach().clone() for parameter in model.parameters()]
    problems = []
    try:
        train_epoch(model, x, y, 1)
    except Exception as error:  # the student's code: any error is a verdict
        problems.append(
            f"train_epoch raised {type(error).__name__}: {error}. The step is: "
            "optimizer.zero_grad(), logits = model(x_batch), loss = "
            "loss_function(logits, y_batch), loss.backward(), optimizer.step()."
        )
    else:
        after = list(model.parameters())
        if all(torch.equal(old, new) for old, new in zip(before, after, strict=True)):
            problems.append(
                "the weights did not change: call loss.backward(), then "
                "optimizer.step()."
            )
        grads = [parameter.grad for parameter in after]
        # None: zero_grad() ran last in the step, which is right too.
        if not problems and all(grad is not None for grad in grads):
            stale = all(
                torch.allclose(grad, want + 1, rtol=1e-3, atol=1e-5)
                for grad, want in zip(grads, expected, strict=True)
            )
            right = all(
                torch.allclose(grad, want, rtol=1e-3, atol=1e-5)
                for grad, want in zip(grads, expected, strict=True)
            )
            if stale:
                problems.append(
                    "the gradients add up across batches: PyTorch adds each "
                    "backward() to .grad. Call optimizer.zero_grad() before "
                    "loss.backward()."
                )
            elif not right:
                problems.append(
                    "the stored gradients are not those of the batch's loss: "
                    "call loss.backward() on loss_function(logits, y_batch), "
                    "with logits = model(x_batch)."
                )
    finally:
        for part, state in zip((model, optimizer, scheduler), saved, strict=True):
            part.load_state_dict(state)
    report("training step", problems)
