"""Cleo's A9 (discriminator_loss not done yet)."""

import numpy as np


def reparameterize_forward(mu, logvar, eps):
    std = np.exp(0.5 * logvar)
    return mu + std * eps, (std, eps)


def reparameterize_backward(dz, cache):
    std, eps = cache
    return dz, 0.5 * dz * eps * std


def gaussian_kl(mu, logvar, reduction="batchmean"):
    n = mu.shape[0] if reduction == "batchmean" else 1
    kl = -0.5 * np.sum(1 + logvar - mu**2 - np.exp(logvar)) / n
    grads = (mu / n, 0.5 * (np.exp(logvar) - 1) / n)
    return kl, grads  # the two gradients together


def bce_reconstruction_loss(prob, target, reduction="batchmean"):
    n = {"batchmean": prob.shape[0], "sum": 1, "mean": prob.size}[reduction]
    loss = -np.sum(target * np.log(prob) + (1 - target) * np.log(1 - prob)) / n
    return float(loss), (prob - target) / (prob * (1 - prob)) / n


def mse_reconstruction_loss(pred, target, reduction="batchmean"):
    # same as my A2 mse_loss
    r = pred - target
    if reduction == "sum":
        return float(np.sum(r**2)), 2 * r
    return float(np.mean(r**2)), 2 * r / r.size


def generator_loss(fake_logits):
    e = np.exp(-np.abs(fake_logits))
    loss = np.mean(np.maximum(-fake_logits, 0) + np.log1p(e))
    s = np.where(fake_logits >= 0, 1, e) / (1 + e)
    return float(loss), (s - 1) / fake_logits.size
