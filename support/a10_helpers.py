"""Course helpers for A10 (``train.py``): given with the assignment, not yours to edit.

The grader sends your functions plain data (arrays, numbers, strings), never a Python
function, so it builds the functions that ``numerical_gradient`` differentiates here, in the
process that runs your code, and reads what ``train_mlp`` returns with ``trained``. Your
``train.py`` imports these names (``from a10_helpers import make_function, trained``): keep
that line, the grader calls them through your module.

Everything here works on numpy arrays and, on the torch track, on torch tensors.
"""

import numpy as np

#: The functions ``make_function`` builds, each f(x) of an array x with coefficient arrays
#: a and c shaped like x (sums run over every entry):
FORMULAS = {
    "cubic": "f(x) = sum(c * x**3) + 0.5 * sum(a * x)**2",
    "logsumexp": "f(x) = log(sum(exp(a * x))) + 0.5 * sum(c * x)**2",
    "sine": "f(x) = sin(sum(a * x)) * (1 + sum(c * x))",
}


def _ops(x):
    """(exp, log, sin) for numpy arrays, else for torch tensors."""
    if isinstance(x, np.ndarray):
        return np.exp, np.log, np.sin
    return (lambda v: v.exp()), (lambda v: v.log()), (lambda v: v.sin())


def make_function(name, a, c, x):
    """``(f(x), f)``: the scalar function ``name`` of :data:`FORMULAS` as a Python callable
    f(x) -> float, and its value at ``x`` (the grader keeps f, as it keeps a layer's cache,
    and reads the value, which tells you when this line failed).

    f takes an array (or tensor) shaped like ``a`` and ``c`` and returns a Python float; it
    never changes its argument. Calling it with an array of another shape raises a
    ValueError that says so.
    """
    if name not in FORMULAS:
        raise ValueError(f"unknown test function {name!r}")
    shape = tuple(a.shape)

    def f(x):
        if tuple(getattr(x, "shape", ())) != shape:
            raise ValueError(f"f takes an array of shape {shape} (x itself, with one entry "
                             f"moved), got {type(x).__name__} of shape "
                             f"{tuple(getattr(x, 'shape', ()))}")
        exp, log, sin = _ops(x)
        if name == "cubic":
            value = (c * x**3).sum() + 0.5 * (a * x).sum() ** 2
        elif name == "logsumexp":
            value = log(exp(a * x).sum()) + 0.5 * (c * x).sum() ** 2
        else:
            value = sin((a * x).sum()) * (1.0 + (c * x).sum())
        return float(value)

    f.__name__ = f.__qualname__ = f"f_{name}"
    return f(x), f


def _numpy(value, what):
    """``value`` (an array, a tensor, a number) as a float64 numpy array."""
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{what} is a {type(value).__name__}, not an array") from None


def trained(params, X, y, accuracy, loss):
    """How well the network ``params`` (what train_mlp returned: W1, b1, W2, b2) fits X, y,
    capped at the targets: ``{"accuracy": min(training accuracy, accuracy), "loss":
    max(mean softmax cross-entropy, loss)}``, so that every network reaching both targets
    reports the same two numbers. Scores are relu(X @ W1 + b1) @ W2 + b2; the prediction is
    the class of the largest score."""
    if not isinstance(params, dict):
        raise TypeError(f"train_mlp must return (losses, params) with params a dict; its "
                        f"params are a {type(params).__name__}")
    missing = [k for k in ("W1", "b1", "W2", "b2") if k not in params]
    if missing:
        raise KeyError(f"the params train_mlp returned have no {', '.join(missing)}")
    W1, b1, W2, b2 = (_numpy(params[k], f"params[{k!r}]") for k in ("W1", "b1", "W2", "b2"))
    X, y = _numpy(X, "X"), _numpy(y, "y").astype(np.int64)
    scores = np.maximum(X @ W1 + b1, 0.0) @ W2 + b2
    if not np.all(np.isfinite(scores)):
        return {"accuracy": 0.0, "loss": float("inf")}
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    fit = float((scores.argmax(axis=1) == y).mean())
    mean_loss = float(-log_probs[rows, y].mean())
    return {"accuracy": min(fit, float(accuracy)), "loss": max(mean_loss, float(loss))}
