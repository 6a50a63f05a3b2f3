"""A5 exercise specs: regularisation (``regularization.py``), normalisation
(``normalization.py``) and initialisation (``initializers.py``).

Random parts (dropout masks, initial weights) are graded by properties, never by one draw.
Every statistical bound below is set so that a correct implementation drawing fresh random
numbers fails it with probability below 1e-6 per property and per run: a normal-approximation
bound of Z = 5.5 standard deviations has a two-sided tail of 3.8e-8, and no property is judged
on more than 5 cases (at most 1.9e-7; the bounds on extremes are far tighter still). In the
sandbox numpy's global generator is seeded, so a given submission gets the same grade every
time; the bound is what protects a correct submission from an unlucky stream.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from dlgrade.authoring import (
    Exercise,
    Property,
    Rng,
    Scenario,
    Script,
    dropout_properties,
    reference,
    seed_for,
)

from . import oracles

#: Standard deviations allowed by every normal-approximation bound (two-sided tail 3.8e-8).
Z = 5.5


def _unused_sampler(rng: np.random.Generator, shape: tuple[int, ...], huge: bool) -> dict:
    return {}


# =========================================================================== normalisation


def _sample_norm(rng: np.random.Generator, shape: tuple[int, ...], huge: bool) -> dict:
    """x (N, D) with a shift and a scale per feature (and per example, so both axes vary);
    huge cases shift by up to 1e3 and scale by up to 200. gamma keeps |gamma| >= 0.5."""
    n, d = shape
    scale = rng.uniform(0.5, 2.0, size=d) * rng.uniform(0.5, 2.0, size=(n, 1))
    shift = rng.normal(size=d) + rng.normal(size=(n, 1))
    if huge:
        scale, shift = 100.0 * scale, 1e3 * shift
    x = shift + scale * rng.standard_normal((n, d))
    gamma = rng.uniform(0.5, 1.5, size=d) * rng.choice((-1.0, 1.0), size=d)
    return {"x": x, "gamma": gamma, "beta": rng.normal(size=d)}


BATCHNORM_PARAMS = (
    {"bn_param": {"mode": "train"}},
    {"bn_param": {"mode": "train", "eps": 1e-3}},
)


def _running_scenarios(hidden: bool) -> tuple[Scenario, ...]:
    """Train-mode calls sharing one bn_param (running averages read after each), then one
    test-mode call with the reference's running averages put in a fresh dict."""
    batchnorm_forward = reference("normalization").batchnorm_forward

    plans = [("public case 1", {}, (8, 5), 3), ("public case 2", {"eps": 1e-3}, (6, 4), 2)]
    if hidden:
        plans += [("hidden case 1", {"momentum": 0.7}, (16, 3), 4),
                  ("hidden case 2", {"momentum": 0.95, "eps": 1e-2}, (5, 6), 3)]
    found = []
    for number, (label, extra, shape, calls) in enumerate(plans):
        rng = seed_for("a5.batchnorm_running", number, hidden=number >= 2)
        inputs = _sample_norm(rng, shape, False)
        gamma, beta = inputs["gamma"], inputs["beta"]
        batches = [_sample_norm(rng, shape, False)["x"] for _ in range(calls)]
        x_test = _sample_norm(rng, shape, False)["x"]
        local: dict[str, Any] = {"mode": "train", **extra}
        script = Script()
        bn = script.put({"mode": "train", **extra})
        running = []
        for k, x in enumerate(batches, start=1):
            batchnorm_forward(x.copy(), gamma, beta, local)
            out = script.call("batchnorm_forward", x, gamma, beta, bn, keep=True)
            if k == 1:  # read first: a failing forward is reported as itself
                running.append(script.observe("out of train call 1", out))
            after = script.get(bn)
            for key in ("running_mean", "running_var"):
                running.append(script.observe(f"bn_param['{key}'] after train call {k}", after,
                                              key))
        test = {"mode": "test", "running_mean": local["running_mean"].copy(),
                "running_var": local["running_var"].copy(),
                **{k: v for k, v in extra.items() if k == "eps"}}
        bt = script.put(test)
        tested = [script.observe("out in test mode",
                                 script.call("batchnorm_forward", x_test, gamma, beta, bt,
                                             keep=True))]
        after = script.get(bt)
        for key in ("running_mean", "running_var"):
            tested.append(script.observe(f"bn_param['{key}'] after the test call", after, key))
        about = ", ".join([f"{calls} train calls of shape {shape}"]
                          + [f"{k}={v}" for k, v in extra.items()])
        found.append(Scenario(
            label=label, about=f"({about})", hidden=label.startswith("hidden"),
            steps=script.steps, observe=script.observations,
            compare={"running": tuple(running), "test": tuple(tested)},
            inputs={"x": x_test}))
    return tuple(found)


