"""Known-bad A2 submissions: realistic student mistakes, each named for the student.

Each replacement has the real signature and uses only ``np``, ``math`` and builtins: a mutant
submission is ``reference/losses.py`` with the function's source appended and the student-facing
name rebound to it. ``fails`` lists exactly the checks a mutant fails on the A2 samplers:

* ``loss`` / ``gradient``: its value / gradient differs from the reference on a standard case;
* ``gradcheck``: its gradient is not the derivative of its own loss, or its loss is wrong (the
  grader gives no gradcheck points for a gradient consistent with a wrong loss, else a stub
  returning zeros would earn them), so every mutant that fails ``loss`` fails it too;
* ``stability``: its value or gradient differs from the reference on a huge case.

Every declared failure already shows on the public cases, and a declared ``stability``
failure with the default arguments, so the verdicts do not depend on which shapes or parameter
sets a grader runs the huge case with. For that reason mistakes that only show with a
non-default hyper-parameter (ignoring ``delta``, ``margin`` or ``reduction="sum"`` in a loss
that has a stability check) are not mutants here.
"""

from __future__ import annotations

import math

import numpy as np
from dlgrade.authoring import Mutant

# --- mse -----------------------------------------------------------------------------------


def _mse_loss_no_factor_2(pred, target, reduction="mean"):
    r = pred - target
    scale = 1.0 / r.size if reduction == "mean" else 1.0
    return float(scale * np.sum(r**2)), scale * r


def _mse_loss_grad_no_mean(pred, target, reduction="mean"):
    r = pred - target
    scale = 1.0 / r.size if reduction == "mean" else 1.0
    return float(scale * np.sum(r**2)), 2.0 * r


def _mse_loss_always_sum(pred, target, reduction="mean"):
    r = pred - target
    return float(np.sum(r**2)), 2.0 * r


# --- mae -----------------------------------------------------------------------------------


def _mae_loss_sign_at_zero(pred, target, reduction="mean"):
    r = pred - target
    scale = 1.0 / r.size if reduction == "mean" else 1.0
    return float(scale * np.sum(np.abs(r))), scale * np.where(r >= 0, 1.0, -1.0)


def _mae_loss_flipped_sign(pred, target, reduction="mean"):
    r = pred - target
    scale = 1.0 / r.size if reduction == "mean" else 1.0
    return float(scale * np.sum(np.abs(r))), scale * np.sign(target - pred)


def _mae_loss_always_sum(pred, target, reduction="mean"):
    r = pred - target
    return float(np.sum(np.abs(r))), np.sign(r)


# --- huber ---------------------------------------------------------------------------------


def _huber_loss_no_offset(pred, target, delta=1.0, reduction="mean"):
    r = pred - target
    per_element = np.where(np.abs(r) <= delta, 0.5 * r**2, delta * np.abs(r))
    scale = 1.0 / r.size if reduction == "mean" else 1.0
    return float(scale * np.sum(per_element)), scale * np.clip(r, -delta, delta)


def _huber_loss_unclipped_grad(pred, target, delta=1.0, reduction="mean"):
    r = pred - target
    per_element = np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))
    scale = 1.0 / r.size if reduction == "mean" else 1.0
    return float(scale * np.sum(per_element)), scale * r


def _huber_loss_no_half(pred, target, delta=1.0, reduction="mean"):
    r = pred - target
    per_element = np.where(np.abs(r) <= delta, r**2, delta * (np.abs(r) - 0.5 * delta))
    scale = 1.0 / r.size if reduction == "mean" else 1.0
    return float(scale * np.sum(per_element)), scale * np.clip(r, -delta, delta)


# --- log_cosh ------------------------------------------------------------------------------


def _log_cosh_loss_naive(pred, target, reduction="mean"):
    r = pred - target
    scale = 1.0 / r.size if reduction == "mean" else 1.0
    return float(scale * np.sum(np.log(np.cosh(r)))), scale * np.tanh(r)


