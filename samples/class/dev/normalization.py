# dlgrade handout: normalization.py, version 2026.12, interface b3afc89addff (keep this line)
"""Normalisation layers: batch normalisation and layer normalisation.

Both are layers in the usual style:

* ``<name>_forward(x, gamma, beta, ...) -> (out, cache)``;
* ``<name>_backward(dout, cache) -> (dx, dgamma, dbeta)``, where ``dout`` is dL/dout (shape of
  ``out``) and the three gradients have the shapes of ``x``, ``gamma`` and ``beta``.

``x`` has shape (N, D): N examples of D features; ``gamma`` and ``beta`` have shape (D,).
Batch norm normalises each feature (column) over the batch; layer norm normalises each example
(row) over its features. Both use the biased variance (divide by N, or by D), never N - 1.

The cache is yours to choose: it is graded only through the backward pass. Remember that the
mean and the variance depend on every entry of x, so dx has more terms than dout * gamma / std.
"""

import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalisation, forward pass.

    bn_param is a dict with the keys:
        "mode": "train" or "test" (required);
        "eps": added to the variance, default 1e-5;
        "momentum": of the running averages, default 0.9;
        "running_mean", "running_var": arrays of shape (D,), the running averages; when a
            key is absent, start from zeros of shape (D,) (both of them, as in CS231n).

    Train mode: with the batch statistics over axis 0
        mu = mean(x, axis=0),  var = mean((x - mu)**2, axis=0)   (biased: divide by N)
        x_hat = (x - mu) / sqrt(var + eps),  out = gamma * x_hat + beta
    and the running averages are updated IN bn_param (store them back in the dict):
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var  = momentum * running_var  + (1 - momentum) * var   (the biased var)

    Test mode: no batch statistics; the running averages are used instead and not changed:
        out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta

    Args:
        x: array (N, D).
        gamma: scale, array (D,).
        beta: shift, array (D,).
        bn_param: dict as above (modified in place in train mode).

    Returns:
        out: array (N, D).
        cache: whatever batchnorm_backward needs (only train mode is differentiated).
    """
    # YOUR CODE HERE
    raise NotImplementedError("a5.batchnorm: implement batchnorm_forward")


def batchnorm_backward(dout, cache):
    """Batch normalisation, backward pass (train mode).

    With x_hat, std = sqrt(var + eps) and N from the forward pass:
        dbeta  = sum(dout, axis=0)
        dgamma = sum(dout * x_hat, axis=0)
        dx_hat = dout * gamma
        dx = (dx_hat - mean(dx_hat, axis=0) - x_hat * mean(dx_hat * x_hat, axis=0)) / std
    (the two mean terms come from the batch mean and the batch variance depending on x).

    Args:
        dout: upstream gradient, array (N, D).
        cache: what batchnorm_forward returned as cache.

    Returns:
        dx: array (N, D); dgamma: array (D,); dbeta: array (D,).
    """
    # YOUR CODE HERE
    raise NotImplementedError("a5.batchnorm: implement batchnorm_backward")


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer normalisation, forward pass: each row is normalised over its D features.

        mu = mean(x, axis=1, keepdims=True),  var = mean((x - mu)**2, axis=1, keepdims=True)
        x_hat = (x - mu) / sqrt(var + eps),  out = gamma * x_hat + beta

    The same in train and test mode, no running averages (as torch.nn.LayerNorm).

    Args:
        x: array (N, D).
        gamma: scale, array (D,).
        beta: shift, array (D,).
        eps: added to the variance (default 1e-5).

    Returns:
        out: array (N, D).
        cache: whatever layernorm_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a5.layernorm: implement layernorm_forward")


def layernorm_backward(dout, cache):
    """Layer normalisation, backward pass.

    With x_hat and std = sqrt(var + eps) (one per row) from the forward pass:
        dbeta  = sum(dout, axis=0)
        dgamma = sum(dout * x_hat, axis=0)
        dx_hat = dout * gamma
        dx = (dx_hat - mean(dx_hat, axis=1, keepdims=True)
              - x_hat * mean(dx_hat * x_hat, axis=1, keepdims=True)) / std

    Args:
        dout: upstream gradient, array (N, D).
        cache: what layernorm_forward returned as cache.

    Returns:
        dx: array (N, D); dgamma: array (D,); dbeta: array (D,).
    """
    # YOUR CODE HERE
    raise NotImplementedError("a5.layernorm: implement layernorm_backward")
