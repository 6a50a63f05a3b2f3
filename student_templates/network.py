# dlgrade handout: network.py, version 2026.12, interface 2314f894eb20 (keep this line)
"""A fully connected network (multi-layer perceptron) with a softmax cross-entropy loss.

You may import your own layers, e.g. ``from layers import affine_forward, affine_backward``
(layers.py sits next to this file), or write everything here.
"""

import numpy as np


def mlp_loss(params, X, y=None, reg=0.0, activation="relu"):
    """Scores, or loss and gradients, of an L-layer fully connected network.

    params holds W1, b1, ..., WL, bL, with W_l of shape (D_{l-1}, D_l) and b_l of shape
    (D_l,), D_0 = D (the input size) and D_L = C (the number of classes); L = (number of
    keys) / 2, and L = 1 means no hidden layer. The forward pass is

        h_0 = X
        h_l = act(h_{l-1} @ W_l + b_l)     for l = 1, ..., L - 1 (hidden layers)
        scores = h_{L-1} @ W_L + b_L       (the last layer is affine only)

    where act is ``activation``: "relu" (max(z, 0)), "tanh" or "sigmoid" (1 / (1 + e^-z)).

    With labels y, the loss is the mean softmax cross-entropy over the N samples plus an L2
    penalty on the weights only (not the biases):

        p = softmax(scores) row by row (subtract each row's max before exp)
        loss = -(1/N) sum_i log p[i, y[i]] + 0.5 * reg * sum_l sum(W_l ** 2)

    Args:
        params: dict of float64 arrays "W1", "b1", ..., "WL", "bL".
        X: inputs, shape (N, D).
        y: labels, int array of shape (N,) with values in [0, C), or None.
        reg: L2 regularisation strength (the 0.5 * reg * sum(W**2) above).
        activation: "relu", "tanh" or "sigmoid", used by every hidden layer.

    Returns:
        scores of shape (N, C) if y is None; else (loss, grads) where loss is a number and
        grads is a dict with the keys of params, grads[k] the gradient of the loss with
        respect to params[k] (same shape).
    """
    # YOUR CODE HERE
    raise NotImplementedError("a3.mlp_loss: implement mlp_loss")
