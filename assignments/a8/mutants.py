"""Known-bad variants of reference/attention.py: realistic student mistakes, as patches.

Attention's forward and backward serve two exercises (without and with a mask): a mistake
that shows in both is declared on both, so each exercise's feedback names it.
"""

from __future__ import annotations

from dlgrade.authoring import Mutant

_SCALE = "scores = q @ k.transpose(0, 2, 1) / np.sqrt(d)"
_NO_SCALE = (
    (_SCALE, "scores = q @ k.transpose(0, 2, 1)"),
    ("scale = 1.0 / np.sqrt(q.shape[-1])", "scale = 1.0"),
)
_M_NO_SCALE = "the scores are not scaled by 1/sqrt(d) (S = q @ k^T)"

#: Softmax over the queries (axis 1) instead of the keys, forward and backward alike.
_WRONG_AXIS = (
    ("top = scores.max(axis=-1, keepdims=True)", "top = scores.max(axis=-2, keepdims=True)"),
    ("total = e.sum(axis=-1, keepdims=True)", "total = e.sum(axis=-2, keepdims=True)"),
    ("ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))",
     "ds = p * (dp - (dp * p).sum(axis=-2, keepdims=True))"),
)
_M_WRONG_AXIS = "the softmax is taken over the queries (axis 1) instead of the keys (last axis)"

_MASK = "scores = np.where(allowed, scores, -np.inf)"

_SPLIT = (
    ("qh = Q.reshape(n, tq, h, dh).transpose(0, 2, 1, 3)", "qh = Q.reshape(n, h, tq, dh)"),
    ("kh = K.reshape(n, tk, h, dh).transpose(0, 2, 1, 3)", "kh = K.reshape(n, h, tk, dh)"),
    ("vh = V.reshape(n, tk, h, dh).transpose(0, 2, 1, 3)", "vh = V.reshape(n, h, tk, dh)"),
    ("H = heads.transpose(0, 2, 1, 3).reshape(n, tq, e)", "H = heads.reshape(n, tq, e)"),
    ("dheads = dH.reshape(n, tq, h, dh).transpose(0, 2, 1, 3)",
     "dheads = dH.reshape(n, h, tq, dh)"),
    ("dQ = dqh.transpose(0, 2, 1, 3).reshape(n, tq, e)", "dQ = dqh.reshape(n, tq, e)"),
    ("dK = dkh.transpose(0, 2, 1, 3).reshape(n, tk, e)", "dK = dkh.reshape(n, tk, e)"),
    ("dV = dvh.transpose(0, 2, 1, 3).reshape(n, tk, e)", "dV = dvh.reshape(n, tk, e)"),
)

