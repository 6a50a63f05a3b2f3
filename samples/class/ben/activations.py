"""Assignment 1: activations.

Ben Okafor
"""

import math

import numpy as np


def sigmoid_forward(x):
    # stable version from lecture: only exp of negative numbers
    z = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1 / (1 + z), z / (1 + z))
    cache = x
    return out, cache


def sigmoid_backward(dout, cache):
    x = cache
    # derivative of the sigmoid is s(1 - s)
    dx = dout * x * (1 - x)
    return dx


def tanh_forward(x):
    out = np.tanh(x)
    cache = out
    return out, cache


def tanh_backward(dout, cache):
    out = cache
    return dout * (1 - out * out)


def relu_forward(x):
    out = x * (x > 0)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    x = cache
    dx = dout.copy()
    dx[x <= 0] = 0
    return dx


def leaky_relu_forward(x, alpha=0.01):
    out = np.where(x > 0, x, 0.01 * x)
    cache = x
    return out, cache


def leaky_relu_backward(dout, cache):
    x = cache
    dx = np.where(x > 0, dout, 0.01 * dout)
    return dx


def elu_forward(x, alpha=1.0):
    neg = np.minimum(x, 0)
    out = np.where(x > 0, x, alpha * (np.exp(neg) - 1))
    cache = (x, alpha)
    return out, cache


def elu_backward(dout, cache):
    x, alpha = cache
    neg = np.minimum(x, 0)
    dx = np.where(x > 0, dout, dout * alpha * np.exp(neg))
    return dx


ALPHA = 1.6732632423543772848170429916717
SCALE = 1.0507009873554804934193349852946


def selu_forward(x):
    neg = np.minimum(x, 0)
    out = SCALE * np.where(x > 0, x, ALPHA * (np.exp(neg) - 1))
    return out, x


def selu_backward(dout, cache):
    x = cache
    neg = np.minimum(x, 0)
    return dout * SCALE * np.where(x > 0, 1, ALPHA * np.exp(neg))


def softplus_forward(x):
    out = np.logaddexp(0, x)
    return out, x


def softplus_backward(dout, cache):
    x = cache
    s, _ = sigmoid_forward(x)
    return dout * s


def gelu_forward(x):
    cdf = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in np.ravel(x)])
    cdf = cdf.reshape(np.shape(x))
    out = x * cdf
    return out, (x, cdf)


def gelu_backward(dout, cache):
    x, cdf = cache
    pdf = np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    return dout * (cdf + x * pdf)


def silu_forward(x):
    s, _ = sigmoid_forward(x)
    return x * s, (x, s)


def silu_backward(dout, cache):
    x, s = cache
    return dout * (s + x * s * (1 - s))


def mish_forward(x):
    sp = np.logaddexp(0, x)
    t = np.tanh(sp)
    return x * t, (x, t)


def mish_backward(dout, cache):
    x, t = cache
    s, _ = sigmoid_forward(x)
    return dout * (t + x * s * (1 - t**2))


def softmax_forward(x):
    e = np.exp(x)
    out = e / np.sum(e, axis=-1, keepdims=True)
    return out, out


def softmax_backward(dout, cache):
    s = cache
    return s * (dout - np.sum(s * dout, axis=-1, keepdims=True))


def log_softmax_forward(x):
    m = np.max(x, axis=-1, keepdims=True)
    out = x - m - np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))
    return out, out


def log_softmax_backward(dout, cache):
    return dout - np.exp(cache) * np.sum(dout, axis=-1, keepdims=True)
