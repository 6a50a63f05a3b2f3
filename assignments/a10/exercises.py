"""A10 exercise specs: ``numerical_gradient`` and ``train_mlp`` (``train.py``; see
../../shared/CURRICULUM.md, "A10").

Both are program exercises: a case is a script of calls run in the child.

* The grader can send only data to the child, never a Python function, so the function f
  that ``numerical_gradient`` differentiates is made there by the course helper
  ``a10_helpers.make_function`` (support/a10_helpers.py, copied beside every submission),
  which the template of train.py imports. It returns ``(f(x), f)``, so
  ``Script.call(..., keep=True)`` keeps f in the child as a layer's cache is kept, and the
  next call passes it; the value f(x) is compared too (always right: it is the course's
  code), so that a train.py without the import is told "train.py does not define
  make_function()" rather than "not run". x is kept too (``Script.put``) and read back
  after the call: it must be unchanged (the ``restored`` check).
* ``train_mlp`` is graded on short seeded runs, compared step by step with the reference
  (``history``: every loss; ``params``: the trained weights), and on two public toy sets
  that the network must fit: XOR and two spirals. The fit is measured in the child by the
  helper ``a10_helpers.trained`` on the params train_mlp returned (kept there as the
  "cache" of the ``(losses, params)`` result), capped at the targets, so every network that
  reaches them reports the same two numbers as the reference. The toy sets are public and
  the same for every course secret, so which known mistakes still fit them is fixed too.

Every case is a pure function of the exercise id and the course secret (``seed_for``); the
training data are drawn off ReLU kinks (no input row at the origin: the hidden biases start
at 0).
"""

from __future__ import annotations

import math

import numpy as np
from dlgrade.authoring import Exercise, Property, Rng, Scenario, Script, seed_for

from . import oracles


def _unused(rng: np.random.Generator, shape: tuple[int, ...], huge: bool) -> dict:
    return {}


# --- numerical_gradient ----------------------------------------------------------------------

#: (test function, shape of x, h or None for the default, hidden). The public cases are 3-D,
#: 1-D and 2-D, so a loop that assumes one shape fails a public case; the 3-D one comes
#: first, where such a loop gives wrong values (named as its mistake) rather than raising.
GRADIENT_PLANS: tuple[tuple[str, tuple[int, ...], float | None, bool], ...] = (
    ("sine", (2, 3, 2), None, False),
    ("cubic", (5,), None, False),
    ("logsumexp", (3, 4), 1e-4, False),
    ("sine", (7,), 1e-3, True),
    ("cubic", (2, 2, 3, 2), None, True),
    ("logsumexp", (4, 5), None, True),
    ("cubic", (1,), 1e-4, True),
    ("logsumexp", (3, 1, 4), 1e-3, True),
)

#: What the restored check says when x comes back changed; the not-restored mistake says it.
M_NOT_RESTORED = ("x is not restored after each probe: the moved entries are left at "
                  "x - h (save each entry and put it back)")
RESTORED = Property("restored", "input_unchanged",
                    {"called": "gradient", "prefix": "x after the call",
                     "mistake": M_NOT_RESTORED})


