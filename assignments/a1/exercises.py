"""A1 exercise specs: twelve activation layers, graded forward, backward, by gradient check
and on huge inputs (see ../../shared/CURRICULUM.md, "A1 — activations")."""

from __future__ import annotations

import numpy as np
from dlgrade.authoring import Exercise, Params, Sampler

from . import oracles

#: Standard inputs have magnitudes up to LIMIT ...
LIMIT = 4.0
#: ... and stay this far from the kink at 0 of relu, leaky_relu, elu and selu.
KINK_GAP = 1e-2
#: Magnitudes of the forced extremes of a huge case: exp overflows above about 709.8.
EXTREME = (750.0, 1000.0)
#: Public shapes of the exercises that work along the last axis: a 3-D case too, since the
#: hidden cases hold one ((3, 4, 6)) and the template promises "any shape".
ROWWISE_PUBLIC = ((4, 5), (2, 3, 4))


def _standard(rng: np.random.Generator, shape: tuple[int, ...], gap: float) -> np.ndarray:
    """Magnitudes uniform in [gap, LIMIT]; half the entries (rounded) of each sign, so both
    sides of a kink are always graded."""
    signs = rng.permutation(np.resize((1.0, -1.0), int(np.prod(shape)))).reshape(shape)
    return np.asarray(signs * rng.uniform(gap, LIMIT, size=shape))


