"""A6 - convolutional layers."""

import numpy as np


def _out_size(size, window, pad, stride):
    return 1 + (size + 2 * pad - window) // stride


def conv2d_forward(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = _out_size(H, HH, p, s), _out_size(W, WW, p, s)
    padded = np.zeros((N, C, H + 2 * p, W + 2 * p))
    padded[:, :, p:p + H, p:p + W] = x
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    patch = padded[n, :, i * s:i * s + HH, j * s:j * s + WW]
                    out[n, f, i, j] = np.sum(patch * w[f]) + b[f]
    return out, {"padded": padded, "w": w, "s": s, "p": p, "shape": x.shape}


def conv2d_backward(dout, cache):
    padded, w, p = cache["padded"], cache["w"], cache["p"]
    N, C, H, W = cache["shape"]
    F, _, HH, WW = w.shape
    _, _, Ho, Wo = dout.shape
    dpadded = np.zeros_like(padded)
    dw = np.zeros_like(w)
    db = np.zeros(F)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    g = dout[n, f, i, j]
                    rows = slice(i, i + HH)
                    cols = slice(j, j + WW)
                    dw[f] += g * padded[n, :, rows, cols]
                    dpadded[n, :, rows, cols] += g * w[f]
                    db[f] += g
    return dpadded[:, :, p:p + H, p:p + W], dw, db


def _pool_sizes(x_shape, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    H, W = x_shape[2], x_shape[3]
    return ph, pw, s, _out_size(H, ph, 0, s), _out_size(W, pw, 0, s)


def maxpool2d_forward(x, pool_param):
    N, C = x.shape[:2]
    ph, pw, s, Ho, Wo = _pool_sizes(x.shape, pool_param)
    out = np.zeros((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, c, i, j] = np.max(x[n, c, i * s:i * s + ph, j * s:j * s + pw])
    return out, (x, pool_param)


def maxpool2d_backward(dout, cache):
    x, pool_param = cache
    N, C = x.shape[:2]
    ph, pw, s, Ho, Wo = _pool_sizes(x.shape, pool_param)
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
                    mask = window == np.max(window)
                    dx[n, c, i * s:i * s + ph, j * s:j * s + pw] += mask * dout[n, c, i, j]
    return dx


def avgpool2d_forward(x, pool_param):
    N, C = x.shape[:2]
    ph, pw, s, Ho, Wo = _pool_sizes(x.shape, pool_param)
    out = np.zeros((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, c, i, j] = np.mean(x[n, c, i * s:i * s + ph, j * s:j * s + pw])
    return out, (x.shape, pool_param)


def avgpool2d_backward(dout, cache):
    x_shape, pool_param = cache
    N, C = x_shape[:2]
    ph, pw, s, Ho, Wo = _pool_sizes(x_shape, pool_param)
    dx = np.zeros(x_shape)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    dx[n, c, i * s:i * s + ph, j * s:j * s + pw] += dout[n, c, i, j] / (ph * pw)
    return dx
