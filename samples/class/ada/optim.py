"""A4 - optimizers.

Student: Ada Lovelace
"""

import numpy as np

_DEFAULTS = {
    "sgd": {"learning_rate": 1e-2},
    "momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-8},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}


def _fill(config, kind, **extra):
    config = {} if config is None else config
    for key, value in {**_DEFAULTS[kind], **extra}.items():
        if key not in config:
            config[key] = value
    return config


def sgd(w, dw, config=None):
    c = _fill(config, "sgd")
    return np.subtract(w, np.multiply(c["learning_rate"], dw)), c


def _buffer(w, dw, c):
    """torch's momentum buffer after this step, from the stored CS231n velocity."""
    lr, mu = c["learning_rate"], c["momentum"]
    old = -np.asarray(c["velocity"], dtype=np.float64) / lr if "velocity" in c else 0.0 * w
    buf = mu * old + dw
    c["velocity"] = -lr * buf
    return buf


def sgd_momentum(w, dw, config=None):
    c = _fill(config, "momentum")
    buf = _buffer(w, dw, c)
    return w - c["learning_rate"] * buf, c


def nesterov(w, dw, config=None):
    c = _fill(config, "momentum")
    buf = _buffer(w, dw, c)
    return w - c["learning_rate"] * (dw + c["momentum"] * buf), c


def adagrad(w, dw, config=None):
    c = _fill(config, "adagrad")
    total = c.get("cache", 0.0 * w) + np.square(dw)
    c["cache"] = total
    return w - c["learning_rate"] / (np.sqrt(total) + c["epsilon"]) * dw, c


def rmsprop(w, dw, config=None):
    c = _fill(config, "rmsprop")
    avg = c.get("cache", 0.0 * w)
    avg = avg + (1.0 - c["decay_rate"]) * (np.square(dw) - avg)  # a lerp, like torch
    c["cache"] = avg
    return w - c["learning_rate"] * dw / (np.sqrt(avg) + c["epsilon"]), c


def _adam_core(w, dw, c):
    step = int(c.get("t", 0)) + 1
    b1, b2 = c["beta1"], c["beta2"]
    m = c.get("m", 0.0 * w)
    v = c.get("v", 0.0 * w)
    m = m + (1.0 - b1) * (dw - m)
    v = b2 * v + (1.0 - b2) * dw * dw
    bias1 = 1.0 - b1**step
    bias2 = 1.0 - b2**step
    denom = np.sqrt(v) / np.sqrt(bias2) + c["epsilon"]
    c["m"], c["v"], c["t"] = m, v, step
    return w - (c["learning_rate"] / bias1) * m / denom


def adam(w, dw, config=None):
    c = _fill(config, "adam")
    return _adam_core(w, dw, c), c


def adamw(w, dw, config=None):
    c = _fill(config, "adam", weight_decay=1e-2)
    shrunk = w - c["learning_rate"] * c["weight_decay"] * w
    return _adam_core(shrunk, dw, c), c


def clip_grad_norm(grads, max_norm):
    names = list(grads)
    flat = np.concatenate([np.ravel(grads[n]) for n in names]) if names else np.zeros(0)
    norm = float(np.linalg.norm(flat))
    factor = min(1.0, max_norm / (norm + 1e-6)) if norm > max_norm else 1.0
    return {n: np.array(grads[n], dtype=np.float64) * factor for n in names}, norm
