"""The exercises of ``layers.py``: how each is called, on which inputs, for how many points.

Layers and losses are declared as data (the engine calls forward and backward, compares
with the reference, checks gradients numerically); batch norm's running averages and
dropout are programs: scripts of calls judged by comparison and by property families.
"""

from __future__ import annotations

import numpy as np
from dlgrade.authoring import Exercise, Scenario, Script, dropout_properties, seed_for

from . import oracles

# ================================================================ samplers
# sample(rng, shape, huge) -> {input name: array}: shape is the main input's, huge asks for
# the stability case. Inputs stay away from kinks (ReLU at 0, hinge margins at 0), where a
# numerical gradient would be wrong.


def sample_affine(rng, shape, huge):
    """x of the given shape (N, d_1, ..., d_k), w of shape (D, M), b of shape (M,)."""
    d = int(np.prod(shape[1:]))
    m = int(rng.integers(2, 6))
    return {"x": rng.normal(size=shape), "w": rng.normal(size=(d, m)),
            "b": rng.normal(size=m)}


def sample_relu(rng, shape, huge):
    """x with |x| in [0.1, 2]: never at the kink 0."""
    x = rng.uniform(0.1, 2.0, size=shape) * rng.choice((-1.0, 1.0), size=shape)
    return {"x": x}


def sample_batchnorm(rng, shape, huge):
    """x (N, D) with a shift and a scale per feature; gamma keeps |gamma| >= 0.5."""
    n, d = shape
    x = rng.normal(size=d) + rng.uniform(0.5, 2.0, size=d) * rng.standard_normal((n, d))
    gamma = rng.uniform(0.5, 1.5, size=d) * rng.choice((-1.0, 1.0), size=d)
    return {"x": x, "gamma": gamma, "beta": rng.normal(size=d)}


def sample_scores(margin_gap):
    """A sampler of class scores x (N, C) and labels y (N,); with ``margin_gap``, every
    hinge margin x[i, j] - x[i, y[i]] + 1 is at least that far from 0. Huge cases scale the
    scores up to 1e3 (the stability case: exp must not overflow)."""

    def sample(rng, shape, huge):
        n, c = shape
        x = rng.normal(scale=2.0, size=shape)
        y = rng.integers(0, c, size=n)
        if huge:
            x = x * 500.0
        if margin_gap:
            rows = np.arange(n)
            for _ in range(100):
                margins = x - x[rows, y][:, None] + 1.0
                margins[rows, y] = 1.0
                near = np.abs(margins) < margin_gap
                if not near.any():
                    break
                x[near] += 3 * margin_gap
        return {"x": x, "y": y}

    return sample


def unused_sampler(rng, shape, huge):
    return {}  # program exercises draw their inputs in their scenarios


# ================================================================ layers and losses

AFFINE = Exercise(
    id="layers.affine", title="Affine layer", module="layers", kind="layer",
    functions=("affine_forward", "affine_backward"),
    inputs=("x", "w", "b"), wrt=("x", "w", "b"),
    sample=sample_affine,
    public_shapes=((4, 5), (2, 3, 4)),
    hidden_shapes=((3, 2, 2, 3), (7, 6)),
    stable=False,
    tolerance=(1e-6, 1e-8),
    points=2.0,
    oracle=oracles.affine,
    hint="Reshape x to (N, D) for the product, and dx back to the shape of x.",
)

RELU = Exercise(
    id="layers.relu", title="ReLU", module="layers", kind="layer",
    functions=("relu_forward", "relu_backward"), inputs=("x",), wrt=("x",),
    sample=sample_relu, public_shapes=((4, 5),), hidden_shapes=((3, 2, 4), (10,)),
    stable=False, points=1.0, oracle=oracles.relu,
    hint="The gradient flows (times dout) only where the input was positive.",
)

