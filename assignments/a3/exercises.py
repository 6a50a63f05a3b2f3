"""A3 exercise specs: layers (affine, affine + ReLU), the perceptron, an MLP's loss and
gradients, and a scalar autograd ``Value`` (see ../../shared/CURRICULUM.md, "A3").

Every case is a pure function of the exercise id (``seed_for``). Inputs avoid the kinks that
gradient checks cannot see through: ReLU pre-activations stay at least ``GAP`` from 0 (in the
layers and in every hidden layer of the MLP), and ``Value`` graphs use each operation only
where it is defined and smooth (see :func:`value_program`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from dlgrade.authoring import (
    Exercise,
    Scenario,
    Script,
    Step,
    finite_difference_property,
    gradcheck,
    reference,
    seed_for,
)

from . import oracles

#: Distance kept between a ReLU's input and its kink at 0.
GAP = 1e-2
#: Upper bound of standard input magnitudes; huge cases reach 1e3.
HUGE = 1e3
#: Entries of each MLP parameter perturbed by the numerical gradient check.
MLP_PROBES = 5
FD_EPS = gradcheck.settings_for(np.float64).eps


# --- layers --------------------------------------------------------------------------------


def _inputs(rng: np.random.Generator, shape: tuple[int, ...], huge: bool) -> dict[str, Any]:
    """x of ``shape``; w (D, M) with M in 3..6 and M != D (a transposed dw then has the wrong
    shape as well as the wrong values); b (M,). Huge: |x| log-spread up to 1e3."""
    d = math.prod(shape[1:])
    m = int(rng.choice([k for k in range(3, 7) if k != d]))
    if huge:
        x = rng.choice((-1.0, 1.0), size=shape) * 10.0 ** rng.uniform(-1.0, 3.0, size=shape)
        x.flat[0], x.flat[-1] = HUGE, -HUGE
    else:
        x = rng.uniform(-3.0, 3.0, size=shape)
    w = rng.normal(size=(d, m)) / math.sqrt(d)
    b = rng.normal(size=m)
    return {"x": x, "w": w, "b": b}


def sample_affine(rng: np.random.Generator, shape: tuple[int, ...], huge: bool):
    return _inputs(rng, shape, huge)


def sample_affine_relu(rng: np.random.Generator, shape: tuple[int, ...], huge: bool):
    """Redrawn until every pre-activation is at least GAP from 0 and, when there are two or
    more, both signs occur (so the mask is graded both ways)."""
    for _ in range(1000):
        inputs = _inputs(rng, shape, huge)
        z = inputs["x"].reshape(shape[0], -1) @ inputs["w"] + inputs["b"]
        if np.abs(z).min() >= GAP and (z.size < 2 or ((z > 0).any() and (z < 0).any())):
            return inputs
    raise RuntimeError("no affine_relu sample off the kink")  # pragma: no cover


LAYER_PUBLIC = ((4, 5), (3, 2, 4))
LAYER_HIDDEN = ((1, 7), (2, 3, 2, 2), (6, 4))


# --- perceptron ----------------------------------------------------------------------------


def _perceptron_data(rng: np.random.Generator, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Roughly separable data with both labels (a random teacher plus 10% flipped labels)."""
    X = rng.normal(size=(n, d))
    teacher = rng.normal(size=d)
    y = (X @ teacher + 0.3 * rng.normal() >= 0).astype(np.int64)
    flip = rng.random(n) < 0.1
    y[flip] = 1 - y[flip]
    if n >= 2:
        y[:2] = (0, 1) if rng.random() < 0.5 else (1, 0)
    return X, y


