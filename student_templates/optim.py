# dlgrade handout: optim.py, version 2026.12, interface dc594c1737d0 (keep this line)
"""First-order update rules and gradient clipping (assignment A4).

Every update rule follows one contract (as in the CS231n assignments)::

    next_w, config = rule(w, dw, config=None)

* ``w``: the current weights, a float64 array of any shape; ``dw``: the gradient of the loss
  at ``w``, same shape. Do not modify ``w`` or ``dw`` in place; return a new ``next_w``.
* ``config``: a dict of hyper-parameters and state, or None (then use a new empty dict).
  The rule fills in every hyper-parameter missing from ``config`` with its default
  (``config.setdefault(key, default)``), creates missing state (``velocity``, ``cache``,
  ``m``, ``v`` as zeros shaped like ``w``; ``t`` as 0), uses them, stores the updated state
  back in ``config`` and returns ``(next_w, config)``. The caller passes the returned config
  to the next call, so the state carries over from step to step.
* Keys (exactly these names): ``learning_rate``, ``momentum``, ``velocity``, ``decay_rate``,
  ``epsilon``, ``cache``, ``beta1``, ``beta2``, ``m``, ``v``, ``t``, ``weight_decay``.

The grader runs whole trajectories (dozens of steps) with several hyper-parameter settings,
``config=None`` included, and compares every iterate and the final state. The rules give
exactly the iterates of ``torch.optim`` (SGD, SGD with momentum and nesterov=True, Adagrad,
RMSprop, Adam, AdamW) for a constant learning rate.
"""

import math

import numpy as np


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent.

        next_w = w - learning_rate * dw

    Defaults: ``learning_rate=1e-2``. No state.

    Args:
        w: weights, float array of any shape.
        dw: gradient of the loss at ``w``, same shape.
        config: dict of hyper-parameters, or None.

    Returns:
        ``(next_w, config)``: the new weights, and ``config`` with its defaults filled in.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a4.sgd: implement sgd")


def sgd_momentum(w, dw, config=None):
    """Stochastic gradient descent with (heavy-ball) momentum.

    With v = ``config["velocity"]`` (zeros shaped like ``w`` at the first step):

        v = momentum * v - learning_rate * dw
        next_w = w + v

    and the new v stored back as ``config["velocity"]``.

    Defaults: ``learning_rate=1e-2``, ``momentum=0.9``. State: ``velocity``.

    Args:
        w: weights, float array of any shape.
        dw: gradient of the loss at ``w``, same shape.
        config: dict of hyper-parameters and state, or None.

    Returns:
        ``(next_w, config)``: the new weights, and ``config`` with its defaults filled in and
        the updated ``velocity``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a4.sgd_momentum: implement sgd_momentum")


def nesterov(w, dw, config=None):
    """Stochastic gradient descent with Nesterov momentum (the CS231n form, where ``dw`` is
    the gradient at the current ``w``).

    With v = ``config["velocity"]`` (zeros shaped like ``w`` at the first step):

        v_prev = v
        v = momentum * v - learning_rate * dw
        next_w = w - momentum * v_prev + (1 + momentum) * v

    and the new v stored back as ``config["velocity"]``. (This is step for step the update
    of ``torch.optim.SGD(..., momentum=momentum, nesterov=True)``.)

    Defaults: ``learning_rate=1e-2``, ``momentum=0.9``. State: ``velocity``.

    Args:
        w: weights, float array of any shape.
        dw: gradient of the loss at ``w``, same shape.
        config: dict of hyper-parameters and state, or None.

    Returns:
        ``(next_w, config)``: the new weights, and ``config`` with its defaults filled in and
        the updated ``velocity``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a4.nesterov: implement nesterov")


