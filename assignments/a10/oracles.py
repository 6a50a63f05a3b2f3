"""Oracles for A10. torch has no numerical gradient and no training loop of ours, so:

* ``numerical_gradient``: the reference's centred differences against the closed-form
  gradients of the test functions (written out again here, not read from the helper), within
  the centred-difference error of h (truncation h^2 f'''/6, rounding eps |f| / h), and x
  unchanged after the call; where torch is installed the closed forms are themselves checked
  against torch autograd, and the helper's f values against the formulas.
* ``train_mlp``: the same loop in PyTorch float64 (``nn.Linear`` layers holding the
  documented initial weights, ``F.cross_entropy``, autograd, ``torch.optim.SGD``; batches
  from a numpy Generator of the same seed, drawn in the documented order), every loss and
  the trained parameters; without torch, a per-sample numpy loop (gradients accumulated one
  sample at a time) takes its place. On the toy sets, the network the oracle trains must
  reach the targets too (measured by the oracle itself, not by the helper).

torch is imported inside the functions only. Each check returns a list of disagreements.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from dlgrade.authoring import compare, reference, reference_observations

#: The test functions, as support/a10_helpers.py documents them (tests check they agree).
FORMULAS = {
    "cubic": "f(x) = sum(c * x**3) + 0.5 * sum(a * x)**2",
    "logsumexp": "f(x) = log(sum(exp(a * x))) + 0.5 * sum(c * x)**2",
    "sine": "f(x) = sin(sum(a * x)) * (1 + sum(c * x))",
}


def value(name: str, x: np.ndarray, a: np.ndarray, c: np.ndarray) -> float:
    if name == "cubic":
        return float(np.sum(c * x**3) + 0.5 * np.sum(a * x) ** 2)
    if name == "logsumexp":
        z = a * x
        top = z.max()
        return float(top + np.log(np.sum(np.exp(z - top))) + 0.5 * np.sum(c * x) ** 2)
    return float(np.sin(np.sum(a * x)) * (1.0 + np.sum(c * x)))


def analytic_gradient(name: str, x: np.ndarray, a: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The exact gradient of test function ``name`` at x."""
    if name == "cubic":
        return 3.0 * c * x**2 + a * np.sum(a * x)
    if name == "logsumexp":
        z = a * x
        p = np.exp(z - z.max())
        return a * p / p.sum() + c * np.sum(c * x)
    s, t = np.sum(a * x), np.sum(c * x)
    return np.cos(s) * (1.0 + t) * a + np.sin(s) * c


def _torch_gradient(name: str, x: np.ndarray, a: np.ndarray, c: np.ndarray) -> np.ndarray:
    import torch

    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ta, tc = (torch.tensor(v, dtype=torch.float64) for v in (a, c))
    if name == "cubic":
        f = (tc * tx**3).sum() + 0.5 * (ta * tx).sum() ** 2
    elif name == "logsumexp":
        f = torch.logsumexp((ta * tx).reshape(-1), 0) + 0.5 * (tc * tx).sum() ** 2
    else:
        f = torch.sin((ta * tx).sum()) * (1.0 + (tc * tx).sum())
    (grad,) = torch.autograd.grad(f, tx)
    return grad.numpy()


def _has_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def gradient_check() -> list[str]:
    from .exercises import gradient_scenarios  # exercises imports this module

    helpers = reference("train")
    problems = []
    torch_here = _has_torch()
    for scenario, ours in reference_observations("train", gradient_scenarios(True)):
        new, put, call, _ = scenario.steps
        name, a, c, _ = new.args
        x = put.args[0]
        h = float((call.kwargs or {}).get("h", 1e-5))
        where = scenario.describe()
        want = analytic_gradient(name, x, a, c)
        # Truncation h^2 |f'''| / 6 and rounding ~1e-16 |f| / h, with room to spare.
        tol = 10.0 * h**2 + 1e-8
        result = compare(ours["gradient"], want, rtol=tol, atol=tol)
        if not result.ok:
            problems.append(f"{where}: gradient vs the closed form: {result.message}")
        if not compare(ours["x after the call"], x, rtol=0.0, atol=0.0).ok:
            problems.append(f"{where}: the reference changed x")
        value_at_x, f = helpers.make_function(name, a, c, x)
        if not math.isclose(value_at_x, value(name, x, a, c), rel_tol=1e-12, abs_tol=1e-12):
            problems.append(f"{where}: make_function's f(x) is not {FORMULAS[name]}")
        for probe in (x, x + 0.25):
            if not math.isclose(f(probe), value(name, probe, a, c), rel_tol=1e-12,
                                abs_tol=1e-12):
                problems.append(f"{where}: the helper's {name} is not {FORMULAS[name]}")
        if torch_here:
            result = compare(want, _torch_gradient(name, x, a, c), rtol=1e-12, atol=1e-12)
            if not result.ok:
                problems.append(f"{where}: closed form vs torch autograd: {result.message}")
    return problems


# --- train_mlp ------------------------------------------------------------------------------


