"""A7 exercise specs: recurrent layers in ``rnn.py`` (see ../../shared/CURRICULUM.md, "A7").

* ``rnn_step``, ``rnn_sequence`` (``rnn_forward`` / ``rnn_backward``, BPTT), ``gru_step`` and
  ``embedding`` are layers: ``forward -> (out, cache)``, ``backward(dout, cache)``.
* ``lstm_step`` is a program: ``lstm_step_forward`` returns two states and a cache,
  ``(next_h, next_c, cache)``, and its backward takes two upstream gradients, which the
  layer kind cannot express (its forward is ``(out, cache)``, one upstream gradient). A
  ``Script`` cannot keep the third element of a result either (``call(..., keep=True)``
  keeps the second of exactly two), so the template provides ``lstm_step_forward_pair``,
  outside the solution, returning ``((next_h, next_c), cache)``: the script calls it with
  ``keep=True`` and hands the kept cache to the student's ``lstm_step_backward``.

Every case is a pure function of the exercise id (``seed_for``). All the layers are smooth
(tanh, sigmoid, products), so no case needs to avoid a kink. Hidden sizes differ from input
sizes (a gradient computed with the wrong matrix then has the wrong shape), every sequence
has T >= 2 (a dropped time-step gradient shows), and every embedding case repeats an index
(N * T > V).
"""

from __future__ import annotations

import math

import numpy as np
from dlgrade.authoring import Exercise, Scenario, Script, seed_for

from . import oracles

#: Pre-activations the stability case must reach (both signs): exp(2 * 400) overflows.
HUGE_PREACTIVATION = 400.0


def _hidden_size(rng: np.random.Generator, d: int) -> int:
    return int(rng.choice([k for k in range(2, 6) if k != d]))