def _huge(rng: np.random.Generator, shape: tuple[int, ...], gap: float) -> np.ndarray:
    """Both signs, magnitudes log-uniform in [1, 1e3]; one entry near +1e3 and one near -1e3
    in the same row (along the last axis), so that every huge case both overflows and
    underflows exp; and a quarter of the entries (at least two, of both signs) moderate as in
    the standard case, where a wrong formula shows even if it saturates correctly."""
    signs = rng.choice((-1.0, 1.0), size=shape)
    flat = (signs * 10.0 ** rng.uniform(0.0, 3.0, size=shape)).reshape(-1)
    n = flat.size
    if n < 2:
        return flat.reshape(shape)
    width = shape[-1]
    if width >= 2:
        hi, lo = width * rng.integers(n // width) + rng.choice(width, size=2, replace=False)
    else:
        hi, lo = rng.choice(n, size=2, replace=False)
    flat[hi] = rng.uniform(*EXTREME)
    flat[lo] = -rng.uniform(*EXTREME)
    rest = np.setdiff1d(np.arange(n), (hi, lo))
    moderate = rng.choice(rest, size=min(rest.size, max(2, n // 4)), replace=False)
    flat[moderate] = _standard(rng, moderate.shape, gap)
    return flat.reshape(shape)


def _near_ties(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Move each row's runner-up to within a few units of the row's max, so that softmax
    rows of huge inputs are not one-hot and their gradients are not all zero."""
    if x.ndim == 0 or x.shape[-1] < 3:
        return x
    rows = x.reshape(-1, x.shape[-1])
    order = np.argsort(rows, axis=-1)
    index = np.arange(rows.shape[0])
    rows[index, order[:, -2]] = rows[index, order[:, -1]] - rng.uniform(0.5, 3.0, rows.shape[0])
    return rows.reshape(x.shape)


def _sampler(*, gap: float = 0.0, rows: bool = False) -> Sampler:
    """A sampler for ``x``: ``gap`` keeps values away from a kink at 0; ``rows`` adds near
    ties to huge cases of functions that mix a row (softmax, log_softmax)."""

    def sample(rng: np.random.Generator, shape: tuple[int, ...], huge: bool):
        if not huge:
            return {"x": _standard(rng, shape, gap)}
        x = _huge(rng, shape, gap)
        return {"x": _near_ties(rng, x) if rows else x}

    return sample


SMOOTH = _sampler()
KINKED = _sampler(gap=KINK_GAP)
ROWWISE = _sampler(rows=True)


def _activation(
    name: str,
    title: str,
    sample: Sampler,
    hint: str,
    *,
    points: float = 2.0,
    params: tuple[Params, ...] = ({},),
    hints: dict[str, str] | None = None,
    public_shapes: tuple[tuple[int, ...], ...] = ((4, 5),),
) -> Exercise:
    return Exercise(
        id=f"a1.{name}",
        title=title,
        module="activations",
        kind="layer",
        functions=(f"{name}_forward", f"{name}_backward"),
        inputs=("x",),
        wrt=("x",),
        sample=sample,
        params=params,
        points=points,
        oracle=getattr(oracles, name),
        hint=hint,
        hints=hints or {},
        public_shapes=public_shapes,
        # The template: "exp never sees a large positive number ... (computing an
        # overflowing value and then discarding it still produces ... a warning)".
        no_warnings=True,
    )


EXERCISES: tuple[Exercise, ...] = (
    _activation(
        "sigmoid",
        "Sigmoid",
        SMOOTH,
        "Rewrite the formula for x < 0 so that exp never sees a large positive number.",
        hints={
            "forward": "sigmoid(x) = 1 / (1 + exp(-x)); for x < 0 the equal form "
                       "exp(x) / (1 + exp(x)).",
            "backward": "The derivative is out * (1 - out): keep out in the cache and multiply "
                        "by dout.",
            "gradcheck": "Your backward must be the derivative of your own forward: "
                         "dx = dout * out * (1 - out).",
            "stability": "Rewrite the formula for x < 0 so that exp never sees a large "
                         "positive number (pick the form by the sign of x before any exp).",
        },
    ),
    _activation(
        "tanh",
        "Tanh",
        SMOOTH,
        "The derivative of tanh can be written with tanh(x), which the forward computed.",
    ),
    _activation(
        "relu",
        "ReLU",
        KINKED,
        "The gradient flows back only where the input was positive.",
    ),
    _activation(
        "leaky_relu",
        "Leaky ReLU",
        KINKED,
        "Use the alpha you are given, in the forward and in the backward pass.",
        params=({}, {"alpha": 0.2}),
    ),
    _activation(
        "elu",
        "ELU",
        KINKED,
        "For x <= 0 the derivative of alpha * (exp(x) - 1) is alpha * exp(x); mind alpha.",
        params=({}, {"alpha": 0.5}),
    ),
    _activation(
        "selu",
        "SELU",
        KINKED,
        "SELU is scale times an ELU with a fixed alpha: keep every digit, and scale the "
        "backward too.",
    ),
    _activation(
        "softplus",
        "Softplus",
        SMOOTH,
        "log(1 + exp(x)) overflows for large x: split off max(x, 0); the derivative is a sigmoid.",
    ),
    _activation(
        "gelu",
        "GELU (exact)",
        SMOOTH,
        "Product rule on x * Phi(x): the derivative of Phi is the normal density.",
        points=3.0,
    ),
    _activation(
        "silu",
        "SiLU (swish)",
        SMOOTH,
        "Product rule on x * sigmoid(x): two terms.",
    ),
    _activation(
        "mish",
        "Mish",
        SMOOTH,
        "Product rule on x * tanh(softplus(x)), then the chain rule through tanh and softplus.",
        points=3.0,
    ),
    _activation(
        "softmax",
        "Softmax",
        ROWWISE,
        "Subtract each row's max before exp; in the backward every output of a row depends "
        "on every input of that row.",
        points=3.0,
        public_shapes=ROWWISE_PUBLIC,
        hints={
            "forward": "Work along the last axis for any number of dimensions (axis=-1, "
                       "keepdims=True): exp(x - max) divided by its row sum.",
            "backward": "dx = out * (dout - sum(dout * out, axis=-1, keepdims=True)): every "
                        "output of a row depends on every input of that row.",
            "gradcheck": "Your backward must be the derivative of your own forward: "
                         "dx = out * (dout - sum(dout * out, axis=-1, keepdims=True)).",
            "stability": "Subtract each row's max (axis=-1, keepdims=True) before exp, so "
                         "exp never sees a large positive number.",
        },
    ),
    _activation(
        "log_softmax",
        "Log-softmax",
        ROWWISE,
        "Compute x - logsumexp(x) with the max trick, not log(softmax(x)); the backward needs "
        "the row sum of dout.",
        points=3.0,
        public_shapes=ROWWISE_PUBLIC,
        hints={
            "forward": "out = x - logsumexp(x) along the last axis, for any number of "
                       "dimensions (axis=-1, keepdims=True).",
            "backward": "dx = dout - softmax(x) * sum(dout, axis=-1, keepdims=True); "
                        "softmax(x) is exp(out).",
            "gradcheck": "Your backward must be the derivative of your own forward: "
                         "dx = dout - exp(out) * sum(dout, axis=-1, keepdims=True).",
            "stability": "Use x - max - log(sum(exp(x - max))), never log(softmax(x)): that "
                         "takes the log of probabilities that underflowed to 0.",
        },
    ),
)
