"""Known-bad variants of the A6 reference (``reference/conv.py``): realistic student mistakes.

Most are patches of the reference. The two "assign instead of add" mistakes are written as
the loop students who make them write them (replacements appended to the reference module,
so they use only ``np`` and keep the real signatures and the reference forward's cache).
"""

from __future__ import annotations

import numpy as np
from dlgrade.authoring import Mutant

# The first line of each pooling backward, and the first line of the conv backward: a
# "stride ignored in the backward" mistake forces stride = 1 right after them.
_MAX_UNPACK = ('    x, pool_param = cache\n    ph, pw, stride = pool_param["pool_height"], '
               'pool_param["pool_width"], pool_param["stride"]\n')
_AVG_UNPACK = _MAX_UNPACK.replace("x, pool_param", "x_shape, pool_param")
_CONV_UNPACK = "    x_shape, xp, w, stride, pad = cache\n"


def _stride_one(unpack: str) -> tuple[tuple[str, str], ...]:
    return ((unpack, unpack + "    stride = 1\n"),)


def _maxpool_backward_assigns(dout, cache):
    """A loop backward that assigns each window's routed gradient into dx (=), so where
    windows overlap, the last window written wins and zeros overwrite earlier shares."""
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, Ho, Wo = dout.shape
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    mask = np.zeros(window.shape)
                    mask[np.unravel_index(np.argmax(window), window.shape)] = 1.0
                    dx[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw] = (
                        mask * dout[n, c, i, j])
    return dx


def _maxpool_forward_no_stride(x, pool_param):
    """Output size right, but every window starts at (i, j) instead of (i*s, j*s)."""
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - ph) // stride, 1 + (W - pw) // stride
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i:i + ph, j:j + pw].max(axis=(2, 3))
    return out, (x, pool_param)


def _maxpool_backward_no_stride(dout, cache):
    x, pool_param = cache
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    N, C, Ho, Wo = dout.shape
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = x[n, c, i:i + ph, j:j + pw]
                    r, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i + r, j + q] += dout[n, c, i, j]
    return dx


def _maxpool_backward_every_max(dout, cache):
    """Routes each window's gradient to every entry equal to its maximum."""
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, Ho, Wo = dout.shape
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    dx[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw] += (
                        (window == window.max()) * dout[n, c, i, j])
    return dx


def _avgpool_backward_assigns(dout, cache):
    """A loop backward that assigns each window's share into dx (=) instead of adding it."""
    x_shape, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, Ho, Wo = dout.shape
    dx = np.zeros(x_shape)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    dx[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw] = (
                        dout[n, c, i, j] / (ph * pw))
    return dx