def _initial(rng: np.random.Generator, d: int, hidden: int, classes: int) -> dict[str, Any]:
    return {"W1": rng.standard_normal((d, hidden)) * math.sqrt(2.0 / d),
            "b1": np.zeros(hidden),
            "W2": rng.standard_normal((hidden, classes)) * math.sqrt(2.0 / hidden),
            "b2": np.zeros(classes)}


def _batches(rng: np.random.Generator, n: int, epochs: int, batch_size: int):
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            yield order[start:start + batch_size]


def torch_train(X, y, hidden, lr, epochs, batch_size, seed):
    """The documented loop with torch.nn and torch.optim.SGD, float64."""
    import torch

    torch.set_num_threads(1)  # tiny matrices: threads only add overhead
    rng = np.random.default_rng(seed)
    n, d = X.shape
    classes = int(y.max()) + 1
    start = _initial(rng, d, hidden, classes)
    first, second = torch.nn.Linear(d, hidden), torch.nn.Linear(hidden, classes)
    net = torch.nn.Sequential(first, torch.nn.ReLU(), second).double()
    with torch.no_grad():  # nn.Linear computes x @ weight.T + bias
        first.weight.copy_(torch.from_numpy(start["W1"].T))
        first.bias.copy_(torch.from_numpy(start["b1"]))
        second.weight.copy_(torch.from_numpy(start["W2"].T))
        second.bias.copy_(torch.from_numpy(start["b2"]))
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    tx, ty = torch.from_numpy(X), torch.from_numpy(y)
    losses = []
    for batch in _batches(rng, n, epochs, batch_size):
        index = torch.from_numpy(batch)
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(tx[index]), ty[index])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    params = {"W1": first.weight.detach().numpy().T, "b1": first.bias.detach().numpy(),
              "W2": second.weight.detach().numpy().T, "b2": second.bias.detach().numpy()}
    return np.array(losses), {k: np.array(v) for k, v in params.items()}


def loop_train(X, y, hidden, lr, epochs, batch_size, seed):
    """The documented loop in numpy, one sample at a time (no torch)."""
    rng = np.random.default_rng(seed)
    n, d = X.shape
    classes = int(y.max()) + 1
    params = _initial(rng, d, hidden, classes)
    losses = []
    for batch in _batches(rng, n, epochs, batch_size):
        grads = {k: np.zeros_like(v) for k, v in params.items()}
        total = 0.0
        for i in batch:
            z = X[i] @ params["W1"] + params["b1"]
            a = np.where(z > 0, z, 0.0)
            s = a @ params["W2"] + params["b2"]
            p = np.exp(s - s.max())
            p /= p.sum()
            total -= math.log(p[y[i]])
            ds = p.copy()
            ds[y[i]] -= 1.0
            dz = np.where(z > 0, params["W2"] @ ds, 0.0)
            grads["W2"] += np.outer(a, ds)
            grads["b2"] += ds
            grads["W1"] += np.outer(X[i], dz)
            grads["b1"] += dz
        for k in params:
            params[k] = params[k] - lr * grads[k] / len(batch)
        losses.append(total / len(batch))
    return np.array(losses), params


def fit(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(training accuracy, mean cross-entropy) of a trained network, measured here."""
    scores = np.maximum(X @ params["W1"] + params["b1"], 0.0) @ params["W2"] + params["b2"]
    top = scores.max(axis=1, keepdims=True)
    log_probs = scores - top - np.log(np.exp(scores - top).sum(axis=1, keepdims=True))
    return (float(np.mean(scores.argmax(axis=1) == y)),
            float(-log_probs[np.arange(len(y)), y].mean()))


def train_check() -> list[str]:
    from .exercises import train_scenarios  # exercises imports this module

    trainers = [("torch", torch_train)] if _has_torch() else [("a per-sample loop",
                                                               loop_train)]
    problems = []
    for scenario, ours in reference_observations("train", train_scenarios(True)):
        X, y, hidden, lr, epochs, batch_size, seed = scenario.steps[0].args
        where = scenario.describe()
        for who, train in trainers:
            losses, params = train(X, y, hidden, lr, epochs, batch_size, int(seed))
            if "losses" in ours:  # a run compared step by step
                for name, theirs in [("losses", losses),
                                     *((f"params[{k!r}]", v) for k, v in params.items())]:
                    result = compare(ours[name], theirs, rtol=1e-9, atol=1e-12)
                    if not result.ok:
                        problems.append(f"{where}: {name} differs from {who}: "
                                        f"{result.message}")
                continue
            accuracy, loss = scenario.steps[1].args[3:5]
            got = fit(params, X, y)
            if got[0] < accuracy or got[1] > loss:
                problems.append(f"{where}: {who}'s network reaches accuracy {got[0]:.3f} and "
                                f"loss {got[1]:.3f} only")
            if (float(ours["training accuracy"]), float(ours["training loss"])) != (
                    accuracy, loss):
                problems.append(f"{where}: the reference misses the targets "
                                f"({float(ours['training accuracy'])}, "
                                f"{float(ours['training loss'])})")
    return problems
