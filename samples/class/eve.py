"""Eve Tanaka -- assignments 1 and 2 (activations + losses) in one file.

I put everything in one module because the functions share helpers.
"""

import math

import numpy as np

# =========================================================================
# A1: activations
# =========================================================================


def _sig(x):
    """Numerically stable logistic function."""
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_forward(x):
    s = _sig(x)
    return s, s


def sigmoid_backward(dout, cache):
    s = cache
    return dout * s * (1.0 - s)


def tanh_forward(x):
    return np.tanh(x), x


def tanh_backward(dout, cache):
    x = cache
    return dout * (1.0 - x**2)


def relu_forward(x):
    return np.maximum(x, 0.0), x


def relu_backward(dout, cache):
    return np.where(cache > 0, dout, 0.0)


def leaky_relu_forward(x, alpha=0.01):
    mask = x > 0
    return np.where(mask, x, alpha * x), (mask, alpha)


def leaky_relu_backward(dout, cache):
    mask, alpha = cache
    return np.where(mask, dout, alpha * dout)


def elu_forward(x, alpha=1.0):
    out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))
    return out, (x, out, alpha)


def elu_backward(dout, cache):
    x, out, alpha = cache
    # for x <= 0, d/dx alpha*(e^x - 1) = alpha*e^x = out + alpha
    return np.where(x > 0, dout, dout * (out + alpha))


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_LAMBDA = 1.0507009873554804934193349852946


def selu_forward(x):
    neg = SELU_ALPHA * np.expm1(np.minimum(x, 0.0))
    return SELU_LAMBDA * np.where(x > 0, x, neg), x


def selu_backward(dout, cache):
    x = cache
    d = np.where(x > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0.0)))
    return dout * SELU_LAMBDA * d


def softplus_forward(x):
    return np.logaddexp(0.0, x), x


def softplus_backward(dout, cache):
    return dout * _sig(cache)


_erf = np.vectorize(math.erf)


def gelu_forward(x):
    Phi = 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))
    return x * Phi, (x, Phi)


def gelu_backward(dout, cache):
    x, Phi = cache
    phi = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    return dout * (Phi + x * phi)


def silu_forward(x):
    s = _sig(x)
    return x * s, (x, s)


def silu_backward(dout, cache):
    x, s = cache
    return dout * (s + x * s * (1.0 - s))


def mish_forward(x):
    th = np.tanh(np.logaddexp(0.0, x))
    return x * th, (x, th)


def mish_backward(dout, cache):
    x, th = cache
    return dout * (th + x * (1.0 - th**2) * _sig(x))


def softmax_forward(x):
    z = x - np.max(x, axis=-1, keepdims=True)
    ez = np.exp(z)
    p = ez / ez.sum(axis=-1, keepdims=True)
    return p, p


def softmax_backward(dout, cache):
    p = cache
    return p * (dout - np.sum(dout * p, axis=-1, keepdims=True))


def log_softmax_forward(x):
    z = x - np.max(x, axis=-1, keepdims=True)
    out = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
    return out, out


def log_softmax_backward(dout, cache):
    return dout - np.exp(cache) * np.sum(dout, axis=-1, keepdims=True)


# =========================================================================
# A2: losses
# =========================================================================


def _apply_reduction(elem_loss, elem_grad, reduction, n):
    if reduction == "sum":
        return float(np.sum(elem_loss)), elem_grad
    if reduction == "mean":
        return float(np.sum(elem_loss)) / n, elem_grad / n
    raise ValueError(reduction)


def mse_loss(pred, target, reduction="mean"):
    r = pred - target
    return _apply_reduction(r * r, 2.0 * r, reduction, r.size)


def mae_loss(pred, target, reduction="mean"):
    r = pred - target
    return _apply_reduction(np.abs(r), np.sign(r), reduction, r.size)


def huber_loss(pred, target, delta=1.0, reduction="mean"):
    r = pred - target
    a = np.abs(r)
    elem = np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))
    grad = np.clip(r, -delta, delta)
    return _apply_reduction(elem, grad, reduction, r.size)


def log_cosh_loss(pred, target, reduction="mean"):
    r = pred - target
    elem = np.logaddexp(r, -r) - math.log(2.0)
    return _apply_reduction(elem, np.tanh(r), reduction, r.size)


def bce_loss(prob, target, reduction="mean"):
    p = np.asarray(prob, dtype=float)
    t = np.asarray(target, dtype=float)
    log_p = np.maximum(np.log(np.clip(p, 1e-300, None)), -100.0)
    log_q = np.maximum(np.log(np.clip(1.0 - p, 1e-300, None)), -100.0)
    elem = -(t * log_p + (1.0 - t) * log_q)
    grad = (p - t) / np.maximum(p * (1.0 - p), 1e-12)
    return _apply_reduction(elem, grad, reduction, p.size)


def bce_with_logits_loss(logits, target, reduction="mean"):
    s = 1.0 / (1.0 + np.exp(-logits))
    elem = -(target * np.log(s) + (1.0 - target) * np.log(1.0 - s))
    grad = s - target
    return _apply_reduction(elem, grad, reduction, logits.size)


def softmax_cross_entropy_loss(logits, y, reduction="mean"):
    n = logits.shape[0]
    logp, _ = log_softmax_forward(logits)
    rows = np.arange(n)
    grad = np.exp(logp)
    grad[rows, y] -= 1.0
    return _apply_reduction(-logp[rows, y], grad, reduction, n)


def nll_loss(log_probs, y, reduction="mean"):
    n = log_probs.shape[0]
    rows = np.arange(n)
    grad = np.zeros_like(log_probs, dtype=float)
    grad[rows, y] = -1.0
    return _apply_reduction(-log_probs[rows, y], grad, reduction, n)


def kl_div_loss(log_q, p, reduction="batchmean"):
    n = log_q.shape[0]
    xlogx = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    total = float(np.sum(xlogx - p * log_q))
    if reduction == "batchmean":
        return total / n, -p / n
    if reduction == "sum":
        return total, -p
    raise ValueError(reduction)


def multiclass_hinge_loss(scores, y, margin=1.0, reduction="mean"):
    n = scores.shape[0]
    rows = np.arange(n)
    m = scores - scores[rows, y][:, None] + margin
    m[rows, y] = 0.0
    active = m > 0
    elem = np.where(active, m, 0.0).sum(axis=1)
    grad = active.astype(float)
    grad[rows, y] = -active.sum(axis=1)
    return _apply_reduction(elem, grad, reduction, n)


def binary_focal_loss(logits, target, gamma=2.0, alpha=0.25, reduction="mean"):
    x = np.asarray(logits, dtype=float)
    t = np.asarray(target, dtype=float)
    p, q = _sig(x), _sig(-x)
    ce = np.logaddexp(0.0, x) - x * t
    w = p * (1.0 - t) + q * t  # this is 1 - p_t
    wg = w**gamma
    frac = np.divide(p * q, w, out=np.zeros_like(w), where=w > 0)
    elem = ce * wg
    grad = wg * ((p - t) + gamma * ce * (1.0 - 2.0 * t) * frac)
    if alpha >= 0:
        alpha_t = alpha * t + (1.0 - alpha) * (1.0 - t)
        elem = alpha_t * elem
        grad = alpha_t * grad
    return _apply_reduction(elem, grad, reduction, x.size)
