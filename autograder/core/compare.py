"""The one comparison function: a student's array against an expected array.

Order of checks (the first failure is reported): type, dtype kind, shape, non-finite values,
then closeness ``|actual - expected| <= atol + rtol * |expected|`` elementwise in float64.

* The course decides which float dtypes an answer to a float question may have, and the
  tolerance of each (``dtypes``: :data:`DTYPES`, float64 and float32, unless the course
  declares its own with ``Assignment.dtypes`` / ``Exercise.dtypes``); a float32 answer is
  allowed float32 error where float32 is accepted. Any other dtype (float16, an integer, a
  boolean) fails with reason ``dtype`` and one line saying what the course accepts: a
  student cannot choose a looser tolerance by returning a coarser type. ``rtol`` and
  ``atol`` override the tolerance of every accepted dtype (give both or neither), never
  which dtypes are accepted.
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

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The float dtypes an answer to a float question may have unless the course says otherwise,
#: with the (rtol, atol) each is judged at (float32's as torch.testing.assert_close's).
#: A course declares its own with ``Assignment.dtypes`` and ``Exercise.dtypes``.
DTYPES: dict[str, tuple[float, float]] = {
    "float64": (1e-7, 1e-7),
    "float32": (1.3e-6, 1e-5),
}
#: Integer and boolean answers to an integer or boolean question are compared nearly exactly.
_EXACTISH = (1e-7, 1e-7)
#: Accepted dtypes and their (rtol, atol): keys are dtype names (``"float32"``), numpy types
#: or dtypes (a lookup compares ``dtype == key``).
Dtypes = Mapping[Any, tuple[float, float]]
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


def accepts(dtype: Any, dtypes: Dtypes | None = None) -> tuple[float, float] | None:
    """The (rtol, atol) of an answer of ``dtype`` to a float question where ``dtypes`` (None:
    :data:`DTYPES`) are accepted, or None when that dtype is not accepted."""
    table = DTYPES if dtypes is None else dtypes
    dtype = dtype if isinstance(dtype, np.dtype) else np.dtype(dtype)
    found = table.get(_name(dtype))  # the usual case, a name: no dtype parsing on the hot path
    if found is not None:
        return found
    for key, tolerance in table.items():  # "f4", np.float32, or not accepted at all
        if dtype == key:
            return tolerance
    return None


@functools.cache
def _name(dtype: np.dtype) -> str:
    """``dtype.name``, remembered: numpy computes it in Python each time (5 us, a quarter
    of a whole comparison), and answers only ever have a handful of dtypes."""
    return dtype.name


def names(dtypes: Dtypes | None = None) -> str:
    """``"float64 and float32"``: the accepted dtypes as a student reads them."""
    found = [np.dtype(k).name for k in (DTYPES if dtypes is None else dtypes)]
    return (", ".join(found[:-1]) + " and " + found[-1]) if len(found) > 1 else "".join(found)


def refusal(dtype: Any, dtypes: Dtypes | None = None) -> str:
    """The one line for an answer whose dtype is not accepted (no number of any case)."""
    return f"has dtype {np.dtype(dtype).name}; this course accepts {names(dtypes)}"


def coarsest(dtypes: Dtypes | None = None) -> np.dtype:
    """The accepted float dtype with the largest machine epsilon (float32 by default)."""
    return max((np.dtype(k) for k in (DTYPES if dtypes is None else dtypes)),
               key=lambda d: float(np.finfo(d).eps))


def tolerance_for(dtype: Any, dtypes: Dtypes | None = None) -> tuple[float, float]:
    """(rtol, atol) of an answer of this dtype: its accepted tolerance, else near-exact."""
    return accepts(dtype, dtypes) or _EXACTISH


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
    dtypes: Dtypes | None = None,
    show_values: bool = True,
) -> Comparison:
    """Compare ``actual`` (untrusted) with ``expected`` (trusted).

    Args:
        actual: the student's value: a plain ndarray or a number.
        expected: the reference value (array-like).
        rtol, atol: override the accepted dtypes' tolerances; both or neither.
        dtypes: the float dtypes accepted for a float ``expected``, with their
            ``(rtol, atol)``; None: :data:`DTYPES` (float64 and float32).
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
    if exp.dtype.kind in "fc":
        allowed = accepts(act.dtype, dtypes)
        if allowed is None:  # float16, an int, a bool: the course's choice, not the student's
            return Comparison(False, "dtype", refusal(act.dtype, dtypes))
    elif exp.dtype.kind in "iub" and act.dtype.kind != exp.dtype.kind:
        return Comparison(False, "dtype", f"dtype {act.dtype} should be {exp.dtype}")
    else:
        allowed = _EXACTISH
    if act.shape != exp.shape:
        right = (same_up_to_singletons(act.shape, exp.shape)
                 and compare(act.reshape(exp.shape), exp, rtol=rtol, atol=atol,
                             dtypes=dtypes).ok)
        return Comparison(False, "shape", f"shape {act.shape} should be {exp.shape}",
                          reshaped=right)
    total = exp.size
    if total == 0:
        return Comparison(True, total=0)
    if rtol is None:
        rtol, atol = allowed
    a = act.astype(np.float64, copy=False)
    e = exp.astype(np.float64, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):
        # The common case in one pass: any NaN or inf makes this False and takes the long way.
        if (np.abs(a - e) <= atol + rtol * np.abs(e)).all():
            return _passed(total)
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


@functools.cache
def _passed(total: int) -> Comparison:
    """``Comparison(True, total=total)``, one per size (frozen, so shared safely): making
    a frozen dataclass costs 3 us, a seventh of a whole comparison."""
    return Comparison(True, total=total)


def assert_close(
    actual: object,
    expected: object,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    dtypes: Dtypes | None = None,
    name: str = "value",
) -> None:
    """Raise ``AssertionError`` naming ``name`` unless :func:`compare` passes."""
    __tracebackhide__ = True
    result = compare(actual, expected, rtol=rtol, atol=atol, dtypes=dtypes)
    if not result.ok:
        raise AssertionError(f"{name}: {result.message}")


def mismatches(actual: np.ndarray, expected: np.ndarray,
               dtypes: Dtypes | None = None) -> np.ndarray:
    """Boolean mask of the entries :func:`compare` would reject on values (same shapes
    required; a dtype outside ``dtypes`` is judged near-exactly)."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    rtol, atol = tolerance_for(np.asarray(actual).dtype, dtypes)
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
