"""A3 - the MLP, built from my layers.py.

Student: Ben Okafor
"""

import numpy as np

from layers import affine_backward, affine_forward


def _activate(z, activation):
    if activation == "relu":
        return np.maximum(z, 0.0)
    if activation == "tanh":
        return np.tanh(z)
    return 1.0 / (1.0 + np.exp(-z))


def _activation_grad(z, a, activation):
    if activation == "relu":
        return (z > 0).astype(z.dtype)
    if activation == "tanh":
        return 1.0 - a**2
    return a * (1.0 - a)


def mlp_loss(params, X, y=None, reg=0.0, activation="relu"):
    layers = len(params) // 2
    h, caches = X, []
    for layer in range(1, layers + 1):
        z, cache = affine_forward(h, params[f"W{layer}"], params[f"b{layer}"])
        if layer < layers:
            a = _activate(z, activation)
            caches.append((cache, z, a))
            h = a
        else:
            caches.append((cache, None, None))
            h = z
    scores = h
    if y is None:
        return scores
    n = X.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(n), y]).mean()
    loss += 0.5 * reg * sum(np.sum(params[f"W{k}"] ** 2) for k in range(1, layers + 1))
    dh = probs
    dh[np.arange(n), y] -= 1
    dh /= n
    grads = {}
    for layer in range(layers, 0, -1):
        cache, z, a = caches[layer - 1]
        if z is not None:
            dh = dh * _activation_grad(z, a, activation)
        dh, dw, db = affine_backward(dh, cache)
        grads[f"W{layer}"] = dw + reg * params[f"W{layer}"]
        grads[f"b{layer}"] = db
    return loss, grads