def _running_oracle_check() -> list[str]:
    return oracles.batchnorm_running_check(_running_scenarios(True))


NORMALIZATION: tuple[Exercise, ...] = (
    Exercise(
        id="a5.batchnorm",
        title="Batch normalisation",
        module="normalization",
        kind="layer",
        functions=("batchnorm_forward", "batchnorm_backward"),
        inputs=("x", "gamma", "beta"),
        wrt=("x", "gamma", "beta"),
        sample=_sample_norm,
        params=BATCHNORM_PARAMS,
        public_shapes=((4, 5),),
        hidden_shapes=((3, 7), (16, 4)),  # never N = 1: the batch variance would be 0
        oracle=oracles.batchnorm,
        hint="The batch mean and variance depend on every x[i, j]: differentiate through both.",
        points=3.0,
    ),
    Exercise(
        id="a5.batchnorm_running",
        title="Batch norm running averages and test mode",
        module="normalization",
        kind="program",
        functions=("batchnorm_forward",),
        inputs=(),
        wrt=(),
        sample=_unused_sampler,
        scenarios=_running_scenarios,
        weights={"running": 0.6, "test": 0.4},
        returns={"batchnorm_forward": "(out, cache)"},
        builds_on=("a5.batchnorm",),
        oracle_check=_running_oracle_check,
        hint="Store the updated running averages back into bn_param; in test mode use them, "
             "not the batch statistics.",
    ),
    Exercise(
        id="a5.layernorm",
        title="Layer normalisation",
        module="normalization",
        kind="layer",
        functions=("layernorm_forward", "layernorm_backward"),
        inputs=("x", "gamma", "beta"),
        wrt=("x", "gamma", "beta"),
        sample=_sample_norm,
        params=({}, {"eps": 1e-3}),
        public_shapes=((4, 5),),
        hidden_shapes=((1, 7), (16, 3)),
        oracle=oracles.layernorm,
        hint="Each row is normalised over its own features (axis 1); dgamma and dbeta still "
             "sum over the batch.",
        points=3.0,
    ),
)


# =========================================================================== dropout

DROPOUT_SHAPE = (200, 500)
M_UNSCALED = "kept entries not scaled by 1/(1-p)"
M_KEEP = "p used as the keep probability"
M_NEW_MASK = "a new mask drawn in the backward pass instead of the forward's mask"
M_TEST = "dropout applied at test time"
M_SAME = "the same mask on every call"


#: The feedback of each dropout mistake the property checks tell apart.
DROPOUT_MISTAKES = {"unscaled": M_UNSCALED, "other_convention": M_KEEP,
                    "new_mask": M_NEW_MASK, "test_mode": M_TEST, "same_mask": M_SAME}


def _dropout_scenarios(hidden: bool) -> tuple[Scenario, ...]:
    """Per p (the probability of DROPPING an entry): a train call and its backward, a second
    train call, a test call and its backward, judged by the student's values alone (the
    reference's masks are not kept)."""
    ps = [0.2, 0.5] + ([0.1, 0.8, 0.35] if hidden else [])
    found = []
    for number, p in enumerate(ps):
        rng = seed_for("a5.dropout", number, hidden=number >= 2)
        # |x| in [0.5, 2]: out / x tells dropped (0) from kept (1 / (1 - p)) entries.
        x = rng.uniform(0.5, 2.0, DROPOUT_SHAPE) * rng.choice((-1.0, 1.0), DROPOUT_SHAPE)
        dout = rng.standard_normal(DROPOUT_SHAPE)
        s = Script()
        s.observe("out", s.call("dropout_forward", x, p, train=True, keep=True))
        s.observe("dx", s.call("dropout_backward", dout, s.last_cache))
        s.observe("out of a second call", s.call("dropout_forward", x, p, train=True,
                                                 keep=True))
        s.observe("out (train=False)", s.call("dropout_forward", x, p, train=False, keep=True))
        s.observe("dx (train=False)", s.call("dropout_backward", dout, s.last_cache))
        public = number < 2
        found.append(Scenario(
            label=f"public case {number + 1}" if public else f"hidden case {number - 1}",
            about=f"(x of shape {DROPOUT_SHAPE}, p={p})", hidden=not public, steps=s.steps,
            observe=s.observations, compare={},
            properties=dropout_properties(p, x, dout, mistakes=DROPOUT_MISTAKES, z=Z),
            inputs={"x": x}))
    return tuple(found)


