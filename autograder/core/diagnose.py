"""Name the mistake behind a wrong array, so feedback says more than "mismatch".

Given a student's array and the expected one (same shape unless stated), :func:`explain`
tries, in order: a known mistake of this exercise (a mutant whose output matches exactly),
a transposed result, NaN/inf from an overflow, all zeros, the wrong sign, a constant factor
(a missing or extra 1/N, a stray 2), and a mismatch confined to one region of the input
(only where x < 0, only for large |x|). It never reveals expected values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from dlgrade.core.compare import as_plain_array, compare, mismatches


def explain(
    actual: object,
    expected: np.ndarray,
    *,
    name: str,
    inputs: Mapping[str, np.ndarray] | None = None,
    known: Sequence[tuple[str, np.ndarray]] = (),
    sizes: Mapping[str, int] | None = None,
) -> str | None:
    """One sentence naming the mistake in ``actual``, or None if no pattern fits.

    Args:
        actual: the student's value (untrusted).
        expected: the correct value.
        name: what the value is called in feedback (``"dx"``, ``"loss"``).
        inputs: the case's inputs; those shaped like ``expected`` are used to find regions.
        known: ``(mistake, value the mistake produces)`` pairs for this case.
        sizes: candidate divisors for a missing 1/N, e.g. ``{"N (the batch size)": 4}``.
    """
    a = as_plain_array(actual)
    if a is None:
        return None
    e = np.asarray(expected)
    for mistake, value in known:
        if compare(a, value, show_values=False).ok:
            return f"This matches a common mistake: {mistake}."
    if a.shape != e.shape:
        if a.ndim == 2 and a.shape == e.shape[::-1] and compare(a.T, e).ok:
            return f"{name} is transposed: it has the right values in shape {a.shape}."
        return None
    if a.dtype.kind not in "fiu" or e.dtype.kind not in "fiu" or e.size == 0:
        return None
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    finite = np.isfinite(e64)
    if (finite & ~np.isfinite(a64)).any():
        return (f"{name} has NaN or inf where the answer is finite: something overflows. "
                "Use a numerically stable formula (shift by the max before exp, np.logaddexp, "
                "np.log1p).")
    if not finite.all():
        return None
    return _factor(a64, e64, name, sizes or {}) or _region(a, e, name, inputs or {})


def _factor(a: np.ndarray, e: np.ndarray, name: str, sizes: Mapping[str, int]) -> str | None:
    norm_e = float(np.linalg.norm(e))
    if not np.any(a):
        return f"{name} is zero everywhere." if norm_e > 0 else None
    if norm_e == 0:
        return None
    c = float(np.vdot(a, e) / norm_e**2)
    if np.linalg.norm(a - c * e) > 1e-6 * norm_e or abs(c - 1) < 1e-6:
        return None
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
    if c < 0:
        return f"{name} has the wrong sign and is off by a constant factor (about {-c:.4g})."
    return f"{name} is off by a constant factor (about {c:.4g} times the correct value)."


def _region(
    a: np.ndarray, e: np.ndarray, name: str, inputs: Mapping[str, np.ndarray]
) -> str | None:
    bad = mismatches(a, e)
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
