# dlgrade handout: losses.py, version 2026.12, interface 18d948c2633f (keep this line)
"""Loss functions and their gradients (assignment A2).

Every loss here follows one contract::

    loss, grad = name_loss(input, other, ..., reduction="mean")

* ``loss`` is a Python float: the per-element losses, reduced.
* ``grad`` is dloss/dinput, the gradient with respect to the FIRST argument only (predictions,
  probabilities, logits, log-probabilities or scores). It has the shape of that argument. The
  second argument (targets, labels, a distribution) is data and gets no gradient.
* ``reduction="mean"`` averages: over every element for the element-wise losses, over the N
  rows for the (N, C) classification losses (each docstring says which). ``reduction="sum"``
  adds the per-element losses up. The gradient is that of the reduced loss, so under "mean" it
  carries the same 1/N factor. ``kl_div_loss`` uses ``"batchmean"`` instead of ``"mean"``.
  Any other value of ``reduction`` raises ``ValueError``.

Inputs are float64 arrays; class labels ``y`` are int64 arrays of shape (N,) with values in
[0, C). Where a docstring says "stable", inputs of magnitude up to 1e3 must give finite, correct
values without numpy warnings: never evaluate ``exp`` of a large positive number.
"""

import math

import numpy as np


def mse_loss(pred, target, reduction="mean"):
    """Mean squared error.

    With r = pred - target and N = pred.size (every element):

        loss = sum_i r_i^2            (reduction="sum")
        loss = sum_i r_i^2 / N        (reduction="mean")

    Gradient: dloss/dpred_i = 2 r_i, divided by N under "mean".

    Args:
        pred: predictions, float array of any shape.
        target: targets, float array of the same shape as ``pred``.
        reduction: ``"mean"`` or ``"sum"``.

    Returns:
        ``(loss, dpred)``: the loss as a float, and its gradient shaped like ``pred``.

    Raises:
        ValueError: if ``reduction`` is not ``"mean"`` or ``"sum"``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a2.mse: implement mse_loss")


def mae_loss(pred, target, reduction="mean"):
    """Mean absolute error (L1 loss).

    With r = pred - target and N = pred.size (every element):

        loss = sum_i |r_i|            (reduction="sum"; divided by N under "mean")

    Gradient: dloss/dpred_i = sign(r_i), divided by N under "mean". At r_i = 0 use the
    subgradient 0 (as PyTorch does).

    Args:
        pred: predictions, float array of any shape.
        target: targets, float array of the same shape as ``pred``.
        reduction: ``"mean"`` or ``"sum"``.

    Returns:
        ``(loss, dpred)``: the loss as a float, and its gradient shaped like ``pred``.

    Raises:
        ValueError: if ``reduction`` is not ``"mean"`` or ``"sum"``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a2.mae: implement mae_loss")


def huber_loss(pred, target, delta=1.0, reduction="mean"):
    """Huber loss (smooth L1), as ``torch.nn.functional.huber_loss``.

    With r = pred - target and N = pred.size (every element), per element:

        l_i = 0.5 r_i^2                    if |r_i| <= delta
        l_i = delta (|r_i| - delta / 2)    otherwise

        loss = sum_i l_i                   (reduction="sum"; divided by N under "mean")

    Gradient: dloss/dpred_i = r_i if |r_i| <= delta, else delta sign(r_i); that is, r_i
    clipped to [-delta, delta]. Divided by N under "mean".

    Args:
        pred: predictions, float array of any shape.
        target: targets, float array of the same shape as ``pred``.
        delta: positive float, where the loss turns from quadratic to linear.
        reduction: ``"mean"`` or ``"sum"``.

    Returns:
        ``(loss, dpred)``: the loss as a float, and its gradient shaped like ``pred``.

    Raises:
        ValueError: if ``reduction`` is not ``"mean"`` or ``"sum"``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a2.huber: implement huber_loss")


def log_cosh_loss(pred, target, reduction="mean"):
    """Log-cosh loss. Stable for |pred - target| up to 1e3.

    With r = pred - target and N = pred.size (every element):

        loss = sum_i log(cosh(r_i))        (reduction="sum"; divided by N under "mean")

    cosh overflows for |r| > 710, so compute log(cosh(r)) = |r| + log(1 + exp(-2|r|)) - log(2).

    Gradient: dloss/dpred_i = tanh(r_i), divided by N under "mean".

    Args:
        pred: predictions, float array of any shape.
        target: targets, float array of the same shape as ``pred``.
        reduction: ``"mean"`` or ``"sum"``.

    Returns:
        ``(loss, dpred)``: the loss as a float, and its gradient shaped like ``pred``.

    Raises:
        ValueError: if ``reduction`` is not ``"mean"`` or ``"sum"``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a2.log_cosh: implement log_cosh_loss")


