"""Ben's attention: vectorised. Two mistakes: the mask is applied after the softmax, and
the positional encoding puts the cosines in the even columns."""

import numpy as np


def scaled_dot_product_attention_forward(q, k, v, mask=None):
    scores = np.einsum("nid,njd->nij", q, k) / np.sqrt(q.shape[-1])
    scores = scores - scores.max(axis=-1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(axis=-1, keepdims=True)
    if mask is not None:
        p = p * mask  # zero the attention the mask forbids
    return np.einsum("nij,njd->nid", p, v), (q, k, v, p)


def scaled_dot_product_attention_backward(dout, cache):
    q, k, v, p = cache
    scale = 1.0 / np.sqrt(q.shape[-1])
    dv = np.einsum("nij,nid->njd", p, dout)
    dp = np.einsum("nid,njd->nij", dout, v)
    ds = p * (dp - np.sum(dp * p, axis=-1, keepdims=True))
    dq = scale * np.einsum("nij,njd->nid", ds, k)
    dk = scale * np.einsum("nij,nid->njd", ds, q)
    return dq, dk, dv


def _heads(x, h):
    n, t, e = x.shape
    return x.reshape(n, t, h, e // h).transpose(0, 2, 1, 3).reshape(n * h, t, e // h)


def _unheads(x, n):
    nh, t, dh = x.shape
    h = nh // n
    return x.reshape(n, h, t, dh).transpose(0, 2, 1, 3).reshape(n, t, h * dh)


def multi_head_attention_forward(x_q, x_k, x_v, W_in, b_in, W_out, b_out, num_heads):
    Wq, Wk, Wv = np.split(W_in, 3, axis=1)
    bq, bk, bv = np.split(b_in, 3)
    heads, att_cache = scaled_dot_product_attention_forward(
        _heads(x_q @ Wq + bq, num_heads), _heads(x_k @ Wk + bk, num_heads),
        _heads(x_v @ Wv + bv, num_heads))
    merged = _unheads(heads, x_q.shape[0])
    return merged @ W_out + b_out, (x_q, x_k, x_v, W_in, W_out, merged, att_cache, num_heads)


def multi_head_attention_backward(dout, cache):
    x_q, x_k, x_v, W_in, W_out, merged, att_cache, h = cache
    n, _, e = x_q.shape
    dW_out = np.einsum("nte,ntf->ef", merged, dout)
    db_out = dout.sum(axis=(0, 1))
    dq, dk, dv = scaled_dot_product_attention_backward(_heads(dout @ W_out.T, h), att_cache)
    grads_x, grads_w, grads_b = [], [], []
    for x, d, W in zip((x_q, x_k, x_v), (dq, dk, dv), np.split(W_in, 3, axis=1), strict=True):
        dproj = _unheads(d, n)
        grads_x.append(dproj @ W.T)
        grads_w.append(np.einsum("nte,ntf->ef", x, dproj))
        grads_b.append(dproj.sum(axis=(0, 1)))
    return (*grads_x, np.concatenate(grads_w, axis=1), np.concatenate(grads_b), dW_out,
            db_out)


def positional_encoding(T, d):
    t = np.arange(T)[:, None]
    freq = 1.0 / 10000 ** (np.arange(0, d, 2) / d)
    pe = np.zeros((T, d))
    pe[:, 0::2] = np.cos(t * freq)
    pe[:, 1::2] = np.sin(t * freq[: d // 2])
    return pe
