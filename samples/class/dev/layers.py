# dlgrade handout: layers.py, version 2026.12, interface c65ff6e1ffcd (keep this line)
"""Layers: affine, affine + ReLU, and the perceptron.

Layers follow the forward/backward style used throughout the course:

* ``<name>_forward(...) -> (out, cache)`` computes the output and returns, as ``cache``,
  whatever the backward pass will need (the cache is yours to choose: it is graded only
  through the backward pass).
* ``<name>_backward(dout, cache) -> grads`` takes ``dout = dL/dout`` (shaped like ``out``)
  and returns the gradients with respect to the layer's inputs, in the order stated.

Inputs are float64 arrays. The perceptron functions are plain functions (no cache).
"""

import numpy as np


def affine_forward(x, w, b):
    """Affine (fully connected) layer.

    x has shape (N, d1, ..., dk): each of the N rows is flattened to a vector of
    D = d1 * ... * dk numbers, giving a matrix X of shape (N, D). Then

        out = X @ w + b

    Args:
        x: array of shape (N, d1, ..., dk), k >= 1.
        w: weights, shape (D, M).
        b: biases, shape (M,).

    Returns:
        out: array of shape (N, M).
        cache: whatever affine_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a3.affine: implement affine_forward")


def affine_backward(dout, cache):
    """Backward pass of the affine layer.

    With X the (N, D) flattened input:

        dX = dout @ w.T        (then reshaped to the shape of x)
        dw = X.T @ dout        (shape (D, M))
        db = dout summed over the batch axis (axis 0), shape (M,)

    Args:
        dout: upstream gradient, shape (N, M).
        cache: what affine_forward returned as cache.

    Returns:
        (dx, dw, db): dx shaped like x (N, d1, ..., dk), dw like w, db like b.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a3.affine: implement affine_backward")


def affine_relu_forward(x, w, b):
    """An affine layer followed by a ReLU.

        z = X @ w + b        (X: x flattened to (N, D), as in affine_forward)
        out = max(z, 0)

    You may call your affine_forward here.

    Args:
        x: array of shape (N, d1, ..., dk).
        w: weights, shape (D, M).
        b: biases, shape (M,).

    Returns:
        out: array of shape (N, M).
        cache: whatever affine_relu_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a3.affine_relu: implement affine_relu_forward")


def affine_relu_backward(dout, cache):
    """Backward pass of affine + ReLU.

    The ReLU passes the gradient only where its input was positive:
    dz = dout * (z > 0), with z the pre-activation X @ w + b. Then dz goes back through the
    affine layer (see affine_backward).

    Args:
        dout: upstream gradient, shape (N, M).
        cache: what affine_relu_forward returned as cache.

    Returns:
        (dx, dw, db): dx shaped like x, dw like w, db like b.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a3.affine_relu: implement affine_relu_backward")


def perceptron_predict(X, w, b):
    """Predictions of a perceptron (a step function of an affine score).

        z = X @ w + b
        prediction = 1 if z >= 0 else 0      (z == 0 predicts 1)

    Args:
        X: samples, shape (N, D).
        w: weights, shape (D,).
        b: bias, a number.

    Returns:
        array of shape (N,) holding 0s and 1s (integers or floats).
    """
    # YOUR CODE HERE
    raise NotImplementedError("a3.perceptron: implement perceptron_predict")


def perceptron_epoch(X, y, w, b, lr):
    """One epoch of the perceptron learning rule: a single online pass over the samples,
    in order i = 0, 1, ..., N - 1. For each sample:

        y_hat = 1 if X[i] @ w + b >= 0 else 0     (with the CURRENT w and b)
        w <- w + lr * (y[i] - y_hat) * X[i]
        b <- b + lr * (y[i] - y_hat)

    So a sample updates the weights before the next sample is predicted. Do not rely on
    modifying the w passed in: return the new values.

    Args:
        X: samples, shape (N, D).
        y: labels, shape (N,), each 0 or 1.
        w: weights at the start of the epoch, shape (D,).
        b: bias at the start of the epoch, a number.
        lr: learning rate, a positive number.

    Returns:
        (w, b): the weights (shape (D,)) and bias (a number) after the epoch.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a3.perceptron: implement perceptron_epoch")