def _log_cosh_loss_grad_no_mean(pred, target, reduction="mean"):
    r = pred - target
    a = np.abs(r)
    scale = 1.0 / r.size if reduction == "mean" else 1.0
    loss = scale * np.sum(a + np.log1p(np.exp(-2.0 * a)) - math.log(2.0))
    return float(loss), np.tanh(r)


def _log_cosh_loss_no_log_2(pred, target, reduction="mean"):
    r = pred - target
    a = np.abs(r)
    scale = 1.0 / r.size if reduction == "mean" else 1.0
    return float(scale * np.sum(a + np.log1p(np.exp(-2.0 * a)))), scale * np.tanh(r)


# --- bce -----------------------------------------------------------------------------------


def _bce_loss_missing_negative_term(prob, target, reduction="mean"):
    scale = 1.0 / prob.size if reduction == "mean" else 1.0
    loss = -scale * np.sum(target * np.log(prob) + (1 - target) * np.log(1 - prob))
    return float(loss), -scale * target / prob


def _bce_loss_flipped_sign(prob, target, reduction="mean"):
    scale = 1.0 / prob.size if reduction == "mean" else 1.0
    loss = -scale * np.sum(target * np.log(prob) + (1 - target) * np.log(1 - prob))
    return float(loss), scale * (target / prob - (1 - target) / (1 - prob))


def _bce_loss_ignores_reduction(prob, target, reduction="mean"):
    scale = 1.0 / prob.size
    loss = -scale * np.sum(target * np.log(prob) + (1 - target) * np.log(1 - prob))
    return float(loss), scale * (-target / prob + (1 - target) / (1 - prob))


# --- bce_with_logits -----------------------------------------------------------------------


def _bce_with_logits_loss_naive(logits, target, reduction="mean"):
    s = 1.0 / (1.0 + np.exp(-logits))
    scale = 1.0 / logits.size if reduction == "mean" else 1.0
    loss = -scale * np.sum(target * np.log(s) + (1 - target) * np.log(1 - s))
    return float(loss), scale * (s - target)


def _bce_with_logits_loss_flipped_sign(logits, target, reduction="mean"):
    e = np.exp(-np.abs(logits))
    s = np.where(logits >= 0, 1.0, e) / (1.0 + e)
    scale = 1.0 / logits.size if reduction == "mean" else 1.0
    loss = scale * np.sum(np.maximum(logits, 0) - logits * target + np.log1p(e))
    return float(loss), scale * (target - s)


def _bce_with_logits_loss_grad_no_mean(logits, target, reduction="mean"):
    e = np.exp(-np.abs(logits))
    s = np.where(logits >= 0, 1.0, e) / (1.0 + e)
    scale = 1.0 / logits.size if reduction == "mean" else 1.0
    loss = scale * np.sum(np.maximum(logits, 0) - logits * target + np.log1p(e))
    return float(loss), s - target


# --- softmax_cross_entropy -----------------------------------------------------------------


def _softmax_cross_entropy_loss_no_shift(logits, y, reduction="mean"):
    n = logits.shape[0]
    exp = np.exp(logits)
    probs = exp / exp.sum(axis=1, keepdims=True)
    scale = 1.0 / n if reduction == "mean" else 1.0
    loss = -scale * np.sum(np.log(probs[np.arange(n), y]))
    probs[np.arange(n), y] -= 1.0
    return float(loss), scale * probs


def _softmax_cross_entropy_loss_no_minus_one(logits, y, reduction="mean"):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    scale = 1.0 / n if reduction == "mean" else 1.0
    loss = -scale * np.sum(log_probs[np.arange(n), y])
    return float(loss), scale * np.exp(log_probs)


