# dlgrade handout: initializers.py, version 2026.12, interface c2553951e30f (keep this line)
"""Weight initialisers: each returns a new float64 array of the given shape.

Every initialiser takes ``(shape, rng)`` where ``rng`` is a ``numpy.random.Generator`` (for
example ``np.random.default_rng(0)``): draw every random number from it (``rng.uniform``,
``rng.normal``, ``rng.standard_normal``), never from ``np.random.*`` directly, so the same
seed gives the same weights.

Fans (how many inputs and outputs a unit has), for the layouts of this course:

* 2-D weights ``shape = (fan_in, fan_out)``, as the affine layer's ``w`` of shape (D, M):
  fan_in = shape[0] = D, fan_out = shape[1] = M. (Note: torch.nn.Linear stores its weight as
  (out, in), the other way round.)
* 4-D convolution weights ``shape = (F, C, kh, kw)``: fan_in = C * kh * kw and
  fan_out = F * kh * kw (each input channel is seen through a kh x kw window).

The helper ``fans(shape) -> (fan_in, fan_out)`` below is given: use it. ``shape`` may arrive
as a tuple or a list of ints.

Formulas, as torch.nn.init (std is the standard deviation; a uniform on [-b, b] has
std = b / sqrt(3)):

* xavier_uniform: std = gain * sqrt(2 / (fan_in + fan_out)); U(-b, b) with b = sqrt(3) * std.
* xavier_normal: N(0, std^2) with the same std.
* he_normal (kaiming, fan_in, ReLU): std = sqrt(2 / fan_in); N(0, std^2).
* he_uniform: U(-b, b) with b = sqrt(3) * sqrt(2 / fan_in) = sqrt(6 / fan_in).
* lecun_normal: std = sqrt(1 / fan_in); N(0, std^2).
* orthogonal: a (semi-)orthogonal matrix times gain.
"""

import math

import numpy as np


def fans(shape):
    """(fan_in, fan_out) of a 2-D (fan_in, fan_out) or a 4-D (F, C, kh, kw) weight (given:
    use it in your initialisers)."""
    shape = tuple(int(s) for s in shape)
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) == 4:
        receptive = shape[2] * shape[3]
        return shape[1] * receptive, shape[0] * receptive
    raise ValueError(f"expected a 2-D or a 4-D shape, got {shape}")


def xavier_uniform(shape, rng, gain=1.0):
    """Xavier / Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)).

    Args:
        shape: tuple, 2-D (fan_in, fan_out) or 4-D (F, C, kh, kw) (see the module docstring).
        rng: numpy.random.Generator to draw from.
        gain: scale factor (default 1.0).

    Returns:
        float64 array of the given shape.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a5.xavier_uniform: implement xavier_uniform")


def xavier_normal(shape, rng, gain=1.0):
    """Xavier / Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).

    Args:
        shape: tuple, 2-D (fan_in, fan_out) or 4-D (F, C, kh, kw) (see the module docstring).
        rng: numpy.random.Generator to draw from.
        gain: scale factor (default 1.0).

    Returns:
        float64 array of the given shape.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a5.xavier_normal: implement xavier_normal")


def he_normal(shape, rng):
    """He / Kaiming normal (fan_in mode, for ReLU): N(0, std^2) with std = sqrt(2 / fan_in).

    Args:
        shape: tuple, 2-D (fan_in, fan_out) or 4-D (F, C, kh, kw) (see the module docstring).
        rng: numpy.random.Generator to draw from.

    Returns:
        float64 array of the given shape.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a5.he_normal: implement he_normal")


def he_uniform(shape, rng):
    """He / Kaiming uniform (fan_in mode, for ReLU): U(-b, b) with b = sqrt(6 / fan_in)
    (that is sqrt(3) times the std sqrt(2 / fan_in)).

    Args:
        shape: tuple, 2-D (fan_in, fan_out) or 4-D (F, C, kh, kw) (see the module docstring).
        rng: numpy.random.Generator to draw from.

    Returns:
        float64 array of the given shape.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a5.he_uniform: implement he_uniform")


def lecun_normal(shape, rng):
    """LeCun normal: N(0, std^2) with std = sqrt(1 / fan_in).

    Args:
        shape: tuple, 2-D (fan_in, fan_out) or 4-D (F, C, kh, kw) (see the module docstring).
        rng: numpy.random.Generator to draw from.

    Returns:
        float64 array of the given shape.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a5.lecun_normal: implement lecun_normal")


def orthogonal(shape, rng, gain=1.0):
    """Orthogonal initialisation (as torch.nn.init.orthogonal_), times gain.

    View the weight as the matrix A of shape (rows, cols) = (shape[0], product of the other
    dimensions), e.g. (D, M) for an affine weight, (F, C * kh * kw) for a convolution. A is
    made (semi-)orthogonal:
        rows >= cols: orthonormal columns, A^T A = I (cols x cols);
        rows <  cols: orthonormal rows,    A A^T = I (rows x rows);
    and the result is gain * A reshaped to ``shape``, so (gain * A)^T (gain * A) = gain^2 I.

    Recipe: draw G ~ N(0, 1) of shape (max, min) of (rows, cols), take its QR decomposition
    G = Q R (np.linalg.qr), multiply each column of Q by the sign of the matching diagonal
    entry of R, and transpose Q back when rows < cols.

    Args:
        shape: tuple of 2 or more dimensions.
        rng: numpy.random.Generator to draw from.
        gain: scale factor (default 1.0).

    Returns:
        float64 array of the given shape.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a5.orthogonal: implement orthogonal")