def gradient_inputs(rng: np.random.Generator, shape: tuple[int, ...]
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, a, c: x uniform in [-1.5, 1.5], a and c normal with standard deviation 0.8."""
    x = rng.uniform(-1.5, 1.5, size=shape)
    a = 0.8 * rng.standard_normal(shape)
    c = 0.8 * rng.standard_normal(shape)
    return x, a, c


def gradient_scenarios(hidden: bool) -> tuple[Scenario, ...]:
    found = []
    counters = {False: 0, True: 0}
    for number, (name, shape, h, secret) in enumerate(GRADIENT_PLANS):
        if secret and not hidden:
            continue
        counters[secret] += 1
        rng = seed_for("a10.numerical_gradient", number, hidden=secret)
        x, a, c = gradient_inputs(rng, shape)
        s = Script()
        # f(x) first: when make_function is missing (train.py lost its import line), the
        # gradient check says so instead of "not run".
        s.observe("f(x)", s.call("make_function", name, a, c, x, keep=True), "float")
        f = s.last_cache
        kept = s.put(x)
        s.observe("gradient", s.call("numerical_gradient", f, kept,
                                     **({} if h is None else {"h": h})))
        s.observe("x after the call", s.get(kept))
        found.append(Scenario(
            label=f"{'hidden' if secret else 'public'} case {counters[secret]}",
            about=f"(x of shape {shape}, {'h=' + repr(h) if h is not None else 'default h'}, "
                  f"{name}: {oracles.FORMULAS[name]})",
            hidden=secret,
            steps=s.steps,
            observe=s.observations,
            compare={"gradient": ("f(x)", "gradient")},
            properties=(RESTORED,),
            inputs={"x": x},
        ))
    return tuple(found)


# --- train_mlp: short runs compared step by step -----------------------------------------

#: (N, D, C, hidden, lr, epochs, batch_size, hidden case). Public: a last batch of 2
#: (12 = 2 * 5 + 2) and one full batch; hidden: a partial last batch, plain SGD (batch 1),
#: batches dividing N, and a batch larger than N.
RUN_PLANS: tuple[tuple[int, int, int, int, float, int, int, bool], ...] = (
    (12, 3, 3, 6, 0.1, 3, 5, False),
    (8, 4, 2, 5, 0.5, 2, 8, False),
    (10, 2, 4, 7, 0.2, 3, 3, True),
    (9, 3, 3, 4, 0.05, 2, 1, True),
    (16, 5, 3, 8, 0.3, 4, 4, True),
    (7, 3, 2, 5, 0.4, 3, 10, True),
)


def run_data(rng: np.random.Generator, n: int, d: int, c: int) -> tuple[np.ndarray, np.ndarray]:
    """X (n, d) standard normal times 1.5 (no row near the origin), y (n,) with every one of
    the c classes present, so that C = y.max() + 1 is c."""
    X = 1.5 * rng.standard_normal((n, d))
    y = rng.permutation(np.arange(n) % c).astype(np.int64)
    return X, y


def _steps(n: int, epochs: int, batch_size: int) -> int:
    return epochs * math.ceil(n / batch_size)


def run_scenarios(hidden: bool) -> list[Scenario]:
    found = []
    counters = {False: 0, True: 0}
    for number, (n, d, c, width, lr, epochs, batch_size, secret) in enumerate(RUN_PLANS):
        if secret and not hidden:
            continue
        counters[secret] += 1
        rng = seed_for("a10.train_mlp", number, hidden=secret)
        X, y = run_data(rng, n, d, c)
        seed = int(rng.integers(2**31))
        s = Script()
        run = s.call("train_mlp", X, y, width, lr, epochs, batch_size, Rng(seed))
        s.observe("losses", run, 0, "float")
        for key in ("W1", "b1", "W2", "b2"):
            s.observe(f"params[{key!r}]", run, 1, key)
        steps = _steps(n, epochs, batch_size)
        found.append(Scenario(
            label=f"{'hidden' if secret else 'public'} case {counters[secret]}",
            about=(f"(N={n}, D={d}, C={c}, hidden={width}, lr={lr}, epochs={epochs}, "
                   f"batch_size={batch_size}: {steps} steps)"),
            hidden=secret,
            steps=s.steps,
            observe=s.observations,
            compare={"history": ("losses",),
                     "params": tuple(o for o in s.observations if o.startswith("params"))},
            sequence={"losses": "update"},
            inputs={"X": X},
        ))
    return found


# --- train_mlp: toy sets it must fit -------------------------------------------------------

#: XOR on +-1 inputs (no row at the origin, where the zero-initialised biases would put
#: every hidden unit exactly at the ReLU's kink).
XOR_X = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0], dtype=np.int64)
#: (hidden, lr, epochs, batch_size, target accuracy, target loss) of each toy set.
XOR_RUN = (8, 0.5, 300, 2, 1.0, 0.1)
SPIRALS_RUN = (64, 0.5, 600, 20, 0.95, 0.2)
#: Points per spiral, turns, noise.
SPIRALS = (50, 1.5, 0.02)


def two_spirals(rng: np.random.Generator, n: int, turns: float, noise: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals of n points each (radius 0.2 to 1, ``turns`` turns; the second
    is the first turned by half a turn), plus normal noise; labels 0 and 1."""
    t = np.linspace(0.0, 1.0, n)
    radius = 0.2 + 0.8 * t
    angle = turns * 2.0 * np.pi * t
    arm = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    X = np.concatenate([arm, -arm]) + noise * rng.standard_normal((2 * n, 2))
    return X, np.repeat(np.array([0, 1], dtype=np.int64), n)


def toy_sets() -> list[tuple[str, str, np.ndarray, np.ndarray, tuple, int]]:
    """``(check, title, X, y, run, seed)`` of each toy set (public: no secret in them)."""
    rng = seed_for("a10.train_mlp", 1000)
    spirals_X, spirals_y = two_spirals(rng, *SPIRALS)
    return [("xor", "XOR", XOR_X, XOR_Y, XOR_RUN, int(rng.integers(2**31))),
            ("spirals", f"two spirals, {2 * SPIRALS[0]} points, {SPIRALS[1]} turns",
             spirals_X, spirals_y, SPIRALS_RUN, int(rng.integers(2**31)))]


def toy_scenarios() -> list[Scenario]:
    found = []
    for number, (check, title, X, y, run, seed) in enumerate(toy_sets(), start=3):
        width, lr, epochs, batch_size, accuracy, loss = run
        s = Script()
        s.call("train_mlp", X, y, width, lr, epochs, batch_size, Rng(seed), keep=True)
        fit = s.call("trained", s.last_cache, X, y, accuracy, loss)
        s.observe("training accuracy", fit, "accuracy", "float")
        s.observe("training loss", fit, "loss", "float")
        found.append(Scenario(
            label=f"public case {number}",
            about=(f"({title}: hidden={width}, lr={lr}, epochs={epochs}, "
                   f"batch_size={batch_size}; the trained network must reach a training "
                   f"accuracy of at least {accuracy} and a mean loss of at most {loss})"),
            hidden=False,
            steps=s.steps,
            observe=s.observations,
            compare={check: ("training accuracy", "training loss")},
            inputs={"X": X},
        ))
    return found


def train_scenarios(hidden: bool) -> tuple[Scenario, ...]:
    return (*run_scenarios(hidden), *toy_scenarios())


KEEP_THE_IMPORT = ("keep the line 'from a10_helpers import make_function, trained' at the "
                   "top of train.py: the grader calls them through your module")

EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        id="a10.numerical_gradient",
        title="Numerical gradient (centred differences)",
        module="train",
        kind="program",
        functions=("numerical_gradient",),
        inputs=(),
        wrt=(),
        sample=_unused,
        scenarios=gradient_scenarios,
        weights={"gradient": 0.75, "restored": 0.25},
        returns={"numerical_gradient": "grad, an array shaped like x"},
        oracle_check=oracles.gradient_check,
        hint="(f(x + h e_i) - f(x - h e_i)) / (2h) for EVERY entry i, whatever x's shape; "
             "put each entry back exactly before moving the next; " + KEEP_THE_IMPORT + ".",
    ),
    Exercise(
        id="a10.train_mlp",
        title="Training loop: mini-batch SGD of a two-layer network",
        module="train",
        kind="program",
        functions=("train_mlp",),
        inputs=(),
        wrt=(),
        sample=_unused,
        scenarios=train_scenarios,
        weights={"history": 0.35, "params": 0.25, "xor": 0.15, "spirals": 0.25},
        returns={"train_mlp": "(losses, params): a 1-D array with one loss per step and a "
                              "dict with W1, b1, W2, b2"},
        builds_on=("a3.affine", "a3.affine_relu"),
        points=4.0,
        time_limit=10.0,
        oracle_check=oracles.train_check,
        hint="Initialise W1 then W2 from rng as documented, draw rng.permutation(N) at the "
             "start of EVERY epoch, keep the last smaller batch, average the gradient over "
             "the batch and step P -= lr * dP; " + KEEP_THE_IMPORT + ".",
    ),
)