# =========================================================================== penalties


def _sample_weights(away_from_zero: bool) -> Callable[..., dict]:
    def sample(rng: np.random.Generator, shape: tuple[int, ...], huge: bool) -> dict:
        magnitude = rng.uniform(0.05, 3.0, size=shape)
        if huge:
            magnitude = 10.0 ** rng.uniform(-1.0, 3.0, size=shape)
        w = magnitude * rng.choice((-1.0, 1.0), size=shape)
        if not away_from_zero:
            w.reshape(-1)[0] = 0.0  # L2 is smooth at 0: an exact zero costs nothing
        return {"w": w}

    return sample


REGS = ({"reg": 0.1}, {"reg": 1e-3}, {"reg": 2.5})


# =========================================================================== early stopping

ES_MISTAKES = {
    "an improvement tested with <= instead of <": "le",
    "min_delta ignored": "no_delta",
    "counter not reset on improvement": "no_reset",
    "stops one call late (counter > patience instead of >=)": "late",
}


def simulate_early_stopping(losses: list[float], patience: int, min_delta: float,
                            variant: str = "") -> list[bool]:
    """The decisions of EarlyStopping on ``losses`` (``variant``: a known mistake)."""
    best, counter, decisions = math.inf, 0, []
    for loss in losses:
        delta = 0.0 if variant == "no_delta" else min_delta
        better = loss <= best - delta if variant == "le" else loss < best - delta
        if better:
            best = loss
            counter = counter if variant == "no_reset" else 0
        else:
            counter += 1
        decisions.append(counter > patience if variant == "late" else counter >= patience)
    return decisions


def _loss_sequence(rng: np.random.Generator, length: int, patience: int,
                   min_delta: float) -> list[float]:
    """Validation losses on a grid of 1/256 (exact in binary, so ``best - min_delta`` has no
    rounding): real improvements, exact ties, falls of exactly min_delta and of less, rises,
    and runs without improvement long enough to stop."""
    unit = 1.0 / 256
    best = current = 2.0 + unit * int(rng.integers(0, 64))
    losses: list[float] = []
    while len(losses) < length:
        kind = rng.choice(["improve", "tie", "exact", "small", "worse", "run"],
                          p=[0.3, 0.15, 0.1, 0.15, 0.15, 0.15])
        if kind == "improve":
            current = best - min_delta - unit * int(rng.integers(1, 8))
        elif kind == "tie":
            current = best
        elif kind == "exact":
            current = best - min_delta
        elif kind == "small" and min_delta > unit:
            current = best - unit * int(rng.integers(1, round(min_delta / unit)))
        elif kind == "run":
            for _ in range(patience + int(rng.integers(0, 2))):
                losses.append(best + unit * int(rng.integers(0, 16)))
            continue
        else:
            current = best + unit * int(rng.integers(1, 32))
        losses.append(float(current))
        if current < best - min_delta:
            best = current
    return losses[:length]


def _stopping_property(losses: list[float], patience: int, min_delta: float,
                       hidden: bool) -> Property:
    """The decisions on ``losses`` against the simulation's, with each known mistake's
    decisions on the same losses (computed here, so the judge needs no simulation)."""
    return Property("decisions", "decision_sequence", {
        "expected": simulate_early_stopping(losses, patience, min_delta),
        "mistakes": {mistake: simulate_early_stopping(losses, patience, min_delta, variant)
                     for mistake, variant in ES_MISTAKES.items()},
        "values": list(losses), "hidden": hidden, "method": "step",
        "constructor": "EarlyStopping(...)", "value_name": "val_loss", "values_name": "losses",
    })