def _weights(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    return rng.normal(size=(rows, cols)) / math.sqrt(rows)


# --- vanilla RNN ---------------------------------------------------------------------------


def sample_rnn_step(rng: np.random.Generator, shape: tuple[int, ...], huge: bool):
    """x (N, D), h_prev (N, H) in (-1, 1), Wx (D, H), Wh (H, H), b (H,), H != D. Huge: the
    first row of x is scaled by 1e3 (the other rows stay moderate, so the gradients are not
    all saturated to 0), redrawn until some pre-activations exceed +-HUGE_PREACTIVATION (a
    tanh computed from exp(2a) overflows there)."""
    n, d = shape
    h = _hidden_size(rng, d)
    for _ in range(1000):
        x = rng.normal(size=shape)
        if huge:
            x[0] *= 1e3
        inputs = {"x": x, "h_prev": rng.uniform(-1.0, 1.0, size=(n, h)),
                  "Wx": _weights(rng, d, h), "Wh": _weights(rng, h, h),
                  "b": 0.5 * rng.normal(size=h)}
        a = x @ inputs["Wx"] + inputs["h_prev"] @ inputs["Wh"] + inputs["b"]
        if not huge or (a.max() > HUGE_PREACTIVATION and a.min() < -HUGE_PREACTIVATION):
            return inputs
    raise RuntimeError("no huge rnn_step sample")  # pragma: no cover


def sample_rnn_sequence(rng: np.random.Generator, shape: tuple[int, ...], huge: bool):
    """x (N, T, D), h0 (N, H) in (-1, 1), Wx (D, H), Wh (H, H), b (H,), H != D."""
    n, _, d = shape
    h = _hidden_size(rng, d)
    return {"x": rng.normal(size=shape), "h0": rng.uniform(-1.0, 1.0, size=(n, h)),
            "Wx": _weights(rng, d, h), "Wh": _weights(rng, h, h), "b": 0.5 * rng.normal(size=h)}


# --- LSTM (a program) ----------------------------------------------------------------------

#: (N, D, H, dnext_c is zero, hidden): D != H everywhere.
LSTM_PLANS = (
    (2, 3, 4, False, False),
    (3, 5, 2, True, False),
    (1, 4, 3, False, True),
    (4, 2, 5, False, True),
    (3, 6, 4, True, True),
)
LSTM_GRADS = ("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db")


def lstm_inputs(rng: np.random.Generator, n: int, d: int, h: int) -> dict[str, np.ndarray]:
    return {"x": rng.normal(size=(n, d)), "h_prev": rng.uniform(-1.0, 1.0, size=(n, h)),
            "c_prev": rng.normal(size=(n, h)), "Wx": _weights(rng, d, 4 * h),
            "Wh": _weights(rng, h, 4 * h), "b": 0.5 * rng.normal(size=4 * h)}


def lstm_scenarios(hidden: bool) -> tuple[Scenario, ...]:
    """One forward step (next_h, next_c) and its backward pass per case; in the cases with
    dnext_c = 0 the cell state feeds nothing but next_h (the last step of a sequence)."""
    found = []
    counters = {False: 0, True: 0}
    for number, (n, d, h, no_dc, secret) in enumerate(LSTM_PLANS):
        if secret and not hidden:
            continue
        counters[secret] += 1
        rng = seed_for("a7.lstm_step", number, hidden=secret)
        inputs = lstm_inputs(rng, n, d, h)
        dnext_h = rng.standard_normal((n, h))
        dnext_c = np.zeros((n, h)) if no_dc else rng.standard_normal((n, h))
        s = Script()
        pair = s.call("lstm_step_forward_pair", *inputs.values(), keep=True)
        forward = (s.observe("next_h", pair, 0), s.observe("next_c", pair, 1))
        grads = s.call("lstm_step_backward", dnext_h, dnext_c, s.last_cache)
        backward = tuple(s.observe(name, grads, k) for k, name in enumerate(LSTM_GRADS))
        found.append(Scenario(
            label=f"{'hidden' if secret else 'public'} case {counters[secret]}",
            about=f"(N={n}, D={d}, H={h}{', dnext_c = 0' if no_dc else ''})",
            hidden=secret, steps=s.steps, observe=s.observations,
            compare={"forward": forward, "backward": backward},
            inputs={"x": inputs["x"]}))
    return tuple(found)


# --- GRU -----------------------------------------------------------------------------------


def sample_gru_step(rng: np.random.Generator, shape: tuple[int, ...], huge: bool):
    """x (N, D), h_prev (N, H) in (-1, 1), Wx (D, 3H), Wh (H, 3H), bx and bh (3H,), H != D.
    The hidden biases are not small: r multiplies (h_prev @ Wh_n + bh_n), so a reset gate
    applied before the product (without bh_n) shows in every entry."""
    n, d = shape
    h = _hidden_size(rng, d)
    return {"x": rng.normal(size=shape), "h_prev": rng.uniform(-1.0, 1.0, size=(n, h)),
            "Wx": _weights(rng, d, 3 * h), "Wh": _weights(rng, h, 3 * h),
            "bx": 0.5 * rng.normal(size=3 * h), "bh": rng.normal(size=3 * h)}


# --- embedding -----------------------------------------------------------------------------


def sample_embedding(rng: np.random.Generator, shape: tuple[int, ...], huge: bool):
    """x (N, T) integer indices into W (V, D), V < N * T (so an index repeats, and each
    case is redrawn until one does), D != V; some rows of W are never picked."""
    n, t = shape
    v = int(rng.integers(2, min(n * t, 7)))
    d = int(rng.choice([k for k in range(2, 6) if k != v]))
    for _ in range(1000):
        x = rng.integers(0, v, size=shape).astype(np.int64)
        if len(np.unique(x)) < x.size:
            return {"x": x, "W": rng.normal(size=(v, d))}
    raise RuntimeError("no embedding sample with a repeated index")  # pragma: no cover


def _unused(rng: np.random.Generator, shape: tuple[int, ...], huge: bool) -> dict:
    return {}


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        id="a7.rnn_step",
        title="RNN step",
        module="rnn",
        kind="layer",
        functions=("rnn_step_forward", "rnn_step_backward"),
        inputs=("x", "h_prev", "Wx", "Wh", "b"),
        wrt=("x", "h_prev", "Wx", "Wh", "b"),
        sample=sample_rnn_step,
        public_shapes=((3, 4),),
        hidden_shapes=((1, 2), (5, 3)),
        stable=True,
        weights={"forward": 0.3, "backward": 0.4, "gradcheck": 0.1, "stability": 0.2},
        oracle=oracles.rnn_step,
        hint="da = dnext_h * (1 - next_h**2); every gradient is a product with da, and "
        "dWh pairs da with h_prev (the input of the step, not its output).",
        hints={"stability": "np.tanh is stable for any input; (exp(2a) - 1) / (exp(2a) + 1) "
               "overflows for a above about 355."},
    ),
    Exercise(
        id="a7.rnn_sequence",
        title="RNN over a sequence (BPTT)",
        module="rnn",
        kind="layer",
        functions=("rnn_forward", "rnn_backward"),
        inputs=("x", "h0", "Wx", "Wh", "b"),
        wrt=("x", "h0", "Wx", "Wh", "b"),
        sample=sample_rnn_sequence,
        public_shapes=((2, 3, 4),),
        hidden_shapes=((1, 4, 3), (3, 5, 2), (4, 2, 5)),
        stable=False,
        weights={"forward": 0.3, "backward": 0.6, "gradcheck": 0.1},
        points=3.0,
        builds_on=("a7.rnn_step",),
        oracle=oracles.rnn_sequence,
        hint="Go back from the last step, passing dh[:, t] PLUS the dh_prev of step t + 1 "
        "to step t; add up the weight gradients of every step.",
    ),
    Exercise(
        id="a7.lstm_step",
        title="LSTM step",
        module="rnn",
        kind="program",
        functions=("lstm_step_forward", "lstm_step_backward", "lstm_step_forward_pair"),
        inputs=(),
        wrt=(),
        sample=_unused,
        scenarios=lstm_scenarios,
        weights={"forward": 0.4, "backward": 0.6},
        returns={"lstm_step_forward_pair": "((next_h, next_c), cache); it is provided in "
                 "the template: keep it, and make lstm_step_forward return "
                 "(next_h, next_c, cache)",
                 "lstm_step_backward": "(dx, dh_prev, dc_prev, dWx, dWh, db)"},
        points=3.0,
        oracle_check=oracles.lstm_check,
        hint="Gates in the order i, f, o, g (g is the last block, tanh); next_c reaches the "
        "loss through next_h too: dc = dnext_c + dnext_h * o * (1 - tanh(next_c)**2). Keep "
        "the provided lstm_step_forward_pair: the grader calls your forward through it.",
    ),
    Exercise(
        id="a7.gru_step",
        title="GRU step",
        module="rnn",
        kind="layer",
        functions=("gru_step_forward", "gru_step_backward"),
        inputs=("x", "h_prev", "Wx", "Wh", "bx", "bh"),
        wrt=("x", "h_prev", "Wx", "Wh", "bx", "bh"),
        sample=sample_gru_step,
        public_shapes=((3, 4),),
        hidden_shapes=((1, 2), (5, 3), (2, 6)),
        stable=False,
        weights={"forward": 0.4, "backward": 0.5, "gradcheck": 0.1},
        points=3.0,
        oracle=oracles.gru_step,
        hint="Blocks r, z, n; r multiplies (h_prev @ Wh_n + bh_n) after the product; "
        "next_h = (1 - z) * n + z * h_prev, so h_prev also gets dnext_h * z directly.",
    ),
    Exercise(
        id="a7.embedding",
        title="Word embedding",
        module="rnn",
        kind="layer",
        functions=("embedding_forward", "embedding_backward"),
        inputs=("x", "W"),
        wrt=("W",),
        sample=sample_embedding,
        public_shapes=((2, 4),),
        hidden_shapes=((1, 7), (3, 5), (4, 2)),
        stable=False,
        weights={"forward": 0.3, "backward": 0.6, "gradcheck": 0.1},
        points=1.5,
        oracle=oracles.embedding,
        hint="A repeated index must collect every one of its gradients: np.add.at(dW, x, "
        "dout) (dW[x] += dout writes each repeated row only once).",
    ),
)