def _softmax_cross_entropy_loss_mean_over_entries(logits, y, reduction="mean"):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    one_hot = np.zeros_like(logits)
    one_hot[np.arange(n), y] = 1.0
    if reduction == "mean":
        loss, dlogits = -np.mean(one_hot * log_probs), (np.exp(log_probs) - one_hot) / n
    else:
        loss, dlogits = -np.sum(one_hot * log_probs), np.exp(log_probs) - one_hot
    return float(loss), dlogits


# --- nll -----------------------------------------------------------------------------------


def _nll_loss_flipped_sign(log_probs, y, reduction="mean"):
    n = log_probs.shape[0]
    scale = 1.0 / n if reduction == "mean" else 1.0
    dlog_probs = np.zeros_like(log_probs)
    dlog_probs[np.arange(n), y] = scale
    return float(-scale * np.sum(log_probs[np.arange(n), y])), dlog_probs


def _nll_loss_wrong_indexing(log_probs, y, reduction="mean"):
    n = log_probs.shape[0]
    scale = 1.0 / n if reduction == "mean" else 1.0
    dlog_probs = np.zeros_like(log_probs)
    dlog_probs[np.arange(n), y] = -scale
    return float(-scale * np.sum(log_probs[:, y])), dlog_probs


def _nll_loss_ignores_reduction(log_probs, y, reduction="mean"):
    n = log_probs.shape[0]
    dlog_probs = np.zeros_like(log_probs)
    dlog_probs[np.arange(n), y] = -1.0 / n
    return float(-np.mean(log_probs[np.arange(n), y])), dlog_probs


# --- kl_div --------------------------------------------------------------------------------


def _kl_div_loss_no_entropy(log_q, p, reduction="batchmean"):
    scale = 1.0 / log_q.shape[0] if reduction == "batchmean" else 1.0
    return float(-scale * np.sum(p * log_q)), -scale * p


def _kl_div_loss_mean_over_entries(log_q, p, reduction="batchmean"):
    log_p = np.log(np.where(p > 0, p, 1.0))
    scale = 1.0 / log_q.size if reduction == "batchmean" else 1.0
    return float(scale * np.sum(p * (log_p - log_q))), -scale * p


def _kl_div_loss_nan_at_zero(log_q, p, reduction="batchmean"):
    scale = 1.0 / log_q.shape[0] if reduction == "batchmean" else 1.0
    return float(scale * np.sum(p * (np.log(p) - log_q))), -scale * p


# --- multiclass_hinge ----------------------------------------------------------------------


def _multiclass_hinge_loss_counts_true_class(scores, y, margin=1.0, reduction="mean"):
    n = scores.shape[0]
    rows = np.arange(n)
    margins = scores - scores[rows, y][:, None] + margin
    scale = 1.0 / n if reduction == "mean" else 1.0
    loss = scale * np.sum(np.maximum(margins, 0.0))
    dscores = (margins > 0).astype(float)
    dscores[rows, y] = 0.0
    dscores[rows, y] = -dscores.sum(axis=1)
    return float(loss), scale * dscores


def _multiclass_hinge_loss_no_true_class_grad(scores, y, margin=1.0, reduction="mean"):
    n = scores.shape[0]
    rows = np.arange(n)
    margins = scores - scores[rows, y][:, None] + margin
    margins[rows, y] = 0.0
    scale = 1.0 / n if reduction == "mean" else 1.0
    loss = scale * np.sum(np.maximum(margins, 0.0))
    return float(loss), scale * (margins > 0).astype(float)


def _multiclass_hinge_loss_no_clamp(scores, y, margin=1.0, reduction="mean"):
    n, c = scores.shape
    rows = np.arange(n)
    margins = scores - scores[rows, y][:, None] + margin
    margins[rows, y] = 0.0
    scale = 1.0 / n if reduction == "mean" else 1.0
    dscores = np.ones_like(scores)
    dscores[rows, y] = -(c - 1.0)
    return float(scale * np.sum(margins)), scale * dscores


# --- binary_focal --------------------------------------------------------------------------


