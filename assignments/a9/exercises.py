"""A9 exercise specs: the VAE's reparameterization trick, Gaussian KL and reconstruction
losses, and the GAN's discriminator and generator losses (../../shared/CURRICULUM.md, "A9").

Kinds:

* ``reparameterize`` is a layer (``reparameterize_forward/backward``): eps is an input that is
  not differentiated, so the layer is deterministic.
* ``bce_reconstruction``, ``mse_reconstruction`` and ``generator_loss`` are losses (one
  differentiable input).
* ``gaussian_kl`` and ``discriminator_loss`` return a gradient for EACH of their two inputs,
  ``(loss, dfirst, dsecond)``, which the engine's ``"loss"`` kind cannot grade (it takes
  ``(loss, dinput)`` with respect to ``wrt[0]`` only). They are program exercises: one call,
  its three results observed (checks ``loss`` and ``gradients``), the loss at perturbed copies
  of each input for a ``gradcheck`` of the student's own loss (``finite_difference``
  properties), and, for the discriminator, a public stability scenario with logits up to
  1e3 (check ``stability``).

Every case is a pure function of the exercise id (``seed_for``); hidden ones also of the
course secret. Nothing here has a kink: every formula is smooth on the inputs drawn.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from dlgrade.authoring import (
    Exercise,
    Scenario,
    Step,
    finite_difference_property,
    gradcheck,
    seed_for,
)

from . import oracles

#: Largest magnitude of a stability case.
HUGE = 1e3
#: Entries of each input perturbed by a program exercise's gradient check.
PROBES = 8
FD_EPS = gradcheck.settings_for(np.float64).eps

VAE_PUBLIC = ((4, 5), (2, 3, 4))
VAE_HIDDEN = ((1, 7), (3, 2, 2, 3), (8, 6))
REDUCTIONS = ({}, {"reduction": "sum"}, {"reduction": "mean"})


def _spread(rng: np.random.Generator, shape: tuple[int, ...], low: float, high: float
            ) -> np.ndarray:
    """Stratified draws in [low, high): even a small case covers the range."""
    n = math.prod(shape)
    u = (rng.permutation(n) + rng.random(n)) / n
    return (low + (high - low) * u).reshape(shape)


def _huge(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Signed magnitudes log-spread over [0.1, 1e3), the first entry +1e3 and the last -1e3."""
    n = math.prod(shape)
    magnitude = 10.0 ** _spread(rng, (n,), -1.0, math.log10(HUGE))
    values = rng.choice((-1.0, 1.0), size=n) * magnitude
    values[0], values[-1] = HUGE, -HUGE
    return values.reshape(shape)


# --- reparameterize (layer) ----------------------------------------------------------------


def sample_reparameterize(rng: np.random.Generator, shape: tuple[int, ...], huge: bool):
    """mu ~ N(0, 1.5^2); logvar in [-3, 2) (std from 0.22 to 2.7, so logvar used as the std
    is visible); eps ~ N(0, 1). Huge: logvar log-spread up to +-1e3 (std = exp(500) is finite,
    exp(1000) is not)."""
    mu = 1.5 * rng.normal(size=shape)
    logvar = _huge(rng, shape) if huge else _spread(rng, shape, -3.0, 2.0)
    return {"mu": mu, "logvar": logvar, "eps": rng.normal(size=shape)}


# --- reconstruction losses -----------------------------------------------------------------