def bce_loss(prob, target, reduction="mean"):
    """Binary cross-entropy on probabilities, as ``torch.nn.functional.binary_cross_entropy``.

    With p = prob, t = target and N = prob.size (every element), per element:

        l_i = -(t_i max(log(p_i), -100) + (1 - t_i) max(log(1 - p_i), -100))

        loss = sum_i l_i                   (reduction="sum"; divided by N under "mean")

    The logarithms are clamped at -100 (as PyTorch), so p = 0 or p = 1 gives a finite loss.

    Gradient: dloss/dprob_i = (p_i - t_i) / (p_i (1 - p_i)), the same as
    -t_i / p_i + (1 - t_i) / (1 - p_i); as in PyTorch the denominator p_i (1 - p_i) is clamped
    below at 1e-12. Divided by N under "mean".

    Args:
        prob: predicted probabilities, float array of any shape, values in [0, 1].
        target: target probabilities, float array shaped like ``prob``, values in [0, 1]
            (usually exactly 0 or 1).
        reduction: ``"mean"`` or ``"sum"``.

    Returns:
        ``(loss, dprob)``: the loss as a float, and its gradient shaped like ``prob``.

    Raises:
        ValueError: if ``reduction`` is not ``"mean"`` or ``"sum"``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a2.bce: implement bce_loss")


def bce_with_logits_loss(logits, target, reduction="mean"):
    """Binary cross-entropy on logits (sigmoid + BCE fused). Stable for |logits| up to 1e3.

    With x = logits, t = target, sigmoid(x) = 1 / (1 + exp(-x)) and N = logits.size (every
    element), per element:

        l_i = -(t_i log(sigmoid(x_i)) + (1 - t_i) log(1 - sigmoid(x_i)))
            = max(x_i, 0) - x_i t_i + log(1 + exp(-|x_i|))      (the stable form)

        loss = sum_i l_i                   (reduction="sum"; divided by N under "mean")

    Gradient: dloss/dlogits_i = sigmoid(x_i) - t_i, divided by N under "mean". Compute the
    sigmoid without overflow: exp(-|x|) / (1 + exp(-|x|)) for x < 0.

    Args:
        logits: float array of any shape.
        target: target probabilities, float array shaped like ``logits``, values in [0, 1].
        reduction: ``"mean"`` or ``"sum"``.

    Returns:
        ``(loss, dlogits)``: the loss as a float, and its gradient shaped like ``logits``.

    Raises:
        ValueError: if ``reduction`` is not ``"mean"`` or ``"sum"``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a2.bce_with_logits: implement bce_with_logits_loss")


def softmax_cross_entropy_loss(logits, y, reduction="mean"):
    """Softmax cross-entropy on logits and integer labels, as ``F.cross_entropy``.
    Stable for |logits| up to 1e3.

    For each row i of the (N, C) logits, with log_softmax(z)_c = z_c - log(sum_k exp(z_k)):

        l_i = -log_softmax(logits_i)[y_i]

        loss = sum_i l_i                   (reduction="sum"; divided by N under "mean")

    Subtract each row's maximum before exponentiating (softmax is shift invariant).

    Gradient: dloss/dlogits_ic = softmax(logits_i)_c - [c == y_i], divided by N under "mean".

    Args:
        logits: float array of shape (N, C).
        y: int64 array of shape (N,), the true class of each row, values in [0, C).
        reduction: ``"mean"`` (over the N rows) or ``"sum"``.

    Returns:
        ``(loss, dlogits)``: the loss as a float, and its gradient of shape (N, C).

    Raises:
        ValueError: if ``reduction`` is not ``"mean"`` or ``"sum"``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a2.softmax_cross_entropy: implement softmax_cross_entropy_loss")


def nll_loss(log_probs, y, reduction="mean"):
    """Negative log-likelihood of integer labels under log-probabilities, as ``F.nll_loss``.

    For each row i of the (N, C) log-probabilities:

        l_i = -log_probs[i, y_i]

        loss = sum_i l_i                   (reduction="sum"; divided by N under "mean")

    Gradient: dloss/dlog_probs_ic = -1 if c == y_i else 0, divided by N under "mean".

    Args:
        log_probs: float array of shape (N, C), each row a log-probability vector (for
            example the output of log_softmax).
        y: int64 array of shape (N,), the true class of each row, values in [0, C).
        reduction: ``"mean"`` (over the N rows) or ``"sum"``.

    Returns:
        ``(loss, dlog_probs)``: the loss as a float, and its gradient of shape (N, C).

    Raises:
        ValueError: if ``reduction`` is not ``"mean"`` or ``"sum"``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a2.nll: implement nll_loss")