def _binary_focal_loss_no_alpha(logits, target, gamma=2.0, alpha=0.25, reduction="mean"):
    e = np.exp(-np.abs(logits))
    p = np.where(logits >= 0, 1.0, e) / (1.0 + e)
    not_p = np.where(logits >= 0, e, 1.0) / (1.0 + e)
    ce = np.maximum(logits, 0.0) - logits * target + np.log1p(e)
    q = p * (1 - target) + not_p * target
    ratio = np.divide(p * not_p, q, out=np.zeros_like(q), where=q > 0)
    scale = 1.0 / logits.size if reduction == "mean" else 1.0
    grad = q**gamma * ((p - target) + gamma * ce * (1 - 2 * target) * ratio)
    return float(scale * np.sum(ce * q**gamma)), scale * grad


def _binary_focal_loss_constant_modulator(logits, target, gamma=2.0, alpha=0.25, reduction="mean"):
    e = np.exp(-np.abs(logits))
    p = np.where(logits >= 0, 1.0, e) / (1.0 + e)
    not_p = np.where(logits >= 0, e, 1.0) / (1.0 + e)
    ce = np.maximum(logits, 0.0) - logits * target + np.log1p(e)
    modulator = (p * (1 - target) + not_p * target) ** gamma
    alpha_t = alpha * target + (1 - alpha) * (1 - target)
    scale = 1.0 / logits.size if reduction == "mean" else 1.0
    loss = scale * np.sum(alpha_t * ce * modulator)
    return float(loss), scale * alpha_t * modulator * (p - target)


def _binary_focal_loss_swapped_alpha(logits, target, gamma=2.0, alpha=0.25, reduction="mean"):
    e = np.exp(-np.abs(logits))
    p = np.where(logits >= 0, 1.0, e) / (1.0 + e)
    not_p = np.where(logits >= 0, e, 1.0) / (1.0 + e)
    ce = np.maximum(logits, 0.0) - logits * target + np.log1p(e)
    q = p * (1 - target) + not_p * target
    alpha_t = alpha * (1 - target) + (1 - alpha) * target
    ratio = np.divide(p * not_p, q, out=np.zeros_like(q), where=q > 0)
    scale = 1.0 / logits.size if reduction == "mean" else 1.0
    grad = alpha_t * q**gamma * ((p - target) + gamma * ce * (1 - 2 * target) * ratio)
    return float(scale * np.sum(alpha_t * ce * q**gamma)), scale * grad


# --- declarations --------------------------------------------------------------------------

_GRAD = ("gradient", "gradcheck", "stability")  # a wrong gradient of the right loss
_VALUE = ("loss", "gradient", "gradcheck", "stability")  # a wrong loss, with its own gradient
_LOSS = ("loss", "gradcheck", "stability")  # a wrong loss, with the right gradient


def _mutant(exercise, name, fails, function, mistake):
    """One mutant of ``a2.<exercise>`` replacing ``<exercise>_loss`` by ``function``."""
    return Mutant(
        exercise=f"a2.{exercise}",
        name=name,
        mistake=mistake,
        fails=fails,
        functions={f"{exercise}_loss": function},
    )