BATCHNORM = Exercise(
    id="layers.batchnorm", title="Batch normalization", module="layers", kind="layer",
    functions=("batchnorm_forward", "batchnorm_backward"),
    inputs=("x", "gamma", "beta"), wrt=("x", "gamma", "beta"),
    sample=sample_batchnorm,
    params=({"bn_param": {"mode": "train"}}, {"bn_param": {"mode": "train", "eps": 1e-3}}),
    public_shapes=((4, 5),),
    hidden_shapes=((3, 7), (16, 4)),
    stable=False,
    points=3.0,
    weights={"forward": 0.3, "backward": 0.6, "gradcheck": 0.1},
    oracle=oracles.batchnorm,
    hint="The batch mean and variance depend on every x[i, j]: differentiate through both.",
)

SVM = Exercise(
    id="layers.svm_loss", title="Multiclass SVM loss", module="layers", kind="loss",
    functions=("svm_loss",), inputs=("x", "y"), wrt=("x",),
    sample=sample_scores(margin_gap=0.05),
    public_shapes=((4, 5),), hidden_shapes=((2, 3), (16, 10)),
    stable=False, points=1.5, oracle=oracles.svm_loss,
    hint="Margins of the correct class do not count; average the loss and dx over N.",
)

SOFTMAX = Exercise(
    id="layers.softmax_loss", title="Softmax loss", module="layers", kind="loss",
    functions=("softmax_loss",), inputs=("x", "y"), wrt=("x",),
    sample=sample_scores(margin_gap=0.0),
    public_shapes=((4, 5),), hidden_shapes=((2, 3), (16, 10)),
    stable=True,
    weights={"loss": 0.35, "gradient": 0.3, "gradcheck": 0.1, "stability": 0.25},
    points=1.5, oracle=oracles.softmax_loss,
    hint="Subtract each row's max before exp; dx = (softmax - one_hot(y)) / N.",
)


# ================================================================ batch norm as a program


def running_scenarios(hidden):
    """Train-mode calls sharing one bn_param (its running averages read after each call),
    then a test-mode call with given running averages."""
    plans = [("public case 1", {}, (8, 5), 3), ("public case 2", {"momentum": 0.7}, (6, 4), 2)]
    if hidden:
        plans += [("hidden case 1", {"momentum": 0.95, "eps": 1e-3}, (16, 3), 4)]
    found = []
    for number, (label, extra, shape, calls) in enumerate(plans):
        rng = seed_for("layers.batchnorm_running", number, hidden=label.startswith("hidden"))
        first = sample_batchnorm(rng, shape, False)
        gamma, beta = first["gamma"], first["beta"]
        s = Script()
        bn = s.put({"mode": "train", **extra})
        running = []
        for k in range(1, calls + 1):
            x = sample_batchnorm(rng, shape, False)["x"]
            out = s.call("batchnorm_forward", x, gamma, beta, bn, keep=True)
            if k == 1:  # read first: a failing forward is reported as itself
                running.append(s.observe("out of train call 1", out))
            after = s.get(bn)
            for key in ("running_mean", "running_var"):
                running.append(s.observe(f"bn_param['{key}'] after train call {k}", after, key))
        d = shape[1]
        test_param = {"mode": "test", "running_mean": rng.normal(size=d),
                      "running_var": rng.uniform(0.5, 2.0, size=d), **extra}
        x_test = sample_batchnorm(rng, shape, False)["x"]
        tested = s.call("batchnorm_forward", x_test, gamma, beta, s.put(test_param), keep=True)
        test = s.observe("out in test mode", tested)
        about = ", ".join([f"{calls} train calls of shape {shape}"]
                          + [f"{k}={v}" for k, v in extra.items()])
        found.append(Scenario(
            label=label, about=f"({about})", hidden=label.startswith("hidden"),
            steps=s.steps, observe=s.observations,
            compare={"running": tuple(running), "test": (test,)},
            inputs={"x": x_test}))
    return tuple(found)


BATCHNORM_RUNNING = Exercise(
    id="layers.batchnorm_running", title="Batch norm running averages and test mode",
    module="layers", kind="program", functions=("batchnorm_forward",),
    inputs=(), wrt=(), sample=unused_sampler,
    scenarios=running_scenarios,
    weights={"running": 0.6, "test": 0.4},
    returns={"batchnorm_forward": "(out, cache)"},
    builds_on=("layers.batchnorm",),
    points=2.0,
    oracle_check=lambda: oracles.batchnorm_running_check(running_scenarios(True)),
    hint="Store the updated running averages back into bn_param; in test mode normalize "
         "with them, not with the batch statistics.",
)


