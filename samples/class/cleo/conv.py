"""A6 - convolutional layers.

Student: Cleo Martin
(Max pooling: not done yet.)
"""

import numpy as np


def conv2d_forward(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = (H + 2 * p - HH) // s + 1
    Wo = (W + 2 * p - WW) // s + 1
    xp = np.pad(x, [(0, 0), (0, 0), (p, p), (p, p)], mode="constant")
    out = np.zeros((N, F, Ho, Wo)) + b.reshape(1, F, 1, 1)
    for k in range(HH):  # one kernel offset at a time: a strided slice of xp per offset
        for l in range(WW):
            patch = xp[:, :, k:k + s * (Ho - 1) + 1:s, l:l + s * (Wo - 1) + 1:s]
            out += np.einsum("nchw,fc->nfhw", patch, w[:, :, k, l])
    return out, (xp, w, s, p)


def conv2d_backward(dout, cache):
    xp, w, s, p = cache
    F, _, HH, WW = w.shape
    _, _, Ho, Wo = dout.shape
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for k in range(HH):
        for l in range(WW):
            rows = slice(k, k + s * (Ho - 1) + 1, s)
            cols = slice(l, l + s * (Wo - 1) + 1, s)
            dw[:, :, k, l] = np.einsum("nfhw,nchw->fc", dout, xp[:, :, rows, cols])
            dxp[:, :, rows, cols] += np.einsum("nfhw,fc->nchw", dout, w[:, :, k, l])
    db = dout.sum(axis=(0, 2, 3))
    return dxp[:, :, p:-p, p:-p], dw, db


def avgpool2d_forward(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    Ho, Wo = (H - ph) // s + 1, (W - pw) // s + 1
    out = np.zeros((N, C, Ho, Wo))
    for k in range(ph):
        for l in range(pw):
            out += x[:, :, k:k + s * (Ho - 1) + 1:s, l:l + s * (Wo - 1) + 1:s]
    return out / (ph * pw), (x.shape, pool_param)


def avgpool2d_backward(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    Ho, Wo = dout.shape[2:]
    dx = np.zeros(x.shape)
    for k in range(ph):
        for l in range(pw):
            dx[:, :, k:k + s * (Ho - 1) + 1:s, l:l + s * (Wo - 1) + 1:s] += dout / (ph * pw)
    return dx
