"""The numerical gradient checker, driven in-process with plain numpy functions."""

from __future__ import annotations

import numpy as np
import pytest
from dlgrade.core import gradcheck


def _estimate(f, x, dout, *, max_entries=50, seed=0):
    settings = gradcheck.settings_for(np.float64)
    rng = np.random.default_rng(seed)
    indices = gradcheck.sample_indices(x.shape, max_entries, rng)
    sets = gradcheck.perturbations({"x": x}, "x", indices, settings.eps)
    outputs = [f(s["x"]) for s in sets]
    return indices, gradcheck.vjp_from_outputs(outputs, dout, settings.eps), settings


def test_vjp_of_tanh_matches_the_analytic_gradient():
    rng = np.random.default_rng(1)
    x, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    indices, numbers, settings = _estimate(np.tanh, x, dout)
    analytic = dout * (1 - np.tanh(x) ** 2)
    assert gradcheck.check_entries(analytic, numbers, indices, settings).ok


@pytest.mark.parametrize("factor", [0.999, 1.001, -1.0, 0.5])
def test_slightly_wrong_gradients_are_caught(factor):
    # torch.gradcheck's rtol=1e-3 accepts a 0.1% error; this checker must not.
    rng = np.random.default_rng(2)
    x, dout = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    indices, numbers, settings = _estimate(np.sin, x, dout)
    assert not gradcheck.check_entries(factor * dout * np.cos(x), numbers, indices, settings).ok


def test_scalar_loss_uses_unit_upstream_gradient():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(6)
    indices, numbers, settings = _estimate(lambda v: np.asarray(np.mean(v**2)), x, None)
    assert gradcheck.check_entries(2 * x / x.size, numbers, indices, settings).ok


def test_sparse_sampling_is_seeded_and_bounded():
    a = gradcheck.sample_indices((50, 40), 12, np.random.default_rng(7))
    b = gradcheck.sample_indices((50, 40), 12, np.random.default_rng(7))
    assert a == b and len(a) == 12 and len(set(a)) == 12
    assert len(gradcheck.sample_indices((2, 3), 12, np.random.default_rng(0))) == 6


def test_failure_reports_the_index_in_the_input():
    x = np.arange(6.0).reshape(2, 3)
    dout = np.ones((2, 3))
    indices, numbers, settings = _estimate(lambda v: v * 1.0, x, dout)
    wrong = np.ones((2, 3))
    wrong[1, 1] = 5.0
    result = gradcheck.check_entries(wrong, numbers, indices, settings)
    assert not result.ok and result.worst_index == (1, 1) and "(1, 1)" in result.message


@pytest.mark.parametrize("bad", [np.ones(3), [1.0, 2.0], np.array(["x"])])
def test_unusable_outputs_raise_gradcheck_error(bad):
    with pytest.raises(gradcheck.GradcheckError):
        gradcheck.vjp_from_outputs([bad, bad], np.ones(2), 1e-6)


def test_float32_forward_gets_a_larger_step():
    assert gradcheck.settings_for(np.float32).eps > gradcheck.settings_for(np.float64).eps


def test_rounding_noise_of_float32_outputs_widens_the_tolerance_only_as_needed():
    rng = np.random.default_rng(4)
    x = rng.uniform(-3, 3, 72)
    settings = gradcheck.settings_for(np.float32)
    indices = gradcheck.sample_indices(x.shape, 12, rng)
    sets = gradcheck.perturbations({"x": x}, "x", indices, settings.eps)

    def loss32(v):  # a reduction="sum" loss of about 70 in float32, as students write them
        return np.asarray(np.sum(np.logaddexp(0, v)), dtype=np.float32)

    estimate = gradcheck.vjp_from_outputs([loss32(s["x"]) for s in sets], None, settings.eps)
    analytic = (1 / (1 + np.exp(-x))).astype(np.float32)
    assert gradcheck.check_entries(analytic, estimate, indices, settings).ok
    assert not gradcheck.check_entries(analytic * 1.2, estimate, indices, settings).ok
    exact = gradcheck.vjp_from_outputs([np.ones(()), np.ones(())], None, 1e-6)
    assert exact.noise < 1e-8
