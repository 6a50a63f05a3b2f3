"""A1 - activation functions.

Student: Ada Lovelace
Every forward returns (out, cache); every backward takes (dout, cache) and returns dx.
I tried to keep everything stable for big inputs (tested up to |x| = 1000).
"""

import math

import numpy as np

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _stable_sigmoid(x):
    # split by sign so that exp() only ever sees non-positive numbers
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


def sigmoid_forward(x):
    x = np.asarray(x, dtype=np.float64)
    out = _stable_sigmoid(x)
    cache = out
    return out, cache


def sigmoid_backward(dout, cache):
    s = cache
    dx = dout * s * (1 - s)
    return dx


def tanh_forward(x):
    out = np.tanh(np.asarray(x, dtype=np.float64))
    return out, out


def tanh_backward(dout, cache):
    t = cache
    return dout * (1 - t**2)


def relu_forward(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.maximum(x, 0)
    return out, x


def relu_backward(dout, cache):
    x = cache
    dx = dout * (x > 0)
    return dx


def leaky_relu_forward(x, alpha=0.01):
    x = np.asarray(x, dtype=np.float64)
    out = np.where(x > 0, x, alpha * x)
    cache = (x, alpha)
    return out, cache


def leaky_relu_backward(dout, cache):
    x, alpha = cache
    return dout * np.where(x > 0, 1.0, alpha)


def elu_forward(x, alpha=1.0):
    x = np.asarray(x, dtype=np.float64)
    # np.minimum keeps expm1 away from huge positive x (that branch is not used anyway)
    out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    cache = (x, alpha)
    return out, cache


def elu_backward(dout, cache):
    x, alpha = cache
    grad = np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0)))
    return dout * grad


def selu_forward(x):
    x = np.asarray(x, dtype=np.float64)
    neg = SELU_ALPHA * np.expm1(np.minimum(x, 0))
    out = SELU_SCALE * np.where(x > 0, x, neg)
    return out, x


def selu_backward(dout, cache):
    x = cache
    grad = SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0)))
    return dout * grad


def softplus_forward(x):
    x = np.asarray(x, dtype=np.float64)
    # log(1 + e^x) = max(x, 0) + log(1 + e^-|x|)
    out = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
    return out, x


def softplus_backward(dout, cache):
    x = cache
    return dout * _stable_sigmoid(x)


def gelu_forward(x):
    x = np.asarray(x, dtype=np.float64)
    erf = np.vectorize(math.erf, otypes=[np.float64])
    phi_cdf = 0.5 * (1.0 + erf(x / math.sqrt(2.0)))
    out = x * phi_cdf
    cache = (x, phi_cdf)
    return out, cache


def gelu_backward(dout, cache):
    x, phi_cdf = cache
    phi_pdf = np.exp(-0.5 * x**2) / math.sqrt(2.0 * math.pi)
    return dout * (phi_cdf + x * phi_pdf)


def silu_forward(x):
    x = np.asarray(x, dtype=np.float64)
    s = _stable_sigmoid(x)
    return x * s, (x, s)


def silu_backward(dout, cache):
    x, s = cache
    return dout * (s * (1 + x * (1 - s)))


def mish_forward(x):
    x = np.asarray(x, dtype=np.float64)
    sp, _ = softplus_forward(x)
    tsp = np.tanh(sp)
    out = x * tsp
    return out, (x, tsp)


def mish_backward(dout, cache):
    x, tsp = cache
    # product rule + chain rule: tanh(sp) + x * sech^2(sp) * sigmoid(x)
    grad = tsp + x * (1 - tsp**2) * _stable_sigmoid(x)
    return dout * grad


def softmax_forward(x):
    x = np.asarray(x, dtype=np.float64)
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    out = e / np.sum(e, axis=-1, keepdims=True)
    return out, out


def softmax_backward(dout, cache):
    s = cache
    dot = np.sum(dout * s, axis=-1, keepdims=True)
    return s * (dout - dot)


def log_softmax_forward(x):
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x, axis=-1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))
    out = x - lse
    return out, out


def log_softmax_backward(dout, cache):
    s = np.exp(cache)
    return dout - s * np.sum(dout, axis=-1, keepdims=True)
