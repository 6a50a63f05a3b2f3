"""Ada's recurrent layers: written from the docstrings, with explicit loops over the
batch where it reads clearer, dictionaries as caches and a sigmoid of her own."""

import numpy as np


def _sigmoid(s):
    # Never exponentiates a large positive number.
    out = np.empty_like(s)
    pos = s >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-s[pos]))
    e = np.exp(s[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    pre = np.einsum("nd,dh->nh", x, Wx) + np.einsum("nk,kh->nh", h_prev, Wh) + b[None, :]
    h = np.tanh(pre)
    return h, {"x": x, "h_prev": h_prev, "Wx": Wx, "Wh": Wh, "h": h}


def rnn_step_backward(dnext_h, cache):
    dpre = (1.0 - cache["h"] * cache["h"]) * dnext_h
    dx = np.einsum("nh,dh->nd", dpre, cache["Wx"])
    dh_prev = np.einsum("nh,kh->nk", dpre, cache["Wh"])
    dWx = np.einsum("nd,nh->dh", cache["x"], dpre)
    dWh = np.einsum("nk,nh->kh", cache["h_prev"], dpre)
    db = np.einsum("nh->h", dpre)
    return dx, dh_prev, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    states = []
    caches = []
    h = h0
    for t in range(T):
        h, c = rnn_step_forward(x[:, t, :], h, Wx, Wh, b)
        states.append(h)
        caches.append(c)
    return np.stack(states, axis=1), caches


def rnn_backward(dh, cache):
    T = len(cache)
    dx_steps = [None] * T
    dWx = dWh = db = 0.0
    carry = 0.0
    for t in range(T - 1, -1, -1):
        dx_t, carry, gWx, gWh, gb = rnn_step_backward(dh[:, t, :] + carry, cache[t])
        dx_steps[t] = dx_t
        dWx = dWx + gWx
        dWh = dWh + gWh
        db = db + gb
    return np.stack(dx_steps, axis=1), carry, dWx, dWh, db


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    ai, af, ao, ag = (a[:, k * H:(k + 1) * H] for k in range(4))
    i, f, o, g = _sigmoid(ai), _sigmoid(af), _sigmoid(ao), np.tanh(ag)
    next_c = f * c_prev + i * g
    next_h = o * np.tanh(next_c)
    cache = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "Wx": Wx, "Wh": Wh,
             "gates": (i, f, o, g), "next_c": next_c}
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    i, f, o, g = cache["gates"]
    tc = np.tanh(cache["next_c"])
    dc = dnext_c + dnext_h * o * (1.0 - tc**2)
    grads = [dc * g * i * (1.0 - i),                   # input gate
             dc * cache["c_prev"] * f * (1.0 - f),     # forget gate
             dnext_h * tc * o * (1.0 - o),             # output gate
             dc * i * (1.0 - g**2)]                    # candidate
    da = np.hstack(grads)
    dx = da @ cache["Wx"].T
    dh_prev = da @ cache["Wh"].T
    dWx = cache["x"].T @ da
    dWh = cache["h_prev"].T @ da
    return dx, dh_prev, dc * f, dWx, dWh, da.sum(axis=0)


def lstm_step_forward_pair(x, h_prev, c_prev, Wx, Wh, b):
    """PROVIDED, do not change or remove: the grader calls it to grade your LSTM step.

    It returns lstm_step_forward's result as ((next_h, next_c), cache), the grader's
    (out, cache) form, so that your own cache is kept for lstm_step_backward.
    """
    next_h, next_c, cache = lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b)
    return (next_h, next_c), cache


def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    H = h_prev.shape[1]
    Wxr, Wxz, Wxn = Wx[:, :H], Wx[:, H:2 * H], Wx[:, 2 * H:]
    Whr, Whz, Whn = Wh[:, :H], Wh[:, H:2 * H], Wh[:, 2 * H:]
    bxr, bxz, bxn = bx[:H], bx[H:2 * H], bx[2 * H:]
    bhr, bhz, bhn = bh[:H], bh[H:2 * H], bh[2 * H:]
    r = _sigmoid(x @ Wxr + bxr + h_prev @ Whr + bhr)
    z = _sigmoid(x @ Wxz + bxz + h_prev @ Whz + bhz)
    hn = h_prev @ Whn + bhn
    n = np.tanh(x @ Wxn + bxn + r * hn)
    next_h = n + z * (h_prev - n)
    return next_h, {"x": x, "h_prev": h_prev, "Wx": Wx, "Wh": Wh, "r": r, "z": z, "n": n,
                    "hn": hn}


def gru_step_backward(dnext_h, cache):
    c = cache
    r, z, n, hn = c["r"], c["z"], c["n"], c["hn"]
    H = r.shape[1]
    d_n_pre = dnext_h * (1.0 - z) * (1.0 - n**2)
    d_z_pre = dnext_h * (c["h_prev"] - n) * z * (1.0 - z)
    d_r_pre = d_n_pre * hn * r * (1.0 - r)
    dgx = np.hstack([d_r_pre, d_z_pre, d_n_pre])
    dgh = np.hstack([d_r_pre, d_z_pre, d_n_pre * r])
    Wh = c["Wh"]
    dh_prev = dnext_h * z
    for k in range(3):  # block by block
        dh_prev = dh_prev + dgh[:, k * H:(k + 1) * H] @ Wh[:, k * H:(k + 1) * H].T
    return (dgx @ c["Wx"].T, dh_prev, c["x"].T @ dgx, c["h_prev"].T @ dgh,
            dgx.sum(axis=0), dgh.sum(axis=0))


def embedding_forward(x, W):
    N, T = x.shape
    out = np.zeros((N, T, W.shape[1]))
    for n in range(N):
        for t in range(T):
            out[n, t] = W[x[n, t]]
    return out, (x, W.shape[0])


def embedding_backward(dout, cache):
    x, V = cache
    N, T, D = dout.shape
    dW = np.zeros((V, D))
    for n in range(N):
        for t in range(T):
            dW[x[n, t]] += dout[n, t]
    return dW
