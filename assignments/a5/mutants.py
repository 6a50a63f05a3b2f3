"""Known-bad variants of the A5 reference modules: realistic student mistakes.

A mutant submission is the reference module's source with the replacement appended and the
name rebound, so replacements use only ``np``, ``math``, builtins (a class: its own name) and
keep the real signatures. A replaced backward reads the reference forward's cache
``(x_hat, std, gamma)`` unless the mutant replaces the forward too. For property-graded
exercises the mistake texts are the ones the properties print (see exercises.py).
"""

from __future__ import annotations

import math

import numpy as np
from dlgrade.authoring import Mutant

from . import exercises as ex

# --- batch norm ---------------------------------------------------------------------------


def _bn_backward_no_mean_terms(dout, cache):
    x_hat, std, gamma = cache
    return dout * gamma / std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def _bn_forward_unbiased(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    mu = x.mean(axis=0)
    std = np.sqrt(x.var(axis=0, ddof=1) + eps)
    x_hat = (x - mu) / std
    return gamma * x_hat + beta, (x_hat, std, gamma)


def _bn_forward_wrong_axis(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    mu = x.mean(axis=1, keepdims=True)
    std = np.sqrt(x.var(axis=1, keepdims=True) + eps)
    x_hat = (x - mu) / std
    return gamma * x_hat + beta, (x_hat, std, gamma)


def _bn_backward_wrong_axis(dout, cache):
    x_hat, std, gamma = cache
    dx_hat = dout * gamma
    dx = (dx_hat - dx_hat.mean(axis=1, keepdims=True)
          - x_hat * (dx_hat * x_hat).mean(axis=1, keepdims=True)) / std
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def _bn_forward_swapped_momentum(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    d = x.shape[1]
    rm = bn_param.get("running_mean", np.zeros(d))
    rv = bn_param.get("running_var", np.zeros(d))
    if bn_param["mode"] == "train":
        mu, var = x.mean(axis=0), x.var(axis=0)
        bn_param["running_mean"] = (1 - momentum) * rm + momentum * mu
        bn_param["running_var"] = (1 - momentum) * rv + momentum * var
    else:
        mu, var = rm, rv
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x_hat, np.sqrt(var + eps), gamma)


def _bn_forward_test_batch_stats(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    d = x.shape[1]
    rm = bn_param.get("running_mean", np.zeros(d))
    rv = bn_param.get("running_var", np.zeros(d))
    mu, var = x.mean(axis=0), x.var(axis=0)
    if bn_param["mode"] == "train":
        bn_param["running_mean"] = momentum * rm + (1 - momentum) * mu
        bn_param["running_var"] = momentum * rv + (1 - momentum) * var
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x_hat, np.sqrt(var + eps), gamma)


def _bn_forward_var_starts_at_one(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    d = x.shape[1]
    rm = bn_param.get("running_mean", np.zeros(d))
    rv = bn_param.get("running_var", np.ones(d))
    if bn_param["mode"] == "train":
        mu, var = x.mean(axis=0), x.var(axis=0)
        bn_param["running_mean"] = momentum * rm + (1 - momentum) * mu
        bn_param["running_var"] = momentum * rv + (1 - momentum) * var
    else:
        mu, var = rm, rv
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x_hat, np.sqrt(var + eps), gamma)


def _bn_forward_running_unbiased(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    d = x.shape[1]
    rm = bn_param.get("running_mean", np.zeros(d))
    rv = bn_param.get("running_var", np.zeros(d))
    if bn_param["mode"] == "train":
        mu, var = x.mean(axis=0), x.var(axis=0)
        bn_param["running_mean"] = momentum * rm + (1 - momentum) * mu
        bn_param["running_var"] = momentum * rv + (1 - momentum) * x.var(axis=0, ddof=1)
    else:
        mu, var = rm, rv
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x_hat, np.sqrt(var + eps), gamma)


# --- layer norm ---------------------------------------------------------------------------


def _ln_forward_batch_axis(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    std = np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - mu) / std
    return gamma * x_hat + beta, (x_hat, std, gamma)


def _ln_backward_batch_axis(dout, cache):
    x_hat, std, gamma = cache
    dx_hat = dout * gamma
    dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / std
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def _ln_backward_no_mean_terms(dout, cache):
    x_hat, std, gamma = cache
    return dout * gamma / std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


# --- dropout ------------------------------------------------------------------------------


def _dropout_forward_unscaled(x, p, train=True):
    if not train:
        return x, (None, False)
    mask = np.random.rand(*x.shape) >= p
    return x * mask, (mask, True)


def _dropout_forward_keep_prob(x, p, train=True):
    if not train:
        return x, (None, False)
    mask = (np.random.rand(*x.shape) < p) / p
    return x * mask, (mask, True)


def _dropout_backward_new_mask(dout, cache):
    mask, train = cache
    if not train:
        return dout
    p = 1.0 - 1.0 / mask.max()
    return dout * (np.random.rand(*dout.shape) >= p) / (1.0 - p)


def _dropout_forward_always(x, p, train=True):
    mask = (np.random.rand(*x.shape) >= p) / (1.0 - p)
    return x * mask, (mask, True)


def _dropout_forward_seeded(x, p, train=True):
    if not train:
        return x, (None, False)
    mask = (np.random.default_rng(0).random(x.shape) >= p) / (1.0 - p)
    return x * mask, (mask, True)


# --- penalties ----------------------------------------------------------------------------


def _l1_gradient_w(w, reg):
    return reg * np.abs(w).sum(), reg * w


def _l1_gradient_sign_flipped(w, reg):
    return reg * np.abs(w).sum(), -reg * np.sign(w)


def _l2_without_half(w, reg):
    return reg * (w * w).sum(), 2 * reg * w


def _l2_gradient_twice(w, reg):
    return 0.5 * reg * (w * w).sum(), 2 * reg * w


def _l2_gradient_sign_flipped(w, reg):
    return 0.5 * reg * (w * w).sum(), -reg * w


# --- early stopping -----------------------------------------------------------------------


class _EarlyStoppingLessEqual:
    def __init__(self, patience=5, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best, self.counter = float("inf"), 0

    def step(self, val_loss):
        if val_loss <= self.best - self.min_delta:
            self.best, self.counter = val_loss, 0
        else:
            self.counter += 1
        return self.counter >= self.patience


class _EarlyStoppingNoDelta:
    def __init__(self, patience=5, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best, self.counter = float("inf"), 0

    def step(self, val_loss):
        if val_loss < self.best:
            self.best, self.counter = val_loss, 0
        else:
            self.counter += 1
        return self.counter >= self.patience


class _EarlyStoppingNoReset:
    def __init__(self, patience=5, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best, self.counter = float("inf"), 0

    def step(self, val_loss):
        if val_loss < self.best - self.min_delta:
            self.best = val_loss
        else:
            self.counter += 1
        return self.counter >= self.patience


class _EarlyStoppingLate:
    def __init__(self, patience=5, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best, self.counter = float("inf"), 0

    def step(self, val_loss):
        if val_loss < self.best - self.min_delta:
            self.best, self.counter = val_loss, 0
        else:
            self.counter += 1
        return self.counter > self.patience


# --- initialisers -------------------------------------------------------------------------


def _xavier_uniform_std_bound(shape, rng, gain=1.0):
    fan_in, fan_out = (shape[0], shape[1]) if len(shape) == 2 else (
        shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3])
    bound = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=tuple(shape))


def _xavier_uniform_normal(shape, rng, gain=1.0):
    fan_in, fan_out = (shape[0], shape[1]) if len(shape) == 2 else (
        shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3])
    return rng.normal(0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), size=tuple(shape))


def _xavier_normal_var_as_std(shape, rng, gain=1.0):
    fan_in, fan_out = (shape[0], shape[1]) if len(shape) == 2 else (
        shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3])
    return rng.normal(0.0, gain * 2.0 / (fan_in + fan_out), size=tuple(shape))


def _xavier_normal_no_gain(shape, rng, gain=1.0):
    fan_in, fan_out = (shape[0], shape[1]) if len(shape) == 2 else (
        shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3])
    return rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), size=tuple(shape))