# ================================================================ dropout as a program

DROPOUT_SHAPE = (100, 500)
#: Standard deviations allowed by the statistical bound of dropout_rate (two-sided tail
#: 3.8e-8: a correct implementation essentially never fails it).
Z = 5.5
M_NOT_INVERTED = "non-inverted dropout, kept units not scaled by 1/p"
M_DROP_PROBABILITY = "p used as the drop probability (in CS231n p is the KEEP probability)"
M_TEST_MODE = "dropout applied in test mode"


#: What the dropout checks call each mistake they tell apart.
DROPOUT_MISTAKES = {
    "unscaled": M_NOT_INVERTED, "other_convention": M_DROP_PROBABILITY,
    "new_mask": "a new mask drawn in the backward pass", "test_mode": M_TEST_MODE,
    "same_mask": "the same mask for two different seeds",
}
#: The observations of a dropout scenario, as dropout_properties names them.
DROPOUT_NAMES = {"test out": "out (mode='test')", "test dx": "dx (mode='test')"}


def dropout_scenarios(hidden):
    """Per keep probability: a train call and its backward, a second train call with
    another seed, a test call and its backward."""
    keeps = [0.8, 0.3] + ([0.6, 0.9] if hidden else [])
    found = []
    for number, keep in enumerate(keeps):
        secret = number >= 2
        rng = seed_for("layers.dropout", number, hidden=secret)
        # |x| in [0.5, 2]: out / x tells dropped (0) from kept (1 / p) units.
        x = rng.uniform(0.5, 2.0, DROPOUT_SHAPE) * rng.choice((-1.0, 1.0), DROPOUT_SHAPE)
        dout = rng.standard_normal(DROPOUT_SHAPE)
        seed = int(rng.integers(2**31))
        s = Script()
        out = s.call("dropout_forward", x, {"p": keep, "mode": "train", "seed": seed},
                     keep=True)
        s.observe("out", out)
        s.observe("dx", s.call("dropout_backward", dout, s.last_cache))
        again = s.call("dropout_forward", x, {"p": keep, "mode": "train", "seed": seed + 1},
                       keep=True)
        s.observe("out of a second call", again)
        test = s.call("dropout_forward", x, {"p": keep, "mode": "test"}, keep=True)
        s.observe("out (mode='test')", test)
        s.observe("dx (mode='test')", s.call("dropout_backward", dout, s.last_cache))
        label = f"hidden case {number - 1}" if secret else f"public case {number + 1}"
        found.append(Scenario(
            label=label, about=f"(x of shape {DROPOUT_SHAPE}, keep probability p={keep})",
            hidden=secret, steps=s.steps, observe=s.observations, compare={},
            properties=dropout_properties(keep, x, dout, probability="keep", z=Z,
                                          mistakes=DROPOUT_MISTAKES, names=DROPOUT_NAMES),
            inputs={"x": x}))
    return tuple(found)


DROPOUT = Exercise(
    id="layers.dropout", title="Inverted dropout", module="layers", kind="program",
    functions=("dropout_forward", "dropout_backward"),
    inputs=(), wrt=(), sample=unused_sampler,
    scenarios=dropout_scenarios,
    weights={"scaling": 0.3, "rate": 0.2, "backward": 0.25, "test": 0.15, "fresh": 0.1},
    returns={"dropout_forward": "(out, cache)", "dropout_backward": "dx"},
    points=2.0,
    time_limit=20.0,
    oracle_check=lambda: oracles.dropout_check(dropout_scenarios(True)),
    hint="p is the KEEP probability: keep a unit with probability p and divide kept units "
         "by p; keep the mask in the cache; in test mode return x unchanged.",
)

EXERCISES = (AFFINE, RELU, BATCHNORM, BATCHNORM_RUNNING, DROPOUT, SVM, SOFTMAX)
