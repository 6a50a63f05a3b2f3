"""A6 exercise specs: conv2d, max pooling (with a separate exercise for tied maxima) and
average pooling, NCHW, hyper-parameters in dicts (see ../../shared/CURRICULUM.md, "A6").

Every case is a pure function of the exercise id (``seed_for``). Choices:

* Output sizes are floored (CURRICULUM: H' = 1 + (H + 2 pad - HH) // stride), and the shapes
  make H + 2 pad - HH (or H - PH) an odd number under stride 2 in some cases, so a student
  who rounds up, or assumes the windows tile the input exactly, is caught.
* conv_param sets: stride 1 and 2 times pad 0 and 1. Kernels are (3, 3), (3, 2) or (2, 3):
  non-square, so swapping HH and WW is caught; F differs from N, so axes mixed up in dw or db
  show. pool_param sets: a 2x2 window with stride 2 (the classic), a 3x2 window with stride 1
  and a 2x3 window with stride 2 (both overlapping, both non-square).
* Max pooling's layer cases have no ties: every x is a shuffled grid of distinct values at
  least ``MIN_GAP`` apart, so the gradient check (steps of 1e-6, 1e-3 for float32) never
  crosses a change of maximum. Ties are graded apart (``a6.maxpool_ties``), with small
  integers and no gradient check: the gradient goes to the first maximum in row-major order,
  as PyTorch's.
* Sizes are small (at most a few hundred entries), so a naive loop solution runs well inside
  ``TIME_LIMIT``; ``tests/test_a6_content.py`` times the loop sample student ``ada``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from dlgrade.authoring import Exercise, Scenario, Script, seed_for

from . import oracles

#: Seconds of wall clock per exercise, for all its cases (stated in the template's docstring).
TIME_LIMIT = 10.0
#: The smallest distance between two entries of a max-pooling input (no near-ties).
MIN_GAP = 0.02

CONV_PARAMS = tuple({"conv_param": {"stride": s, "pad": p}} for s in (1, 2) for p in (0, 1))
#: (HH, WW) of the filters, one drawn per case.
KERNELS = ((3, 3), (3, 2), (2, 3))
CONV_PUBLIC = ((2, 3, 6, 5), (3, 2, 5, 5))
CONV_HIDDEN = ((1, 3, 7, 6), (2, 2, 4, 7))

POOL_PARAMS = tuple(
    {"pool_param": {"pool_height": ph, "pool_width": pw, "stride": s}}
    for ph, pw, s in ((2, 2, 2), (3, 2, 1), (2, 3, 2))
)
POOL_PUBLIC = ((2, 3, 6, 7), (1, 2, 5, 5))
POOL_HIDDEN = ((3, 2, 7, 6), (2, 1, 4, 8))


def _unused_sampler(rng: np.random.Generator, shape: tuple[int, ...], huge: bool) -> dict:
    return {}


def sample_conv(rng: np.random.Generator, shape: tuple[int, ...], huge: bool) -> dict[str, Any]:
    """x (N, C, H, W) standard normal; w (F, C, HH, WW) with F in 2..4, F != N, and a kernel
    from KERNELS, scaled by 1/sqrt(C HH WW); b (F,)."""
    n, c = shape[:2]
    f = int(rng.choice([k for k in range(2, 5) if k != n]))
    hh, ww = KERNELS[int(rng.integers(len(KERNELS)))]
    x = rng.standard_normal(shape)
    w = rng.standard_normal((f, c, hh, ww)) / math.sqrt(c * hh * ww)
    b = rng.standard_normal(f)
    return {"x": x, "w": w, "b": b}


def sample_pool(rng: np.random.Generator, shape: tuple[int, ...], huge: bool) -> dict[str, Any]:
    """x: a shuffled grid of distinct values in about [-3, 3], neighbours in value at least
    MIN_GAP apart (a window's maximum is unique, and stays so under the gradient check)."""
    size = math.prod(shape)
    step = max(6.0 / size, 2.0 * MIN_GAP)
    grid = (np.arange(size) - (size - 1) / 2.0) * step
    jitter = rng.uniform(0.0, step - MIN_GAP, size=size)  # keeps every gap >= MIN_GAP
    return {"x": rng.permutation(grid + jitter).reshape(shape)}


# --- max pooling with ties ------------------------------------------------------------------

#: (x shape, pool_param, hidden) of the tie scenarios.
TIE_PLANS = (
    ((2, 2, 4, 6), (2, 2, 2), False),
    ((1, 2, 5, 5), (3, 2, 1), False),
    ((2, 3, 6, 5), (2, 3, 1), True),
    ((3, 1, 5, 7), (2, 2, 2), True),
    ((1, 2, 6, 6), (3, 3, 2), True),
)


def _windows(x: np.ndarray, ph: int, pw: int, stride: int) -> np.ndarray:
    """(N, C, H', W', PH * PW): each window's entries in row-major order."""
    n, c, h, w = x.shape
    ho, wo = 1 + (h - ph) // stride, 1 + (w - pw) // stride
    return np.array([[[[x[a, b, i * stride:i * stride + ph, j * stride:j * stride + pw].ravel()
                        for j in range(wo)] for i in range(ho)] for b in range(c)]
                     for a in range(n)])


def tied_windows(x: np.ndarray, pool: tuple[int, int, int]) -> int:
    """How many windows have their maximum more than once."""
    flat = _windows(x, *pool)
    return int(np.sum((flat == flat.max(axis=-1, keepdims=True)).sum(axis=-1) > 1))


def _tie_input(rng: np.random.Generator, shape: tuple[int, ...],
               pool: tuple[int, int, int]) -> np.ndarray:
    """Small integers (-1, 0, 1, 2), exact in any float type: most windows hold a tied
    maximum; redrawn until at least a third of them do."""
    for _ in range(1000):
        x = rng.integers(-1, 3, size=shape).astype(np.float64)
        if 3 * tied_windows(x, pool) >= math.prod(_windows(x, *pool).shape[:4]):
            return x
    raise RuntimeError("no tie input")  # pragma: no cover


def tie_scenarios(hidden: bool) -> tuple[Scenario, ...]:
    found = []
    counters = {False: 0, True: 0}
    for number, (shape, pool, secret) in enumerate(TIE_PLANS):
        if secret and not hidden:
            continue
        counters[secret] += 1
        rng = seed_for("a6.maxpool_ties", number, hidden=secret)
        x = _tie_input(rng, shape, pool)
        pool_param = dict(zip(("pool_height", "pool_width", "stride"), pool, strict=True))
        out_shape = _windows(x, *pool).shape[:4]
        # |dout| in [0.5, 2]: a gradient routed to the wrong entry always shows
        dout = rng.uniform(0.5, 2.0, out_shape) * rng.choice((-1.0, 1.0), out_shape)
        s = Script()
        s.observe("out", s.call("maxpool2d_forward", x, pool_param=pool_param, keep=True))
        s.observe("dx", s.call("maxpool2d_backward", dout, s.last_cache))
        found.append(Scenario(
            label=f"{'hidden' if secret else 'public'} case {counters[secret]}",
            about=f"(x of shape {shape} with tied maxima, pool_param={pool_param})",
            hidden=secret, steps=s.steps, observe=s.observations,
            compare={"forward": ("out",), "backward": ("dx",)}, inputs={"x": x}))
    return tuple(found)


def _ties_oracle_check() -> list[str]:
    return oracles.maxpool_ties_check(tie_scenarios(True))


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        id="a6.conv2d",
        title="2-D convolution",
        module="conv",
        kind="layer",
        functions=("conv2d_forward", "conv2d_backward"),
        inputs=("x", "w", "b"),
        wrt=("x", "w", "b"),
        sample=sample_conv,
        params=CONV_PARAMS,
        public_shapes=CONV_PUBLIC,
        hidden_shapes=CONV_HIDDEN,
        stable=False,
        points=4.0,
        weights={"forward": 0.4, "backward": 0.5, "gradcheck": 0.1},
        time_limit=TIME_LIMIT,
        oracle=oracles.conv2d,
        hint="Window (i, j) starts at row i * stride, column j * stride of the zero-padded "
             "input, in the backward pass too; crop the padding off dx at the end.",
    ),
    Exercise(
        id="a6.maxpool",
        title="Max pooling",
        module="conv",
        kind="layer",
        functions=("maxpool2d_forward", "maxpool2d_backward"),
        inputs=("x",),
        wrt=("x",),
        sample=sample_pool,
        params=POOL_PARAMS,
        public_shapes=POOL_PUBLIC,
        hidden_shapes=POOL_HIDDEN,
        stable=False,
        points=2.0,
        weights={"forward": 0.4, "backward": 0.5, "gradcheck": 0.1},
        time_limit=TIME_LIMIT,
        oracle=oracles.maxpool2d,
        hint="Each window sends its dout to the one entry it took its max from; add (+=) "
             "into dx, since overlapping windows can share that entry.",
    ),
    Exercise(
        id="a6.maxpool_ties",
        title="Max pooling: tied maxima",
        module="conv",
        kind="program",
        functions=("maxpool2d_forward", "maxpool2d_backward"),
        inputs=(),
        wrt=(),
        sample=_unused_sampler,
        scenarios=tie_scenarios,
        weights={"forward": 0.2, "backward": 0.8},
        points=0.5,
        time_limit=TIME_LIMIT,
        returns={"maxpool2d_forward": "(out, cache)", "maxpool2d_backward": "dx"},
        builds_on=("a6.maxpool",),
        oracle_check=_ties_oracle_check,
        hint="When a window's maximum occurs several times, only the first one in row-major "
             "order (what np.argmax of the flattened window picks) gets the gradient.",
    ),
    Exercise(
        id="a6.avgpool",
        title="Average pooling",
        module="conv",
        kind="layer",
        functions=("avgpool2d_forward", "avgpool2d_backward"),
        inputs=("x",),
        wrt=("x",),
        sample=sample_pool,
        params=POOL_PARAMS,
        public_shapes=POOL_PUBLIC,
        hidden_shapes=POOL_HIDDEN,
        stable=False,
        points=1.5,
        weights={"forward": 0.4, "backward": 0.5, "gradcheck": 0.1},
        time_limit=TIME_LIMIT,
        oracle=oracles.avgpool2d,
        hint="Each window spreads dout / (pool_height * pool_width) over all its entries; "
             "overlapping windows add up.",
    ),
)
