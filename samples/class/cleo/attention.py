"""Cleo's attention: the textbook masked softmax (fully masked rows come out NaN), no
multi-head attention yet, and a positional encoding that only works for even d."""

import numpy as np


def scaled_dot_product_attention_forward(q, k, v, mask=None):
    d = q.shape[-1]
    scores = q @ np.swapaxes(k, 1, 2) / np.sqrt(d)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    scores = scores - scores.max(axis=2, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=2, keepdims=True)
    return weights @ v, (q, k, v, weights)


def scaled_dot_product_attention_backward(dout, cache):
    q, k, v, weights = cache
    d = q.shape[-1]
    dv = np.swapaxes(weights, 1, 2) @ dout
    dweights = dout @ np.swapaxes(v, 1, 2)
    dscores = weights * (dweights - (weights * dweights).sum(axis=2, keepdims=True))
    dscores = dscores / np.sqrt(d)
    return dscores @ k, np.swapaxes(dscores, 1, 2) @ q, dv


def positional_encoding(T, d):
    pe = np.zeros((T, d))
    position = np.arange(T)[:, None]
    div = 10000.0 ** (np.arange(0, d, 2) / d)
    pe[:, 0::2] = np.sin(position / div)
    pe[:, 1::2] = np.cos(position / div)
    return pe
