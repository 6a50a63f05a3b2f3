"""Known-bad variants of reference/generative.py: realistic student mistakes.

One-line mistakes are patches of the reference; the others replace whole functions (the
replacement's source is appended to the reference's, so it uses only ``np`` and builtins and
keeps the real signature). A replaced ``reparameterize_backward`` reads the cache of the
forward it is paired with.
"""

from __future__ import annotations

import numpy as np
from dlgrade.authoring import Mutant

# --- reparameterize ------------------------------------------------------------------------


def _reparameterize_forward_logvar_as_std(mu, logvar, eps):
    return mu + logvar * eps, eps


def _reparameterize_backward_logvar_as_std(dz, cache):
    return dz, dz * cache


def _reparameterize_forward_variance_as_std(mu, logvar, eps):
    std = np.exp(logvar)
    return mu + std * eps, (std, eps)


def _reparameterize_backward_variance_as_std(dz, cache):
    std, eps = cache
    return dz, dz * eps * std


# --- GAN losses ----------------------------------------------------------------------------


def _discriminator_loss_naive(real_logits, fake_logits):
    s_real = 1.0 / (1.0 + np.exp(-real_logits))
    s_fake = 1.0 / (1.0 + np.exp(-fake_logits))
    loss = -np.mean(np.log(s_real)) - np.mean(np.log(1.0 - s_fake))
    return float(loss), (s_real - 1.0) / real_logits.size, s_fake / fake_logits.size


def _discriminator_loss_swapped_labels(real_logits, fake_logits):
    er, ef = np.exp(-np.abs(real_logits)), np.exp(-np.abs(fake_logits))
    s_real = np.where(real_logits >= 0, 1.0, er) / (1.0 + er)
    s_fake = np.where(fake_logits >= 0, 1.0, ef) / (1.0 + ef)
    loss = (np.mean(np.maximum(real_logits, 0.0) + np.log1p(er))
            + np.mean(np.maximum(-fake_logits, 0.0) + np.log1p(ef)))
    return float(loss), s_real / real_logits.size, (s_fake - 1.0) / fake_logits.size


def _discriminator_loss_single_mean(real_logits, fake_logits):
    n = real_logits.size + fake_logits.size
    er, ef = np.exp(-np.abs(real_logits)), np.exp(-np.abs(fake_logits))
    s_real = np.where(real_logits >= 0, 1.0, er) / (1.0 + er)
    s_fake = np.where(fake_logits >= 0, 1.0, ef) / (1.0 + ef)
    loss = (np.sum(np.maximum(-real_logits, 0.0) + np.log1p(er))
            + np.sum(np.maximum(fake_logits, 0.0) + np.log1p(ef))) / n
    return float(loss), (s_real - 1.0) / n, s_fake / n


def _discriminator_loss_fake_gradient_as_real(real_logits, fake_logits):
    er, ef = np.exp(-np.abs(real_logits)), np.exp(-np.abs(fake_logits))
    s_real = np.where(real_logits >= 0, 1.0, er) / (1.0 + er)
    s_fake = np.where(fake_logits >= 0, 1.0, ef) / (1.0 + ef)
    loss = (np.mean(np.maximum(-real_logits, 0.0) + np.log1p(er))
            + np.mean(np.maximum(fake_logits, 0.0) + np.log1p(ef)))
    return float(loss), (s_real - 1.0) / real_logits.size, (s_fake - 1.0) / fake_logits.size


def _generator_loss_saturating(fake_logits):
    # minimises mean(log(1 - sigmoid(x))) = -mean(softplus(x)), computed stably
    e = np.exp(-np.abs(fake_logits))
    s = np.where(fake_logits >= 0, 1.0, e) / (1.0 + e)
    loss = -np.mean(np.maximum(fake_logits, 0.0) + np.log1p(e))
    return float(loss), -s / fake_logits.size


def _generator_loss_naive(fake_logits):
    s = 1.0 / (1.0 + np.exp(-fake_logits))
    return float(-np.mean(np.log(s))), (s - 1.0) / fake_logits.size


