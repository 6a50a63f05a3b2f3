"""A5 - regularisation.

Student: Ada Lovelace
"""

import numpy as np

_generator = np.random.default_rng()


def dropout_forward(x, p, train=True):
    if not train:
        return x.copy(), {"train": False}
    keep = _generator.random(x.shape) > p
    return np.where(keep, x / (1.0 - p), 0.0), {"train": True, "keep": keep, "p": p}


def dropout_backward(dout, cache):
    if not cache["train"]:
        return dout.copy()
    return np.where(cache["keep"], dout / (1.0 - cache["p"]), 0.0)


def l1_penalty(w, reg):
    grad = np.where(w > 0, reg, np.where(w < 0, -reg, 0.0))
    return float(reg * np.sum(np.abs(w))), grad


def l2_penalty(w, reg):
    return float(reg * np.vdot(w, w) / 2.0), w * reg


class EarlyStopping:
    def __init__(self, patience=5, min_delta=0.0):
        self.patience = patience
        self.min_delta = min_delta
        self.best = float("inf")
        self.counter = 0

    def step(self, val_loss):
        improved = self.best == float("inf") or self.best - val_loss > self.min_delta
        self.counter = 0 if improved else self.counter + 1
        if improved:
            self.best = val_loss
        return bool(self.counter >= self.patience)
