"""Torch oracles for A2: each loss from ``torch.nn.functional`` (or torchvision's formula
written in torch ops), differentiated by autograd in float64.

``torch`` is imported inside the functions only: importing this module must stay cheap.
Each ``_name(F, first, second, **params)`` below builds the loss tensor with the same
defaults as the reference; :func:`_autograd_oracle` turns it into an oracle.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np


def _autograd_oracle(wrt: str, other: str, loss: Callable[..., Any]) -> Callable[..., dict]:
    """An oracle for ``loss(F, inputs[wrt], inputs[other], **params)``, differentiated
    with respect to ``inputs[wrt]``."""

    def oracle(inputs: dict[str, np.ndarray], params: dict[str, Any], dout: Any) -> dict:
        import torch
        import torch.nn.functional as F

        x = torch.tensor(inputs[wrt], dtype=torch.float64, requires_grad=True)
        second = np.asarray(inputs[other])
        dtype = torch.int64 if second.dtype.kind in "iu" else torch.float64
        value = loss(F, x, torch.tensor(second, dtype=dtype), **params)
        (grad,) = torch.autograd.grad(value, x)
        return {"loss": value.detach().numpy(), "d" + wrt: grad.numpy()}

    oracle.__name__ = oracle.__qualname__ = loss.__name__.lstrip("_")
    oracle.__doc__ = loss.__doc__
    return oracle


def _reduce(per_element, reduction):
    if reduction not in ("mean", "sum"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return per_element.mean() if reduction == "mean" else per_element.sum()


def _mse(F, pred, target, reduction="mean"):
    """F.mse_loss."""
    return F.mse_loss(pred, target, reduction=reduction)


def _mae(F, pred, target, reduction="mean"):
    """F.l1_loss."""
    return F.l1_loss(pred, target, reduction=reduction)


def _huber(F, pred, target, delta=1.0, reduction="mean"):
    """F.huber_loss."""
    return F.huber_loss(pred, target, reduction=reduction, delta=delta)


def _log_cosh(F, pred, target, reduction="mean"):
    """log cosh r = r + softplus(-2r) - log 2 (a different stable form from the reference)."""
    r = pred - target
    return _reduce(r + F.softplus(-2.0 * r) - math.log(2.0), reduction)


def _bce(F, prob, target, reduction="mean"):
    """F.binary_cross_entropy (logs clamped at -100)."""
    return F.binary_cross_entropy(prob, target, reduction=reduction)


def _bce_with_logits(F, logits, target, reduction="mean"):
    """F.binary_cross_entropy_with_logits."""
    return F.binary_cross_entropy_with_logits(logits, target, reduction=reduction)


def _softmax_cross_entropy(F, logits, y, reduction="mean"):
    """F.cross_entropy."""
    return F.cross_entropy(logits, y, reduction=reduction)


def _nll(F, log_probs, y, reduction="mean"):
    """F.nll_loss."""
    return F.nll_loss(log_probs, y, reduction=reduction)


def _kl_div(F, log_q, p, reduction="batchmean"):
    """F.kl_div (input log q, target p, 0 log 0 = 0)."""
    if reduction not in ("batchmean", "sum"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return F.kl_div(log_q, p, reduction=reduction)


def _multiclass_hinge(F, scores, y, margin=1.0, reduction="mean"):
    """F.multi_margin_loss times C: torch also divides each row's sum by the class count."""
    return F.multi_margin_loss(scores, y, margin=margin, reduction=reduction) * scores.shape[1]


def _binary_focal(F, logits, target, gamma=2.0, alpha=0.25, reduction="mean"):
    """torchvision.ops.sigmoid_focal_loss, written out in torch ops."""
    p = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p_t = p * target + (1 - p) * (1 - target)
    loss = ce * (1 - p_t) ** gamma
    loss = (alpha * target + (1 - alpha) * (1 - target)) * loss
    return _reduce(loss, reduction)


mse = _autograd_oracle("pred", "target", _mse)
mae = _autograd_oracle("pred", "target", _mae)
huber = _autograd_oracle("pred", "target", _huber)
log_cosh = _autograd_oracle("pred", "target", _log_cosh)
bce = _autograd_oracle("prob", "target", _bce)
bce_with_logits = _autograd_oracle("logits", "target", _bce_with_logits)
softmax_cross_entropy = _autograd_oracle("logits", "y", _softmax_cross_entropy)
nll = _autograd_oracle("log_probs", "y", _nll)
kl_div = _autograd_oracle("log_q", "p", _kl_div)
multiclass_hinge = _autograd_oracle("scores", "y", _multiclass_hinge)
binary_focal = _autograd_oracle("logits", "target", _binary_focal)
