"""The one comparison function: a student's array against an expected array.

Order of checks (the first failure is reported): type, dtype kind, shape, non-finite values,
then closeness ``|actual - expected| <= atol + rtol * |expected|`` elementwise in float64.

* Tolerances come from one table keyed by the dtype the student returned (a float32 answer is
  allowed float32 error); give both ``rtol`` and ``atol`` or neither.
* NaN and inf never pass unless the expected array has the same non-finite value at the same
  place. Empty or broadcastable-but-different shapes never pass: shapes must be equal.
* Only plain ``numpy.ndarray`` (or Python / numpy scalars) are compared; subclasses and
  objects with ``__array__`` are refused, so a cunning ``__eq__`` cannot help.
* A shape that differs only by singleton dimensions ((1, 5) for (5,)) still fails, but the
  result says whether the values are right (``reshaped``), so the grader can give the values'
  credit less :data:`SHAPE_CREDIT`'s deduction; a value failure says whether it is within
  :data:`NEAR_FACTOR` times the tolerance everywhere (``near``), a slight deviation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: (rtol, atol) by the dtype of the student's array, as torch.testing.assert_close.
TOLERANCES: dict[np.dtype, tuple[float, float]] = {
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
}
#: Integer answers to a float question are compared like float64.
_EXACTISH = (1e-7, 1e-7)
#: Share of a check's credit kept by right values in a shape that differs from the expected
#: one only by singleton dimensions ((1, D) where (D,) is documented).
SHAPE_CREDIT = 0.9
#: "Slightly off": every entry within this many times its allowed difference.
NEAR_FACTOR = 1e3


@dataclass(frozen=True)
class Comparison:
    """Outcome of :func:`compare`.

    ``reason`` is ``""`` when ``ok``, else one of ``type``, ``dtype``, ``shape``,
    ``nonfinite`` or ``values``. ``message`` is one or more lines for humans; it contains
    numbers only when the caller allowed it (``show_values``).
    """

    ok: bool
    reason: str = ""
    message: str = ""
    mismatched: int = 0
    total: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    worst_index: tuple[int, ...] | None = None
    reshaped: bool = False  # reason "shape", but right values up to singleton dimensions
    near: bool = False  # reason "values", but within NEAR_FACTOR times the tolerance


def same_up_to_singletons(shape: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    """Whether ``shape`` differs from ``expected`` only by dimensions of size 1."""
    return (shape != expected and int(np.prod(shape)) == int(np.prod(expected))
            and tuple(d for d in shape if d != 1) == tuple(d for d in expected if d != 1))


def tolerance_for(dtype: np.dtype) -> tuple[float, float]:
    """Default (rtol, atol) for an answer of this dtype."""
    return TOLERANCES.get(np.dtype(dtype), _EXACTISH)


def as_plain_array(value: object) -> np.ndarray | None:
    """``value`` as a plain ndarray if it is one (or a Python/numpy number), else None."""
    if type(value) is np.ndarray:
        return value
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return np.asarray(value)
    return None


def compare(
    actual: object,
    expected: object,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    show_values: bool = True,
) -> Comparison:
    """Compare ``actual`` (untrusted) with ``expected`` (trusted).

    Args:
        actual: the student's value: a plain ndarray or a number.
        expected: the reference value (array-like).
        rtol, atol: override the per-dtype defaults; both or neither.
        show_values: include numbers in a value mismatch's message (how many entries
            differ, the largest difference and its tolerance, the student's and the expected
            number at the worst index); False for hidden cases names no number at all.

    Returns:
        A :class:`Comparison`; never raises for bad ``actual``.
    """
    if (rtol is None) != (atol is None):
        raise ValueError("give both rtol and atol, or neither")
    exp = np.asarray(expected)
    act = as_plain_array(actual)
    if act is None:
        return Comparison(False, "type", f"expected an array, got {type(actual).__name__}")
    if exp.dtype.kind in "fc" and act.dtype.kind not in "fiu":
        return Comparison(
            False, "dtype", f"dtype {act.dtype} is not a real number type (expected {exp.dtype})"
        )
    if exp.dtype.kind in "iub" and act.dtype.kind != exp.dtype.kind:
        return Comparison(False, "dtype", f"dtype {act.dtype} should be {exp.dtype}")
    if act.shape != exp.shape:
        right = (same_up_to_singletons(act.shape, exp.shape)
                 and compare(act.reshape(exp.shape), exp, rtol=rtol, atol=atol).ok)
        return Comparison(False, "shape", f"shape {act.shape} should be {exp.shape}",
                          reshaped=right)
    total = exp.size
    if total == 0:
        return Comparison(True, total=0)
    if rtol is None:
        rtol, atol = tolerance_for(act.dtype)
    a = act.astype(np.float64)
    e = exp.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        # The common case in one pass: any NaN or inf makes this False and takes the long way.
        if bool(np.all(np.abs(a - e) <= atol + rtol * np.abs(e))):
            return Comparison(True, total=total)
    finite_e = np.isfinite(e)
    finite_a = np.isfinite(a)
    # Where the reference is NaN/inf the student must match it exactly (same NaN / same inf).
    nonfinite_ok = np.where(finite_e, True, (a == e) | (np.isnan(a) & np.isnan(e)))
    unexpected = finite_e & ~finite_a
    if unexpected.any() or not nonfinite_ok.all():
        bad = unexpected | ~nonfinite_ok
        count = int(bad.sum())
        kinds = []
        if np.isnan(a[bad]).any():
            kinds.append("NaN")
        if np.isinf(a[bad]).any():
            kinds.append("inf")
        what = " and ".join(kinds) or "finite values where inf/NaN is expected"
        index = _index(np.argmax(bad), exp.shape)
        return Comparison(
            False,
            "nonfinite",
            f"{what} at {count} of {total} entries (first at index {index})",
            mismatched=count,
            total=total,
            worst_index=index,
        )
    diff, allowed = _differences(a, e, rtol, atol)
    with np.errstate(over="ignore", invalid="ignore"):
        rel = diff / np.maximum(np.abs(np.where(finite_e, e, 0.0)), np.finfo(np.float64).tiny)
    bad = diff > allowed
    count = int(bad.sum())
    worst_flat = int(np.argmax(diff - allowed))
    worst = _index(worst_flat, exp.shape)
    max_abs = float(diff.max())
    max_rel = float(rel[bad].max()) if count else float(np.max(rel))
    if count == 0:
        return Comparison(True, total=total, max_abs=max_abs, max_rel=max_rel, worst_index=worst)
    near = bool(np.all(diff <= NEAR_FACTOR * allowed))
    if show_values:
        lines = [
            f"{count} of {total} entries differ ({100.0 * count / total:.1f}%)",
            f"largest difference {max_abs:.3g} at index {worst} "
            f"(allowed {allowed.flat[worst_flat]:.2g} there)",
            f"at index {worst}: yours {a.flat[worst_flat]:.8g}, "
            f"expected {e.flat[worst_flat]:.8g}",
        ]
    else:
        # Hidden: every number here (a difference, the tolerance there, even how many and
        # which entries) is an oracle on the expected value; resubmissions recovered a
        # hidden loss from "largest difference" and "allowed" alone.
        lines = ["is wrong" + (
            "" if total == 1 else " in every entry" if count == total else " in some entries")]
    return Comparison(
        False,
        "values",
        "; ".join(lines),
        mismatched=count,
        total=total,
        max_abs=max_abs,
        max_rel=max_rel,
        worst_index=worst,
        near=near,
    )


def assert_close(
    actual: object,
    expected: object,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    name: str = "value",
) -> None:
    """Raise ``AssertionError`` naming ``name`` unless :func:`compare` passes."""
    __tracebackhide__ = True
    result = compare(actual, expected, rtol=rtol, atol=atol)
    if not result.ok:
        raise AssertionError(f"{name}: {result.message}")


def mismatches(actual: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Boolean mask of the entries :func:`compare` would reject (same shapes required)."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    rtol, atol = tolerance_for(np.asarray(actual).dtype)
    diff, allowed = _differences(a, e, rtol, atol)
    nonfinite_bad = ~np.isfinite(e) & ~((a == e) | (np.isnan(a) & np.isnan(e)))
    return (diff > allowed) | (np.isfinite(e) & ~np.isfinite(a)) | nonfinite_bad


def _differences(
    a: np.ndarray, e: np.ndarray, rtol: float, atol: float
) -> tuple[np.ndarray, np.ndarray]:
    """|a - e| and the allowed difference, elementwise, over the finite entries of e."""
    finite_e = np.isfinite(e)
    with np.errstate(over="ignore", invalid="ignore"):
        diff = np.where(finite_e, np.abs(a - e), 0.0)
        allowed = atol + rtol * np.abs(np.where(finite_e, e, 0.0))
    return np.nan_to_num(diff, nan=np.inf), allowed


def _index(flat: int | np.integer, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(int(flat), shape)) if shape else ()
