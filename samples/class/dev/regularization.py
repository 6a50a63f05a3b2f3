# dlgrade handout: regularization.py, version 2026.12, interface a6a422cc0e8f (keep this line)
"""Regularisation: dropout, L1 and L2 weight penalties, early stopping.

* ``dropout_forward(x, p, train=True) -> (out, cache)`` and ``dropout_backward(dout, cache) ->
  dx``: inverted dropout, where p is the probability of DROPPING an entry.
* ``l1_penalty(w, reg)`` and ``l2_penalty(w, reg)`` return ``(penalty, dw)``: the value added
  to the loss and its gradient with respect to w.
* ``EarlyStopping(patience, min_delta)``: decides when to stop training from the validation
  losses.

Dropout is random, so it is graded by properties (which entries are kept, how they are
scaled, how many are dropped), not by comparing with one particular mask. Draw the mask with
numpy's random functions (np.random.rand, np.random.random, a np.random.default_rng(), ...).
"""

import numpy as np


def dropout_forward(x, p, train=True):
    """Inverted dropout, forward pass.

    Train mode: each entry is dropped (set to 0) independently with probability p and kept
    with probability 1 - p; kept entries are scaled by 1 / (1 - p), so that the expected
    output equals x:
        mask = (u >= p) / (1 - p)   with u uniform in [0, 1), one per entry of x
        out = x * mask
    Test mode (train=False): out = x (no mask, no scaling).

    Args:
        x: array of any shape.
        p: drop probability, 0 <= p < 1.
        train: True for training, False at test time.

    Returns:
        out: array of the shape of x.
        cache: whatever dropout_backward needs (the mask of THIS call, and the mode).
    """
    # YOUR CODE HERE
    raise NotImplementedError("a5.dropout: implement dropout_forward")


def dropout_backward(dout, cache):
    """Inverted dropout, backward pass.

    Train mode: dx = dout * mask with the very mask (scaled by 1 / (1 - p)) that the forward
    pass used: a dropped entry gets no gradient. Test mode: dx = dout.

    Args:
        dout: upstream gradient, shape of x.
        cache: what dropout_forward returned as cache.

    Returns:
        dx: array of the shape of x.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a5.dropout: implement dropout_backward")


def l1_penalty(w, reg):
    """L1 penalty and its (sub)gradient.

        penalty = reg * sum(|w|),  dw = reg * sign(w)   (0 where w == 0)

    Args:
        w: weights, array of any shape.
        reg: regularisation strength, a float >= 0.

    Returns:
        penalty: float (or 0-d array).
        dw: array of the shape of w.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a5.l1_penalty: implement l1_penalty")


def l2_penalty(w, reg):
    """L2 penalty and its gradient.

        penalty = 0.5 * reg * sum(w**2),  dw = reg * w

    Args:
        w: weights, array of any shape.
        reg: regularisation strength, a float >= 0.

    Returns:
        penalty: float (or 0-d array).
        dw: array of the shape of w.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a5.l2_penalty: implement l2_penalty")


class EarlyStopping:
    """Early stopping on a validation loss, with patience.

    Attributes (state, update them in step):
        patience: how many calls without improvement are tolerated (default 5).
        min_delta: how much the loss must fall to count as an improvement (default 0.0).
        best: the best (lowest) loss seen so far; float("inf") before the first call.
        counter: calls since the last improvement; 0 at the start.

    step(val_loss):
        if val_loss < best - min_delta:   (strictly: a fall of exactly min_delta, or a tie
            best = val_loss                 with best, is NOT an improvement)
            counter = 0
        else:
            counter += 1                    (best is left as it is)
        return counter >= patience          (a Python bool: True means "stop now")
    It keeps counting after it first returns True, so it keeps returning True until the
    loss improves again.
    """

    def __init__(self, patience=5, min_delta=0.0):
        # YOUR CODE HERE
        raise NotImplementedError("a5.early_stopping: implement EarlyStopping.__init__")

    def step(self, val_loss):
        """Record one validation loss; return True if training should stop now."""
        # YOUR CODE HERE
        raise NotImplementedError("a5.early_stopping: implement EarlyStopping.step")
