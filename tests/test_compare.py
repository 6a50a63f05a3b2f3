"""The one comparison function: structure first, per-dtype tolerances, NaN never passes."""

from __future__ import annotations

import numpy as np
import pytest
from dlgrade.core.compare import assert_close, compare, tolerance_for
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays


def test_equal_arrays_pass_and_report_nothing():
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    result = compare(x.copy(), x)
    assert result.ok and result.reason == "" and result.mismatched == 0


def test_shape_is_checked_before_values_even_when_broadcastable():
    assert compare(np.array([2.0]), np.full((3, 4), 2.0)).reason == "shape"
    assert compare(np.array([]), np.zeros(1)).reason == "shape"
    assert compare(np.zeros((4, 3)), np.zeros((3, 4))).message == "shape (4, 3) should be (3, 4)"


@pytest.mark.parametrize("bad", [np.array([1 + 0j, 2]), np.array([True, False]),
                                 np.array(["a", "b"]), np.array([object(), 1], dtype=object)])
def test_non_real_dtypes_are_refused(bad):
    assert compare(bad, np.array([1.0, 2.0])).reason == "dtype"


def test_nan_and_inf_never_pass_where_the_answer_is_finite():
    expected = np.ones(5)
    for bad in (np.nan, np.inf, -np.inf):
        actual = expected.copy()
        actual[3] = bad
        result = compare(actual, expected)
        assert not result.ok and result.reason == "nonfinite" and result.worst_index == (3,)


def test_non_finite_expected_values_must_be_matched_exactly():
    expected = np.array([1.0, np.inf, np.nan])
    assert compare(np.array([1.0, np.inf, np.nan]), expected).ok
    assert not compare(np.array([1.0, -np.inf, np.nan]), expected).ok
    assert not compare(np.array([1.0, np.inf, 0.0]), expected).ok


def test_ndarray_subclass_with_lying_eq_is_refused():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    liar = np.zeros(3).view(Liar)
    assert compare(liar, np.ones(3)).reason == "type"


def test_object_with_array_protocol_is_refused():
    class Fake:
        def __array__(self, dtype=None, copy=None):
            return np.ones(3)

    assert compare(Fake(), np.ones(3)).reason == "type"


def test_tolerance_depends_on_the_dtype_among_those_the_course_accepts():
    expected = np.linspace(1, 2, 50)
    off = expected * (1 + 1e-6)  # float32 rounding, about
    assert compare(off.astype(np.float32), expected).ok  # allowed for a float32 answer
    assert not compare(off, expected).ok  # but not in a float64 one
    rtols = [tolerance_for(t)[0] for t in (np.float32, np.float64)]
    assert rtols == sorted(rtols, reverse=True)
    # float16 is the course's to accept, not the student's to choose (issue 13, point 2)
    half = expected.astype(np.float16)
    assert compare(half, expected).reason == "dtype"
    assert compare(half, expected, dtypes={"float16": (1e-3, 1e-5)}).ok


def test_message_locates_worst_entry_and_hides_values_on_request():
    expected = np.zeros((2, 3))
    actual = expected.copy()
    actual[1, 2] = 0.5
    shown = compare(actual, expected)
    assert "1 of 6 entries differ" in shown.message and "(1, 2)" in shown.message
    assert "yours 0.5" in shown.message
    hidden = compare(actual, expected, show_values=False)
    assert "yours" not in hidden.message and "expected 0" not in hidden.message


def test_rtol_and_atol_come_together():
    with pytest.raises(ValueError):
        compare(np.ones(2), np.ones(2), rtol=1e-3)


def test_assert_close_names_the_value():
    with pytest.raises(AssertionError, match="dx: "):
        assert_close(np.ones(2), np.zeros(2), name="dx")


@given(arrays(np.float64, array_shapes(max_dims=3, max_side=5),
              elements=st.floats(-1e6, 1e6, allow_nan=False)))
def test_every_finite_array_matches_itself_and_not_a_perturbed_copy(x):
    assert compare(x.copy(), x).ok
    if x.size:
        moved = x.copy()
        moved.flat[0] += 1e-3 + 1e-3 * abs(moved.flat[0])
        assert not compare(moved, x).ok
