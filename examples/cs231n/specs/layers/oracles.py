"""Independent implementations that ``dlgrade validate`` proves the reference against.

Written differently from ``reference/layers.py`` on purpose (loops, staged backprop,
einsum): a bug in the reference would have to be made twice to pass. Plain numpy, so
validate needs no torch; an oracle may use torch where it is installed (see
``specs/optim/oracles.py``).
"""

from __future__ import annotations

import numpy as np
from dlgrade.authoring import compare, reference_observations


def affine(inputs, params, dout):
    x, w, b = inputs["x"], inputs["w"], inputs["b"]
    flat = x.reshape(len(x), -1)
    return {"out": np.einsum("nd,dm->nm", flat, w) + b,
            "dx": np.einsum("nm,dm->nd", dout, w).reshape(x.shape),
            "dw": np.einsum("nd,nm->dm", flat, dout),
            "db": np.einsum("nm->m", dout)}


def relu(inputs, params, dout):
    x = inputs["x"]
    return {"out": np.where(x > 0, x, 0.0), "dx": np.where(x > 0, dout, 0.0)}


def batchnorm(inputs, params, dout):
    """Batch norm through its computational graph, one node at a time (train mode)."""
    x, gamma, beta = inputs["x"], inputs["gamma"], inputs["beta"]
    eps = params["bn_param"].get("eps", 1e-5)
    n = x.shape[0]
    mu = np.sum(x, axis=0) / n
    xc = x - mu
    var = np.sum(xc**2, axis=0) / n
    inv = 1.0 / np.sqrt(var + eps)
    x_hat = xc * inv
    out = gamma * x_hat + beta
    dx_hat = dout * gamma
    dinv = np.sum(dx_hat * xc, axis=0)
    dvar = dinv * -0.5 * (var + eps) ** -1.5
    dxc = dx_hat * inv + 2.0 * xc * dvar / n
    dx = dxc - np.sum(dxc, axis=0) / n
    return {"out": out, "dx": dx, "dgamma": np.sum(dout * x_hat, axis=0),
            "dbeta": np.sum(dout, axis=0)}


def svm_loss(inputs, params, dout):
    """The naive, looped multiclass SVM loss."""
    x, y = inputs["x"], inputs["y"]
    n, c = x.shape
    loss, dx = 0.0, np.zeros_like(x)
    for i in range(n):
        for j in range(c):
            if j == y[i]:
                continue
            margin = x[i, j] - x[i, y[i]] + 1.0
            if margin > 0:
                loss += margin
                dx[i, j] += 1.0
                dx[i, y[i]] -= 1.0
    return {"loss": np.asarray(loss / n), "dx": dx / n}


def softmax_loss(inputs, params, dout):
    """Cross-entropy of the softmax, row by row with np.logaddexp."""
    x, y = inputs["x"], inputs["y"]
    n = x.shape[0]
    loss, dx = 0.0, np.zeros_like(x)
    for i in range(n):
        log_z = np.logaddexp.reduce(x[i])
        loss -= x[i, y[i]] - log_z
        dx[i] = np.exp(x[i] - log_z)
        dx[i, y[i]] -= 1.0
    return {"loss": np.asarray(loss / n), "dx": dx / n}


def batchnorm_running_check(scenarios):
    """The reference's running averages and test-mode outputs against a direct simulation
    of the documented update."""
    problems = []
    for scenario, ours in reference_observations("layers", scenarios):
        puts = [step.args[0] for step in scenario.steps if step.op == "put"]
        calls = [step.args for step in scenario.steps if step.fn == "batchnorm_forward"]
        train, test = puts[0], puts[1]
        momentum, eps = train.get("momentum", 0.9), train.get("eps", 1e-5)
        mean = var = 0.0
        for k, (x, _, _, _) in enumerate(calls[:-1], start=1):
            mean = momentum * mean + (1 - momentum) * x.mean(axis=0)
            var = momentum * var + (1 - momentum) * x.var(axis=0)
            for key, want in (("running_mean", mean), ("running_var", var)):
                name = f"bn_param['{key}'] after train call {k}"
                if not compare(ours[name], want).ok:
                    problems.append(f"{scenario.describe()}: {name}")
        x, gamma, beta, _ = calls[-1]
        want = gamma * (x - test["running_mean"]) / np.sqrt(test["running_var"] + eps) + beta
        if not compare(ours["out in test mode"], want).ok:
            problems.append(f"{scenario.describe()}: out in test mode")
    return problems


def dropout_check(scenarios):
    """The dropout properties hold for the reference and for an independent inverted
    dropout (numpy's Generator, not the global RNG)."""
    problems = []
    rng = np.random.default_rng(0)
    for scenario, ours in reference_observations("layers", scenarios):
        x, params = scenario.steps[0].args
        dout = scenario.steps[1].args[0]
        keep = params["p"]
        masks = [(rng.random(x.shape) < keep) / keep for _ in range(2)]
        theirs = {"out": x * masks[0], "dx": dout * masks[0],
                  "out of a second call": x * masks[1],
                  "out (mode='test')": x, "dx (mode='test')": dout}
        for who, values in (("independent", theirs), ("reference", ours)):
            for prop in scenario.properties:
                message = prop.judge(values, ours)
                if message is not None:
                    problems.append(f"{who}, {scenario.describe()}, {prop.check}: {message}")
    return problems
