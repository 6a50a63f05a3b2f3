# dlgrade handout: activations.py, version 2026.12, interface 6e8e88acf8c0 (keep this line)
"""Activation functions as layers: a forward pass and a backward pass for each.

Every activation is a layer made of two functions:

* ``<name>_forward(x, ...) -> (out, cache)`` computes ``out`` (same shape as ``x``) and
  returns, as ``cache``, whatever the backward pass will need.
* ``<name>_backward(dout, cache) -> dx`` takes ``dout``, the upstream gradient dL/dout (same
  shape as ``out``), and returns ``dx = dL/dx`` (same shape as ``x``). For an elementwise
  activation the chain rule gives ``dx = dout * f'(x)``.

The cache is yours to choose (an array, a tuple, ...): it is graded only through the backward
pass. Inputs are float64 arrays of any shape; softmax and log_softmax work along the last axis.

Numerical stability is graded: on inputs with |x| up to 1e3, values and gradients must be
finite and correct. exp(710) already overflows, so write every formula such that exp never
sees a large positive number (computing an overflowing value and then discarding it still
produces inf or NaN along the way, and a warning).
"""

import math

import numpy as np


def sigmoid_forward(x):
    """Logistic sigmoid.

    out = 1 / (1 + exp(-x))

    For x < 0 use the equal form out = exp(x) / (1 + exp(x)), so that exp never overflows.

    Args:
        x: array of any shape.

    Returns:
        out: array of the shape of x.
        cache: whatever sigmoid_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.sigmoid: implement sigmoid_forward")


def sigmoid_backward(dout, cache):
    """Backward pass of the sigmoid.

    dx = dout * out * (1 - out), where out = sigmoid(x).

    Args:
        dout: upstream gradient dL/dout, shape of out.
        cache: what sigmoid_forward returned as cache.

    Returns:
        dx: gradient dL/dx, shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.sigmoid: implement sigmoid_backward")


def tanh_forward(x):
    """Hyperbolic tangent.

    out = tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x))

    np.tanh is allowed (and stable).

    Args:
        x: array of any shape.

    Returns:
        out: array of the shape of x.
        cache: whatever tanh_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.tanh: implement tanh_forward")


def tanh_backward(dout, cache):
    """Backward pass of tanh.

    dx = dout * (1 - out**2), where out = tanh(x).

    Args:
        dout: upstream gradient dL/dout, shape of out.
        cache: what tanh_forward returned as cache.

    Returns:
        dx: gradient dL/dx, shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.tanh: implement tanh_backward")


def relu_forward(x):
    """Rectified linear unit.

    out = max(x, 0), elementwise.

    Args:
        x: array of any shape.

    Returns:
        out: array of the shape of x.
        cache: whatever relu_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.relu: implement relu_forward")


def relu_backward(dout, cache):
    """Backward pass of ReLU.

    dx = dout where x > 0, else 0.

    Args:
        dout: upstream gradient dL/dout, shape of out.
        cache: what relu_forward returned as cache.

    Returns:
        dx: gradient dL/dx, shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.relu: implement relu_backward")


def leaky_relu_forward(x, alpha=0.01):
    """Leaky ReLU.

    out = x if x > 0 else alpha * x, elementwise.

    Args:
        x: array of any shape.
        alpha: slope for x <= 0 (float).

    Returns:
        out: array of the shape of x.
        cache: whatever leaky_relu_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.leaky_relu: implement leaky_relu_forward")


def leaky_relu_backward(dout, cache):
    """Backward pass of leaky ReLU.

    dx = dout if x > 0 else alpha * dout, elementwise.

    Args:
        dout: upstream gradient dL/dout, shape of out.
        cache: what leaky_relu_forward returned as cache.

    Returns:
        dx: gradient dL/dx, shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.leaky_relu: implement leaky_relu_backward")


def elu_forward(x, alpha=1.0):
    """Exponential linear unit.

    out = x if x > 0 else alpha * (exp(x) - 1), elementwise.

    Args:
        x: array of any shape.
        alpha: scale of the negative part (float).

    Returns:
        out: array of the shape of x.
        cache: whatever elu_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.elu: implement elu_forward")


def elu_backward(dout, cache):
    """Backward pass of ELU.

    dx = dout if x > 0 else dout * alpha * exp(x), elementwise.

    Args:
        dout: upstream gradient dL/dout, shape of out.
        cache: what elu_forward returned as cache.

    Returns:
        dx: gradient dL/dx, shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.elu: implement elu_backward")


def selu_forward(x):
    """Scaled exponential linear unit, with PyTorch's constants.

    out = scale * (x if x > 0 else alpha * (exp(x) - 1)), elementwise, where
    alpha = 1.6732632423543772848170429916717 and
    scale = 1.0507009873554804934193349852946.

    Args:
        x: array of any shape.

    Returns:
        out: array of the shape of x.
        cache: whatever selu_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.selu: implement selu_forward")


def selu_backward(dout, cache):
    """Backward pass of SELU.

    dx = dout * scale * (1 if x > 0 else alpha * exp(x)), elementwise, with the constants of
    selu_forward.

    Args:
        dout: upstream gradient dL/dout, shape of out.
        cache: what selu_forward returned as cache.

    Returns:
        dx: gradient dL/dx, shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.selu: implement selu_backward")