MUTANTS: tuple[Mutant, ...] = (
    _mutant(
        "mse",
        "missing-factor-2",
        _GRAD,
        _mse_loss_no_factor_2,
        "the gradient of mse_loss is missing the factor 2 from differentiating r^2",
    ),
    _mutant(
        "mse",
        "gradient-missing-1-over-n",
        _GRAD,
        _mse_loss_grad_no_mean,
        "the gradient of mse_loss is missing the 1/N of the mean",
    ),
    _mutant(
        "mse",
        "always-sum",
        _VALUE,
        _mse_loss_always_sum,
        "mse_loss ignores reduction='mean': it always returns the sum and its gradient",
    ),
    _mutant(
        "mae",
        "sign-at-zero",
        _GRAD,
        _mae_loss_sign_at_zero,
        "mae_loss's gradient is +1 or -1 where pred == target; the subgradient there is 0",
    ),
    _mutant(
        "mae",
        "flipped-sign",
        _GRAD,
        _mae_loss_flipped_sign,
        "the gradient of mae_loss has the wrong sign: it is sign(pred - target), not "
        "sign(target - pred)",
    ),
    _mutant(
        "mae",
        "always-sum",
        _VALUE,
        _mae_loss_always_sum,
        "mae_loss ignores reduction='mean': it always returns the sum and its gradient",
    ),
    _mutant(
        "huber",
        "linear-branch-no-offset",
        _LOSS,
        _huber_loss_no_offset,
        "huber_loss's linear branch is delta * |r|; it should be delta * (|r| - delta / 2), "
        "so that it joins the quadratic branch at |r| = delta",
    ),
    _mutant(
        "huber",
        "gradient-not-clipped",
        _GRAD,
        _huber_loss_unclipped_grad,
        "huber_loss's gradient is r everywhere; where |r| > delta it is delta * sign(r)",
    ),
    _mutant(
        "huber",
        "quadratic-branch-missing-half",
        _LOSS,
        _huber_loss_no_half,
        "huber_loss's quadratic branch is missing the 0.5 in 0.5 * r^2",
    ),
    _mutant(
        "log_cosh",
        "naive-log-cosh",
        ("stability",),
        _log_cosh_loss_naive,
        "log_cosh_loss computes log(cosh(r)) directly, and cosh overflows for |r| > 710; use "
        "|r| + log1p(exp(-2|r|)) - log(2)",
    ),
    _mutant(
        "log_cosh",
        "gradient-missing-1-over-n",
        _GRAD,
        _log_cosh_loss_grad_no_mean,
        "the gradient of log_cosh_loss is tanh(r) without the 1/N of the mean",
    ),
    _mutant(
        "log_cosh",
        "missing-log-2",
        _LOSS,
        _log_cosh_loss_no_log_2,
        "log_cosh_loss is missing the - log(2) of log(cosh(r)) = |r| + log1p(exp(-2|r|)) - log(2)",
    ),
    _mutant(
        "bce",
        "missing-negative-term",
        ("gradient", "gradcheck"),
        _bce_loss_missing_negative_term,
        "the gradient of bce_loss is missing the (1 - target) / (1 - prob) term",
    ),
    _mutant(
        "bce",
        "flipped-sign",
        ("gradient", "gradcheck"),
        _bce_loss_flipped_sign,
        "the gradient of bce_loss has the wrong sign: it is "
        "-target / prob + (1 - target) / (1 - prob)",
    ),
    _mutant(
        "bce",
        "ignores-reduction",
        ("loss", "gradient", "gradcheck"),
        _bce_loss_ignores_reduction,
        "bce_loss ignores reduction='sum': it always returns the mean",
    ),
    _mutant(
        "bce_with_logits",
        "naive-log-sigmoid",
        ("stability",),
        _bce_with_logits_loss_naive,
        "bce_with_logits_loss takes log(sigmoid(x)), which is log(0) for large |x|; use "
        "max(x, 0) - x * target + log1p(exp(-|x|))",
    ),
    _mutant(
        "bce_with_logits",
        "flipped-sign",
        _GRAD,
        _bce_with_logits_loss_flipped_sign,
        "the gradient of bce_with_logits_loss has the wrong sign: it is sigmoid(x) - target",
    ),
    _mutant(
        "bce_with_logits",
        "gradient-missing-1-over-n",
        _GRAD,
        _bce_with_logits_loss_grad_no_mean,
        "the gradient of bce_with_logits_loss is missing the 1/N of the mean",
    ),
    _mutant(
        "softmax_cross_entropy",
        "no-max-shift",
        ("stability",),
        _softmax_cross_entropy_loss_no_shift,
        "softmax_cross_entropy_loss exponentiates the raw logits, which overflows for large "
        "logits; subtract each row's maximum first",
    ),
    _mutant(
        "softmax_cross_entropy",
        "missing-minus-one",
        _GRAD,
        _softmax_cross_entropy_loss_no_minus_one,
        "the gradient of softmax_cross_entropy_loss is missing the -1 at the true class",
    ),
    _mutant(
        "softmax_cross_entropy",
        "mean-over-entries",
        _LOSS,
        _softmax_cross_entropy_loss_mean_over_entries,
        "softmax_cross_entropy_loss divides by N * C (a mean over all entries); the mean is "
        "over the N rows only",
    ),
    _mutant(
        "nll",
        "flipped-sign",
        ("gradient", "gradcheck"),
        _nll_loss_flipped_sign,
        "the gradient of nll_loss has the wrong sign: it is -1/N at the true class",
    ),
    _mutant(
        "nll",
        "wrong-indexing",
        ("loss", "gradcheck"),
        _nll_loss_wrong_indexing,
        "nll_loss picks log_probs[:, y] (every row at every label, an N x N block) instead of "
        "log_probs[np.arange(N), y]",
    ),
    _mutant(
        "nll",
        "ignores-reduction",
        ("loss", "gradient", "gradcheck"),
        _nll_loss_ignores_reduction,
        "nll_loss ignores reduction='sum': it always returns the mean",
    ),
    _mutant(
        "kl_div",
        "missing-p-log-p",
        ("loss", "gradcheck"),
        _kl_div_loss_no_entropy,
        "kl_div_loss is missing the sum of p * log(p): it returns the cross-entropy "
        "(the gradient is unaffected)",
    ),
    _mutant(
        "kl_div",
        "mean-over-entries",
        ("loss", "gradient", "gradcheck"),
        _kl_div_loss_mean_over_entries,
        "kl_div_loss divides by N * C; 'batchmean' divides by the number of rows N only",
    ),
    _mutant(
        "kl_div",
        "nan-at-zero-p",
        ("loss", "gradcheck"),
        _kl_div_loss_nan_at_zero,
        "kl_div_loss gives NaN where p == 0: 0 * log(0) must count as 0",
    ),
    _mutant(
        "multiclass_hinge",
        "counts-true-class",
        _LOSS,
        _multiclass_hinge_loss_counts_true_class,
        "multiclass_hinge_loss also sums the term j = y, which adds margin to every row's loss",
    ),
    _mutant(
        "multiclass_hinge",
        "missing-true-class-gradient",
        _GRAD,
        _multiclass_hinge_loss_no_true_class_grad,
        "the gradient of multiclass_hinge_loss is missing the true class's entry: minus the "
        "number of classes that violate the margin",
    ),
    _mutant(
        "multiclass_hinge",
        "no-clamp",
        _VALUE,
        _multiclass_hinge_loss_no_clamp,
        "multiclass_hinge_loss sums s_j - s_y + margin without max(0, .): terms that clear the "
        "margin must count as 0",
    ),
    _mutant(
        "binary_focal",
        "ignores-alpha",
        _VALUE,
        _binary_focal_loss_no_alpha,
        "binary_focal_loss ignores alpha: each term must be weighted by "
        "alpha_t = alpha * t + (1 - alpha) * (1 - t)",
    ),
    _mutant(
        "binary_focal",
        "constant-modulating-factor",
        _GRAD,
        _binary_focal_loss_constant_modulator,
        "the gradient of binary_focal_loss treats (1 - p_t)^gamma as a constant; it depends on "
        "the logits too",
    ),
    _mutant(
        "binary_focal",
        "swapped-alpha",
        _VALUE,
        _binary_focal_loss_swapped_alpha,
        "binary_focal_loss weights the negatives by alpha and the positives by 1 - alpha; it is "
        "the other way round",
    ),
)
