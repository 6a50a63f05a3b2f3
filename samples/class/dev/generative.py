# dlgrade handout: generative.py, version 2026.12, interface 5745e8dcd48e (keep this line)
"""Generative models (assignment A9): the pieces of a VAE and of a GAN.

* VAE: the reparameterization trick (a layer), the KL divergence of the encoder's Gaussian
  from N(0, I), and two reconstruction losses.
* GAN: the discriminator's loss and the generator's non-saturating loss, both from logits.

Conventions (the course's, see the A1-A3 modules):

* ``reparameterize_forward(...) -> (z, cache)`` and ``reparameterize_backward(dz, cache)``
  follow the layer style: the cache is yours, graded only through the backward pass.
* The losses return the loss as a Python float followed by its gradient(s).
  ``gaussian_kl`` and ``discriminator_loss`` have two differentiable inputs and return a
  gradient for each: ``(loss, dfirst, dsecond)``.
* Reductions, VAE style: ``reduction="batchmean"`` (the default of the VAE losses) sums over
  every axis but the first (the features of one example: latent dimensions, pixels) and
  averages over the N examples of the batch (axis 0), i.e. divides the total by N;
  ``"sum"`` adds everything up. The reconstruction losses also accept ``"mean"``, A2's
  convention (``mse_loss`` / ``bce_loss``): an average over EVERY element, N x features.
  Any other value raises ``ValueError``.
* Inputs are float64 arrays. "Stable" means inputs of magnitude up to 1e3 give finite,
  correct values: never evaluate ``exp`` of a large positive number.
"""

import numpy as np


def reparameterize_forward(mu, logvar, eps):
    """The reparameterization trick: a sample of N(mu, exp(logvar)) as a function of mu and
    logvar, with the randomness given as an input.

        std = exp(0.5 * logvar)          (logvar is the LOG of the variance, not the std)
        z = mu + std * eps               (element-wise)

    eps is given (drawn from N(0, 1) by the caller), so the function is deterministic. Stable
    for |logvar| up to 1e3: compute std as exp(0.5 * logvar), never as sqrt(exp(logvar)),
    whose exp overflows for logvar > 709.

    Args:
        mu: means, array of shape (N, D).
        logvar: log-variances, array of shape (N, D).
        eps: standard normal noise, array of shape (N, D).

    Returns:
        z: array of shape (N, D).
        cache: whatever reparameterize_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a9.reparameterize: implement reparameterize_forward")


def reparameterize_backward(dz, cache):
    """Backward pass of the reparameterization trick (eps is a constant: no gradient).

        dmu = dz
        dlogvar = dz * eps * 0.5 * exp(0.5 * logvar)     (d std / d logvar = 0.5 * std)

    Args:
        dz: upstream gradient, shape (N, D).
        cache: what reparameterize_forward returned as cache.

    Returns:
        (dmu, dlogvar): each of shape (N, D).
    """
    # YOUR CODE HERE
    raise NotImplementedError("a9.reparameterize: implement reparameterize_backward")


def gaussian_kl(mu, logvar, reduction="batchmean"):
    """KL divergence of the diagonal Gaussian N(mu, exp(logvar)) from N(0, I): the VAE's
    regularizer.

    Per example i (a row), summed over the D latent dimensions j:

        kl_i = -0.5 * sum_j (1 + logvar_ij - mu_ij^2 - exp(logvar_ij))

        loss = sum_i kl_i / N        (reduction="batchmean", the default: mean over the batch)
        loss = sum_i kl_i            (reduction="sum")

    Gradients (under "batchmean"; without the 1/N under "sum"):

        dmu_ij = mu_ij / N
        dlogvar_ij = 0.5 * (exp(logvar_ij) - 1) / N

    Args:
        mu: means, array of shape (N, D).
        logvar: log-variances, array of shape (N, D).
        reduction: ``"batchmean"`` or ``"sum"``.

    Returns:
        ``(loss, dmu, dlogvar)``: the loss as a float (it is >= 0), and its gradients shaped
        like ``mu`` and ``logvar``.

    Raises:
        ValueError: if ``reduction`` is not ``"batchmean"`` or ``"sum"``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a9.gaussian_kl: implement gaussian_kl")


