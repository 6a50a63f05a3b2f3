"""Numerical gradients for checking backward passes by hand (CS231n's gradient_check).

A support file: dlgrade copies it beside every submission of the ``layers`` assignment, so
``from gradient_check import eval_numerical_gradient_array`` works in the grader as it does
on a student's machine (the kit ships it too).
"""

import numpy as np


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """The numerical gradient of sum(f(x) * df) with respect to x, by centred differences;
    x is changed in place and restored."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = f(x).copy()
        x[ix] = old - h
        neg = f(x).copy()
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def rel_error(x, y):
    """The largest relative error between two arrays."""
    return np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))
