"""A3 - the MLP (two layers only, I ran out of time).

Student: Cleo Martin
"""

import numpy as np


def mlp_loss(params, X, y=None, reg=0.0, activation="relu"):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    z = X @ W1 + b1
    h = np.maximum(z, 0)
    scores = h @ W2 + b2
    if y is None:
        return scores
    n = X.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean() + 0.5 * reg * (np.sum(W1**2) + np.sum(W2**2))
    dscores = p.copy()
    dscores[np.arange(n), y] -= 1
    dscores /= n
    dz = (dscores @ W2.T) * (z > 0)
    return loss, {"W1": X.T @ dz + reg * W1, "b1": dz.sum(axis=0),
                  "W2": h.T @ dscores + reg * W2, "b2": dscores.sum(axis=0)}