MUTANTS: tuple[Mutant, ...] = (
    # --- scaled dot-product attention, no mask
    Mutant("a8.attention", "no_scale", _M_NO_SCALE,
           ("forward", "backward", "gradcheck", "stability"), patch=_NO_SCALE),
    Mutant("a8.attention", "softmax_wrong_axis", _M_WRONG_AXIS,
           ("forward", "backward", "gradcheck", "stability"), patch=_WRONG_AXIS),
    Mutant("a8.attention", "no_max_shift",
           "the softmax does not subtract each row's maximum before exp, so large scores "
           "overflow", ("stability",),
           patch=(("e = np.exp(scores - top)", "e = np.exp(scores)"),)),
    Mutant("a8.attention", "softmax_backward_no_row_sum",
           "the softmax's backward is dS = P * dP, without subtracting sum_j(dP * P) per row",
           ("backward", "gradcheck", "stability"),
           patch=(("ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))", "ds = p * dp"),)),
    Mutant("a8.attention", "backward_no_scale",
           "dq and dk are not multiplied by 1/sqrt(d) in the backward pass",
           ("backward", "gradcheck", "stability"),
           patch=(("dq = ds @ k * scale", "dq = ds @ k"),
                  ("dk = ds.transpose(0, 2, 1) @ q * scale", "dk = ds.transpose(0, 2, 1) @ q"))),
    # --- with a mask
    Mutant("a8.masked_attention", "mask_after_softmax",
           "the mask is applied after the softmax (P * mask, rows no longer sum to 1) instead "
           "of setting the masked scores to -inf before it",
           ("forward", "backward", "gradcheck"),
           patch=((f"        {_MASK}\n", ""),
                  ("    out = p @ v\n",
                   "    if mask is not None:\n        p = p * allowed\n    out = p @ v\n"))),
    Mutant("a8.masked_attention", "mask_inverted",
           "the mask's polarity is inverted: True must mean 'may attend', not 'masked out'",
           ("forward", "backward", "gradcheck"),
           patch=((_MASK, "scores = np.where(allowed, -np.inf, scores)"),)),
    Mutant("a8.masked_attention", "large_negative_fill",
           "masked scores are set to -1e9 instead of -inf: right except on fully masked "
           "rows, which then average every value instead of giving zeros",
           ("forward", "backward", "gradcheck"),
           patch=((_MASK, "scores = np.where(allowed, scores, -1e9)"),)),
    Mutant("a8.masked_attention", "fully_masked_nan",
           "a fully masked row gives NaN (exp(-inf - (-inf))): it must give zeros and no "
           "gradient", ("forward", "backward", "gradcheck"),
           patch=(("    top = np.where(np.isfinite(top), top, 0.0)  # a fully masked row is all "
                   "-inf\n", ""),
                  ("p = e / np.where(total > 0, total, 1.0)", "p = e / total"))),
    Mutant("a8.masked_attention", "no_scale", _M_NO_SCALE,
           ("forward", "backward", "gradcheck"), patch=_NO_SCALE),
    # --- multi-head attention
    Mutant("a8.multi_head_attention", "heads_split_without_transpose",
           "the heads are split by reshaping (N, T, E) straight to (N, h, T, E/h), without "
           "going through (N, T, h, E/h) and moving the head axis",
           ("forward", "backward", "gradcheck"), patch=_SPLIT),
    Mutant("a8.multi_head_attention", "scale_by_d_model",
           "the heads' scores are scaled by 1/sqrt(E) (d_model) instead of 1/sqrt(E/h)",
           ("forward", "backward", "gradcheck"),
           patch=(("scores = qh @ kh.transpose(0, 1, 3, 2) / np.sqrt(dh)",
                   "scores = qh @ kh.transpose(0, 1, 3, 2) / np.sqrt(e)"),
                  ("dqh = ds @ kh / np.sqrt(dh)", "dqh = ds @ kh / np.sqrt(e)"),
                  ("dkh = ds.transpose(0, 1, 3, 2) @ qh / np.sqrt(dh)",
                   "dkh = ds.transpose(0, 1, 3, 2) @ qh / np.sqrt(e)"))),
    Mutant("a8.multi_head_attention", "dW_out_transposed",
           "dW_out is dout^T @ H, the transpose of H^T @ dout", ("backward", "gradcheck"),
           patch=(("dW_out = H.reshape(-1, e).T @ dout.reshape(-1, e)",
                   "dW_out = dout.reshape(-1, e).T @ H.reshape(-1, e)"),)),
    # --- positional encoding
    Mutant("a8.positional_encoding", "sin_cos_swapped",
           "sin and cos are swapped: the cosines are in the even columns, where column 2i "
           "must hold the sine and column 2i+1 the cosine",
           ("even_d", "odd_d"),
           patch=(("pe[:, 0::2] = np.sin(angle)", "pe[:, 0::2] = np.cos(angle)"),
                  ("pe[:, 1::2] = np.cos(angle[:, : d // 2])",
                   "pe[:, 1::2] = np.sin(angle[:, : d // 2])"))),
    Mutant("a8.positional_encoding", "exponent_i_over_d",
           "the frequency uses 10000**(i/d) instead of 10000**(2i/d)", ("even_d", "odd_d"),
           patch=(("angle = t / 10000.0 ** (two_i / d)",
                   "angle = t / 10000.0 ** (two_i / 2 / d)"),)),
    Mutant("a8.positional_encoding", "cosine_own_exponent",
           "the cosine of column 2i+1 uses 10000**((2i+1)/d): the pair 2i, 2i+1 must share the "
           "angle t / 10000**(2i/d)", ("even_d", "odd_d"),
           patch=(("pe[:, 1::2] = np.cos(angle[:, : d // 2])",
                   "pe[:, 1::2] = np.cos(t / 10000.0 ** (np.arange(1, d, 2) / d))"),)),
    Mutant("a8.positional_encoding", "positions_from_one",
           "positions are counted from t = 1; the first row is t = 0 (sin 0 = 0, cos 0 = 1)",
           ("even_d", "odd_d"),
           patch=(("t = np.arange(T, dtype=np.float64)[:, None]",
                   "t = np.arange(1, T + 1, dtype=np.float64)[:, None]"),)),
    Mutant("a8.positional_encoding", "odd_d_extra_column",
           "for odd d the array has d + 1 columns (a cosine after the last sine): it must "
           "have d", ("odd_d",),
           patch=(("pe = np.zeros((T, d))", "pe = np.zeros((T, 2 * len(two_i)))"),
                  ("pe[:, 1::2] = np.cos(angle[:, : d // 2])", "pe[:, 1::2] = np.cos(angle)"))),
)