def _edge_inputs(rng: np.random.Generator, d: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Small integers and halves, so z = X @ w + b is exact: half of the rows give z == 0
    exactly (must predict 1), the others z = +-0.5 or more."""
    w = rng.integers(-3, 4, size=d).astype(np.float64)
    w[0] = 1.0
    b = 0.5
    rows = []
    for k in range(6):
        row = rng.integers(-2, 3, size=d).astype(np.float64)
        partial = float(row[1:] @ w[1:])
        target = 0.0 if k % 2 == 0 else float(rng.choice((-1.5, -0.5, 0.5, 1.5)))
        row[0] = target - b - partial  # w[0] = 1, so z = target exactly
        rows.append(row)
    return np.array(rows), w, b


def perceptron_scenarios(hidden: bool) -> tuple[Scenario, ...]:
    perceptron_epoch = reference("layers").perceptron_epoch

    plans = [("public case 1", False, 8, 3, 1.0)]
    if hidden:
        plans += [("hidden case 1", True, 12, 4, 0.5), ("hidden case 2", True, 1, 2, 0.1),
                  ("hidden case 3", True, 20, 5, 0.25)]
    found = []
    for number, (label, secret, n, d, lr) in enumerate(plans):
        rng = seed_for("a3.perceptron", number, hidden=secret)
        X, y = _perceptron_data(rng, n, d)
        w, b = rng.normal(size=d), float(rng.normal())
        edge_X, edge_w, edge_b = _edge_inputs(rng, d)
        zeros = np.zeros(d)
        # The second epoch starts where the first (from zeros) ends: two epochs chained.
        w1, b1 = perceptron_epoch(X, y, zeros, 0.0, lr)
        steps = (
            Step("perceptron_predict", (X, w, b)),
            Step("perceptron_predict", (edge_X, edge_w, edge_b)),
            Step("perceptron_epoch", (X, y, zeros, 0.0, lr)),
            Step("perceptron_epoch", (X, y, w1, b1, lr)),
            Step("perceptron_epoch", (X, y, w, b, 2.0 * lr)),
        )
        observe = {"predictions": (0, ("float",)), "predictions at z == 0": (1, ("float",))}
        for step, what in ((2, "from zeros"), (3, "second epoch"), (4, "from random w")):
            observe[f"w ({what})"] = (step, (0, "float"))
            observe[f"b ({what})"] = (step, (1, "float"))
        found.append(Scenario(
            label=label,
            about=f"(N={n}, D={d}, lr={lr})",
            hidden=secret,
            steps=steps,
            observe=observe,
            compare={"predict": ("predictions", "predictions at z == 0"),
                     "epoch": tuple(k for k in observe if k.startswith(("w ", "b ")))},
            inputs={"X": X},
        ))
    return tuple(found)


# --- MLP -----------------------------------------------------------------------------------

#: (dims D_0..D_L, N, reg, activation or None for the default, weight scale, hidden).
MLP_PLANS: tuple[tuple[tuple[int, ...], int, float, str | None, float, bool], ...] = (
    ((5, 7, 4), 6, 0.0, None, 1.0, False),
    ((5, 4), 4, 0.1, "relu", 1.0, False),
    ((4, 6, 3), 5, 0.05, "tanh", 1.0, False),
    ((6, 8, 5, 3), 5, 0.05, "tanh", 1.0, True),
    ((4, 6, 3), 1, 0.2, "sigmoid", 1.0, True),
    ((5, 6, 5, 4), 7, 0.01, "relu", 1.0, True),
    ((3, 5, 4, 3), 4, 0.1, "sigmoid", 1.0, True),
    # Scores in the hundreds: exp without the max shift overflows.
    ((5, 6, 4), 5, 0.0, "relu", 30.0, True),
)


def _mlp_case(rng: np.random.Generator, dims: tuple[int, ...], n: int, scale: float,
              activation: str) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """params, X, y with every hidden pre-activation at least GAP from 0 (redrawn until so),
    for any activation (only ReLU needs it, but the cost is nil)."""
    for _ in range(1000):
        params = {}
        for layer, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:], strict=True), 1):
            params[f"W{layer}"] = scale * rng.normal(size=(fan_in, fan_out)) / math.sqrt(fan_in)
            params[f"b{layer}"] = 0.5 * rng.normal(size=fan_out)
        X = rng.normal(size=(n, dims[0])) * 1.5
        y = rng.integers(0, dims[-1], size=n).astype(np.int64)
        if min(_pre_activations(params, X, activation), default=np.inf) >= GAP:
            return params, X, y
    raise RuntimeError("no MLP sample off the ReLU kink")  # pragma: no cover


#: The largest score of the large-scores case: exp overflows float64 above about 709.8.
TOP_SCORE = 900.0


def _raise_top_score(params: dict[str, np.ndarray], X: np.ndarray, activation: str) -> None:
    """Scale the last layer so that the largest score is :data:`TOP_SCORE` (the hidden
    layers, and so their distance from the ReLU kink, are unchanged)."""
    last = len(params) // 2
    _, h = _hidden_layers(params, X, activation)
    scores = h @ params[f"W{last}"] + params[f"b{last}"]
    top = float(np.max(np.abs(scores)))
    sign = 1.0 if float(np.max(scores)) >= top else -1.0  # the largest |score| made positive
    params[f"W{last}"] = params[f"W{last}"] * (sign * TOP_SCORE / top)
    params[f"b{last}"] = params[f"b{last}"] * (sign * TOP_SCORE / top)


def _hidden_layers(params: dict[str, np.ndarray], X: np.ndarray, activation: str
                   ) -> tuple[list[np.ndarray], np.ndarray]:
    """The pre-activations of each hidden layer, and the last hidden layer's output."""
    h, found = X, []
    for layer in range(1, len(params) // 2):
        z = h @ params[f"W{layer}"] + params[f"b{layer}"]
        found.append(z)
        h = {"relu": np.maximum(z, 0.0), "tanh": np.tanh(z),
             "sigmoid": 1.0 / (1.0 + np.exp(-z))}[activation]
    return found, h


def _pre_activations(params: dict[str, np.ndarray], X: np.ndarray, activation: str):
    """The smallest |z| of each hidden layer."""
    return [float(np.abs(z).min()) for z in _hidden_layers(params, X, activation)[0]]


def mlp_scenarios(hidden: bool) -> tuple[Scenario, ...]:
    found = []
    counters = {False: 0, True: 0}
    for number, (dims, n, reg, activation, scale, secret) in enumerate(MLP_PLANS):
        if secret and not hidden:
            continue
        counters[secret] += 1
        rng = seed_for("a3.mlp_loss", number, hidden=secret)
        params, X, y = _mlp_case(rng, dims, n, scale, activation or "relu")
        if scale > 1:  # the large-scores case must overflow an unshifted exp, whatever the
            _raise_top_score(params, X, activation or "relu")  # secret drew
        kwargs: dict[str, Any] = {} if activation is None else {"reg": reg,
                                                                "activation": activation}
        steps = [Step("mlp_loss", (params, X), kwargs), Step("mlp_loss", (params, X, y), kwargs)]
        observe: dict[str, tuple[int, tuple[Any, ...]]] = {
            "scores": (0, ()), "loss": (1, (0, "float"))}
        grads, probes, properties = [], [], []
        for key in params:
            observe[f"d{key}"] = (1, (1, key))
            grads.append(f"d{key}")
            picked = gradcheck.sample_indices(params[key].shape, MLP_PROBES, rng)
            steps.append(Step("mlp_loss", (params, X, y), kwargs,
                              perturb=((0, key), gradcheck.points(params[key].shape, picked,
                                                                  FD_EPS)), pick=0))
            observe[f"loss at perturbed {key}"] = (len(steps) - 1, ())
            probes.append(f"loss at perturbed {key}")
            properties.append(finite_difference_property(
                "gradcheck", "loss", f"d{key}", f"loss at perturbed {key}", picked, FD_EPS,
                "mlp_loss"))
        layers = len(dims) - 1
        about = (f"({layers} layer{'s' if layers > 1 else ''}, N={n}, "
                 + ("defaults" if activation is None else f"reg={reg}, activation={activation!r}")
                 + (", large scores" if scale > 1 else "") + ")")
        found.append(Scenario(
            label=f"{'hidden' if secret else 'public'} case {counters[secret]}",
            about=about,
            hidden=secret,
            steps=tuple(steps),
            observe=observe,
            # The losses at perturbed parameters are losses too: they must be right, so the
            # finite differences are taken of the true loss.
            compare={"scores": ("scores",), "loss": ("loss", *probes),
                     "gradients": tuple(grads)},
            properties=tuple(properties),
            inputs={"X": X},
        ))
    return tuple(found)


# --- Value ---------------------------------------------------------------------------------

_UNARY = ("exp", "log", "tanh", "relu", "sigmoid", "neg")
_BINARY = ("add", "sub", "mul", "div")
_NUMBER = ("addc", "cadd", "subc", "csub", "mulc", "cmul", "divc", "cdiv", "pow")
#: Node values stay within this magnitude (so exp and products stay tame).
LIMIT = 8.0


def _apply(op: str, a: float, b: float) -> float:
    """The value of one instruction (b: the second node's value, or the number)."""
    table = {
        "exp": lambda: math.exp(a), "log": lambda: math.log(a), "tanh": lambda: math.tanh(a),
        "relu": lambda: max(a, 0.0), "sigmoid": lambda: 1.0 / (1.0 + math.exp(-a)),
        "neg": lambda: -a, "add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
        "div": lambda: a / b, "addc": lambda: a + b, "cadd": lambda: b + a,
        "subc": lambda: a - b, "csub": lambda: b - a, "mulc": lambda: a * b,
        "cmul": lambda: b * a, "divc": lambda: a / b, "cdiv": lambda: b / a,
        "pow": lambda: a**b,
    }
    return table[op]()


def _allowed(op: str, a: float, b: float | None) -> bool:
    """Whether the op is defined and smooth here (and keeps values moderate)."""
    if op == "log" and a < 0.2:
        return False
    if op == "exp" and a > 2.0:
        return False
    if op == "relu" and abs(a) < 0.05:
        return False
    if op in ("div", "cdiv") and abs(b if op == "div" else a) < 0.5:
        return False
    if op == "pow" and b is not None and b != int(b) and a < 0.2:
        return False
    if op == "pow" and abs(a) < 0.2 and b is not None and b < 0:
        return False
    value = _apply(op, a, b if b is not None else 0.0)
    return abs(value) <= LIMIT


def _number_for(op: str, rng: np.random.Generator) -> float:
    if op == "pow":
        return float(rng.choice((2.0, 3.0, -1.0, 0.5, 1.5)))
    c = float(np.round(rng.uniform(0.5, 2.5), 2))
    return c if rng.random() < 0.7 else -c


def value_program(rng: np.random.Generator, leaves: np.ndarray, operations: int,
                  reuse: bool) -> list[list[Any]]:
    """A random expression graph over ``leaves`` as graph instructions (see
    ``autograder.sandbox.programs.graph``).

    Tree-shaped (``reuse`` False): every node is an operand at most once, so each leaf's
    gradient flows along one path. With ``reuse``: operands are drawn from every node, and a
    square (x * x) and a diamond (one node feeding two branches that meet again) are always
    in. Either way c' / (c * leaf_0) comes first; each op is used only where it is defined and
    smooth (log of >= 0.2, division by |.| >= 0.5, fractional powers of >= 0.2, relu away
    from 0); values stay within LIMIT; every dangling node is summed into the output, and
    the output is tanh(0.5 * sum),
    so a wrong tanh derivative shows on every leaf.
    """
    program: list[list[Any]] = [["leaf", k] for k in range(len(leaves))]
    values = [float(v) for v in leaves]
    uses = [0] * len(values)

    def add(instruction: list[Any], value: float) -> int:
        operands = instruction[1:3] if instruction[0] in _BINARY else instruction[1:2]
        for operand in operands:
            uses[operand] += 1
        program.append(instruction)
        values.append(value)
        uses.append(0)
        return len(values) - 1

    def free() -> list[int]:
        return [i for i, u in enumerate(uses) if u == 0 or reuse]

    # c * leaf_0, then c' / that: rare in the random draws below, so always in. |c * leaf_0|
    # lies in [0.6, 2.5], far enough from 0 to divide by.
    c = float(np.round(rng.choice((-1.0, 1.0)) * rng.uniform(0.6, 2.5) / abs(values[0]), 2))
    scaled = add(["cmul", 0, c], c * values[0])
    c = _number_for("cdiv", rng)
    add(["cdiv", scaled, c], c / values[scaled])
    if reuse:
        i = int(rng.integers(len(leaves)))
        add(["mul", i, i], values[i] * values[i])  # x * x
        top = add(["tanh", i], math.tanh(values[i]))
        left = add(["mulc", top, 1.5], 1.5 * values[top])
        right = add(["sigmoid", top], 1.0 / (1.0 + math.exp(-values[top])))
        add(["add", left, right], values[left] + values[right])  # a diamond over top
    def attempt(op: str) -> bool:
        pool = free()
        if op in _BINARY:
            if len(pool) < 2 and not reuse:
                return False
            i, j = (int(k) for k in rng.choice(pool, size=2, replace=reuse))
            second: float | None = values[j]
        else:
            i = int(rng.choice(pool))
            j, second = None, (_number_for(op, rng) if op in _NUMBER else None)
        if not _allowed(op, values[i], second):
            return False
        operand = j if op in _BINARY else second
        add([op, i] if operand is None else [op, i, operand],
            _apply(op, values[i], 0.0 if second is None else second))
        return True

    # Every op once (in a seeded order, each given 30 tries to find operands where it is
    # allowed), then random ones up to the requested size.
    pending = [str(op) for op in rng.permutation([*_UNARY, *_BINARY, *_NUMBER])]
    tries, target = 0, len(program) + operations
    while pending or len(program) < target:
        made = attempt(pending[0] if pending else str(rng.choice([*_UNARY, *_BINARY,
                                                                   *_NUMBER])))
        if pending:
            tries += 1
            if made or tries >= 30:
                pending.pop(0)
                tries = 0
    dangling = [i for i, u in enumerate(uses) if u == 0]
    total = dangling[0]
    for other in dangling[1:]:
        total = add(["add", total, other], values[total] + values[other])
    half = add(["mulc", total, 0.5], 0.5 * values[total])
    add(["tanh", half], math.tanh(values[half]))
    return program


def _leaves(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice((-1.0, 1.0), size=n) * rng.uniform(0.3, 2.0, size=n)


#: (leaves, operations, reuse, hidden)
VALUE_PLANS = ((3, 6, False, False), (3, 5, True, False), (4, 10, False, True),
               (5, 14, False, True), (2, 8, True, True), (4, 12, True, True),
               (1, 5, True, True))


def value_graphs(hidden: bool) -> list[tuple[str, bool, bool, np.ndarray, list[list[Any]]]]:
    """``(label, hidden, reuse, leaves, program)`` of each graph."""
    found = []
    counters = {False: 0, True: 0}
    for number, (n, operations, reuse, secret) in enumerate(VALUE_PLANS):
        if secret and not hidden:
            continue
        counters[secret] += 1
        rng = seed_for("a3.value", number, hidden=secret)
        leaves = _leaves(rng, n)
        program = value_program(rng, leaves, operations, reuse)
        label = f"{'hidden' if secret else 'public'} case {counters[secret]}"
        found.append((label, secret, reuse, leaves, program))
    return found


def value_scenarios(hidden: bool) -> tuple[Scenario, ...]:
    found = []
    for label, secret, reuse, leaves, program in value_graphs(hidden):
        about = (f"({len(leaves)} leaves, {len(program) - len(leaves)} operations, "
                 + ("nodes reused" if reuse else "a tree") + ")")
        s = Script()
        built = s.graph("Value", leaves, program)
        s.observe("data", built, "data")
        s.observe("leaf grads", built, "grad")
        found.append(Scenario(
            label=label,
            about=about,
            hidden=secret,
            steps=s.steps,
            observe=s.observations,
            compare={"forward": ("data",), ("reuse" if reuse else "backward"): ("leaf grads",)},
            inputs={"leaves": leaves},
        ))
    return tuple(found)


def _unused(rng: np.random.Generator, shape: tuple[int, ...], huge: bool) -> dict:
    return {}


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        id="a3.affine",
        title="Affine layer",
        module="layers",
        kind="layer",
        functions=("affine_forward", "affine_backward"),
        inputs=("x", "w", "b"),
        wrt=("x", "w", "b"),
        sample=sample_affine,
        public_shapes=LAYER_PUBLIC,
        hidden_shapes=LAYER_HIDDEN,
        oracle=oracles.affine,
        hint="Flatten x to (N, D) first; dx must be reshaped back to x's shape, and each "
        "gradient has the shape of its input.",
    ),
    Exercise(
        id="a3.affine_relu",
        title="Affine + ReLU",
        module="layers",
        kind="layer",
        functions=("affine_relu_forward", "affine_relu_backward"),
        inputs=("x", "w", "b"),
        wrt=("x", "w", "b"),
        sample=sample_affine_relu,
        public_shapes=LAYER_PUBLIC,
        hidden_shapes=LAYER_HIDDEN,
        oracle=oracles.affine_relu,
        hint="Keep the pre-activation z in the cache: the gradient flows back only where "
        "z > 0, then through the affine layer.",
    ),
    Exercise(
        id="a3.perceptron",
        title="Perceptron",
        module="layers",
        kind="program",
        functions=("perceptron_predict", "perceptron_epoch"),
        inputs=(),
        wrt=(),
        sample=_unused,
        scenarios=perceptron_scenarios,
        weights={"predict": 0.4, "epoch": 0.6},
        returns={"perceptron_predict": "an array of N predictions (0 or 1)",
                 "perceptron_epoch": "(w, b)"},
        oracle_check=oracles.perceptron_check,
        hint="z == 0 predicts 1; update after each sample, predicting it with the weights as "
        "they are at that moment, and update the bias too.",
    ),
    Exercise(
        id="a3.mlp_loss",
        title="Multi-layer perceptron: loss and gradients",
        module="network",
        kind="program",
        functions=("mlp_loss",),
        inputs=(),
        wrt=(),
        sample=_unused,
        scenarios=mlp_scenarios,
        weights={"scores": 0.2, "loss": 0.3, "gradients": 0.4, "gradcheck": 0.1},
        returns={"mlp_loss": "scores when y is None, else (loss, grads) with grads a dict "
                 "with the keys of params"},
        builds_on=("a3.affine", "a3.affine_relu"),
        points=4.0,
        oracle_check=oracles.mlp_check,
        hint="Back-propagate layer by layer from dscores = (softmax - one_hot) / N; the "
        "penalty 0.5 * reg * W**2 adds reg * W to the weights' gradients only.",
    ),
    Exercise(
        id="a3.value",
        title="Scalar autograd (Value)",
        module="autograd",
        kind="program",
        functions=("Value",),
        inputs=(),
        wrt=(),
        sample=_unused,
        scenarios=value_scenarios,
        weights={"forward": 0.3, "backward": 0.4, "reuse": 0.3},
        returns={"Value": "a Value object with numeric .data and .grad"},
        points=4.0,
        oracle_check=oracles.value_check,
        hint="Accumulate gradients with +=, and call _backward in reverse topological order "
        "so each node's gradient is complete before it is passed on.",
    ),
)
