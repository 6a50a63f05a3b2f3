"""Name the mistake behind a wrong array, so feedback says more than "mismatch".

Given a student's array and the expected one (same shape unless stated), :func:`explain`
tries, in order: a known mistake of this exercise (a mutant whose output matches exactly),
a transposed result, -inf from the log of an underflow, NaN/inf from an overflow, a count
(an integer scalar such as a step counter), all zeros, the wrong sign, a constant factor (a
missing or extra 1/N, a stray 2), a value close to the answer, an additive offset, and a
mismatch confined to one region of the input (only where x < 0, only for large |x|). It never
reveals expected values, and with ``show_values=False`` (hidden cases) no number derived from
them either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from dlgrade.core.compare import Dtypes, as_plain_array, compare, mismatches


def explain(
    actual: object,
    expected: np.ndarray,
    *,
    name: str,
    inputs: Mapping[str, np.ndarray] | None = None,
    known: Sequence[tuple[str, np.ndarray]] = (),
    sizes: Mapping[str, int] | None = None,
    show_values: bool = True,
    dtypes: Dtypes | None = None,
) -> str | None:
    """One sentence naming the mistake in ``actual``, or None if no pattern fits.

    Args:
        actual: the student's value (untrusted).
        expected: the correct value.
        name: what the value is called in feedback (``"dx"``, ``"loss"``).
        inputs: the case's inputs; those shaped like ``expected`` are used to find regions.
        known: ``(mistake, value the mistake produces)`` pairs for this case.
        sizes: candidate divisors for a missing 1/N, e.g. ``{"N (the batch size)": 4}``.
        show_values: False for hidden cases: no number derived from the expected value
            (an offset, an expected count, a factor, a relative error) is named.
        dtypes: the float dtypes the course accepts, as :func:`compare` takes them (a
            known mistake is matched, a transposed answer told, only in one of them).
    """
    a = as_plain_array(actual)
    if a is None:
        return None
    e = np.asarray(expected)
    matched = known_mistake(a, known, dtypes)
    if matched is not None:
        return f"This matches a common mistake: {known[matched][0]}."
    if a.shape != e.shape:
        if a.ndim == 2 and a.shape == e.shape[::-1] and compare(a.T, e, dtypes=dtypes).ok:
            return f"{name} is transposed: it has the right values in shape {a.shape}."
        return None
    if a.dtype.kind not in "fiu" or e.dtype.kind not in "fiu" or e.size == 0:
        return None
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    finite = np.isfinite(e64)
    bad = finite & ~np.isfinite(a64)
    if bad.any():
        if np.isneginf(a64[bad]).all():  # only -inf: log(0), never exp(big)
            return (f"{name} is -inf where the answer is finite: your code takes the log of a "
                    "value that underflowed to 0. Use np.logaddexp, the log-sum-exp trick or "
                    "np.log1p instead of log(exp(...)) or log(1 + ...).")
        return (f"{name} has NaN or inf where the answer is finite: something overflows. "
                "Use a numerically stable formula (shift by the max before exp, np.logaddexp, "
                "np.log1p).")
    if not finite.all():
        return None
    return (_count(a64, e64, name, show_values)
            or _factor(a64, e64, name, sizes or {}, show_values)
            or _region(a, e, name, inputs or {}, dtypes)
            or _close(a64, e64, name, show_values))


def known_mistake(actual: object, known: Sequence[tuple[str, np.ndarray]],
                  dtypes: Dtypes | None = None) -> int | None:
    """The index of the first known mistake whose value ``actual`` matches (in a dtype of
    ``dtypes``, None: float64 and float32), or None."""
    for number, (_, value) in enumerate(known):
        if compare(actual, value, dtypes=dtypes, show_values=False).ok:
            return number
    return None


def _count(a: np.ndarray, e: np.ndarray, name: str, show_values: bool) -> str | None:
    """An integer scalar (a step counter, a number of updates) is off by a count, not by a
    factor."""
    if a.size != 1 or a.flat[0] != np.round(a.flat[0]) or e.flat[0] != np.round(e.flat[0]):
        return None
    mine, right = int(a.flat[0]), int(e.flat[0])
    if show_values:
        return f"{name} is {mine} where {right} is expected."
    if abs(mine - right) == 1:
        return f"{name} is off by one."
    return f"{name} counts differently from the expected count."


#: A factor this close to 1 is "close", not "off by a factor".
_CLOSE = 0.05


def _factor(a: np.ndarray, e: np.ndarray, name: str, sizes: Mapping[str, int],
            show_values: bool) -> str | None:
    norm_e = float(np.linalg.norm(e))
    if not np.any(a):
        return f"{name} is zero everywhere." if norm_e > 0 else None
    if norm_e == 0:
        return None
    c = float(np.vdot(a, e) / norm_e**2)
    scalar = a.size == 1  # any two numbers are a factor apart: only telling factors count
    fits = np.linalg.norm(a - c * e) <= 1e-6 * norm_e
    if not fits or abs(c - 1) < 1e-6:
        return _offset(a, e, name, show_values)
    if abs(c + 1) < 1e-6:
        return f"{name} has the wrong sign everywhere."
    for label, n in sizes.items():
        if n > 1 and abs(c - n) < 1e-6 * n:
            return f"{name} is {n} times too large: a missing division by {label}."
        if n > 1 and abs(c * n - 1) < 1e-6:
            return f"{name} is {n} times too small: an extra division by {label}."
    if abs(c - 2) < 1e-6:
        return f"{name} is twice the correct value: a stray factor of 2."
    if abs(c - 0.5) < 1e-6:
        return f"{name} is half the correct value: a missing factor of 2."
    shift = float(a.flat[0] - e.flat[0])
    if scalar and shift == round(2 * shift) / 2:  # a round difference: a term added/dropped
        return _offset(a, e, name, show_values)
    if abs(c - 1) < _CLOSE:
        return _close(a, e, name, show_values)
    offset = _offset(a, e, name, show_values)
    if offset is not None or scalar:
        return offset
    if not show_values:  # the factor times the answer is the answer
        sign = "has the wrong sign and " if c < 0 else ""
        return f"{name} {sign}is off by a constant factor."
    if c < 0:
        return f"{name} has the wrong sign and is off by a constant factor (about {-c:.4g})."
    return f"{name} is off by a constant factor (about {c:.4g} times the correct value)."


def _offset(a: np.ndarray, e: np.ndarray, name: str, show_values: bool) -> str | None:
    """``a - e`` the same nonzero number everywhere: a constant added or missing."""
    d = a - e
    shift = float(np.mean(d))
    scale = max(abs(shift), float(np.max(np.abs(e))))
    if shift == 0 or float(np.max(np.abs(d - shift))) > 1e-6 * scale:
        return None
    way = "too high" if shift > 0 else "too low"
    if a.size == 1:  # one number: the difference is all there is to say
        return f"{name} is {abs(shift):.4g} {way}." if show_values else f"{name} is {way}."
    if show_values:
        return f"{name} is {abs(shift):.4g} {way} everywhere: an additive offset."
    return f"{name} is {way} everywhere by the same amount: an additive offset."


def _close(a: np.ndarray, e: np.ndarray, name: str, show_values: bool) -> str | None:
    """Within a few percent everywhere: say so, with the largest relative error (not on
    hidden cases: it and the student's value give the expected one)."""
    nonzero = e != 0
    if not nonzero.any() or not np.all(np.abs(a - e)[~nonzero] == 0):
        return None
    worst = float(np.max(np.abs(a - e)[nonzero] / np.abs(e[nonzero])))
    if worst >= _CLOSE:
        return None
    if not show_values:
        return f"{name} is close but not within tolerance."
    return (f"{name} is close but not within tolerance (largest relative error "
            f"{worst:.2g}).")


def _region(
    a: np.ndarray, e: np.ndarray, name: str, inputs: Mapping[str, np.ndarray],
    dtypes: Dtypes | None = None,
) -> str | None:
    bad = mismatches(a, e, dtypes)
    if not bad.any():
        return None
    for input_name, x in inputs.items():
        if np.shape(x) != e.shape:
            continue
        x = np.asarray(x, dtype=np.float64)
        regions = (
            (x < 0, f"{input_name} < 0", f"{input_name} > 0"),
            (x > 0, f"{input_name} > 0", f"{input_name} < 0"),
            (np.abs(x) > 20, f"|{input_name}| is large", f"|{input_name}| is moderate"),
        )
        for mask, inside, outside in regions:
            if mask.any() and (~mask).any() and not (bad & ~mask).any():
                return f"{name} is wrong only where {inside}; it is right where {outside}."
    return None
