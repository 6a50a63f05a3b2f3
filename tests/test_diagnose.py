"""Feedback that names the mistake."""

from __future__ import annotations

import numpy as np
from dlgrade.core.diagnose import explain

RNG = np.random.default_rng(0)
X = RNG.uniform(-3, 3, (4, 5))
E = RNG.standard_normal((4, 5))


def test_known_mistake_is_named_first():
    wrong = E * 3
    text = explain(wrong, E, name="dx", known=[("the backward uses x instead of out", wrong)])
    assert text == "This matches a common mistake: the backward uses x instead of out."


def test_missing_one_over_n():
    text = explain(E * 4, E, name="dpred", sizes={"N (the batch size)": 4})
    assert "4 times too large" in text and "N (the batch size)" in text


def test_extra_division():
    text = explain(E / 20, E, name="dpred", sizes={"the number of elements": 20})
    assert "20 times too small" in text


def test_sign_and_factor_two_and_other_factors():
    assert "wrong sign" in explain(-E, E, name="dx")
    assert "twice" in explain(2 * E, E, name="dx")
    assert "half" in explain(0.5 * E, E, name="dx")
    assert "about 0.3" in explain(0.3 * E, E, name="dx")


def test_wrong_only_for_negative_inputs():
    wrong = np.where(X < 0, 0.3 * E, E)
    text = explain(wrong, E, name="dx", inputs={"x": X})
    assert text == "dx is wrong only where x < 0; it is right where x > 0."


def test_transposed_nan_and_zero():
    assert "transposed" in explain(E.T.copy(), E, name="dw")
    with_nan = E.copy()
    with_nan[0, 0] = np.nan
    assert "NaN or inf" in explain(with_nan, E, name="out")
    assert "zero everywhere" in explain(np.zeros_like(E), E, name="dx")


def test_no_pattern_gives_none_and_never_leaks_values():
    noise = E + RNG.standard_normal(E.shape)
    assert explain(noise, E, name="dx", inputs={"x": X}) is None
    for wrong in (2 * E, -E, np.zeros_like(E)):
        text = explain(wrong, E, name="dx")
        assert f"{E[0, 0]:.3g}" not in text