def _binary_targets(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Mostly exact 0s and 1s (both present), a quarter soft targets (grey pixels)."""
    n = math.prod(shape)
    kind = rng.permutation(n) % 4
    target = (kind == 1).astype(np.float64)
    soft = kind == 3
    target[soft] = rng.uniform(0.1, 0.9, size=int(soft.sum()))
    return target.reshape(shape)


def sample_bce(rng: np.random.Generator, shape: tuple[int, ...], huge: bool):
    """Probabilities in [0.05, 0.95]. Huge (a saturated decoder): a third of the entries
    exactly 0 or 1, a third within 1e-20 to 1e-300 of 0 (log clamped at -100), the rest
    moderate; targets mixed, so both clamps and the 1e-12 floor of the gradient are hit."""
    target = _binary_targets(rng, shape)
    if not huge:
        return {"prob": rng.uniform(0.05, 0.95, size=shape), "target": target}
    n = math.prod(shape)
    kind = rng.permutation(n) % 3
    prob = rng.uniform(0.05, 0.95, size=n)
    exact = kind == 0
    prob[exact] = rng.integers(0, 2, size=int(exact.sum()))
    tiny = kind == 1
    prob[tiny] = 10.0 ** -rng.uniform(20.0, 300.0, size=int(tiny.sum()))
    prob[:2] = (0.0, 1.0)
    flat = target.reshape(-1)
    flat[:2] = (1.0, 0.0)  # each exact extreme against the opposite target: the clamp counts
    return {"prob": prob.reshape(shape), "target": target}


def sample_mse(rng: np.random.Generator, shape: tuple[int, ...], huge: bool):
    target = rng.uniform(0.0, 1.0, size=shape)
    return {"pred": target + rng.normal(scale=0.7, size=shape), "target": target}


# --- generator loss ------------------------------------------------------------------------


def sample_logits(rng: np.random.Generator, shape: tuple[int, ...], huge: bool):
    """Logits in [-4, 4) (both signs); huge: log-spread up to +-1e3."""
    name = "fake_logits"
    if huge:
        return {name: _huge(rng, shape)}
    return {name: _spread(rng, shape, -4.0, 4.0)}


# --- two-gradient losses (programs) --------------------------------------------------------


def _two_gradient_scenarios(exercise_id: str, function: str, names: tuple[str, str],
                            plans, sample) -> tuple[Scenario, ...]:
    """One scenario per plan ``(hidden, shapes, kwargs, huge)``: a call observed as
    ``loss``, ``d<first>`` and ``d<second>``; unless huge, the loss at perturbed copies of
    each input (the student's own finite differences, check ``gradcheck``)."""
    found = []
    counters = {"public": 0, "hidden": 0, "stability": 0}
    for number, (secret, shapes, kwargs, huge) in enumerate(plans):
        kind = "stability" if huge else ("hidden" if secret else "public")
        counters[kind] += 1
        rng = seed_for(exercise_id, number, hidden=secret)
        args = sample(rng, shapes, huge)
        grads = tuple(f"d{n}" for n in names)
        steps = [Step(function, args, dict(kwargs) or None)]
        observe: dict[str, tuple[int, tuple[Any, ...]]] = {
            "loss": (0, (0, "float")), grads[0]: (0, (1,)), grads[1]: (0, (2,))}
        properties = []
        if not huge:
            for position, (name, grad) in enumerate(zip(names, grads, strict=True)):
                picked = gradcheck.sample_indices(args[position].shape, PROBES, rng)
                moves = gradcheck.points(args[position].shape, picked, FD_EPS)
                steps.append(Step(function, args, dict(kwargs) or None,
                                  perturb=(position, moves), pick=0))
                probes = f"loss at perturbed {name}"
                observe[probes] = (len(steps) - 1, ())
                properties.append(finite_difference_property(
                    "gradcheck", "loss", grad, probes, picked, FD_EPS, function))
        compare = ({"stability": ("loss", *grads)} if huge else
                   {"loss": ("loss",), "gradients": grads})
        about = ", ".join([f"{n} of shape {a.shape}" for n, a in zip(names, args, strict=True)]
                          + [f"{k}={v!r}" for k, v in kwargs.items()]
                          + (["|logits| up to 1e3"] if huge else []))
        found.append(Scenario(
            label=f"{kind} case {counters[kind]}", about=f"({about})", hidden=secret,
            steps=tuple(steps), observe=observe, compare=compare,
            properties=tuple(properties), inputs={names[0]: args[0]}))
    return tuple(found)


def _sample_kl(rng: np.random.Generator, shapes, huge: bool):
    (shape,) = shapes
    return (1.5 * rng.normal(size=shape), _spread(rng, shape, -3.0, 2.0))


#: (hidden, (shape,), kwargs, huge)
KL_PLANS = (
    (False, ((4, 3),), {}, False),
    (False, ((5, 2),), {"reduction": "sum"}, False),
    (True, ((1, 6),), {}, False),
    (True, ((8, 4),), {}, False),
    (True, ((3, 5),), {"reduction": "sum"}, False),
    (True, ((16, 2),), {"reduction": "batchmean"}, False),
)


def kl_scenarios(hidden: bool) -> tuple[Scenario, ...]:
    plans = [p for p in KL_PLANS if hidden or not p[0]]
    return _two_gradient_scenarios("a9.gaussian_kl", "gaussian_kl", ("mu", "logvar"),
                                   plans, _sample_kl)


def _sample_gan(rng: np.random.Generator, shapes, huge: bool):
    real_shape, fake_shape = shapes
    if huge:
        return (_huge(rng, real_shape), _huge(rng, fake_shape))
    # A discriminator that is partly right: real logits mostly positive, fake mostly negative.
    return (_spread(rng, real_shape, -3.0, 5.0), _spread(rng, fake_shape, -5.0, 3.0))


#: (hidden, (real shape, fake shape), kwargs, huge). The batches differ in size in most
#: cases, so one mean over both batches is told apart from two means.
GAN_PLANS = (
    (False, ((6,), (4,)), {}, False),
    (False, ((5, 1), (5, 1)), {}, False),
    (False, ((4, 6), (6, 4)), {}, True),
    (True, ((1,), (3,)), {}, False),
    (True, ((8, 1), (2, 1)), {}, False),
    (True, ((3, 4), (5, 2)), {}, False),
)


def gan_scenarios(hidden: bool) -> tuple[Scenario, ...]:
    plans = [p for p in GAN_PLANS if hidden or not p[0]]
    return _two_gradient_scenarios("a9.discriminator_loss", "discriminator_loss",
                                   ("real_logits", "fake_logits"), plans, _sample_gan)


def _unused(rng: np.random.Generator, shape: tuple[int, ...], huge: bool) -> dict:
    return {}


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        id="a9.reparameterize",
        title="VAE: the reparameterization trick",
        module="generative",
        kind="layer",
        functions=("reparameterize_forward", "reparameterize_backward"),
        inputs=("mu", "logvar", "eps"),
        wrt=("mu", "logvar"),
        sample=sample_reparameterize,
        public_shapes=((4, 3), (2, 5)),
        hidden_shapes=((1, 4), (6, 2), (3, 8)),
        oracle=oracles.reparameterize,
        hint="logvar is the log of the VARIANCE: std = exp(0.5 * logvar), and "
        "d std / d logvar = 0.5 * std.",
    ),
    Exercise(
        id="a9.gaussian_kl",
        title="VAE: KL divergence from N(0, I)",
        module="generative",
        kind="program",
        functions=("gaussian_kl",),
        inputs=(),
        wrt=(),
        sample=_unused,
        scenarios=kl_scenarios,
        weights={"loss": 0.4, "gradients": 0.45, "gradcheck": 0.15},
        returns={"gaussian_kl": "(loss, dmu, dlogvar)"},
        oracle_check=oracles.kl_check,
        hint="KL = -0.5 * sum(1 + logvar - mu**2 - exp(logvar)) over the latent dimensions, "
        "then divided by the batch size N (not by N * D); it is never negative.",
    ),
    Exercise(
        id="a9.bce_reconstruction",
        title="Reconstruction loss: binary cross-entropy",
        module="generative",
        kind="loss",
        functions=("bce_reconstruction_loss",),
        inputs=("prob", "target"),
        wrt=("prob",),
        sample=sample_bce,
        params=REDUCTIONS,
        public_shapes=VAE_PUBLIC,
        hidden_shapes=VAE_HIDDEN,
        oracle=oracles.bce_reconstruction,
        hint="Sum over the features of each example and divide by the batch size N under "
        "'batchmean'; clamp each log at -100 and the gradient's denominator at 1e-12.",
    ),
    Exercise(
        id="a9.mse_reconstruction",
        title="Reconstruction loss: squared error",
        module="generative",
        kind="loss",
        functions=("mse_reconstruction_loss",),
        inputs=("pred", "target"),
        wrt=("pred",),
        sample=sample_mse,
        params=REDUCTIONS,
        public_shapes=VAE_PUBLIC,
        hidden_shapes=VAE_HIDDEN,
        stable=False,
        oracle=oracles.mse_reconstruction,
        hint="'batchmean' divides the total squared error by the batch size N = pred.shape[0] "
        "(not by pred.size); no factor 1/2.",
    ),
    Exercise(
        id="a9.discriminator_loss",
        title="GAN: discriminator loss",
        module="generative",
        kind="program",
        functions=("discriminator_loss",),
        inputs=(),
        wrt=(),
        sample=_unused,
        scenarios=gan_scenarios,
        weights={"loss": 0.3, "gradients": 0.35, "gradcheck": 0.1, "stability": 0.25},
        returns={"discriminator_loss": "(loss, dreal_logits, dfake_logits)"},
        oracle_check=oracles.discriminator_check,
        hint="Real examples have label 1 and fakes label 0; average each term over its own "
        "batch; write -log(sigmoid(x)) as softplus(-x) = max(-x, 0) + log1p(exp(-|x|)).",
    ),
    Exercise(
        id="a9.generator_loss",
        title="GAN: non-saturating generator loss",
        module="generative",
        kind="loss",
        functions=("generator_loss",),
        inputs=("fake_logits",),
        wrt=("fake_logits",),
        sample=sample_logits,
        public_shapes=((6,), (4, 1)),
        hidden_shapes=((1,), (8, 1), (3, 5)),
        oracle=oracles.generator,
        hint="Minimise -log(sigmoid(fake_logits)) (the fakes labelled real), not "
        "log(1 - sigmoid(fake_logits)); write it as softplus(-x).",
    ),
)