def _generator_loss_gradient_sign(fake_logits):
    e = np.exp(-np.abs(fake_logits))
    s = np.where(fake_logits >= 0, 1.0, e) / (1.0 + e)
    loss = np.mean(np.maximum(-fake_logits, 0.0) + np.log1p(e))
    return float(loss), (1.0 - s) / fake_logits.size


# --- declarations --------------------------------------------------------------------------

_ALL_LAYER = ("forward", "backward", "gradcheck", "stability")
_LOSS = ("loss", "gradient", "gradcheck")  # a wrong loss (gradcheck is then not scored)
_GRAD = ("gradient", "gradcheck")

MUTANTS: tuple[Mutant, ...] = (
    # reparameterize
    Mutant("a9.reparameterize", "logvar_as_std",
           "logvar is used as the standard deviation (z = mu + logvar * eps); the std is "
           "exp(0.5 * logvar)", _ALL_LAYER,
           functions={"reparameterize_forward": _reparameterize_forward_logvar_as_std,
                      "reparameterize_backward": _reparameterize_backward_logvar_as_std}),
    Mutant("a9.reparameterize", "variance_as_std",
           "exp(logvar) (the variance) is used as the standard deviation; the std is "
           "exp(0.5 * logvar)", _ALL_LAYER,
           functions={"reparameterize_forward": _reparameterize_forward_variance_as_std,
                      "reparameterize_backward": _reparameterize_backward_variance_as_std}),
    Mutant("a9.reparameterize", "dlogvar_missing_half",
           "dlogvar is missing the factor 0.5 of d exp(0.5 * logvar) / d logvar",
           ("backward", "gradcheck", "stability"),
           patch=(("dlogvar = dz * eps * 0.5 * std", "dlogvar = dz * eps * std"),)),
    Mutant("a9.reparameterize", "sqrt_of_exp",
           "std is computed as sqrt(exp(logvar)), and exp overflows for logvar > 709; use "
           "exp(0.5 * logvar)", ("stability",),
           patch=(("    std = np.exp(0.5 * logvar)\n", "    std = np.sqrt(np.exp(logvar))\n"),)),
    # gaussian_kl
    Mutant("a9.gaussian_kl", "kl_sign",
           "the KL has the wrong sign: it is -0.5 * sum(1 + logvar - mu^2 - exp(logvar)), "
           "which is never negative", ("loss", "gradcheck"),
           patch=(("loss = -0.5 * scale * np.sum(", "loss = 0.5 * scale * np.sum("),)),
    Mutant("a9.gaussian_kl", "mean_over_latent_dims",
           "the KL is averaged over the latent dimensions too (divided by N * D); it is "
           "summed over them and averaged over the batch only", ("loss", "gradients"),
           patch=(('scale = 1.0 / mu.shape[0] if reduction == "batchmean" else 1.0',
                   'scale = 1.0 / mu.size if reduction == "batchmean" else 1.0'),)),
    Mutant("a9.gaussian_kl", "dlogvar_missing_half",
           "dlogvar is missing the factor 0.5: it is 0.5 * (exp(logvar) - 1) / N",
           ("gradients", "gradcheck"),
           patch=(("dlogvar = 0.5 * scale * (var - 1.0)", "dlogvar = scale * (var - 1.0)"),)),
    Mutant("a9.gaussian_kl", "dlogvar_missing_one",
           "dlogvar is missing the -1 that comes from the logvar term: it is "
           "0.5 * (exp(logvar) - 1) / N", ("gradients", "gradcheck"),
           patch=(("dlogvar = 0.5 * scale * (var - 1.0)", "dlogvar = 0.5 * scale * var"),)),
    # bce_reconstruction
    Mutant("a9.bce_reconstruction", "mean_over_elements",
           "'batchmean' divides by every element (A2's 'mean'); it sums over the features and "
           "divides by the batch size N only", (*_LOSS, "stability"),
           patch=(('"batchmean": 1.0 / prob.shape[0]', '"batchmean": 1.0 / prob.size'),)),
    Mutant("a9.bce_reconstruction", "no_clamp",
           "the logs are not clamped at -100 (nor the gradient's denominator at 1e-12), so "
           "probabilities of exactly 0 or 1 give inf or NaN", ("stability",),
           patch=(("log_p = np.maximum(np.log(prob), -100.0)", "log_p = np.log(prob)"),
                  ("log_not_p = np.maximum(np.log1p(-prob), -100.0)",
                   "log_not_p = np.log1p(-prob)"),
                  ("/ np.maximum(prob * (1.0 - prob), 1e-12)", "/ (prob * (1.0 - prob))"))),
    Mutant("a9.bce_reconstruction", "missing_negative_term",
           "the gradient is missing the (1 - target) / (1 - prob) term",
           (*_GRAD, "stability"),
           patch=(("dprob = scale * (prob - target) / np.maximum(prob * (1.0 - prob), 1e-12)",
                   "dprob = -scale * target / np.maximum(prob, 1e-12)"),)),
    # mse_reconstruction
    Mutant("a9.mse_reconstruction", "mean_over_elements",
           "'batchmean' divides by every element (A2's 'mean'); it sums over the features and "
           "divides by the batch size N only", _LOSS,
           patch=(('"batchmean": 1.0 / pred.shape[0]', '"batchmean": 1.0 / pred.size'),)),
    Mutant("a9.mse_reconstruction", "missing_factor_2",
           "the gradient is missing the factor 2 from differentiating r^2", _GRAD,
           patch=(("dpred = scale * 2.0 * residual", "dpred = scale * residual"),)),
    Mutant("a9.mse_reconstruction", "half_squared_error",
           "the loss is 0.5 * r^2 (a Gaussian log-likelihood's form); this one has no 1/2",
           _LOSS,
           patch=(("loss = scale * np.sum(residual**2)",
                   "loss = 0.5 * scale * np.sum(residual**2)"),
                  ("dpred = scale * 2.0 * residual", "dpred = scale * residual"))),
    # discriminator_loss
    Mutant("a9.discriminator_loss", "naive_log_sigmoid",
           "the loss takes log(sigmoid(x)) as written, which is log(0) = -inf for large "
           "|logits|; use softplus: -log(sigmoid(x)) = max(-x, 0) + log1p(exp(-|x|))",
           ("stability",), functions={"discriminator_loss": _discriminator_loss_naive}),
    Mutant("a9.discriminator_loss", "fake_gradient_as_real",
           "dfake_logits is sigmoid(fake) - 1, the gradient for label 1; fakes have label 0, "
           "so it is sigmoid(fake) / N_fake", ("gradients", "gradcheck", "stability"),
           functions={"discriminator_loss": _discriminator_loss_fake_gradient_as_real}),
    Mutant("a9.discriminator_loss", "swapped_labels",
           "the labels are swapped: real examples must be labelled 1 and fakes 0",
           ("loss", "gradients", "stability"),
           functions={"discriminator_loss": _discriminator_loss_swapped_labels}),
    Mutant("a9.discriminator_loss", "single_mean",
           "one mean over the real and fake logits together; each term is a mean over its "
           "own batch", ("loss", "gradients", "stability"),
           functions={"discriminator_loss": _discriminator_loss_single_mean}),
    # generator_loss
    Mutant("a9.generator_loss", "saturating",
           "the saturating generator loss: it minimises log(1 - sigmoid(fake_logits)); the "
           "non-saturating loss is -log(sigmoid(fake_logits))", (*_LOSS, "stability"),
           functions={"generator_loss": _generator_loss_saturating}),
    Mutant("a9.generator_loss", "naive_log_sigmoid",
           "the loss takes log(sigmoid(x)) as written, which is log(0) = -inf for large "
           "negative logits; use softplus(-x) = max(-x, 0) + log1p(exp(-|x|))",
           ("stability",), functions={"generator_loss": _generator_loss_naive}),
    Mutant("a9.generator_loss", "gradient_sign",
           "the gradient has the wrong sign: it is (sigmoid(fake_logits) - 1) / N",
           (*_GRAD, "stability"), functions={"generator_loss": _generator_loss_gradient_sign}),
)
