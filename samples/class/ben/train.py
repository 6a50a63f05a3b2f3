"""A10 - training.

Student: Ben Okafor
"""

import numpy as np
from a10_helpers import make_function, trained  # noqa: F401 - the grader calls them


def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    fx = f(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        grad[ix] = (f(x) - fx) / h
        x[ix] = old
        it.iternext()
    return grad


def train_mlp(X, y, hidden, lr, epochs, batch_size, rng):
    N, D = X.shape
    C = y.max() + 1
    W1 = rng.standard_normal((D, hidden)) * np.sqrt(2.0 / D)
    b1 = np.zeros(hidden)
    W2 = rng.standard_normal((hidden, C)) * np.sqrt(2.0 / hidden)
    b2 = np.zeros(C)
    losses = []
    order = rng.permutation(N)
    for _ in range(epochs):
        for start in range(0, N, batch_size):
            idx = order[start:start + batch_size]
            xb, yb = X[idx], y[idx]
            B = len(idx)
            z = xb @ W1 + b1
            a = np.maximum(z, 0)
            scores = a @ W2 + b2
            scores = scores - scores.max(axis=1, keepdims=True)
            p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
            losses.append(-np.log(p[np.arange(B), yb]).mean())
            dscores = p
            dscores[np.arange(B), yb] -= 1
            dscores /= B
            dW2 = a.T @ dscores
            db2 = dscores.sum(axis=0)
            dz = dscores @ W2.T * (z > 0)
            dW1 = xb.T @ dz
            db1 = dz.sum(axis=0)
            W1 -= lr * dW1
            b1 -= lr * db1
            W2 -= lr * dW2
            b2 -= lr * db2
    return np.array(losses), {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
