"""A2 exercise specs: eleven losses, each returning ``(loss, dinput)``.

Samplers are built from a few shared pieces. Every case is drawn so that the checks that
matter can always see a mistake, whatever the seed and shape:

* standard cases keep every input at least ``GAP`` away from the loss's kinks (|r| = 0 for
  MAE, |r| = delta for every graded Huber delta, s_j - s_y + margin = 0 for every graded hinge
  margin), and hit both branches of piecewise losses;
* MAE cases also hold a few exact zeros of the residual, where the subgradient must be 0;
* huge (stability) cases span magnitudes from 0.1 to 1e3, both signs, and always contain +1e3
  and -1e3 (hinge scores: rows spread wide and shifted by up to 1e3); losses of probabilities
  (bce, nll, kl_div) have no stability case;
* binary targets always contain both 0 and 1; KL targets always contain exact zeros.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from dlgrade.authoring import Exercise, Sampler

from . import oracles

#: Distance kept between standard-case inputs and any kink.
GAP = 1e-2
#: Hyper-parameter values graded (the first is the default), shared with the samplers that
#: must avoid their kinks.
HUBER_DELTAS = (1.0, 0.5, 2.0)
HINGE_MARGINS = (1.0, 0.5, 2.0)
#: Largest magnitude of a stability case.
HUGE = 1e3

#: Element-wise losses take "any shape" and a hidden case is (3, 4, 6): a public 3-D case
#: too, so that every promise the hidden cases test is tested in public first.
ELEMENTWISE_PUBLIC = ((4, 5), (2, 3, 4))
CLASSIFICATION_PUBLIC = ((4, 5),)
CLASSIFICATION_HIDDEN = ((1, 3), (16, 10))

#: ``draw(rng, shape, huge) -> array``: one input array of a case.
Draw = Callable[[np.random.Generator, tuple[int, ...], bool], np.ndarray]


# --- building blocks -----------------------------------------------------------------------


def _values(rng: np.random.Generator, shape: tuple[int, ...], huge: bool) -> np.ndarray:
    """Signed values with stratified magnitudes, so even a small case covers the range.

    Standard: magnitudes spread over [0, 3.5) (one draw in each of n equal strata).
    Huge: magnitudes log-spread over [0.1, 1e3), and the two largest set to +1e3 and -1e3.
    """
    n = math.prod(shape)
    u = (rng.permutation(n) + rng.random(n)) / n
    sign = rng.choice((-1.0, 1.0), size=n)
    if not huge:
        return (sign * 3.5 * u).reshape(shape)
    magnitude = 10.0 ** (u * (math.log10(HUGE) + 1.0) - 1.0)
    top = np.argsort(magnitude)[-2:]
    magnitude[top] = HUGE
    sign[top] = (-1.0, 1.0)[-top.size :]
    return (sign * magnitude).reshape(shape)


def _avoid(values: np.ndarray, kinks: tuple[float, ...]) -> np.ndarray:
    """``values`` with every entry within GAP of a kink moved 5 GAP to its right."""
    values = values.copy()
    for kink in kinks:
        values[np.abs(values - kink) < GAP] += 5 * GAP
    return values


def _binary_targets(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Mostly exact 0s and 1s (both always present when n >= 2), a quarter soft targets."""
    n = math.prod(shape)
    kind = rng.permutation(n) % 4
    target = (kind == 1).astype(np.float64)
    soft = kind == 3
    target[soft] = rng.uniform(0.1, 0.9, size=int(soft.sum()))
    return target.reshape(shape)