def _he_normal_fan_out(shape, rng):
    _, fan_out = (shape[0], shape[1]) if len(shape) == 2 else (
        shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3])
    return rng.normal(0.0, math.sqrt(2.0 / fan_out), size=tuple(shape))


def _he_normal_global_rng(shape, rng):
    fan_in, _ = (shape[0], shape[1]) if len(shape) == 2 else (
        shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3])
    return np.random.normal(0.0, math.sqrt(2.0 / fan_in), size=tuple(shape))


def _he_uniform_fan_out(shape, rng):
    _, fan_out = (shape[0], shape[1]) if len(shape) == 2 else (
        shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3])
    bound = math.sqrt(6.0 / fan_out)
    return rng.uniform(-bound, bound, size=tuple(shape))


def _he_uniform_std_bound(shape, rng):
    fan_in, _ = (shape[0], shape[1]) if len(shape) == 2 else (
        shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3])
    bound = math.sqrt(2.0 / fan_in)
    return rng.uniform(-bound, bound, size=tuple(shape))


def _lecun_normal_swapped(shape, rng):
    fan_out, fan_in = (shape[0], shape[1]) if len(shape) == 2 else (
        shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3])
    return rng.normal(0.0, math.sqrt(1.0 / fan_in), size=tuple(shape))


