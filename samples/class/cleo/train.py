"""A10 - training (train_mlp not done yet).

Student: Cleo Martin
"""

import numpy as np
from a10_helpers import make_function, trained  # noqa: F401 - the grader calls them


def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    flat = x.reshape(-1)  # a view: the probes move x itself
    for i in range(flat.size):
        flat[i] += h
        plus = f(x)
        flat[i] -= 2 * h
        minus = f(x)
        grad.flat[i] = (plus - minus) / (2 * h)
    return grad
