"""Known-bad variants of reference/activations.py: realistic student mistakes.

The grader builds a mutant submission by appending a replacement's source to the reference
module's source, then binding the student-facing name to it. So each replacement below uses
only ``np``, ``math`` and builtins, has the signature of the function it replaces, and a
replaced backward reads the cache of the reference forward (or of the mutant's own forward
when the mutant replaces both).

``fails`` lists exactly the checks a mutant fails. Checks run on all parameter sets; a mutant
that is wrong only for a non-default ``alpha`` fails ``stability`` through that set.
"""

from __future__ import annotations

import math

import numpy as np
from dlgrade.authoring import Mutant

# --- sigmoid (reference cache: out) -----------------------------------------------------


def _sigmoid_forward_keeps_x(x):
    z = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
    return out, x


def _sigmoid_backward_from_x(dout, cache):
    x = cache
    return dout * x * (1.0 - x)


def _sigmoid_forward_exp_ratio(x):
    out = np.exp(x) / (1.0 + np.exp(x))
    return out, out


# --- tanh (reference cache: out) --------------------------------------------------------


def _tanh_forward_keeps_x(x):
    return np.tanh(x), x


def _tanh_backward_from_x(dout, cache):
    x = cache
    return dout * (1.0 - x**2)


def _tanh_forward_exp_formula(x):
    out = (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))
    return out, out


# --- relu (reference cache: x) ----------------------------------------------------------


def _relu_backward_passes_all(dout, cache):
    return dout


def _relu_backward_flipped_mask(dout, cache):
    x = cache
    return dout * (x < 0)


# --- leaky_relu (reference cache: (x, alpha)) -------------------------------------------


def _leaky_relu_forward_fixed_slope(x, alpha=0.01):
    out = np.where(x > 0, x, 0.01 * x)
    return out, (x, 0.01)


def _leaky_relu_backward_zero_slope(dout, cache):
    x, alpha = cache
    return np.where(x > 0, dout, 0.0)


# --- elu (reference cache: (x, alpha)) --------------------------------------------------


def _elu_backward_uses_out(dout, cache):
    x, alpha = cache
    return np.where(x > 0, dout, dout * alpha * np.expm1(np.minimum(x, 0.0)))


def _elu_backward_forgets_alpha(dout, cache):
    x, alpha = cache
    return np.where(x > 0, dout, dout * np.exp(np.minimum(x, 0.0)))


def _elu_forward_missing_minus_one(x, alpha=1.0):
    out = np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0.0)))
    return out, (x, alpha)


# --- selu (reference cache: x) ----------------------------------------------------------


def _selu_backward_missing_scale(dout, cache):
    x = cache
    alpha = 1.6732632423543772848170429916717
    return dout * np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def _selu_forward_rounded(x):
    out = 1.0507 * np.where(x > 0, x, 1.6733 * np.expm1(np.minimum(x, 0.0)))
    return out, x


def _selu_backward_rounded(dout, cache):
    x = cache
    return dout * 1.0507 * np.where(x > 0, 1.0, 1.6733 * np.exp(np.minimum(x, 0.0)))


# --- softplus (reference cache: x) ------------------------------------------------------


def _softplus_forward_naive(x):
    return np.log(1.0 + np.exp(x)), x


def _softplus_backward_tanh(dout, cache):
    x = cache
    return dout * np.tanh(x)


# --- gelu (reference cache: (x, Phi(x))) ------------------------------------------------


def _gelu_forward_tanh_approx(x):
    k = math.sqrt(2.0 / math.pi)
    t = np.tanh(k * (x + 0.044715 * x**3))
    return 0.5 * x * (1.0 + t), x


def _gelu_backward_tanh_approx(dout, cache):
    x = cache
    k = math.sqrt(2.0 / math.pi)
    t = np.tanh(k * (x + 0.044715 * x**3))
    return dout * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t**2) * k * (1.0 + 3 * 0.044715 * x**2))


def _gelu_backward_cdf_only(dout, cache):
    x, cdf = cache
    return dout * cdf


# --- silu (reference cache: (x, sigmoid(x))) --------------------------------------------


def _silu_backward_sigmoid_only(dout, cache):
    x, sig = cache
    return dout * sig


def _silu_backward_missing_sigmoid_term(dout, cache):
    x, sig = cache
    return dout * x * sig * (1.0 - sig)


# --- mish (reference cache: (x, tanh(softplus(x)), sigmoid(x))) -------------------------


def _mish_backward_missing_product_term(dout, cache):
    x, t, sig = cache
    return dout * t


def _mish_backward_missing_softplus_derivative(dout, cache):
    x, t, sig = cache
    return dout * (t + x * (1.0 - t**2))


# --- softmax (reference cache: out) -----------------------------------------------------


def _softmax_forward_no_shift(x):
    e = np.exp(x)
    out = e / np.sum(e, axis=-1, keepdims=True)
    return out, out