def softplus_forward(x):
    """Softplus, a smooth ReLU.

    out = log(1 + exp(x))

    Stable form: out = max(x, 0) + log(1 + exp(-|x|)) (np.log1p is accurate for small
    arguments).

    Args:
        x: array of any shape.

    Returns:
        out: array of the shape of x.
        cache: whatever softplus_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.softplus: implement softplus_forward")


def softplus_backward(dout, cache):
    """Backward pass of softplus.

    dx = dout * sigmoid(x) = dout / (1 + exp(-x)), computed without overflow.

    Args:
        dout: upstream gradient dL/dout, shape of out.
        cache: what softplus_forward returned as cache.

    Returns:
        dx: gradient dL/dx, shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.softplus: implement softplus_backward")


def gelu_forward(x):
    """Gaussian error linear unit, exact (erf) form, not the tanh approximation.

    out = x * Phi(x), where Phi(x) = 0.5 * (1 + erf(x / sqrt(2))) is the standard normal CDF.

    numpy has no erf: apply math.erf to each element, e.g. with np.vectorize(math.erf).

    Args:
        x: array of any shape.

    Returns:
        out: array of the shape of x.
        cache: whatever gelu_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.gelu: implement gelu_forward")


def gelu_backward(dout, cache):
    """Backward pass of the exact GELU.

    dx = dout * (Phi(x) + x * phi(x)), where phi(x) = exp(-x**2 / 2) / sqrt(2 * pi) is the
    standard normal density.

    Args:
        dout: upstream gradient dL/dout, shape of out.
        cache: what gelu_forward returned as cache.

    Returns:
        dx: gradient dL/dx, shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.gelu: implement gelu_backward")


def silu_forward(x):
    """Sigmoid linear unit (also called swish).

    out = x * sigmoid(x) = x / (1 + exp(-x))

    Args:
        x: array of any shape.

    Returns:
        out: array of the shape of x.
        cache: whatever silu_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.silu: implement silu_forward")


def silu_backward(dout, cache):
    """Backward pass of SiLU.

    dx = dout * (s + x * s * (1 - s)), where s = sigmoid(x).

    Args:
        dout: upstream gradient dL/dout, shape of out.
        cache: what silu_forward returned as cache.

    Returns:
        dx: gradient dL/dx, shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.silu: implement silu_backward")


def mish_forward(x):
    """Mish.

    out = x * tanh(softplus(x)), where softplus(x) = log(1 + exp(x)) (compute it stably).

    Args:
        x: array of any shape.

    Returns:
        out: array of the shape of x.
        cache: whatever mish_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.mish: implement mish_forward")


def mish_backward(dout, cache):
    """Backward pass of Mish.

    dx = dout * (t + x * (1 - t**2) * sigmoid(x)), where t = tanh(softplus(x)) (product rule,
    then the chain rule through tanh and softplus; softplus'(x) = sigmoid(x)).

    Args:
        dout: upstream gradient dL/dout, shape of out.
        cache: what mish_forward returned as cache.

    Returns:
        dx: gradient dL/dx, shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.mish: implement mish_backward")


def softmax_forward(x):
    """Softmax over the last axis.

    out[..., i] = exp(x[..., i]) / sum_j exp(x[..., j])

    Each row (slice along the last axis) sums to 1; there may be any number of leading axes.

    Args:
        x: array of shape (..., C).

    Returns:
        out: array of shape (..., C).
        cache: whatever softmax_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.softmax: implement softmax_forward")


def softmax_backward(dout, cache):
    """Backward pass of softmax over the last axis.

    dx[..., i] = out[..., i] * (dout[..., i] - sum_j dout[..., j] * out[..., j])

    Every output of a row depends on every input of that row, hence the sum over j.

    Args:
        dout: upstream gradient dL/dout, shape (..., C).
        cache: what softmax_forward returned as cache.

    Returns:
        dx: gradient dL/dx, shape (..., C).
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.softmax: implement softmax_backward")


def log_softmax_forward(x):
    """Log-softmax over the last axis.

    out[..., i] = x[..., i] - log(sum_j exp(x[..., j]))

    Computing log(softmax(x)) gives -inf once a probability underflows to 0; compute the
    log-sum-exp stably instead.

    Args:
        x: array of shape (..., C).

    Returns:
        out: array of shape (..., C).
        cache: whatever log_softmax_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.log_softmax: implement log_softmax_forward")


def log_softmax_backward(dout, cache):
    """Backward pass of log-softmax over the last axis.

    dx[..., i] = dout[..., i] - softmax(x)[..., i] * sum_j dout[..., j],
    where softmax(x) = exp(out).

    Args:
        dout: upstream gradient dL/dout, shape (..., C).
        cache: what log_softmax_forward returned as cache.

    Returns:
        dx: gradient dL/dx, shape (..., C).
    """
    # YOUR CODE HERE
    raise NotImplementedError("a1.log_softmax: implement log_softmax_backward")
