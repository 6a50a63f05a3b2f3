"""Ada's A9: VAE and GAN pieces, written from the docstrings (logaddexp for the softplus,
row-by-row sums for the per-example losses)."""

import numpy as np


def reparameterize_forward(mu, logvar, eps):
    sigma = np.exp(logvar / 2)
    return mu + sigma * eps, {"sigma": sigma, "eps": eps}


def reparameterize_backward(dz, cache):
    return np.array(dz, copy=True), dz * cache["eps"] * cache["sigma"] / 2


def gaussian_kl(mu, logvar, reduction="batchmean"):
    if reduction not in ("batchmean", "sum"):
        raise ValueError(f"unknown reduction {reduction!r}")
    n = mu.shape[0]
    divisor = n if reduction == "batchmean" else 1
    total = 0.0
    for i in range(n):
        total += 0.5 * np.sum(mu[i] ** 2 + np.exp(logvar[i]) - logvar[i] - 1)
    return total / divisor, mu / divisor, (np.exp(logvar) - 1) / (2 * divisor)


def _divisor(x, reduction):
    if reduction == "batchmean":
        return x.shape[0]
    if reduction == "sum":
        return 1
    if reduction == "mean":
        return x.size
    raise ValueError(f"unknown reduction {reduction!r}")


def bce_reconstruction_loss(prob, target, reduction="batchmean"):
    d = _divisor(prob, reduction)
    with np.errstate(divide="ignore"):
        log_p = np.clip(np.log(prob), -100, None)
        log_q = np.clip(np.log(1 - prob), -100, None)
    rows = -(target * log_p + (1 - target) * log_q).reshape(len(prob), -1).sum(axis=1)
    grad = (prob - target) / np.clip(prob * (1 - prob), 1e-12, None)
    return float(rows.sum() / d), grad / d


def mse_reconstruction_loss(pred, target, reduction="batchmean"):
    d = _divisor(pred, reduction)
    diff = (pred - target).reshape(len(pred), -1)
    rows = np.einsum("nd,nd->n", diff, diff)
    return float(rows.sum() / d), 2 * (pred - target) / d


def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def discriminator_loss(real_logits, fake_logits):
    # -log sigmoid(x) = logaddexp(0, -x); -log(1 - sigmoid(x)) = logaddexp(0, x)
    loss = np.logaddexp(0.0, -real_logits).mean() + np.logaddexp(0.0, fake_logits).mean()
    d_real = -_sigmoid(-real_logits) / real_logits.size
    d_fake = _sigmoid(fake_logits) / fake_logits.size
    return float(loss), d_real, d_fake


def generator_loss(fake_logits):
    loss = np.logaddexp(0.0, -fake_logits).mean()
    return float(loss), -_sigmoid(-fake_logits) / fake_logits.size