def kl_div_loss(log_q, p, reduction="batchmean"):
    """Kullback-Leibler divergence KL(p || q) per row, as ``F.kl_div(log_q, p)``.

    The input is log q (log-probabilities, e.g. a model's log_softmax) and the target is the
    distribution p itself. With 0 log 0 = 0 (terms with p_ic = 0 contribute nothing):

        loss = sum_{i,c} p_ic (log(p_ic) - log_q_ic)        (reduction="sum")
        loss = sum_{i,c} p_ic (log(p_ic) - log_q_ic) / N    (reduction="batchmean")

    "batchmean" divides by the number of rows N, not by N * C, so it is the mean over the
    batch of the per-row KL divergences.

    Gradient: dloss/dlog_q_ic = -p_ic, divided by N under "batchmean".

    Args:
        log_q: float array of shape (N, C), each row a log-probability vector.
        p: float array of shape (N, C), each row a probability vector (entries >= 0 summing
            to 1); some entries may be exactly 0.
        reduction: ``"batchmean"`` or ``"sum"``.

    Returns:
        ``(loss, dlog_q)``: the loss as a float, and its gradient of shape (N, C).

    Raises:
        ValueError: if ``reduction`` is not ``"batchmean"`` or ``"sum"``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a2.kl_div: implement kl_div_loss")


def multiclass_hinge_loss(scores, y, margin=1.0, reduction="mean"):
    """Multiclass hinge (SVM) loss, as in CS231n.

    For each row i of the (N, C) scores s, summing over the wrong classes only:

        l_i = sum_{j != y_i} max(0, s_ij - s_i,y_i + margin)

        loss = sum_i l_i                   (reduction="sum"; divided by N under "mean")

    Gradient: let a_ij = 1 if j != y_i and s_ij - s_i,y_i + margin > 0, else 0. Then
    dloss/ds_ij = a_ij for j != y_i, and dloss/ds_i,y_i = -sum_j a_ij (the number of classes
    that violate the margin). Divided by N under "mean".

    Args:
        scores: float array of shape (N, C).
        y: int64 array of shape (N,), the true class of each row, values in [0, C).
        margin: float, the margin the true class score must win by.
        reduction: ``"mean"`` (over the N rows) or ``"sum"``.

    Returns:
        ``(loss, dscores)``: the loss as a float, and its gradient of shape (N, C).

    Raises:
        ValueError: if ``reduction`` is not ``"mean"`` or ``"sum"``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a2.multiclass_hinge: implement multiclass_hinge_loss")


def binary_focal_loss(logits, target, gamma=2.0, alpha=0.25, reduction="mean"):
    """Binary focal loss on logits, as torchvision's ``sigmoid_focal_loss``.
    Stable for |logits| up to 1e3.

    With x = logits, t = target, N = logits.size (every element) and, per element,

        p = sigmoid(x)
        ce = max(x, 0) - x t + log(1 + exp(-|x|))      (BCE with logits, stable form)
        p_t = p t + (1 - p)(1 - t)
        alpha_t = alpha t + (1 - alpha)(1 - t)
        l = alpha_t ce (1 - p_t)^gamma

        loss = sum_i l_i                   (reduction="sum"; divided by N under "mean")

    Gradient: with q = 1 - p_t = p (1 - t) + (1 - p) t, so that dq/dx = p (1 - p)(1 - 2t),

        dloss/dlogits_i = alpha_t q^gamma [(p - t) + gamma ce (1 - 2t) p (1 - p) / q]

    divided by N under "mean". Take the bracket's last term as 0 where q = 0. Compute p and
    1 - p each without cancellation (1 - p = sigmoid(-x)).

    Args:
        logits: float array of any shape.
        target: target probabilities, float array shaped like ``logits``, values in [0, 1]
            (usually exactly 0 or 1).
        gamma: float >= 0, the focusing exponent (0 gives alpha-weighted BCE).
        alpha: float in [0, 1], the weight of the positive class.
        reduction: ``"mean"`` or ``"sum"``.

    Returns:
        ``(loss, dlogits)``: the loss as a float, and its gradient shaped like ``logits``.

    Raises:
        ValueError: if ``reduction`` is not ``"mean"`` or ``"sum"``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a2.binary_focal: implement binary_focal_loss")