def _stopping_scenarios(hidden: bool) -> tuple[Scenario, ...]:
    plans: list[tuple[dict[str, Any], int]] = [({"patience": 3}, 20),
                                                ({"patience": 2, "min_delta": 0.125}, 24)]
    if hidden:
        plans += [({}, 30), ({"patience": 4, "min_delta": 0.0625}, 30),
                  ({"patience": 1, "min_delta": 0.25}, 20)]
    found = []
    for number, (kwargs, length) in enumerate(plans):
        rng = seed_for("a5.early_stopping", number, hidden=number >= 2)
        patience, min_delta = kwargs.get("patience", 5), kwargs.get("min_delta", 0.0)
        losses = _loss_sequence(rng, length, patience, min_delta)
        s = Script()
        es = s.new("EarlyStopping", **kwargs)
        s.observe("EarlyStopping(...)", s.made(es))
        for k, value in enumerate(losses):
            s.observe(f"step {k + 1}", s.method(es, "step", value), "float")
        public = number < 2
        about = ", ".join(f"{k}={v}" for k, v in kwargs.items()) or "the defaults"
        found.append(Scenario(
            label=f"public case {number + 1}" if public else f"hidden case {number - 1}",
            about=f"({about}, {length} losses)", hidden=not public, steps=s.steps,
            observe=s.observations,
            compare={}, properties=(_stopping_property(losses, patience, min_delta,
                                                       not public),)))
    return tuple(found)


def _stopping_oracle_check() -> list[str]:
    """The reference class against the plain simulation on every graded sequence."""
    EarlyStopping = reference("regularization").EarlyStopping

    problems = []
    for scenario in _stopping_scenarios(True):
        new, *calls = scenario.steps
        es = EarlyStopping(**(new.kwargs or {}))
        got = [es.step(s.args[1]) for s in calls]
        want = simulate_early_stopping([s.args[1] for s in calls], es.patience, es.min_delta)
        if got != want or not all(type(g) is bool for g in got):
            problems.append(f"{scenario.describe()}: {got} != {want}")
    return problems


REGULARIZATION: tuple[Exercise, ...] = (
    Exercise(
        id="a5.dropout",
        title="Inverted dropout",
        module="regularization",
        kind="program",
        functions=("dropout_forward", "dropout_backward"),
        inputs=(),
        wrt=(),
        sample=_unused_sampler,
        scenarios=_dropout_scenarios,
        weights={"scaling": 0.3, "rate": 0.2, "backward": 0.25, "test": 0.15, "fresh": 0.1},
        returns={"dropout_forward": "(out, cache)", "dropout_backward": "dx"},
        oracle_check=oracles.dropout_check,
        hint="p is the DROP probability; kept entries are divided by 1 - p; keep the mask in "
             "the cache; at test time do nothing.",
        points=3.0,
        time_limit=20.0,
    ),
    Exercise(
        id="a5.l1_penalty",
        title="L1 penalty",
        module="regularization",
        kind="loss",
        functions=("l1_penalty",),
        inputs=("w",),
        wrt=("w",),
        sample=_sample_weights(True),
        params=REGS,
        hidden_shapes=((1, 7), (3, 4, 6)),
        oracle=oracles.l1_penalty,
        hint="The derivative of |w| is sign(w), not w.",
        points=1.0,
    ),
    Exercise(
        id="a5.l2_penalty",
        title="L2 penalty",
        module="regularization",
        kind="loss",
        functions=("l2_penalty",),
        inputs=("w",),
        wrt=("w",),
        sample=_sample_weights(False),
        params=REGS,
        hidden_shapes=((1, 7), (3, 4, 6)),
        oracle=oracles.l2_penalty,
        hint="The 0.5 in 0.5 * reg * sum(w**2) is there to cancel the 2 of the derivative.",
        points=1.0,
    ),
    Exercise(
        id="a5.early_stopping",
        title="Early stopping with patience",
        module="regularization",
        kind="program",
        functions=("EarlyStopping",),
        inputs=(),
        wrt=(),
        sample=_unused_sampler,
        scenarios=_stopping_scenarios,
        weights={"decisions": 1.0},
        returns={"step": "a bool"},
        oracle_check=_stopping_oracle_check,
        hint="An improvement is val_loss < best - min_delta (strictly); it resets the counter.",
        points=2.0,
    ),
)


# =========================================================================== initialisers

