"""A5 - normalisation.

Student: Ada Lovelace
"""

import numpy as np


def _normalise_columns(x, eps):
    n = x.shape[0]
    mean = np.sum(x, axis=0) / n
    centred = x - mean
    variance = np.sum(centred * centred, axis=0) / n
    root = np.sqrt(variance + eps)
    inverse = 1.0 / root
    return centred * inverse, {"centred": centred, "root": root, "inverse": inverse, "n": n}


def _columns_backward(dx_hat, graph):
    centred, root, inverse, n = graph["centred"], graph["root"], graph["inverse"], graph["n"]
    d_inverse = np.sum(dx_hat * centred, axis=0)
    d_centred = dx_hat * inverse
    d_root = -d_inverse / root**2
    d_variance = 0.5 * d_root / root
    d_centred = d_centred + 2.0 * centred * d_variance / n
    d_mean = -np.sum(d_centred, axis=0)
    return d_centred + d_mean / n


def batchnorm_forward(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    width = x.shape[1]
    if bn_param["mode"] == "test":
        mean = bn_param.get("running_mean", np.zeros(width))
        var = bn_param.get("running_var", np.zeros(width))
        return gamma * ((x - mean) / np.sqrt(var + eps)) + beta, None
    x_hat, graph = _normalise_columns(x, eps)
    old_mean = bn_param.get("running_mean", np.zeros(width))
    old_var = bn_param.get("running_var", np.zeros(width))
    batch_var = np.mean((x - x.mean(axis=0)) ** 2, axis=0)
    bn_param["running_mean"] = old_mean + (1.0 - momentum) * (x.mean(axis=0) - old_mean)
    bn_param["running_var"] = old_var + (1.0 - momentum) * (batch_var - old_var)
    return gamma * x_hat + beta, {"graph": graph, "x_hat": x_hat, "gamma": gamma}


def batchnorm_backward(dout, cache):
    dx = _columns_backward(dout * cache["gamma"], cache["graph"])
    return dx, np.einsum("nd,nd->d", dout, cache["x_hat"]), np.einsum("nd->d", dout)


def layernorm_forward(x, gamma, beta, eps=1e-5):
    x_hat_t, graph = _normalise_columns(x.T, eps)
    return gamma * x_hat_t.T + beta, {"graph": graph, "x_hat": x_hat_t.T, "gamma": gamma}


def layernorm_backward(dout, cache):
    dx = _columns_backward((dout * cache["gamma"]).T, cache["graph"]).T
    return dx, np.einsum("nd,nd->d", dout, cache["x_hat"]), np.einsum("nd->d", dout)
