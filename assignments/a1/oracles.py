"""Torch oracles for A1: torch.nn.functional and autograd in float64.

Each oracle maps ``(inputs, params, dout)`` to ``{"out": ..., "dx": ...}``. torch is imported
inside the oracle, so importing this package stays cheap. ``params`` may be ``{}``: the
defaults below are the reference's (``alpha=0.01`` for leaky_relu, ``alpha=1.0`` for elu).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dlgrade.authoring import Oracle


def _layer_oracle(apply: Callable[[Any, Any, dict[str, Any]], Any]) -> Oracle:
    """An oracle evaluating ``apply(F, x, params)`` (``F`` is ``torch.nn.functional``) and
    back-propagating ``dout`` through it with autograd."""

    def oracle(inputs, params, dout):
        import torch
        import torch.nn.functional as F

        x = torch.tensor(inputs["x"], dtype=torch.float64, requires_grad=True)
        out = apply(F, x, dict(params))
        out.backward(torch.tensor(dout, dtype=torch.float64))
        return {"out": out.detach().numpy(), "dx": x.grad.numpy()}

    return oracle


sigmoid = _layer_oracle(lambda F, x, p: F.sigmoid(x))
tanh = _layer_oracle(lambda F, x, p: x.tanh())
relu = _layer_oracle(lambda F, x, p: F.relu(x))
leaky_relu = _layer_oracle(lambda F, x, p: F.leaky_relu(x, negative_slope=p.get("alpha", 0.01)))
elu = _layer_oracle(lambda F, x, p: F.elu(x, alpha=p.get("alpha", 1.0)))
selu = _layer_oracle(lambda F, x, p: F.selu(x))
# F.softplus returns x itself above threshold=20; the difference, log1p(exp(-x)) < 2.1e-9, is
# far inside the float64 tolerance (checked in tests/test_a1_content.py).
softplus = _layer_oracle(lambda F, x, p: F.softplus(x))
gelu = _layer_oracle(lambda F, x, p: F.gelu(x, approximate="none"))
silu = _layer_oracle(lambda F, x, p: F.silu(x))
mish = _layer_oracle(lambda F, x, p: F.mish(x))
softmax = _layer_oracle(lambda F, x, p: F.softmax(x, dim=-1))
log_softmax = _layer_oracle(lambda F, x, p: F.log_softmax(x, dim=-1))
