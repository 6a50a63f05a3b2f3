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


def test_a_factor_near_one_is_close_not_a_factor():
    text = explain(E * 1.00003, E, name="dx")
    assert text == "dx is close but not within tolerance (largest relative error 3e-05)."
    assert "factor" not in explain(np.asarray(1.7 * 1.01), np.asarray(1.7), name="loss")


def test_an_additive_offset_is_named_as_one():
    assert explain(E + 1, E, name="dx") == "dx is 1 too high everywhere: an additive offset."
    assert explain(np.asarray(31.5), np.asarray(30.5), name="loss") == "loss is 1 too high."
    hidden = explain(E - 0.25, E, name="dx", show_values=False)
    assert hidden == "dx is too low everywhere by the same amount: an additive offset."


def test_an_integer_counter_is_described_by_counts():
    assert explain(np.asarray(5.0), np.asarray(6.0), name="t") == "t is 5 where 6 is expected."
    assert explain(np.asarray(5), np.asarray(6), name="t", show_values=False) == \
        "t is off by one."
    text = explain(np.asarray(3), np.asarray(6), name="t", show_values=False)
    assert text == "t counts differently from the expected count." and "6" not in text


def test_minus_inf_from_a_log_of_an_underflow_is_not_called_an_overflow():
    underflowed = np.where(X < -2, -np.inf, E)
    text = explain(underflowed, E, name="out")
    assert "log of a value that underflowed to 0" in text and "overflow" not in text
    assert "overflows" in explain(np.where(X < -2, np.inf, E), E, name="out")
    assert "overflows" in explain(np.where(X < -2, np.nan, E), E, name="out")
