"""The one numerical gradient checker: centred differences as a vector-Jacobian product.

For a function ``f`` of inputs ``(x, ...)`` with output ``out`` and an upstream gradient
``dout`` (the same shape as ``out``), the gradient of ``L = sum(dout * f(x))`` with respect to
entry ``i`` of ``x`` is estimated in float64 as

    dL/dx_i ~ (sum(dout * f(x + h e_i)) - sum(dout * f(x - h e_i))) / (2 h)

which is exactly what a backward pass returns for that ``dout``. For a scalar loss the
upstream gradient is 1. Only ``max_entries`` entries per input are perturbed (chosen with a
seeded RNG), so big inputs stay cheap.

The checker never calls the function itself: it produces the perturbed argument sets and
turns the outputs back into gradient estimates. The grader evaluates the *student's own*
forward in the sandbox; tests and ``validate`` evaluate a reference in-process. Checking a
backward pass against the student's own forward tells "your backward is wrong" apart from
"your forward is wrong".

Precision is the course's, not the function's: outputs and gradients of a dtype the course
does not accept (``dtypes``, float64 and float32 by default) are refused, and the step and
tolerances are those of the coarsest accepted dtype the function actually returned
(:func:`coarsest_reply`), so low-precision replies at perturbed inputs cannot widen the
rounding allowance past what an honest student of that precision gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from dlgrade.core.compare import Comparison, Dtypes, accepts, compare, names


@dataclass(frozen=True)
class Settings:
    """Step and tolerances for one precision of the function under test."""

    eps: float
    rtol: float
    atol: float


#: By the dtype the function returns: float64 needs a tiny step; float32 a larger one,
#: since rounding error grows like machine-eps / eps. These are numerics, not acceptance:
#: which dtypes a function may return is the course's (``dtypes`` below), and float16 is
#: here only for a course that accepts it.
SETTINGS: dict[np.dtype, Settings] = {
    np.dtype(np.float64): Settings(eps=1e-6, rtol=1e-4, atol=1e-6),
    np.dtype(np.float32): Settings(eps=1e-3, rtol=1e-2, atol=1e-3),
    np.dtype(np.float16): Settings(eps=3e-2, rtol=5e-2, atol=1e-2),
}


def settings_for(dtype: np.dtype) -> Settings:
    return SETTINGS.get(np.dtype(dtype), SETTINGS[np.dtype(np.float64)])


def sample_indices(
    shape: tuple[int, ...], max_entries: int, rng: np.random.Generator
) -> list[tuple[int, ...]]:
    """All indices of ``shape`` if there are at most ``max_entries``, else a seeded sample."""
    size = int(np.prod(shape, dtype=np.int64))
    flat = np.arange(size) if size <= max_entries else np.sort(
        rng.choice(size, max_entries, replace=False)
    )
    return [tuple(int(i) for i in np.unravel_index(k, shape)) for k in flat]


def points(
    shape: tuple[int, ...], indices: list[tuple[int, ...]], eps: float
) -> list[tuple[int, float]]:
    """``(flat index, +eps)`` and ``(flat index, -eps)`` for each index, interleaved: the
    moves behind ``x + eps e_i`` and ``x - eps e_i``."""
    moves = []
    for index in indices:
        flat = int(np.ravel_multi_index(index, shape))
        moves += [(flat, eps), (flat, -eps)]
    return moves


def perturbations(
    inputs: Mapping[str, np.ndarray], name: str, indices: list[tuple[int, ...]], eps: float
) -> list[dict[str, np.ndarray]]:
    """Argument sets ``x + eps e_i`` and ``x - eps e_i`` for each index, interleaved (the
    in-process form of :func:`points`)."""
    sets = []
    for flat, delta in points(np.shape(inputs[name]), indices, eps):
        moved = np.array(inputs[name], dtype=np.float64, copy=True)
        moved.flat[flat] += delta
        sets.append({**inputs, name: moved})
    return sets


class GradcheckError(ValueError):
    """The function's outputs cannot be used for a finite difference (wrong shape, not
    numbers)."""


@dataclass(frozen=True)
class Estimate:
    """Finite-difference gradient entries and the rounding noise they may carry.

    ``noise`` bounds the error that rounding the function's outputs to their dtype puts
    into the differences: ``4 * machine_eps * (sum|w f(x+h)| + sum|w f(x-h)|) / (2 h)``.
    It is negligible in float64 and what makes float32 answers gradable.
    """

    values: np.ndarray
    noise: float


def vjp_from_outputs(
    outputs: list[object] | np.ndarray, upstream: np.ndarray | None, eps: float,
    dtypes: Dtypes | None = None,
) -> Estimate:
    """Gradient estimates from the outputs of :func:`perturbations`' argument sets.

    Args:
        outputs: ``f`` at each argument set, in order (plus, minus, plus, minus, ...): a
            list of arrays, or one array stacking them along a new first axis.
        upstream: ``dout`` with the shape of ``f``'s output, or None for a scalar ``f``.
        eps: the step used for the perturbations.
        dtypes: the float dtypes the course accepts (None: float64 and float32). An output
            of any other dtype is refused: rounding noise is allowed for, so a float16 reply
            would otherwise excuse almost any gradient. The caller asks at the step of the
            coarsest dtype it got (:func:`coarsest_reply`), so that noise stays small.

    Returns:
        An :class:`Estimate` with one float64 value per perturbed index.
    """
    weight = np.float64(1.0) if upstream is None else np.asarray(upstream, np.float64)
    if type(outputs) is np.ndarray:
        rows = outputs
        if rows.dtype.kind not in "fiu":
            raise GradcheckError(f"the function returned {rows.dtype} values, not numbers")
        if accepts(rows.dtype, dtypes) is None:
            raise GradcheckError(_refused(rows.dtype, dtypes))
        if rows.shape[1:] != np.shape(weight):
            raise GradcheckError(f"the function returned shape {rows.shape[1:]} where "
                                 f"{np.shape(weight)} was expected")
    else:
        for out in outputs:
            if type(out) is not np.ndarray or out.dtype.kind not in "fiu":
                raise GradcheckError(f"the function returned {type(out).__name__}, not numbers")
            if accepts(out.dtype, dtypes) is None:
                raise GradcheckError(_refused(out.dtype, dtypes))
            if out.shape != np.shape(weight):
                raise GradcheckError(f"the function returned shape {out.shape} where "
                                     f"{np.shape(weight)} was expected")
        rows = np.stack(outputs) if outputs else np.zeros((0, *np.shape(weight)))
    if len(rows) % 2:
        raise GradcheckError("an odd number of outputs for centred differences")
    kinds = [rows.dtype] if type(outputs) is np.ndarray else [o.dtype for o in outputs]
    machine = max((float(np.finfo(k).eps) for k in kinds if k.kind == "f"), default=0.0)
    with np.errstate(invalid="ignore", over="ignore"):
        weighted = (rows.astype(np.float64) * weight).reshape(len(rows), -1)
        pairs = weighted.sum(axis=1).reshape(-1, 2)
        sizes = np.abs(weighted).sum(axis=1).reshape(-1, 2).sum(axis=1)
        estimates = (pairs[:, 0] - pairs[:, 1]) / (2.0 * eps)
        noise = 4.0 * machine * float(np.max(sizes, initial=0.0)) / (2.0 * eps)
    return Estimate(estimates, noise if np.isfinite(noise) else 0.0)


def coarsest_reply(dtypes_seen: list[np.dtype], dtypes: Dtypes | None = None
                   ) -> np.dtype | None:
    """Of the float dtypes a function returned (at the case and at perturbed inputs), the
    accepted one with the largest machine epsilon: the precision whose :data:`SETTINGS`
    the differences need. None if none is an accepted float dtype."""
    found = [np.dtype(d) for d in dtypes_seen
             if np.dtype(d).kind == "f" and accepts(d, dtypes) is not None]
    return max(found, key=lambda d: float(np.finfo(d).eps), default=None)


def _refused(dtype: np.dtype, dtypes: Dtypes | None) -> str:
    return f"returned {np.dtype(dtype).name} values; this course accepts {names(dtypes)}"


def check_entries(
    analytic: object,
    numerical: Estimate,
    indices: list[tuple[int, ...]],
    settings: Settings,
    *,
    dtypes: Dtypes | None = None,
    show_values: bool = True,
) -> Comparison:
    """Compare an analytic gradient with estimates at ``indices``.

    ``analytic`` must already have the input's shape (the caller compares shapes first) and
    one of the accepted ``dtypes`` (None: float64 and float32), else the result's reason is
    ``dtype``.
    """
    if type(analytic) is not np.ndarray:
        return Comparison(False, "type", f"expected an array, got {type(analytic).__name__}")
    picked = np.array([analytic[i] for i in indices], dtype=analytic.dtype)
    result = compare(picked, numerical.values, rtol=settings.rtol,
                     atol=settings.atol + numerical.noise, dtypes=dtypes,
                     show_values=show_values)
    if result.ok or result.worst_index is None:
        return result
    # Report the index in the input, not in the list of sampled entries.
    where = indices[result.worst_index[0]]
    message = result.message.replace(f"index {result.worst_index}", f"index {where}")
    return Comparison(
        False, result.reason, message, result.mismatched, result.total,
        result.max_abs, result.max_rel, where,
    )