def _lecun_normal_uniform(shape, rng):
    fan_in, _ = (shape[0], shape[1]) if len(shape) == 2 else (
        shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3])
    return rng.uniform(-math.sqrt(1.0 / fan_in), math.sqrt(1.0 / fan_in), size=tuple(shape))


def _orthogonal_normalised_columns(shape, rng, gain=1.0):
    rows = shape[0]
    cols = math.prod(shape[1:])
    a = rng.standard_normal((rows, cols))
    if rows >= cols:
        a = a / np.linalg.norm(a, axis=0)
    else:
        a = a / np.linalg.norm(a, axis=1, keepdims=True)
    return gain * a.reshape(tuple(shape))


def _orthogonal_no_gain(shape, rng, gain=1.0):
    rows = shape[0]
    cols = math.prod(shape[1:])
    q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return q.reshape(tuple(shape))


ALL = ("forward", "backward", "gradcheck", "stability")
GRAD = ("backward", "gradcheck", "stability")
LOSS_ALL = ("loss", "gradient", "gradcheck", "stability")
LOSS_GRAD = ("gradient", "gradcheck", "stability")
NO_MEAN_TERMS = ("batch norm's backward is missing the terms that come from the batch mean "
                 "and variance")

MUTANTS: tuple[Mutant, ...] = (
    Mutant("a5.batchnorm", "backward_no_mean_terms", NO_MEAN_TERMS, GRAD,
           {"batchnorm_backward": _bn_backward_no_mean_terms}),
    Mutant("a5.batchnorm", "unbiased_variance",
           "the batch variance divides by N - 1 (unbiased) instead of N", ALL,
           {"batchnorm_forward": _bn_forward_unbiased}),
    Mutant("a5.batchnorm", "wrong_axis",
           "batch norm normalises each example over its features (axis 1) instead of each "
           "feature over the batch (axis 0)", ALL,
           {"batchnorm_forward": _bn_forward_wrong_axis,
            "batchnorm_backward": _bn_backward_wrong_axis}),
    Mutant("a5.batchnorm_running", "momentum_swapped",
           "the running averages weight the batch statistics by momentum and the old average "
           "by 1 - momentum (swapped)", ("running",),
           {"batchnorm_forward": _bn_forward_swapped_momentum}),
    Mutant("a5.batchnorm_running", "test_uses_batch_statistics",
           "test mode normalises with the batch statistics instead of the running averages",
           ("test",), {"batchnorm_forward": _bn_forward_test_batch_stats}),
    Mutant("a5.batchnorm_running", "running_var_starts_at_one",
           "the running variance starts from ones (as PyTorch) where this course starts both "
           "running averages from zeros", ("running",),
           {"batchnorm_forward": _bn_forward_var_starts_at_one}),
    Mutant("a5.batchnorm_running", "running_var_unbiased",
           "the running variance averages the unbiased (N - 1) batch variance (as PyTorch) "
           "instead of the biased one", ("running",),
           {"batchnorm_forward": _bn_forward_running_unbiased}),
    Mutant("a5.layernorm", "batch_axis",
           "layer norm normalises each feature over the batch (axis 0) instead of each "
           "example over its features (axis 1)", ALL,
           {"layernorm_forward": _ln_forward_batch_axis,
            "layernorm_backward": _ln_backward_batch_axis}),
    Mutant("a5.layernorm", "backward_no_mean_terms",
           "layer norm's backward is missing the terms that come from the row mean and "
           "variance", GRAD, {"layernorm_backward": _ln_backward_no_mean_terms}),
    Mutant("a5.dropout", "unscaled", ex.M_UNSCALED, ("scaling",),
           {"dropout_forward": _dropout_forward_unscaled}),
    Mutant("a5.dropout", "keep_probability", ex.M_KEEP, ("scaling", "rate"),
           {"dropout_forward": _dropout_forward_keep_prob}),
    Mutant("a5.dropout", "new_mask_in_backward", ex.M_NEW_MASK, ("backward",),
           {"dropout_backward": _dropout_backward_new_mask}),
    Mutant("a5.dropout", "applied_at_test_time", ex.M_TEST, ("test",),
           {"dropout_forward": _dropout_forward_always}),
    Mutant("a5.dropout", "same_mask_every_call", ex.M_SAME, ("fresh",),
           {"dropout_forward": _dropout_forward_seeded}),
    Mutant("a5.l1_penalty", "gradient_w", "the L1 gradient is reg * w instead of "
           "reg * sign(w)", LOSS_GRAD, {"l1_penalty": _l1_gradient_w}),
    Mutant("a5.l1_penalty", "gradient_sign", "the L1 gradient has the wrong sign",
           LOSS_GRAD, {"l1_penalty": _l1_gradient_sign_flipped}),
    Mutant("a5.l2_penalty", "gradient_twice", "the L2 gradient is 2 * reg * w: the 0.5 of the "
           "penalty cancels the 2 of the derivative", LOSS_GRAD,
           {"l2_penalty": _l2_gradient_twice}),
    Mutant("a5.l2_penalty", "without_half", "the L2 penalty is reg * sum(w**2), missing the "
           "0.5 of 0.5 * reg * sum(w**2)", LOSS_ALL, {"l2_penalty": _l2_without_half}),
    Mutant("a5.l2_penalty", "gradient_sign", "the L2 gradient has the wrong sign", LOSS_GRAD,
           {"l2_penalty": _l2_gradient_sign_flipped}),
    *(Mutant("a5.early_stopping", variant, mistake, ("decisions",),
             {"EarlyStopping": cls})
      for (mistake, variant), cls in zip(
          ex.ES_MISTAKES.items(),
          (_EarlyStoppingLessEqual, _EarlyStoppingNoDelta, _EarlyStoppingNoReset,
           _EarlyStoppingLate), strict=True)),
    Mutant("a5.xavier_uniform", "std_as_bound", ex.M_STD_AS_BOUND,
           ("variance", "distribution"), {"xavier_uniform": _xavier_uniform_std_bound}),
    Mutant("a5.xavier_uniform", "normal", ex.M_NOT_UNIFORM, ("distribution",),
           {"xavier_uniform": _xavier_uniform_normal}),
    Mutant("a5.xavier_normal", "variance_as_std", ex.M_VAR_AS_STD, ("variance",),
           {"xavier_normal": _xavier_normal_var_as_std}),
    Mutant("a5.xavier_normal", "no_gain", ex.M_NO_GAIN, ("variance",),
           {"xavier_normal": _xavier_normal_no_gain}),
    Mutant("a5.he_normal", "fan_out", ex.M_FAN_OUT, ("variance",),
           {"he_normal": _he_normal_fan_out}),
    Mutant("a5.he_normal", "global_rng", ex.M_NO_RNG, ("seeded",),
           {"he_normal": _he_normal_global_rng}),
    Mutant("a5.he_uniform", "fan_out", ex.M_FAN_OUT, ("variance", "distribution"),
           {"he_uniform": _he_uniform_fan_out}),
    Mutant("a5.he_uniform", "std_as_bound", ex.M_STD_AS_BOUND, ("variance", "distribution"),
           {"he_uniform": _he_uniform_std_bound}),
    Mutant("a5.lecun_normal", "fans_swapped", ex.M_FAN_OUT, ("variance",),
           {"lecun_normal": _lecun_normal_swapped}),
    Mutant("a5.lecun_normal", "uniform", ex.M_NOT_NORMAL, ("variance", "distribution"),
           {"lecun_normal": _lecun_normal_uniform}),
    Mutant("a5.orthogonal", "normalised_columns", ex.M_NOT_ORTHOGONAL, ("orthogonal",),
           {"orthogonal": _orthogonal_normalised_columns}),
    Mutant("a5.orthogonal", "no_gain", ex.M_NO_GAIN, ("orthogonal",),
           {"orthogonal": _orthogonal_no_gain}),
)
