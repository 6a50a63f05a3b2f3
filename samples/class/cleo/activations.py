"""
activations.py -- Cleo Martin
DL fundamentals, assignment 1
"""
import numpy as np
from math import erf, sqrt, pi


def sigmoid_forward(x):
    out = np.empty_like(x, dtype=float)
    p = x >= 0
    out[p] = 1 / (1 + np.exp(-x[p]))
    ex = np.exp(x[~p])
    out[~p] = ex / (1 + ex)
    return out, out

def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)


def tanh_forward(x):
    t = np.tanh(x)
    return t, t

def tanh_backward(dout, cache):
    return dout * (1 - cache**2)


# ---- relu family ----
def relu_forward(x)
    return np.maximum(0, x), x

def relu_backward(dout, cache):
    return dout * (cache > 0)


def leaky_relu_forward(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x), (x, alpha)

def leaky_relu_backward(dout, cache):
    x, alpha = cache
    return np.where(x > 0, dout, alpha * dout)


def elu_forward(x, alpha=1.0):
    out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    return out, (x, alpha)

def elu_backward(dout, cache):
    x, alpha = cache
    return np.where(x > 0, dout, dout * alpha * np.exp(np.minimum(x, 0)))


def selu_forward(x):
    a = 1.6732632423543772848170429916717
    l = 1.0507009873554804934193349852946
    return l * np.where(x > 0, x, a * np.expm1(np.minimum(x, 0))), x

def selu_backward(dout, cache):
    a = 1.6732632423543772848170429916717
    l = 1.0507009873554804934193349852946
    x = cache
    return dout * l * np.where(x > 0, 1.0, a * np.exp(np.minimum(x, 0)))


def softplus_forward(x):
    return np.logaddexp(0, x), x

def softplus_backward(dout, cache):
    s, _ = sigmoid_forward(cache)
    return dout * s


def gelu_forward(x):
    cdf = 0.5 * (1 + np.vectorize(erf)(x / sqrt(2)))
    return x * cdf, (x, cdf)

def gelu_backward(dout, cache):
    x, cdf = cache
    return dout * (cdf + x * np.exp(-x**2 / 2) / sqrt(2 * pi))


def silu_forward(x):
    s, _ = sigmoid_forward(x)
    return x * s, (x, s)

def silu_backward(dout, cache):
    x, s = cache
    return dout * s * (1 + x * (1 - s))


def mish_forward(x):
    t = np.tanh(np.logaddexp(0, x))
    return x * t, (x, t)

def mish_backward(dout, cache):
    x, t = cache
    s, _ = sigmoid_forward(x)
    return dout * (t + x * (1 - t * t) * s)


def softmax_forward(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    s = e / e.sum(axis=-1, keepdims=True)
    return s, s

def softmax_backward(dout, cache):
    s = cache
    return s * (dout - (dout * s).sum(axis=-1, keepdims=True))


def log_softmax_forward(x):
    m = x.max(axis=-1, keepdims=True)
    ls = x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))
    return ls, ls

def log_softmax_backward(dout, cache):
    return dout - np.exp(cache) * dout.sum(axis=-1, keepdims=True)
