# dlgrade handout: conv.py, version 2026.12, interface 241bd73d5727 (keep this line)
"""Convolutional layers: 2-D convolution, max pooling and average pooling.

All three are layers in the usual style:

* ``<name>_forward(x, ..., param) -> (out, cache)``;
* ``<name>_backward(dout, cache) -> grads``, where ``dout`` is dL/dout (the shape of ``out``).

Layout: NCHW. ``x`` has shape (N, C, H, W): N images of C channels, H rows and W columns.
The hyper-parameters come in a dict (``conv_param``, ``pool_param``), as in the CS231n
assignments; the grader calls every function with several of them (stride 1 and 2, padding
0 and 1, square and non-square windows).

Output sizes are rounded DOWN (floor, as PyTorch's default): with a window of height HH, zero
padding pad and stride s, the output has

    H' = 1 + (H + 2 * pad - HH) // s

rows (the same with W, WW for the columns). When H + 2 * pad - HH is not a multiple of s, the
last rows (or columns) of the padded input belong to no window, and their gradient is 0.
Time limit: each exercise has 10 seconds of wall clock for all its cases, the gradient
check included. The inputs are small (a few hundred numbers), so plain Python loops are fast
enough: a straightforward loop solution (loops over n, f, i, j with a numpy sum over each
window) needs about 1 second for the whole of conv2d. Vectorising is optional.

The cache is yours to choose: it is graded only through the backward pass.
"""

import numpy as np


def conv2d_forward(x, w, b, conv_param):
    """2-D convolution (a cross-correlation, as torch.nn.functional.conv2d), forward pass.

    conv_param is a dict with the keys:
        "stride": s, the step between neighbouring windows, in rows and in columns;
        "pad": p, the number of rows and columns of zeros added on every side of x.

    With x_pad the input padded with p zeros on each side of its two spatial axes (shape
    (N, C, H + 2p, W + 2p)):

        out[n, f, i, j] = b[f] + sum over c, k, l of
                          x_pad[n, c, i * s + k, j * s + l] * w[f, c, k, l]

    for 0 <= k < HH, 0 <= l < WW. The kernel is NOT flipped (this is cross-correlation, what
    deep-learning libraries call convolution).

    Args:
        x: input, array (N, C, H, W).
        w: filters, array (F, C, HH, WW).
        b: biases, array (F,).
        conv_param: dict with "stride" and "pad" (ints, stride >= 1, pad >= 0).

    Returns:
        out: array (N, F, H', W') with H' = 1 + (H + 2p - HH) // s and
            W' = 1 + (W + 2p - WW) // s.
        cache: whatever conv2d_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a6.conv2d: implement conv2d_forward")


def conv2d_backward(dout, cache):
    """Backward pass of conv2d_forward.

    With x_pad, s and the sums of conv2d_forward:

        db[f] = sum over n, i, j of dout[n, f, i, j]
        dw[f, c, k, l] = sum over n, i, j of dout[n, f, i, j] * x_pad[n, c, i*s + k, j*s + l]
        dx_pad[n, c, i*s + k, j*s + l] += dout[n, f, i, j] * w[f, c, k, l]
                         (summed over every f, i, j, k, l that reach that entry)

    and dx is dx_pad without its padding: dx = dx_pad[:, :, p:p + H, p:p + W].

    Args:
        dout: upstream gradient, array (N, F, H', W').
        cache: what conv2d_forward returned as cache.

    Returns:
        (dx, dw, db): dx shaped like x (N, C, H, W), dw like w (F, C, HH, WW), db like b (F,).
    """
    # YOUR CODE HERE
    raise NotImplementedError("a6.conv2d: implement conv2d_backward")


def maxpool2d_forward(x, pool_param):
    """Max pooling (as torch.nn.functional.max_pool2d, no padding), forward pass.

    pool_param is a dict with the keys "pool_height" (PH), "pool_width" (PW) and "stride"
    (s). Each channel of each image is pooled on its own:

        out[n, c, i, j] = max over 0 <= k < PH, 0 <= l < PW of x[n, c, i*s + k, j*s + l]

    Windows overlap when s is smaller than the window.

    Args:
        x: input, array (N, C, H, W).
        pool_param: dict with "pool_height", "pool_width" and "stride" (ints >= 1).

    Returns:
        out: array (N, C, H', W') with H' = 1 + (H - PH) // s and W' = 1 + (W - PW) // s.
        cache: whatever maxpool2d_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a6.maxpool: implement maxpool2d_forward")


def maxpool2d_backward(dout, cache):
    """Backward pass of maxpool2d_forward.

    Each window passes its dout[n, c, i, j] to the ONE input entry it took its maximum from;
    every other entry of the window gets nothing from it. Where windows overlap, an entry
    that is the maximum of several windows receives the sum of their gradients.

    Ties: if a window's maximum occurs more than once, the gradient goes to the FIRST of
    them in row-major order (smallest k, then smallest l), as PyTorch and np.argmax do.

    Args:
        dout: upstream gradient, array (N, C, H', W').
        cache: what maxpool2d_forward returned as cache.

    Returns:
        dx: array shaped like x (N, C, H, W).
    """
    # YOUR CODE HERE
    raise NotImplementedError("a6.maxpool: implement maxpool2d_backward")


def avgpool2d_forward(x, pool_param):
    """Average pooling (as torch.nn.functional.avg_pool2d, no padding), forward pass.

    pool_param is a dict with the keys "pool_height" (PH), "pool_width" (PW) and "stride"
    (s), as in maxpool2d_forward:

        out[n, c, i, j] = (1 / (PH * PW)) * sum over 0 <= k < PH, 0 <= l < PW of
                          x[n, c, i*s + k, j*s + l]

    Args:
        x: input, array (N, C, H, W).
        pool_param: dict with "pool_height", "pool_width" and "stride" (ints >= 1).

    Returns:
        out: array (N, C, H', W') with H' = 1 + (H - PH) // s and W' = 1 + (W - PW) // s.
        cache: whatever avgpool2d_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a6.avgpool: implement avgpool2d_forward")


def avgpool2d_backward(dout, cache):
    """Backward pass of avgpool2d_forward.

    Each window spreads dout[n, c, i, j] / (PH * PW) over its PH * PW input entries; where
    windows overlap, the shares add up.

    Args:
        dout: upstream gradient, array (N, C, H', W').
        cache: what avgpool2d_forward returned as cache.

    Returns:
        dx: array shaped like x (N, C, H, W).
    """
    # YOUR CODE HERE
    raise NotImplementedError("a6.avgpool: implement avgpool2d_backward")