def _softmax_forward_axis0(x):
    e = np.exp(x - np.max(x, axis=0, keepdims=True))
    out = e / np.sum(e, axis=0, keepdims=True)
    return out, out


def _softmax_backward_axis0(dout, cache):
    out = cache
    return out * (dout - np.sum(dout * out, axis=0, keepdims=True))


def _softmax_backward_diagonal(dout, cache):
    out = cache
    return dout * out * (1.0 - out)


# --- log_softmax (reference cache: out) -------------------------------------------------


def _log_softmax_forward_log_of_softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    out = np.log(e / np.sum(e, axis=-1, keepdims=True))
    return out, out


def _log_softmax_backward_missing_row_sum(dout, cache):
    out = cache
    return dout - np.exp(out)


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        exercise="a1.sigmoid",
        name="backward-from-x",
        mistake="sigmoid_backward computes out * (1 - out) with x in place of out = sigmoid(x)",
        fails=("backward", "gradcheck", "stability"),
        functions={
            "sigmoid_forward": _sigmoid_forward_keeps_x,
            "sigmoid_backward": _sigmoid_backward_from_x,
        },
    ),
    Mutant(
        exercise="a1.sigmoid",
        name="exp-overflow",
        mistake="sigmoid_forward computes exp(x) / (1 + exp(x)), which is inf / inf = NaN "
        "for large x: use a form in which exp never sees a large positive number",
        fails=("stability",),
        functions={"sigmoid_forward": _sigmoid_forward_exp_ratio},
    ),
    Mutant(
        exercise="a1.tanh",
        name="backward-from-x",
        mistake="tanh_backward computes 1 - x**2 instead of 1 - tanh(x)**2",
        fails=("backward", "gradcheck", "stability"),
        functions={"tanh_forward": _tanh_forward_keeps_x, "tanh_backward": _tanh_backward_from_x},
    ),
    Mutant(
        exercise="a1.tanh",
        name="exp-overflow",
        mistake="tanh_forward computes (exp(x) - exp(-x)) / (exp(x) + exp(-x)), which is "
        "inf / inf = NaN for large |x|: use np.tanh",
        fails=("stability",),
        functions={"tanh_forward": _tanh_forward_exp_formula},
    ),
    Mutant(
        exercise="a1.relu",
        name="backward-passes-all",
        mistake="relu_backward passes dout through everywhere; it must be 0 where x <= 0",
        fails=("backward", "gradcheck", "stability"),
        functions={"relu_backward": _relu_backward_passes_all},
    ),
    Mutant(
        exercise="a1.relu",
        name="backward-flipped-mask",
        mistake="relu_backward lets the gradient through where x < 0 instead of where x > 0",
        fails=("backward", "gradcheck", "stability"),
        functions={"relu_backward": _relu_backward_flipped_mask},
    ),
    Mutant(
        exercise="a1.leaky_relu",
        name="ignores-alpha",
        mistake="leaky_relu ignores its alpha argument and always uses the slope 0.01",
        fails=("forward", "backward", "gradcheck", "stability"),
        functions={"leaky_relu_forward": _leaky_relu_forward_fixed_slope},
    ),
    Mutant(
        exercise="a1.leaky_relu",
        name="backward-zero-slope",
        mistake="leaky_relu_backward returns 0 where x <= 0, like ReLU, instead of alpha * dout",
        fails=("backward", "gradcheck", "stability"),
        functions={"leaky_relu_backward": _leaky_relu_backward_zero_slope},
    ),
    Mutant(
        exercise="a1.elu",
        name="backward-uses-out",
        mistake="elu_backward uses alpha * (exp(x) - 1) (the output) as the derivative for "
        "x <= 0; the derivative is alpha * exp(x)",
        fails=("backward", "gradcheck", "stability"),
        functions={"elu_backward": _elu_backward_uses_out},
    ),
    Mutant(
        exercise="a1.elu",
        name="backward-forgets-alpha",
        mistake="elu_backward uses exp(x) for x <= 0 and forgets the factor alpha",
        fails=("backward", "gradcheck", "stability"),
        functions={"elu_backward": _elu_backward_forgets_alpha},
    ),
    Mutant(
        exercise="a1.elu",
        name="forward-missing-minus-one",
        mistake="elu_forward computes alpha * exp(x) for x <= 0, forgetting the - 1 in "
        "alpha * (exp(x) - 1)",
        fails=("forward", "gradcheck", "stability"),
        functions={"elu_forward": _elu_forward_missing_minus_one},
    ),
    Mutant(
        exercise="a1.selu",
        name="backward-missing-scale",
        mistake="selu_backward forgets to multiply the derivative by scale",
        fails=("backward", "gradcheck", "stability"),
        functions={"selu_backward": _selu_backward_missing_scale},
    ),
    Mutant(
        exercise="a1.selu",
        name="rounded-constants",
        mistake="selu uses rounded constants (1.6733, 1.0507): use every digit given in the "
        "docstring",
        # Only the forward is wrong (slightly): the backward is the exact derivative of this
        # forward, so the backward, gradcheck and stability checks keep their credit.
        fails=("forward",),
        functions={"selu_forward": _selu_forward_rounded, "selu_backward": _selu_backward_rounded},
    ),
    Mutant(
        exercise="a1.softplus",
        name="naive-overflow",
        mistake="softplus_forward computes log(1 + exp(x)) directly, which overflows to inf "
        "for large x: use max(x, 0) + log1p(exp(-|x|))",
        fails=("stability",),
        functions={"softplus_forward": _softplus_forward_naive},
    ),
    Mutant(
        exercise="a1.softplus",
        name="backward-tanh",
        mistake="softplus_backward uses tanh(x) as the derivative; the derivative of softplus "
        "is sigmoid(x)",
        fails=("backward", "gradcheck", "stability"),
        functions={"softplus_backward": _softplus_backward_tanh},
    ),
    Mutant(
        exercise="a1.gelu",
        name="tanh-approximation",
        mistake="gelu uses the tanh approximation 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + "
        "0.044715 x^3))); the exercise asks for the exact form x * Phi(x) with erf",
        fails=("forward", "backward", "gradcheck", "stability"),
        functions={
            "gelu_forward": _gelu_forward_tanh_approx,
            "gelu_backward": _gelu_backward_tanh_approx,
        },
    ),
    Mutant(
        exercise="a1.gelu",
        name="backward-cdf-only",
        mistake="gelu_backward returns Phi(x) only and misses the product-rule term x * phi(x)",
        fails=("backward", "gradcheck", "stability"),
        functions={"gelu_backward": _gelu_backward_cdf_only},
    ),
    Mutant(
        exercise="a1.silu",
        name="backward-sigmoid-only",
        mistake="silu_backward returns sigmoid(x) only and misses the product-rule term "
        "x * sigmoid'(x)",
        fails=("backward", "gradcheck", "stability"),
        functions={"silu_backward": _silu_backward_sigmoid_only},
    ),
    Mutant(
        exercise="a1.silu",
        name="backward-missing-sigmoid-term",
        mistake="silu_backward returns x * sigmoid'(x) only and misses the product-rule term "
        "sigmoid(x)",
        fails=("backward", "gradcheck", "stability"),
        functions={"silu_backward": _silu_backward_missing_sigmoid_term},
    ),
    Mutant(
        exercise="a1.mish",
        name="backward-missing-product-term",
        mistake="mish_backward returns tanh(softplus(x)) only and misses the product-rule "
        "term x * d/dx tanh(softplus(x))",
        fails=("backward", "gradcheck", "stability"),
        functions={"mish_backward": _mish_backward_missing_product_term},
    ),
    Mutant(
        exercise="a1.mish",
        name="backward-missing-softplus-derivative",
        mistake="mish_backward stops the chain rule at tanh and misses the factor "
        "softplus'(x) = sigmoid(x)",
        fails=("backward", "gradcheck", "stability"),
        functions={"mish_backward": _mish_backward_missing_softplus_derivative},
    ),
    Mutant(
        exercise="a1.softmax",
        name="no-max-shift",
        mistake="softmax_forward takes exp(x) without subtracting the row max first, which "
        "overflows (NaN) for large x",
        fails=("stability",),
        functions={"softmax_forward": _softmax_forward_no_shift},
    ),
    Mutant(
        exercise="a1.softmax",
        name="wrong-axis",
        mistake="softmax normalises over axis 0 instead of the last axis",
        fails=("forward", "backward", "gradcheck", "stability"),
        functions={
            "softmax_forward": _softmax_forward_axis0,
            "softmax_backward": _softmax_backward_axis0,
        },
    ),
    Mutant(
        exercise="a1.softmax",
        name="backward-diagonal-only",
        mistake="softmax_backward uses only the diagonal of the Jacobian, out * (1 - out) * "
        "dout, and misses that every output depends on every input of its row",
        fails=("backward", "gradcheck", "stability"),
        functions={"softmax_backward": _softmax_backward_diagonal},
    ),
    Mutant(
        exercise="a1.log_softmax",
        name="log-of-softmax",
        mistake="log_softmax_forward computes log(softmax(x)), which is log(0) = -inf once a "
        "probability underflows: compute x - logsumexp(x)",
        fails=("stability",),
        functions={"log_softmax_forward": _log_softmax_forward_log_of_softmax},
    ),
    Mutant(
        exercise="a1.log_softmax",
        name="backward-missing-row-sum",
        mistake="log_softmax_backward computes dout - softmax(x) and misses the factor "
        "sum_j dout[..., j] on softmax(x)",
        fails=("backward", "gradcheck", "stability"),
        functions={"log_softmax_backward": _log_softmax_backward_missing_row_sum},
    ),
)
