# dlgrade handout: attention.py, version 2026.12, interface 3a930a03fcb7 (keep this line)
"""Attention: scaled dot-product attention, multi-head attention and the sinusoidal
positional encoding of "Attention is all you need" (Vaswani et al., 2017).

Layers follow the forward/backward style used throughout the course:

* ``<name>_forward(...) -> (out, cache)`` computes the output and returns, as ``cache``,
  whatever the backward pass will need (the cache is yours to choose: it is graded only
  through the backward pass).
* ``<name>_backward(dout, cache) -> grads`` takes ``dout = dL/dout`` (shaped like ``out``)
  and returns the gradients with respect to the layer's inputs, in the order stated.

Inputs are float64 arrays, except the attention mask, which is a boolean array. Batches come
first (``batch_first=True`` in PyTorch's words). The graded inputs are small (N, T and d of
at most a dozen or so), so loops over the batch, the heads or the positions are fine: each
exercise has 10 seconds for all its cases.
"""

import numpy as np


def scaled_dot_product_attention_forward(q, k, v, mask=None):
    """Scaled dot-product attention, batched.

    For each batch element n, with d = q.shape[-1] (the key dimension):

        S = q[n] @ k[n].T / sqrt(d)                  scores, shape (Tq, Tk)
        S[i, j] = -inf wherever mask says False       (before the softmax)
        P[i, :] = softmax(S[i, :])                    over the KEYS (the last axis)
        out[n] = P @ v[n]                             shape (Tq, d)

    The softmax must be stable: subtract each row's maximum before exp (the graded scores
    reach the hundreds, where exp overflows).

    The mask: None (the default) lets every query attend to every key. Otherwise a boolean
    array, True where query i MAY attend to key j, of shape (Tq, Tk) (the same mask for the
    whole batch) or (N, Tq, Tk) (one mask per batch element).

    Fully masked rows: a query whose mask row is all False attends to nothing. Its row of P
    is all zeros (not NaN), so its row of out is zeros, and it passes no gradient back
    (dq is zero on that row, and it adds nothing to dk or dv). This is what
    torch.nn.functional.scaled_dot_product_attention returns today.

    Args:
        q: queries, shape (N, Tq, d).
        k: keys, shape (N, Tk, d).
        v: values, shape (N, Tk, d).
        mask: None, or a boolean array of shape (Tq, Tk) or (N, Tq, Tk).

    Returns:
        out: array of shape (N, Tq, d).
        cache: whatever scaled_dot_product_attention_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a8.attention: implement scaled_dot_product_attention_forward")


def scaled_dot_product_attention_backward(dout, cache):
    """Backward pass of scaled dot-product attention.

    With P the attention weights of the forward pass and d = q.shape[-1], per batch element:

        dv = P.T @ dout
        dP = dout @ v.T
        dS = P * (dP - sum_j(dP * P))     the softmax's backward, row by row (sum over keys)
        dq = dS @ k / sqrt(d)
        dk = dS.T @ q / sqrt(d)

    Masked entries have P = 0, so they pass no gradient (the mask is not differentiated).

    Args:
        dout: upstream gradient, shape (N, Tq, d).
        cache: what scaled_dot_product_attention_forward returned as cache.

    Returns:
        (dq, dk, dv), shaped like q, k and v.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a8.attention: implement scaled_dot_product_attention_backward")


def multi_head_attention_forward(x_q, x_k, x_v, W_in, b_in, W_out, b_out, num_heads):
    """Multi-head attention, as torch.nn.MultiheadAttention(E, num_heads, batch_first=True).

    E = d_model is the last dimension of x_q, x_k and x_v; h = num_heads divides E, and
    each head works on dh = E // h dimensions.

    Weight layout (the course's x @ W convention, as in affine_forward):

        W_in  (E, 3E): the three in-projections side by side, columns [0:E] for the
                       queries, [E:2E] for the keys, [2E:3E] for the values;
        b_in  (3E,):   their biases, in the same order;
        W_out (E, E), b_out (E,): the out-projection.

    (In PyTorch's names: in_proj_weight = W_in.T, in_proj_bias = b_in,
    out_proj.weight = W_out.T, out_proj.bias = b_out.)

    The computation:

        Q = x_q @ W_in[:, 0:E]  + b_in[0:E]          shape (N, Tq, E)
        K = x_k @ W_in[:, E:2E] + b_in[E:2E]         shape (N, Tk, E)
        V = x_v @ W_in[:, 2E:]  + b_in[2E:]          shape (N, Tk, E)

    Head j (j = 0 .. h-1) takes columns [j*dh : (j+1)*dh] of Q, K and V: reshape
    (N, T, E) to (N, T, h, dh), then move the head axis forward to (N, h, T, dh). Each head
    is scaled dot-product attention with the scale 1/sqrt(dh) (the HEAD dimension, not E),
    and no mask. The heads' outputs are concatenated back in the same order, head j in
    columns [j*dh : (j+1)*dh], giving H of shape (N, Tq, E), and

        out = H @ W_out + b_out                      shape (N, Tq, E)

    You may call your scaled_dot_product_attention_forward on the heads (fold the head axis
    into the batch axis: (N * h, T, dh)).

    Args:
        x_q: the sequence the queries come from (PyTorch's query), shape (N, Tq, E).
        x_k: the sequence of the keys (PyTorch's key), shape (N, Tk, E).
        x_v: the sequence of the values (PyTorch's value), shape (N, Tk, E).
        W_in: shape (E, 3E); b_in: shape (3E,).
        W_out: shape (E, E); b_out: shape (E,).
        num_heads: h, an int that divides E.

    Returns:
        out: array of shape (N, Tq, E).
        cache: whatever multi_head_attention_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a8.multi_head_attention: implement multi_head_attention_forward")


def multi_head_attention_backward(dout, cache):
    """Backward pass of multi-head attention.

    Back through the out-projection (dH = dout @ W_out.T, dW_out and db_out summed over the
    batch and the positions), split dH into heads exactly as the forward split Q, run each
    head's attention backward (scale 1/sqrt(dh)), merge the heads' dQ, dK, dV back to
    (N, T, E), and back through the in-projections: e.g. dx_q = dQ @ W_in[:, 0:E].T,
    dW_in[:, 0:E] = sum over n and t of x_q[n, t][:, None] * dQ[n, t][None, :].

    You may call your scaled_dot_product_attention_backward on the heads.

    Args:
        dout: upstream gradient, shape (N, Tq, E).
        cache: what multi_head_attention_forward returned as cache.

    Returns:
        (dx_q, dx_k, dx_v, dW_in, db_in, dW_out, db_out), each shaped like its input.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a8.multi_head_attention: implement multi_head_attention_backward")


def positional_encoding(T, d):
    """The sinusoidal positional encoding of "Attention is all you need".

    For positions t = 0 .. T-1 and i = 0, 1, 2, ...:

        PE[t, 2i]     = sin(t / 10000 ** (2i / d))
        PE[t, 2i + 1] = cos(t / 10000 ** (2i / d))

    so columns 2i and 2i + 1 share one frequency, and the even columns hold the sines. d may
    be odd: then the last column, d - 1 = 2i, is a sine with no cosine beside it.

    Args:
        T: the number of positions, an int >= 1.
        d: the model dimension, an int >= 1.

    Returns:
        PE: float64 array of shape (T, d).
    """
    # YOUR CODE HERE
    raise NotImplementedError("a8.positional_encoding: implement positional_encoding")