MUTANTS: tuple[Mutant, ...] = (
    # --- conv2d
    Mutant(
        exercise="a6.conv2d",
        name="flipped-kernel",
        mistake="the kernel is flipped (a true convolution): conv2d, like F.conv2d, is a "
        "cross-correlation, out[n, f, i, j] = b[f] + sum x_pad[n, c, i*s + k, j*s + l] * "
        "w[f, c, k, l], with no flip",
        fails=("forward", "backward", "gradcheck"),
        patch=(
            ("rows = cols @ w.reshape(F, -1).T + b",
             "rows = cols @ w[:, :, ::-1, ::-1].reshape(F, -1).T + b"),
            ("@ cols).reshape(w.shape)", "@ cols).reshape(w.shape)[:, :, ::-1, ::-1]"),
            ("dcols = dout.transpose(0, 2, 3, 1).reshape(-1, F) @ w.reshape(F, -1)",
             "dcols = dout.transpose(0, 2, 3, 1).reshape(-1, F) @ "
             "w[:, :, ::-1, ::-1].reshape(F, -1)"),
        ),
    ),
    Mutant(
        exercise="a6.conv2d",
        name="padded-dx",
        mistake="the padding is forgotten in the backward pass: dx is the gradient of the "
        "padded input, (N, C, H + 2 pad, W + 2 pad); crop it to dx_pad[:, :, pad:pad + H, "
        "pad:pad + W]",
        fails=("backward", "gradcheck"),
        patch=(("dx = dxp[:, :, pad:pad + H, pad:pad + W]", "dx = dxp"),),
    ),
    Mutant(
        exercise="a6.conv2d",
        name="crop-minus-pad",
        mistake="dx is cropped with pad:-pad, which is empty when pad = 0; crop with "
        "pad:pad + H and pad:pad + W",
        fails=("backward", "gradcheck"),
        patch=(("dx = dxp[:, :, pad:pad + H, pad:pad + W]", "dx = dxp[:, :, pad:-pad, pad:-pad]"),),
    ),
    Mutant(
        exercise="a6.conv2d",
        name="dw-wrong-axes",
        mistake="dw is summed over the wrong axes: dout (N, F, H', W') is reshaped straight to "
        "(F, N*H'*W'), mixing up the batch and filter axes (move F to the front first: "
        "dout.transpose(1, 0, 2, 3))",
        fails=("backward", "gradcheck"),
        patch=(("dw = (dout.transpose(1, 0, 2, 3).reshape(F, -1) @ cols)",
                "dw = (dout.reshape(F, -1) @ cols)"),),
    ),
    Mutant(
        exercise="a6.conv2d",
        name="db-wrong-axes",
        mistake="db is summed over the wrong axes: db[f] sums dout[:, f] over the batch and "
        "every output position, axes (0, 2, 3)",
        fails=("backward", "gradcheck"),
        patch=(("db = dout.sum(axis=(0, 2, 3))", "db = dout.sum(axis=(1, 2, 3))"),),
    ),
    Mutant(
        exercise="a6.conv2d",
        name="backward-ignores-stride",
        mistake="the backward pass ignores the stride: output (i, j) reads the input window "
        "that starts at row i * stride and column j * stride, in the backward pass too",
        fails=("backward", "gradcheck"),
        patch=_stride_one(_CONV_UNPACK),
    ),
    # --- max pooling
    Mutant(
        exercise="a6.maxpool",
        name="assigns-not-adds",
        mistake="the backward assigns (=) each window's gradient into dx instead of adding it "
        "(+=): where windows overlap (stride < pool size), earlier windows' gradients are "
        "overwritten",
        fails=("backward", "gradcheck"),
        functions={"maxpool2d_backward": _maxpool_backward_assigns},
    ),
    Mutant(
        exercise="a6.maxpool",
        name="backward-ignores-stride",
        mistake="the backward pass ignores the stride: window (i, j) starts at row "
        "i * stride and column j * stride, in the backward pass too",
        fails=("backward", "gradcheck"),
        patch=_stride_one(_MAX_UNPACK),
    ),
    Mutant(
        exercise="a6.maxpool",
        name="stride-ignored",
        mistake="the windows ignore the stride (window (i, j) starts at row i, column j): it "
        "starts at row i * stride and column j * stride",
        fails=("forward", "backward", "gradcheck"),
        functions={"maxpool2d_forward": _maxpool_forward_no_stride,
                   "maxpool2d_backward": _maxpool_backward_no_stride},
    ),
    # --- max pooling: ties
    Mutant(
        exercise="a6.maxpool_ties",
        name="every-max",
        mistake="a window whose maximum occurs more than once sends its gradient to every one "
        "of them; it goes to the first maximum only (row-major order, as np.argmax)",
        fails=("backward",),
        functions={"maxpool2d_backward": _maxpool_backward_every_max},
    ),
    Mutant(
        exercise="a6.maxpool_ties",
        name="last-max",
        mistake="a window whose maximum occurs more than once sends its gradient to the last "
        "of them; it goes to the first maximum (row-major order, as np.argmax)",
        fails=("backward",),
        patch=(("first = flat.argmax(axis=-1)",
                "first = flat.shape[-1] - 1 - flat[..., ::-1].argmax(axis=-1)"),),
    ),
    # --- average pooling
    Mutant(
        exercise="a6.avgpool",
        name="not-divided",
        mistake="the backward pass is not divided by the window size: each entry of a window "
        "gets dout / (pool_height * pool_width), not dout",
        fails=("backward", "gradcheck"),
        patch=(("share = dout / (ph * pw)", "share = dout"),),
    ),
    Mutant(
        exercise="a6.avgpool",
        name="assigns-not-adds",
        mistake="the backward assigns (=) each window's share into dx instead of adding it "
        "(+=): where windows overlap (stride < pool size), the shares must add up",
        fails=("backward", "gradcheck"),
        functions={"avgpool2d_backward": _avgpool_backward_assigns},
    ),
    Mutant(
        exercise="a6.avgpool",
        name="backward-ignores-stride",
        mistake="the backward pass ignores the stride: window (i, j) starts at row "
        "i * stride and column j * stride, in the backward pass too",
        fails=("backward", "gradcheck"),
        patch=_stride_one(_AVG_UNPACK),
    ),
    Mutant(
        exercise="a6.avgpool",
        name="square-window",
        mistake="the average divides by pool_height**2, as if windows were square: divide by "
        "pool_height * pool_width",
        fails=("forward", "backward", "gradcheck"),
        patch=(("out = windows.sum(axis=(4, 5)) / (ph * pw)",
                "out = windows.sum(axis=(4, 5)) / (ph * ph)"),
               ("share = dout / (ph * pw)", "share = dout / (ph * ph)")),
    ),
)