def adagrad(w, dw, config=None):
    """Adagrad: per-parameter learning rates from the sum of all past squared gradients.

    With cache = ``config["cache"]`` (zeros shaped like ``w`` at the first step):

        cache = cache + dw ** 2
        next_w = w - learning_rate * dw / (sqrt(cache) + epsilon)

    (epsilon outside the square root) and the new cache stored back as ``config["cache"]``.

    Defaults: ``learning_rate=1e-2``, ``epsilon=1e-8``. State: ``cache``.

    Args:
        w: weights, float array of any shape.
        dw: gradient of the loss at ``w``, same shape.
        config: dict of hyper-parameters and state, or None.

    Returns:
        ``(next_w, config)``: the new weights, and ``config`` with its defaults filled in and
        the updated ``cache``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a4.adagrad: implement adagrad")


def rmsprop(w, dw, config=None):
    """RMSprop: per-parameter learning rates from a moving average of squared gradients.

    With cache = ``config["cache"]`` (zeros shaped like ``w`` at the first step):

        cache = decay_rate * cache + (1 - decay_rate) * dw ** 2
        next_w = w - learning_rate * dw / (sqrt(cache) + epsilon)

    (epsilon outside the square root, as ``torch.optim.RMSprop`` with ``alpha=decay_rate``)
    and the new cache stored back as ``config["cache"]``.

    Defaults: ``learning_rate=1e-2``, ``decay_rate=0.99``, ``epsilon=1e-8``.
    State: ``cache``.

    Args:
        w: weights, float array of any shape.
        dw: gradient of the loss at ``w``, same shape.
        config: dict of hyper-parameters and state, or None.

    Returns:
        ``(next_w, config)``: the new weights, and ``config`` with its defaults filled in and
        the updated ``cache``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a4.rmsprop: implement rmsprop")


def adam(w, dw, config=None):
    """Adam, with bias-corrected moment estimates (as ``torch.optim.Adam``).

    With m = ``config["m"]``, v = ``config["v"]`` (zeros shaped like ``w`` at the first step)
    and the step counter t = ``config["t"]`` (0 at the first step), each call does, in order:

        t = t + 1                          (incremented BEFORE use: the first step has t = 1)
        m = beta1 * m + (1 - beta1) * dw
        v = beta2 * v + (1 - beta2) * dw ** 2
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        next_w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    (epsilon outside the square root) and stores the new m, v and t back in ``config``
    (m and v uncorrected; t as an int).

    Defaults: ``learning_rate=1e-3``, ``beta1=0.9``, ``beta2=0.999``, ``epsilon=1e-8``.
    State: ``m``, ``v``, ``t``.

    Args:
        w: weights, float array of any shape.
        dw: gradient of the loss at ``w``, same shape.
        config: dict of hyper-parameters and state, or None.

    Returns:
        ``(next_w, config)``: the new weights, and ``config`` with its defaults filled in and
        the updated ``m``, ``v`` and ``t``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a4.adam: implement adam")


def adamw(w, dw, config=None):
    """AdamW: Adam with decoupled weight decay (as ``torch.optim.AdamW``).

    First the weights decay, independently of the gradient:

        w_decayed = w * (1 - learning_rate * weight_decay)

    then the Adam step of :func:`adam` (same t, m, v, m_hat, v_hat, computed from ``dw``
    alone; ``dw`` is NOT changed by the decay) is applied to ``w_decayed``:

        next_w = w_decayed - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    Defaults: ``learning_rate=1e-3``, ``beta1=0.9``, ``beta2=0.999``, ``epsilon=1e-8``,
    ``weight_decay=1e-2``. State: ``m``, ``v``, ``t`` (as in :func:`adam`).

    Args:
        w: weights, float array of any shape.
        dw: gradient of the loss at ``w``, same shape.
        config: dict of hyper-parameters and state, or None.

    Returns:
        ``(next_w, config)``: the new weights, and ``config`` with its defaults filled in and
        the updated ``m``, ``v`` and ``t``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a4.adamw: implement adamw")


def clip_grad_norm(grads, max_norm):
    """Clip a set of gradients by their global L2 norm (as ``torch.nn.utils.clip_grad_norm_``).

        total_norm = sqrt(sum over every array g in grads of sum(g ** 2))

    If ``total_norm > max_norm``, every array is scaled by the same factor
    ``max_norm / (total_norm + 1e-6)``; otherwise every array is returned unchanged.

    The input dict and its arrays must NOT be modified: return a new dict (with new arrays
    where they are scaled).

    Args:
        grads: dict name -> float array (any shapes).
        max_norm: the largest allowed global norm, a positive float.

    Returns:
        ``(clipped, total_norm)``: a new dict with the same keys as ``grads``, and the global
        norm BEFORE clipping as a float.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a4.clip_grad_norm: implement clip_grad_norm")
