"""Ada's attention: written from the docstrings, one batch element (and one head) at a
time, with a helper for the row softmax."""

import math

import numpy as np


def _softmax_rows(scores, allowed):
    """Row softmax of scores restricted to the allowed entries; a row with no allowed entry
    is all zeros."""
    probs = np.zeros_like(scores)
    for i in range(scores.shape[0]):
        keep = allowed[i]
        if not keep.any():
            continue
        row = scores[i, keep]
        weights = np.exp(row - row.max())
        probs[i, keep] = weights / weights.sum()
    return probs


def _softmax_rows_backward(probs, dprobs):
    dscores = np.zeros_like(probs)
    for i in range(probs.shape[0]):
        p = probs[i]
        dscores[i] = p * dprobs[i] - p * np.dot(p, dprobs[i])
    return dscores


def scaled_dot_product_attention_forward(q, k, v, mask=None):
    n, tq, d = q.shape
    tk = k.shape[1]
    if mask is None:
        masks = [np.ones((tq, tk), dtype=bool)] * n
    elif mask.ndim == 2:
        masks = [mask] * n
    else:
        masks = list(mask)
    out = np.empty((n, tq, v.shape[2]))
    probs = []
    for b in range(n):
        scores = np.dot(q[b], k[b].T) / math.sqrt(d)
        p = _softmax_rows(scores, masks[b])
        probs.append(p)
        out[b] = np.dot(p, v[b])
    return out, (q, k, v, probs)


def scaled_dot_product_attention_backward(dout, cache):
    q, k, v, probs = cache
    d = q.shape[2]
    dq, dk, dv = np.zeros_like(q), np.zeros_like(k), np.zeros_like(v)
    for b, p in enumerate(probs):
        dv[b] = np.dot(p.T, dout[b])
        dscores = _softmax_rows_backward(p, np.dot(dout[b], v[b].T)) / math.sqrt(d)
        dq[b] = np.dot(dscores, k[b])
        dk[b] = np.dot(dscores.T, q[b])
    return dq, dk, dv


def multi_head_attention_forward(x_q, x_k, x_v, W_in, b_in, W_out, b_out, num_heads):
    e = x_q.shape[2]
    dh = e // num_heads
    Wq, Wk, Wv = W_in[:, :e], W_in[:, e:2 * e], W_in[:, 2 * e:]
    bq, bk, bv = b_in[:e], b_in[e:2 * e], b_in[2 * e:]
    Q, K, V = x_q @ Wq + bq, x_k @ Wk + bk, x_v @ Wv + bv
    concat = np.zeros_like(Q)
    head_caches = []
    for j in range(num_heads):
        cols = slice(j * dh, (j + 1) * dh)
        head, head_cache = scaled_dot_product_attention_forward(Q[:, :, cols], K[:, :, cols],
                                                                V[:, :, cols])
        concat[:, :, cols] = head
        head_caches.append(head_cache)
    out = concat @ W_out + b_out
    return out, (x_q, x_k, x_v, W_in, W_out, concat, head_caches, dh)


def multi_head_attention_backward(dout, cache):
    x_q, x_k, x_v, W_in, W_out, concat, head_caches, dh = cache
    e = x_q.shape[2]
    dW_out = np.einsum("ntd,nte->de", concat, dout)
    db_out = dout.sum(axis=0).sum(axis=0)
    dconcat = dout @ W_out.T
    dQ, dK, dV = np.zeros(x_q.shape), np.zeros(x_k.shape), np.zeros(x_v.shape)
    for j, head_cache in enumerate(head_caches):
        cols = slice(j * dh, (j + 1) * dh)
        dq, dk, dv = scaled_dot_product_attention_backward(dconcat[:, :, cols], head_cache)
        dQ[:, :, cols], dK[:, :, cols], dV[:, :, cols] = dq, dk, dv
    grads_in = []
    for x, dproj in ((x_q, dQ), (x_k, dK), (x_v, dV)):
        grads_in.append(np.einsum("ntd,nte->de", x, dproj))
    dW_in = np.hstack(grads_in)
    db_in = np.hstack([dQ.sum(axis=(0, 1)), dK.sum(axis=(0, 1)), dV.sum(axis=(0, 1))])
    dx_q = dQ @ W_in[:, :e].T
    dx_k = dK @ W_in[:, e:2 * e].T
    dx_v = dV @ W_in[:, 2 * e:].T
    return dx_q, dx_k, dx_v, dW_in, db_in, dW_out, db_out


def positional_encoding(T, d):
    pe = np.empty((T, d))
    for t in range(T):
        for col in range(d):
            angle = t / 10000 ** ((col - col % 2) / d)
            pe[t, col] = math.cos(angle) if col % 2 else math.sin(angle)
    return pe
