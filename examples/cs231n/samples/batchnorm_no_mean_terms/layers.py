"""A buggy submission: a batch-norm backward pass without the terms of the batch mean and variance."""

import numpy as np
from gradient_check import eval_numerical_gradient_array, rel_error


def affine_forward(x, w, b):
    n = x.shape[0]
    out = np.dot(x.reshape(n, -1), w) + b[np.newaxis, :]
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    n = x.shape[0]
    dx = np.dot(dout, w.T).reshape(*x.shape)
    dw = np.dot(x.reshape(n, -1).T, dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    out = x * (x > 0)
    return out, x


def relu_backward(dout, cache):
    dx = dout.copy()
    dx[cache <= 0] = 0
    return dx


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    cache = None
    if mode == "train":
        sample_mean = np.mean(x, axis=0)
        sample_var = np.mean((x - sample_mean) ** 2, axis=0)
        inv_std = 1.0 / np.sqrt(sample_var + eps)
        xn = (x - sample_mean) * inv_std
        out = xn * gamma + beta
        cache = (xn, inv_std, gamma)
        running_mean = momentum * running_mean + (1.0 - momentum) * sample_mean
        running_var = momentum * running_var + (1.0 - momentum) * sample_var
    elif mode == "test":
        out = (x - running_mean) / np.sqrt(running_var + eps) * gamma + beta
    else:
        raise ValueError(mode)
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    xn, inv_std, gamma = cache
    n = dout.shape[0]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xn, axis=0)
    dxn = dout * gamma
    dx = dxn * inv_std  # the mean and variance terms are missing
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    if mode == "train":
        mask = (np.random.random_sample(x.shape) < p).astype(x.dtype) / p
        out = x * mask
    else:
        out = x
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return dout * mask
    return dout


def svm_loss(x, y):
    n = x.shape[0]
    correct = x[np.arange(n), y]
    margins = np.maximum(0.0, x - correct[:, np.newaxis] + 1.0)
    margins[np.arange(n), y] = 0.0
    loss = np.sum(margins) / n
    num_pos = np.sum(margins > 0, axis=1)
    dx = np.zeros_like(x)
    dx[margins > 0] = 1.0
    dx[np.arange(n), y] -= num_pos
    dx /= n
    return loss, dx


def softmax_loss(x, y):
    n = x.shape[0]
    z = x - np.max(x, axis=1, keepdims=True)
    log_sum = np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    log_probs = z - log_sum
    probs = np.exp(log_probs)
    loss = -np.sum(log_probs[np.arange(n), y]) / n
    dx = probs.copy()
    dx[np.arange(n), y] -= 1.0
    dx /= n
    return loss, dx


def _self_test():
    """What the student ran before submitting: a numerical check of batchnorm_backward with
    the course's gradient_check helpers."""
    rng = np.random.default_rng(0)
    x, gamma, beta = rng.normal(size=(4, 5)), rng.normal(size=5), rng.normal(size=5)
    dout = rng.normal(size=(4, 5))
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx, _, _ = batchnorm_backward(dout, cache)
    dx_num = eval_numerical_gradient_array(
        lambda v: batchnorm_forward(v, gamma, beta, {"mode": "train"})[0], x, dout)
    return rel_error(dx, dx_num)


if __name__ == "__main__":
    print("batchnorm dx relative error:", _self_test())