def _labels(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    n, c = shape
    return rng.integers(0, c, size=n, dtype=np.int64)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# --- sampler factories ---------------------------------------------------------------------


def _residuals(kinks: tuple[float, ...] = (), zeros: bool = False) -> Draw:
    """Draws pred - target from :func:`_values`, off the kinks in standard cases; with
    ``zeros``, the quarter of the entries closest to 0 (at least one) are set exactly to 0."""

    def residual(rng: np.random.Generator, shape: tuple[int, ...], huge: bool) -> np.ndarray:
        r = _values(rng, shape, huge)
        if not huge:
            r = _avoid(r, kinks)
        if zeros:
            flat = r.reshape(-1)
            flat[np.argsort(np.abs(flat))[: max(1, flat.size // 4)]] = 0.0
        return r

    return residual


def _regression(residual: Draw) -> Sampler:
    """``{"pred", "target"}`` with pred - target drawn by ``residual`` (exactly 0 where the
    residual is 0)."""

    def sample(rng, shape, huge):
        target = rng.normal(size=shape)
        return {"pred": target + residual(rng, shape, huge), "target": target}

    return sample


def _probabilities(rng: np.random.Generator, shape: tuple[int, ...], huge: bool) -> np.ndarray:
    """Probabilities in [0.05, 0.95] (bounded: there is no huge variant)."""
    return rng.uniform(0.05, 0.95, size=shape)


def _binary(first: str, draw: Draw) -> Sampler:
    """``{first, "target"}``: ``first`` drawn by ``draw``, targets by :func:`_binary_targets`."""

    def sample(rng, shape, huge):
        return {first: draw(rng, shape, huge), "target": _binary_targets(rng, shape)}

    return sample


def _labelled(first: str, transform: Callable[[np.ndarray], np.ndarray] = np.asarray) -> Sampler:
    """``{first, "y"}``: ``transform`` of (N, C) values from :func:`_values`, int64 labels."""

    def sample(rng, shape, huge):
        return {first: transform(_values(rng, shape, huge)), "y": _labels(rng, shape)}

    return sample


def _sample_kl(rng, shape, huge):
    """log q: log-softmax rows; p: softmax rows with C // 3 exact zeros each, renormalised."""
    c = shape[1]
    log_q = _log_softmax(_values(rng, shape, huge=False))
    p = np.exp(_log_softmax(rng.normal(size=shape)))
    p[np.argsort(rng.random(shape), axis=1) < c // 3] = 0.0
    return {"log_q": log_q, "p": p / p.sum(axis=1, keepdims=True)}


def _sample_hinge(rng, shape, huge):
    """Scores where, in every row and for every graded margin, one wrong class violates the
    margin and one (C >= 3) clears it; every margin term is at least GAP away from 0. Huge
    cases spread the scores 100 times wider and shift each row by up to 1e3 (both signs)."""
    n, c = shape
    rows = np.arange(n)
    order = np.argsort(rng.random(shape), axis=1)
    y = order[:, 0].astype(np.int64)
    scale = 100.0 if huge else 1.0
    scores = scale * _values(rng, shape, huge=False)
    true = scores[rows, y]
    scores[rows, order[:, 1]] = true + scale * rng.uniform(0.1, 0.4, size=n)
    if c >= 3:
        scores[rows, order[:, 2]] = true - scale * rng.uniform(2.5, 3.5, size=n)
    # s_j - s_y + m = 0 is a kink for every graded margin m; s_y itself is never moved.
    diff = _avoid(scores - true[:, None], tuple(-m for m in HINGE_MARGINS))
    diff[rows, y] = 0.0
    scores = true[:, None] + diff
    if huge:
        scores += _values(rng, (n, 1), huge=True)
    return {"scores": scores, "y": y}


# --- exercises -----------------------------------------------------------------------------


def _loss(
    name: str,
    title: str,
    inputs: tuple[str, str],
    sample: Sampler,
    oracle,
    hint: str,
    extra_params: tuple[dict, ...] = (),
    classification: bool = False,
    **options,
) -> Exercise:
    """The exercise ``a2.<name>`` for ``<name>_loss(*inputs)``, differentiated with respect to
    its first input and graded with the defaults, ``reduction="sum"``, then ``extra_params``."""
    shapes = {"public_shapes": ELEMENTWISE_PUBLIC}
    if classification:
        shapes = {"public_shapes": CLASSIFICATION_PUBLIC, "hidden_shapes": CLASSIFICATION_HIDDEN}
    return Exercise(
        id=f"a2.{name}",
        title=title,
        module="losses",
        kind="loss",
        functions=(f"{name}_loss",),
        inputs=inputs,
        wrt=inputs[:1],
        sample=sample,
        params=({}, {"reduction": "sum"}, *extra_params),
        oracle=oracle,
        hint=hint,
        **shapes,
        **options,
    )


EXERCISES: tuple[Exercise, ...] = (
    _loss(
        "mse",
        "Mean squared error",
        ("pred", "target"),
        _regression(_residuals()),
        oracles.mse,
        "Differentiate (pred - target)^2 and remember what the mean divides by.",
    ),
    _loss(
        "mae",
        "Mean absolute error",
        ("pred", "target"),
        _regression(_residuals(kinks=(0.0,), zeros=True)),
        oracles.mae,
        "The derivative of |r| is sign(r); what should it be where r is exactly 0?",
    ),
    _loss(
        "huber",
        "Huber loss",
        ("pred", "target"),
        _regression(_residuals(kinks=tuple(s * d for d in HUBER_DELTAS for s in (-1, 1)))),
        oracles.huber,
        "Check both branches at |r| = delta: the loss and its slope must join up.",
        extra_params=tuple({"delta": d} for d in HUBER_DELTAS[1:]),
    ),
    _loss(
        "log_cosh",
        "Log-cosh loss",
        ("pred", "target"),
        _regression(_residuals()),
        oracles.log_cosh,
        "cosh(r) overflows for |r| > 710: rewrite log(cosh(r)) around |r|.",
    ),
    _loss(
        "bce",
        "Binary cross-entropy",
        ("prob", "target"),
        _binary("prob", _probabilities),
        oracles.bce,
        "Both terms of the loss depend on prob: differentiate each of them.",
        stable=False,
    ),
    _loss(
        "bce_with_logits",
        "Binary cross-entropy with logits",
        ("logits", "target"),
        _binary("logits", _values),
        oracles.bce_with_logits,
        "Never evaluate exp of a large positive number; the gradient is simpler than it looks.",
    ),
    _loss(
        "softmax_cross_entropy",
        "Softmax cross-entropy",
        ("logits", "y"),
        _labelled("logits"),
        oracles.softmax_cross_entropy,
        "Shift each row by its maximum first; the gradient is softmax minus something.",
        classification=True,
        points=3.0,
    ),
    _loss(
        "nll",
        "Negative log-likelihood",
        ("log_probs", "y"),
        _labelled("log_probs", _log_softmax),
        oracles.nll,
        "Pick one entry per row, the one at (i, y[i]); only those entries get a gradient.",
        classification=True,
        stable=False,
    ),
    _loss(
        "kl_div",
        "KL divergence",
        ("log_q", "p"),
        _sample_kl,
        oracles.kl_div,
        "Entries with p = 0 contribute nothing; batchmean divides by the rows only.",
        classification=True,
        stable=False,
        points=3.0,
    ),
    _loss(
        "multiclass_hinge",
        "Multiclass hinge (SVM) loss",
        ("scores", "y"),
        _sample_hinge,
        oracles.multiclass_hinge,
        "Skip j = y in the sum; the true class's score appears in every violated term.",
        extra_params=tuple({"margin": m} for m in HINGE_MARGINS[1:]),
        classification=True,
        points=3.0,
    ),
    _loss(
        "binary_focal",
        "Binary focal loss",
        ("logits", "target"),
        _binary("logits", _values),
        oracles.binary_focal,
        "The factor (1 - p_t)^gamma depends on the logits too: use the product rule.",
        extra_params=({"gamma": 0.0}, {"gamma": 1.5, "alpha": 0.5}),
        points=3.0,
    ),
)