#: Graded shapes: asymmetric, so that fan_in and fan_out differ (2-D: (fan_in, fan_out);
#: 4-D: (F, C, kh, kw)), each with at least 73,728 entries.
INIT_SHAPES = ((300, 700), (128, 64, 3, 3))
INIT_HIDDEN_SHAPES = ((700, 300), (32, 96, 5, 5))
def seeded_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The small shape of the same rank on which the ``seeded`` check draws twice with one
    seed and once with another (an initialiser's determinism does not depend on size)."""
    return (6, 4) if len(shape) == 2 else (4, 3, 2, 2)


#: orthogonal is judged exactly (W^T W = gain^2 I), not statistically, so small shapes do:
#: its QR decompositions dominated the time of A5 at the statistics' sizes.
ORTHOGONAL_SHAPES = ((30, 70), (16, 8, 3, 3))
ORTHOGONAL_HIDDEN_SHAPES = ((70, 30), (8, 24, 5, 5))
#: Allowed |sample kurtosis - kurtosis| (the kurtosis E[w^4] / E[w^2]^2 being 1.8 for a
#: uniform, 3 for a normal distribution): > 9 standard errors at 73,728 entries for both
#: families (standard error about 0.018 for a normal, 0.006 for a uniform), and under half
#: the gap 1.2 between the families.
KURTOSIS_SLACK = {"uniform": 0.1, "normal": 0.25}
#: A uniform's largest |w| must reach (1 - EDGE) * bound: it fails to with probability
#: (1 - EDGE)^n < e^-36 for n >= 73,728.
EDGE = 5e-4
M_STD_AS_BOUND = "the std used as the uniform bound (the bound is sqrt(3) * std)"
M_FAN_OUT = "fan_out used where fan_in belongs"
M_FANS_SWAPPED = "fan_in and fan_out swapped"
M_NOT_UNIFORM = "a normal distribution drawn instead of a uniform one"
M_NOT_NORMAL = "a uniform distribution drawn instead of a normal one"
M_VAR_AS_STD = "the variance used as the standard deviation"
M_NO_RNG = "the rng argument not used (same seed, different weights)"
M_NOT_ORTHOGONAL = "only normalised columns, not orthogonal ones"
M_NO_GAIN = "gain ignored"


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 2:
        return shape[0], shape[1]
    return shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3]


#: name -> (family, std(shape, gain), {mistake: std of that mistake}(shape, gain)).
STDS: dict[str, tuple[str, Callable[[tuple, float], float]]] = {
    "xavier_uniform": ("uniform", lambda s, g: g * math.sqrt(2.0 / sum(_fans(s)))),
    "xavier_normal": ("normal", lambda s, g: g * math.sqrt(2.0 / sum(_fans(s)))),
    "he_normal": ("normal", lambda s, g: math.sqrt(2.0 / _fans(s)[0])),
    "he_uniform": ("uniform", lambda s, g: math.sqrt(2.0 / _fans(s)[0])),
    "lecun_normal": ("normal", lambda s, g: math.sqrt(1.0 / _fans(s)[0])),
}


def _wrong_stds(name: str, shape: tuple, gain: float) -> dict[str, float]:
    """The std each known mistake produces (named in the variance check's message)."""
    family, std_of = STDS[name]
    std = std_of(shape, gain)
    wrong = {M_VAR_AS_STD: std * std, M_NO_GAIN: std / gain if gain != 1.0 else -1.0}
    if family == "uniform":
        wrong[M_STD_AS_BOUND] = std / math.sqrt(3.0)
    if name.startswith(("he", "lecun")):
        fan_in, fan_out = _fans(shape)
        wrong[M_FAN_OUT] = std * math.sqrt(fan_in / fan_out)
    return wrong


def _init_properties(name: str, shape: tuple, gain: float,
                     hidden: bool) -> tuple[Property, ...]:
    """The checks of one initialiser case (judged on the student's draws only)."""
    family, std_of = STDS.get(name, ("orthogonal", None))
    common = {"function": name, "shape": shape}
    seeded = Property("seeded", "init_seeded",
                      {"function": name, "shape": seeded_shape(shape), "no_rng": M_NO_RNG},
                      reads=())
    if family == "orthogonal":
        return (Property("shape", "init_shape", common, reads=()),
                Property("orthogonal", "init_orthogonal",
                         {**common, "gain": gain, "not_orthogonal": M_NOT_ORTHOGONAL,
                          "no_gain": M_NO_GAIN}, reads=()),
                seeded)
    std = std_of(shape, gain)
    looks_other = M_NOT_UNIFORM if family == "uniform" else M_NOT_NORMAL
    uniform_only = ({"edge": EDGE, "std_as_bound": M_STD_AS_BOUND} if family == "uniform"
                    else {})
    return (
        Property("shape", "init_shape", common, reads=()),
        Property("mean", "init_mean", {**common, "std": std, "z": Z}, reads=()),
        Property("variance", "init_variance",
                 {**common, "std": std, "distribution": family, "fans": _fans(shape),
                  "wrong": _wrong_stds(name, shape, gain), "z": Z}, reads=()),
        Property("distribution", "init_distribution",
                 {**common, "std": std, "distribution": family, "slack": KURTOSIS_SLACK,
                  "looks_other": looks_other, **uniform_only}, reads=()),
        seeded,
    )