def bce_reconstruction_loss(prob, target, reduction="batchmean"):
    """Binary cross-entropy of a reconstruction (decoder probabilities vs. data in [0, 1]).

    The per-element loss is A2's ``bce_loss`` (and ``F.binary_cross_entropy``'s), with the
    logarithms clamped at -100 so that p = 0 or p = 1 gives a finite loss:

        l_i = -(t_i max(log(p_i), -100) + (1 - t_i) max(log(1 - p_i), -100))

    Only the reduction differs from A2's default: summed over the features of each example
    and averaged over the batch.

        loss = sum_i l_i / N                (reduction="batchmean", the default; N = prob.shape[0])
        loss = sum_i l_i                    (reduction="sum")
        loss = sum_i l_i / prob.size        (reduction="mean": A2's mean over every element)

    Gradient: dloss/dprob_i = (p_i - t_i) / max(p_i (1 - p_i), 1e-12) times the same factor
    (1/N, 1 or 1/prob.size). The denominator is clamped below at 1e-12 as in PyTorch, so p
    exactly 0 or 1 gives a finite gradient (0 where t_i = p_i).

    Args:
        prob: reconstructed probabilities, array of shape (N, d1, ..., dk), values in [0, 1].
        target: the data, shaped like ``prob``, values in [0, 1].
        reduction: ``"batchmean"``, ``"sum"`` or ``"mean"``.

    Returns:
        ``(loss, dprob)``: the loss as a float, and its gradient shaped like ``prob``.

    Raises:
        ValueError: for any other ``reduction``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a9.bce_reconstruction: implement bce_reconstruction_loss")


def mse_reconstruction_loss(pred, target, reduction="batchmean"):
    """Squared error of a reconstruction: A2's ``mse_loss`` with the VAE reduction.

    With r = pred - target (element-wise), no factor 1/2:

        loss = sum r^2 / N                  (reduction="batchmean", the default; N = pred.shape[0])
        loss = sum r^2                      (reduction="sum")
        loss = sum r^2 / pred.size          (reduction="mean": A2's mean over every element)

    Gradient: dloss/dpred = 2 r times the same factor (1/N, 1 or 1/pred.size).

    Args:
        pred: reconstructions, array of shape (N, d1, ..., dk).
        target: the data, shaped like ``pred``.
        reduction: ``"batchmean"``, ``"sum"`` or ``"mean"``.

    Returns:
        ``(loss, dpred)``: the loss as a float, and its gradient shaped like ``pred``.

    Raises:
        ValueError: for any other ``reduction``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a9.mse_reconstruction: implement mse_reconstruction_loss")


def discriminator_loss(real_logits, fake_logits):
    """The GAN discriminator's loss: binary cross-entropy with logits, real examples labelled
    1 and generated (fake) ones labelled 0. Stable for |logits| up to 1e3.

    With sigmoid(x) = 1 / (1 + exp(-x)), N_real = real_logits.size, N_fake = fake_logits.size
    (the two batches may differ in size), and each term a mean over its own batch:

        loss = mean(-log(sigmoid(real_logits))) + mean(-log(1 - sigmoid(fake_logits)))
             = mean(softplus(-real_logits)) + mean(softplus(fake_logits))

    where softplus(x) = log(1 + exp(x)) = max(x, 0) + log(1 + exp(-|x|)) (the stable form:
    log(sigmoid(x)) computed as written is log(0) = -inf for x below about -745).

    Gradients:

        dreal_logits = (sigmoid(real_logits) - 1) / N_real
        dfake_logits = sigmoid(fake_logits) / N_fake

    Args:
        real_logits: the discriminator's logits on real data, array of any shape.
        fake_logits: its logits on generated data, array of any shape.

    Returns:
        ``(loss, dreal_logits, dfake_logits)``: the loss as a float, and its gradients shaped
        like the two inputs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a9.discriminator_loss: implement discriminator_loss")


def generator_loss(fake_logits):
    """The GAN generator's NON-SATURATING loss: binary cross-entropy with logits of the
    generated examples labelled 1 (real). Stable for |logits| up to 1e3.

    With N = fake_logits.size:

        loss = mean(-log(sigmoid(fake_logits))) = mean(softplus(-fake_logits))

    (The saturating loss of the original minimax game, which MINIMISES
    mean(log(1 - sigmoid(fake_logits))), is NOT this one: its gradient vanishes where the
    discriminator confidently rejects the fakes, early in training.)

    Gradient: dfake_logits = (sigmoid(fake_logits) - 1) / N.

    Args:
        fake_logits: the discriminator's logits on generated data, array of any shape.

    Returns:
        ``(loss, dfake_logits)``: the loss as a float, and its gradient shaped like
        ``fake_logits``.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a9.generator_loss: implement generator_loss")
