"""Torch oracles for A9, in float64: the reparameterization and the KL by autograd (the KL's
value also from ``torch.distributions.kl_divergence``, an independent formula), the
reconstruction and GAN losses from ``torch.nn.functional`` (``binary_cross_entropy``,
``mse_loss``, ``binary_cross_entropy_with_logits``) differentiated by autograd.

torch is imported inside the functions, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from dlgrade.authoring import compare, reference_observations


def _leaf(array: np.ndarray):
    import torch

    return torch.tensor(array, dtype=torch.float64, requires_grad=True)


def reparameterize(inputs: dict[str, np.ndarray], params: dict[str, Any], dout: np.ndarray):
    import torch

    mu, logvar = _leaf(inputs["mu"]), _leaf(inputs["logvar"])
    eps = torch.tensor(inputs["eps"], dtype=torch.float64)
    z = mu + torch.exp(0.5 * logvar) * eps
    z.backward(torch.tensor(dout, dtype=torch.float64))
    return {"out": z.detach().numpy(), "dmu": mu.grad.numpy(), "dlogvar": logvar.grad.numpy()}


def _batch_reduced(F, name: str, first, target, reduction: str):
    """``F.<name>`` summed, then divided by the batch size ("batchmean"); "sum" and "mean"
    are torch's own reductions."""
    loss = getattr(F, name)
    if reduction == "batchmean":
        return loss(first, target, reduction="sum") / first.shape[0]
    return loss(first, target, reduction=reduction)


def _reconstruction(name: str, wrt: str, loss_name: str):
    def oracle(inputs: dict[str, np.ndarray], params: dict[str, Any], dout: Any) -> dict:
        import torch
        import torch.nn.functional as F

        first = _leaf(inputs[wrt])
        target = torch.tensor(inputs["target"], dtype=torch.float64)
        value = _batch_reduced(F, loss_name, first, target,
                               params.get("reduction", "batchmean"))
        (grad,) = torch.autograd.grad(value, first)
        return {"loss": value.detach().numpy(), f"d{wrt}": grad.numpy()}

    oracle.__name__ = oracle.__qualname__ = name
    return oracle


bce_reconstruction = _reconstruction("bce_reconstruction", "prob", "binary_cross_entropy")
mse_reconstruction = _reconstruction("mse_reconstruction", "pred", "mse_loss")


def generator(inputs: dict[str, np.ndarray], params: dict[str, Any], dout: Any) -> dict:
    """F.binary_cross_entropy_with_logits(fake, 1), mean."""
    import torch
    import torch.nn.functional as F

    fake = _leaf(inputs["fake_logits"])
    value = F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    (grad,) = torch.autograd.grad(value, fake)
    return {"loss": value.detach().numpy(), "dfake_logits": grad.numpy()}


# --- program exercises: each returns a list of disagreements ------------------------------


def _scenarios(exercise_id: str):
    from .exercises import EXERCISES  # exercises imports this module

    spec = next(e for e in EXERCISES if e.id == exercise_id)
    return reference_observations(spec.module, spec.scenarios(True))


def _disagreements(scenario, ours: dict[str, Any], theirs: dict[str, Any], who: str
                   ) -> list[str]:
    return [f"{scenario.describe()}: {name} differs from {who}"
            for name, value in theirs.items() if not compare(ours[name], value).ok]


def kl_check() -> list[str]:
    """The reference's KL and gradients against torch autograd of the documented formula,
    and its value against torch.distributions' KL(N(mu, std) || N(0, 1))."""
    import torch
    from torch.distributions import Normal, kl_divergence

    problems = []
    for scenario, ours in _scenarios("a9.gaussian_kl"):
        mu_np, logvar_np = scenario.steps[0].args
        reduction = (scenario.steps[0].kwargs or {}).get("reduction", "batchmean")
        mu, logvar = _leaf(mu_np), _leaf(logvar_np)
        total = -0.5 * torch.sum(1 + logvar - mu**2 - torch.exp(logvar))
        value = total / mu.shape[0] if reduction == "batchmean" else total
        dmu, dlogvar = torch.autograd.grad(value, (mu, logvar))
        std = torch.exp(0.5 * logvar.detach())
        standard = Normal(torch.zeros_like(std), torch.ones_like(std))
        closed = kl_divergence(Normal(mu.detach(), std), standard).sum()
        closed = closed / mu.shape[0] if reduction == "batchmean" else closed
        theirs = {"loss": value.detach().numpy(), "dmu": dmu.numpy(),
                  "dlogvar": dlogvar.numpy()}
        problems += _disagreements(scenario, ours, theirs, "torch autograd")
        problems += _disagreements(scenario, ours, {"loss": closed.numpy()},
                                   "torch.distributions.kl_divergence")
    return problems


def discriminator_check() -> list[str]:
    """The reference against F.binary_cross_entropy_with_logits(real, 1) + (fake, 0), each
    a mean, differentiated by autograd (stability scenario included)."""
    import torch
    import torch.nn.functional as F

    problems = []
    for scenario, ours in _scenarios("a9.discriminator_loss"):
        real, fake = (_leaf(a) for a in scenario.steps[0].args)
        value = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                 + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
        dreal, dfake = torch.autograd.grad(value, (real, fake))
        theirs = {"loss": value.detach().numpy(), "dreal_logits": dreal.numpy(),
                  "dfake_logits": dfake.numpy()}
        problems += _disagreements(scenario, ours, theirs, "torch")
    return problems