def _init_scenarios(name: str, gains: tuple[float, ...]) -> Callable[[bool], tuple]:
    public, secret_shapes = ((ORTHOGONAL_SHAPES, ORTHOGONAL_HIDDEN_SHAPES)
                             if name == "orthogonal" else (INIT_SHAPES, INIT_HIDDEN_SHAPES))

    def scenarios(hidden: bool) -> tuple[Scenario, ...]:
        plans = [(s, False) for s in public]
        if hidden:
            plans += [(s, True) for s in secret_shapes]
        found = []
        for number, (shape, secret) in enumerate(plans):
            gain = gains[number % len(gains)]
            kwargs = {"gain": gain} if gain != 1.0 else {}
            seed = int(seed_for(f"a5.{name}", number, hidden=secret).integers(2**31))
            small = seeded_shape(shape)  # determinism needs no big draws
            s = Script()
            s.observe("w", s.call(name, shape, Rng(seed), **kwargs))
            s.observe("w small", s.call(name, small, Rng(seed), **kwargs))
            s.observe("w again", s.call(name, small, Rng(seed), **kwargs))
            s.observe("w other seed", s.call(name, small, Rng(seed + 1), **kwargs))
            label = (f"hidden case {number - len(public) + 1}" if secret
                     else f"public case {number + 1}")
            about = f"(shape {shape}" + (f", gain={gain}" if kwargs else "") + ")"
            found.append(Scenario(
                label=label, about=about, hidden=secret, steps=s.steps,
                observe=s.observations,
                compare={}, properties=_init_properties(name, shape, gain, secret)))
        return tuple(found)

    return scenarios


def _initializer(name: str, title: str, hint: str, gains: tuple[float, ...] = (1.0,)) -> Exercise:
    weights = ({"shape": 0.1, "orthogonal": 0.7, "seeded": 0.2} if name == "orthogonal" else
               {"shape": 0.1, "mean": 0.1, "variance": 0.4, "distribution": 0.25,
                "seeded": 0.15})
    return Exercise(
        id=f"a5.{name}", title=title, module="initializers", kind="program",
        functions=(name,), inputs=(), wrt=(), sample=_unused_sampler,
        scenarios=_init_scenarios(name, gains), weights=weights,
        returns={name: "an array of the given shape"},
        oracle_check=lambda: oracles.initializer_check(name, _init_scenarios(name, gains)(True)),
        hint=hint, points=1.0, time_limit=20.0,
    )


INITIALIZERS: tuple[Exercise, ...] = (
    _initializer("xavier_uniform", "Xavier uniform initialisation",
                 "bound = gain * sqrt(6 / (fan_in + fan_out)); draw with rng.uniform.",
                 gains=(1.0, 2.0)),
    _initializer("xavier_normal", "Xavier normal initialisation",
                 "std = gain * sqrt(2 / (fan_in + fan_out)) is a standard deviation.",
                 gains=(1.0, 0.5)),
    _initializer("he_normal", "He normal initialisation",
                 "std = sqrt(2 / fan_in); for (D, M) weights fan_in is D = shape[0]."),
    _initializer("he_uniform", "He uniform initialisation",
                 "bound = sqrt(6 / fan_in); for (D, M) weights fan_in is D = shape[0]."),
    _initializer("lecun_normal", "LeCun normal initialisation",
                 "std = sqrt(1 / fan_in); for conv weights fan_in = C * kh * kw."),
    _initializer("orthogonal", "Orthogonal initialisation",
                 "Take Q from np.linalg.qr of a Gaussian matrix; mind wide shapes and gain.",
                 gains=(1.0, 2.0, 0.5)),
)

EXERCISES: tuple[Exercise, ...] = REGULARIZATION + NORMALIZATION + INITIALIZERS
