"""Assignment 2: losses.

Ben Okafor
All functions return (loss, dpred).
"""

import numpy as np


def mse_loss(pred, target, reduction="mean"):
    diff = pred - target
    loss = np.sum(diff**2)
    dpred = 2 * diff
    if reduction == "mean":
        loss = loss / diff.size
    return loss, dpred


def mae_loss(pred, target, reduction="mean"):
    diff = pred - target
    loss = np.sum(np.abs(diff))
    dpred = np.sign(diff)
    if reduction == "mean":
        loss /= diff.size
        dpred = dpred / diff.size
    return loss, dpred


def huber_loss(pred, target, delta=1.0, reduction="mean"):
    r = pred - target
    quad = np.abs(r) <= delta
    loss = np.where(quad, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta)).sum()
    dpred = delta * np.sign(r)
    if reduction == "mean":
        loss /= r.size
        dpred = dpred / r.size
    return loss, dpred


def log_cosh_loss(pred, target, reduction="mean"):
    r = pred - target
    loss = np.sum(np.logaddexp(r, -r) - np.log(2))
    dpred = np.tanh(r)
    if reduction == "mean":
        loss /= r.size
        dpred = dpred / r.size
    return loss, dpred


def bce_loss(prob, target, reduction="mean"):
    p, t = prob, target
    with np.errstate(divide="ignore"):
        a = np.clip(np.log(p), -100, None)
        b = np.clip(np.log(1 - p), -100, None)
    loss = -np.sum(t * a + (1 - t) * b)
    dpred = (p - t) / np.maximum(p * (1 - p), 1e-12)
    if reduction == "mean":
        loss /= p.size
        dpred = dpred / p.size
    return loss, dpred


def _sigmoid(x):
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


def bce_with_logits_loss(logits, target, reduction="mean"):
    x, t = logits, target
    loss = np.sum(np.logaddexp(0, x) - x * t)
    dpred = _sigmoid(x) - t
    if reduction == "mean":
        loss /= x.size
        dpred = dpred / x.size
    return loss, dpred


def softmax_cross_entropy_loss(logits, y, reduction="mean"):
    N = logits.shape[0]
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -logp[np.arange(N), y].sum()
    dlogits = np.exp(logp)
    dlogits[np.arange(N), y] -= 1
    if reduction == "mean":
        loss /= N
        dlogits /= N
    return loss, dlogits


def nll_loss(log_probs, y, reduction="mean"):
    N = log_probs.shape[0]
    loss = -log_probs[np.arange(N), y].sum()
    d = np.zeros_like(log_probs)
    d[np.arange(N), y] = -1
    if reduction == "mean":
        loss /= N
        d /= N
    return loss, d


def kl_div_loss(log_q, p, reduction="batchmean"):
    N = log_q.shape[0]
    plogp = np.zeros_like(p)
    nz = p > 0
    plogp[nz] = p[nz] * np.log(p[nz])
    loss = np.sum(plogp - p * log_q)
    grad = -p
    if reduction == "batchmean":
        loss /= N
        grad = grad / N
    return loss, grad


def multiclass_hinge_loss(scores, y, margin=1.0, reduction="mean"):
    N = scores.shape[0]
    correct = scores[np.arange(N), y][:, None]
    margins = np.maximum(0, scores - correct + margin)
    loss = margins.sum()
    # gradient: +1 for every class over the margin, minus the count on the true class
    mask = (margins > 0).astype(float)
    mask[np.arange(N), y] = 0
    mask[np.arange(N), y] = -mask.sum(axis=1)
    if reduction == "mean":
        loss /= N
        mask /= N
    return loss, mask


def binary_focal_loss(logits, target, gamma=2.0, alpha=0.25, reduction="mean"):
    x, t = logits, target
    p = _sigmoid(x)
    q = _sigmoid(-x)
    ce = np.logaddexp(0, x) - x * t
    one_minus_pt = p * (1 - t) + q * t
    mod = one_minus_pt**gamma
    loss = ce * mod
    # chain rule through (1 - p_t)^gamma
    ratio = np.divide(p * q, one_minus_pt, out=np.zeros_like(p), where=one_minus_pt > 0)
    dx = mod * (p - t + gamma * ce * (1 - 2 * t) * ratio)
    if alpha >= 0:
        at = alpha * t + (1 - alpha) * (1 - t)
        loss = at * loss
        dx = at * dx
    loss = loss.sum()
    if reduction == "mean":
        loss /= x.size
        dx = dx / x.size
    return loss, dx
