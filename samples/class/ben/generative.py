"""Ben's A9."""

import numpy as np


def reparameterize_forward(mu, logvar, eps):
    # logvar is "the spread", so scale the noise by it
    z = mu + logvar * eps
    return z, eps


def reparameterize_backward(dz, cache):
    eps = cache
    return dz, dz * eps


def gaussian_kl(mu, logvar, reduction="batchmean"):
    if reduction not in ("batchmean", "sum"):
        raise ValueError(reduction)
    scale = 1.0 / mu.shape[0] if reduction == "batchmean" else 1.0
    kl = -0.5 * scale * np.sum(1 + logvar - mu**2 - np.exp(logvar))
    return float(kl), scale * mu, 0.5 * scale * (np.exp(logvar) - 1)


def _scale(x, reduction):
    if reduction == "batchmean":
        return 1.0 / x.shape[0]
    if reduction == "sum":
        return 1.0
    if reduction == "mean":
        return 1.0 / x.size
    raise ValueError(reduction)


def bce_reconstruction_loss(prob, target, reduction="batchmean"):
    scale = _scale(prob, reduction)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(prob), -100.0)
        log_1mp = np.maximum(np.log(1 - prob), -100.0)
    loss = -scale * np.sum(target * log_p + (1 - target) * log_1mp)
    return float(loss), scale * (prob - target) / np.maximum(prob * (1 - prob), 1e-12)


def mse_reconstruction_loss(pred, target, reduction="batchmean"):
    scale = _scale(pred, reduction)
    r = pred - target
    return float(scale * np.sum(r * r)), 2 * scale * r


def _softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x):
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1 / (1 + np.exp(-x[pos]))
    out[~pos] = np.exp(x[~pos]) / (1 + np.exp(x[~pos]))
    return out


def discriminator_loss(real_logits, fake_logits):
    loss = _softplus(-real_logits).mean() + _softplus(fake_logits).mean()
    return (float(loss), (_sigmoid(real_logits) - 1) / real_logits.size,
            _sigmoid(fake_logits) / fake_logits.size)


def generator_loss(fake_logits):
    # the generator wants to minimise log(1 - D(G(z))), as in the GAN paper
    loss = -_softplus(fake_logits).mean()
    return float(loss), -_sigmoid(fake_logits) / fake_logits.size
