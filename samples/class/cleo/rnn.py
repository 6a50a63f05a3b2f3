"""Cleo's recurrent layers: the RNN step and the embedding are done; rnn_forward allocates
its output with the input size D instead of the hidden size H (a broadcast error); she
deleted the provided lstm_step_forward_pair; the GRU is not started (no functions)."""

import numpy as np


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + h_prev @ Wh + b)
    return next_h, (x, h_prev, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    x, h_prev, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h**2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, D))
    caches = []
    prev = h0
    for t in range(T):
        prev, c = rnn_step_forward(x[:, t], prev, Wx, Wh, b)
        h[:, t] = prev
        caches.append(c)
    return h, caches


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    dx = np.zeros((N, T, cache[0][0].shape[1]))
    dWx, dWh, db = 0, 0, 0
    dprev = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t], dprev, a, c, e = rnn_step_backward(dh[:, t] + dprev, cache[t])
        dWx, dWh, db = dWx + a, dWh + c, db + e
    return dx, dprev, dWx, dWh, db


def sigmoid(s):
    return 1 / (1 + np.exp(-s))


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * c_prev + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (x, h_prev, c_prev, Wx, Wh, i, f, o, g, next_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, h_prev, c_prev, Wx, Wh, i, f, o, g, next_c = cache
    t = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - t**2)
    da = np.hstack([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                    dnext_h * t * o * (1 - o), dc * i * (1 - g**2)])
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def embedding_forward(x, W):
    return W[x], (x, W)


def embedding_backward(dout, cache):
    x, W = cache
    dW = np.zeros_like(W)
    np.add.at(dW, x, dout)
    return dW
