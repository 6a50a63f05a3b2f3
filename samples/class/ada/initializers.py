"""A5 - initialisers.

Student: Ada Lovelace
"""

import math

import numpy as np


def fans(shape):
    shape = [int(s) for s in shape]
    if len(shape) == 2:
        return shape[0], shape[1]
    field = shape[2] * shape[3]
    return shape[1] * field, shape[0] * field


def _uniform(shape, rng, bound):
    return (2.0 * rng.random(tuple(shape)) - 1.0) * bound


def _normal(shape, rng, std):
    return std * rng.standard_normal(tuple(shape))


def xavier_uniform(shape, rng, gain=1.0):
    fan_in, fan_out = fans(shape)
    return _uniform(shape, rng, gain * math.sqrt(6.0 / (fan_in + fan_out)))


def xavier_normal(shape, rng, gain=1.0):
    fan_in, fan_out = fans(shape)
    return _normal(shape, rng, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def he_normal(shape, rng):
    return _normal(shape, rng, math.sqrt(2.0 / fans(shape)[0]))


def he_uniform(shape, rng):
    return _uniform(shape, rng, math.sqrt(6.0 / fans(shape)[0]))


def lecun_normal(shape, rng):
    return _normal(shape, rng, 1.0 / math.sqrt(fans(shape)[0]))


def orthogonal(shape, rng, gain=1.0):
    rows = int(shape[0])
    cols = int(np.prod(shape[1:]))
    u, _, vt = np.linalg.svd(rng.standard_normal((rows, cols)), full_matrices=False)
    return gain * (u @ vt).reshape(tuple(shape))
