"""A8 exercise specs: scaled dot-product attention (without and with a mask), multi-head
attention and the sinusoidal positional encoding (see ../../shared/CURRICULUM.md, "A8").

Every case is a pure function of the exercise id (``seed_for``), so whatever the secret:

* attention cases have Tk != Tq (a P that should be transposed then has the wrong shape as
  well as the wrong values) and scores of order 1 (softmax far from saturation, so every
  gradient is visible); the stability case adds +-:data:`TOP_SCORE` to every score (an
  unshifted exp overflows, or underflows to 0 / 0) and keeps their differences of order 1;
* masked cases hold masks of both forms: (Tq, Tk) shared by the batch when N is odd,
  (N, Tq, Tk) when N is even (the rule is the sampler's; the function must accept both);
  every row but one allows at least one key and every mask forbids at least one; when
  Tq >= 3 the last query row (of the first batch element, or of every element for a shared
  mask) is fully masked, the documented case that must give zeros; and every mask has a
  row that allows some keys and forbids others (were each row all allowed or all
  forbidden, masking after the softmax, a known mistake, would give the right values);
* multi-head cases have d_model divisible by 6, graded with 2 and 3 heads (a wrong head
  split then shows, which it cannot with one head);
* positional encodings have d >= 4 and T >= 3, even and odd d.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from dlgrade.authoring import Exercise, Scenario, Script, seed_for

from . import oracles

#: The common offset of the scores in an attention stability case: exp overflows float64
#: above about 709.8 (and underflows to 0 below about -745).
TOP_SCORE = 900.0
#: Probability that a mask entry allows attention (before the guarantees below).
DENSITY = 0.6
#: The head counts graded; every multi-head case has d_model divisible by each.
HEADS = (2, 3)


def _other_length(rng: np.random.Generator, tq: int) -> int:
    """Tk in 2..6, different from Tq."""
    return int(rng.choice([t for t in range(2, 7) if t != tq]))


def _qkv(rng: np.random.Generator, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    n, tq, d = shape
    tk = _other_length(rng, tq)
    return {"q": rng.normal(size=(n, tq, d)), "k": rng.normal(size=(n, tk, d)),
            "v": rng.normal(size=(n, tk, d))}


def sample_attention(rng: np.random.Generator, shape: tuple[int, ...], huge: bool):
    """q (N, Tq, d), k and v (N, Tk, d). Huge: the first coordinate of every key is c and
    of every query +c (even batch elements) or -c (odd ones), with c**2 / sqrt(d) =
    TOP_SCORE, so every score is +-TOP_SCORE plus a term of order 1: an unshifted exp
    overflows (or underflows to 0 / 0), while the softmax is far from one-hot and every
    gradient stays visible."""
    inputs = _qkv(rng, shape)
    if huge:
        c = math.sqrt(TOP_SCORE * math.sqrt(shape[2]))
        inputs["k"][..., 0] = c
        inputs["q"][..., 0] = np.where(np.arange(shape[0]) % 2 == 0, c, -c)[:, None]
    return inputs


def mask_for(rng: np.random.Generator, n: int, tq: int, tk: int) -> np.ndarray:
    """A boolean mask (see the module docstring): (tq, tk) if n is odd, else (n, tq, tk)."""
    shape = (tq, tk) if n % 2 else (n, tq, tk)
    mask = rng.random(shape) < DENSITY
    rows = mask.reshape(-1, tk)
    for row in rows:  # every row allows at least one key, the mask forbids at least one
        if not row.any():
            row[rng.integers(tk)] = True
    if rows.all():
        rows[0, rng.integers(tk)] = False
    if tq >= 3:
        rows[tq - 1] = False  # the last query of the first (or the shared) mask: none allowed
    if not any(row.any() and not row.all() for row in rows):  # (1-3% of hidden cases)
        full = np.flatnonzero(rows.all(axis=1))
        if len(full) and tk >= 2:
            rows[full[rng.integers(len(full))], rng.integers(tk)] = False
    return rows.reshape(shape)


def sample_masked(rng: np.random.Generator, shape: tuple[int, ...], huge: bool):
    """q, k, v as :func:`sample_attention` (no huge cases), and a boolean mask."""
    inputs = _qkv(rng, shape)
    n, tq, _ = shape
    inputs["mask"] = mask_for(rng, n, tq, inputs["k"].shape[1])
    return inputs


def sample_multi_head(rng: np.random.Generator, shape: tuple[int, ...], huge: bool):
    """x_q (N, Tq, E), x_k and x_v (N, Tk, E), W_in (E, 3E) and W_out (E, E) scaled by
    1/sqrt(E) (scores of order 1), biases of order 0.5."""
    n, tq, e = shape
    tk = _other_length(rng, tq)
    return {"x_q": rng.normal(size=(n, tq, e)), "x_k": rng.normal(size=(n, tk, e)),
            "x_v": rng.normal(size=(n, tk, e)),
            "W_in": rng.normal(size=(e, 3 * e)) / math.sqrt(e),
            "b_in": 0.5 * rng.normal(size=3 * e),
            "W_out": rng.normal(size=(e, e)) / math.sqrt(e),
            "b_out": 0.5 * rng.normal(size=e)}


# --- positional encoding (a program: two ints in, an array out) ---------------------------

#: Public (T, d): two even d, one odd.
PE_PUBLIC = ((6, 8), (5, 4), (4, 7))


def pe_plans(hidden: bool) -> list[tuple[str, bool, int, int]]:
    """``(label, hidden, T, d)`` of every case; hidden ones drawn from the secret (three
    even d, two odd)."""
    plans = [(f"public case {i + 1}", False, t, d) for i, (t, d) in enumerate(PE_PUBLIC)]
    if hidden:
        rng = seed_for("a8.positional_encoding", 0, hidden=True)
        sizes = [(int(rng.integers(8, 41)), int(rng.choice((6, 10, 12, 16)))),
                 (int(rng.integers(3, 9)), int(rng.choice((4, 6)))),
                 (int(rng.integers(20, 61)), int(rng.choice((32, 64)))),
                 (int(rng.integers(3, 12)), int(rng.choice((5, 9, 11)))),
                 (int(rng.integers(10, 30)), int(rng.choice((13, 15))))]
        plans += [(f"hidden case {i + 1}", True, t, d) for i, (t, d) in enumerate(sizes)]
    return plans


def pe_scenarios(hidden: bool) -> tuple[Scenario, ...]:
    found = []
    for label, secret, t, d in pe_plans(hidden):
        s = Script()
        name = s.observe(f"PE for T={t}, d={d}", s.call("positional_encoding", t, d))
        found.append(Scenario(
            label=label, about=f"(T={t}, d={d})", hidden=secret,
            steps=s.steps, observe=s.observations,
            compare={("odd_d" if d % 2 else "even_d"): (name,)}))
    return tuple(found)


def _unused(rng: np.random.Generator, shape: tuple[int, ...], huge: bool) -> dict[str, Any]:
    return {}


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        id="a8.attention",
        title="Scaled dot-product attention",
        module="attention",
        kind="layer",
        functions=("scaled_dot_product_attention_forward",
                   "scaled_dot_product_attention_backward"),
        inputs=("q", "k", "v"),
        wrt=("q", "k", "v"),
        sample=sample_attention,
        public_shapes=((2, 3, 4), (1, 4, 2)),
        hidden_shapes=((3, 2, 5), (2, 5, 3), (1, 1, 4)),
        stability_shapes=((2, 3, 4),),
        points=3.0,
        weights={"forward": 0.3, "backward": 0.4, "gradcheck": 0.1, "stability": 0.2},
        oracle=oracles.attention,
        hint="S = q @ k^T / sqrt(d), softmax over the keys (the last axis) after subtracting "
        "each row's max; back through P @ v, then the softmax row by row, then the scale.",
    ),
    Exercise(
        id="a8.masked_attention",
        title="Masked attention",
        module="attention",
        kind="layer",
        functions=("scaled_dot_product_attention_forward",
                   "scaled_dot_product_attention_backward"),
        inputs=("q", "k", "v", "mask"),
        wrt=("q", "k", "v"),
        sample=sample_masked,
        public_shapes=((2, 4, 3), (3, 3, 4)),
        hidden_shapes=((1, 5, 2), (4, 3, 3), (2, 2, 4), (5, 4, 2)),
        stable=False,
        points=2.0,
        weights={"forward": 0.5, "backward": 0.4, "gradcheck": 0.1},
        builds_on=("a8.attention",),
        oracle=oracles.attention,
        hint="True means 'may attend': set the other scores to -inf BEFORE the softmax; a "
        "row with no allowed key gives zeros (guard its max and its sum), and no gradient.",
    ),
    Exercise(
        id="a8.multi_head_attention",
        title="Multi-head attention",
        module="attention",
        kind="layer",
        functions=("multi_head_attention_forward", "multi_head_attention_backward"),
        # Not "value": an input of that name (or "grads") is overwritten by the engine's
        # own bookkeeping of the replies (see the A8 report).
        inputs=("x_q", "x_k", "x_v", "W_in", "b_in", "W_out", "b_out"),
        wrt=("x_q", "x_k", "x_v", "W_in", "b_in", "W_out", "b_out"),
        sample=sample_multi_head,
        params=tuple({"num_heads": h} for h in HEADS),
        public_shapes=((2, 3, 6), (1, 4, 12)),
        hidden_shapes=((3, 2, 6), (2, 5, 6), (1, 1, 12)),
        stable=False,
        points=4.0,
        weights={"forward": 0.35, "backward": 0.55, "gradcheck": 0.1},
        builds_on=("a8.attention",),
        oracle=oracles.multi_head_attention,
        hint="Reshape (N, T, E) to (N, T, h, E/h) and move the head axis forward; scale by "
        "1/sqrt(E/h); merge the heads back the same way before the out-projection.",
    ),
    Exercise(
        id="a8.positional_encoding",
        title="Sinusoidal positional encoding",
        module="attention",
        kind="program",
        functions=("positional_encoding",),
        inputs=(),
        wrt=(),
        sample=_unused,
        scenarios=pe_scenarios,
        weights={"even_d": 0.7, "odd_d": 0.3},
        returns={"positional_encoding": "an array of shape (T, d)"},
        points=1.5,
        oracle_check=lambda: oracles.positional_encoding_check(pe_scenarios(True)),
        hint="Column 2i holds sin(t / 10000**(2i/d)) and column 2i+1 the cosine of the SAME "
        "angle; positions start at t = 0; for odd d the last column is a sine.",
    ),
)
