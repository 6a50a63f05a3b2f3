"""Oracles for A8: torch float64 autograd through ``F.scaled_dot_product_attention`` and
``nn.MultiheadAttention`` (weights mapped from the course's layout), and the positional
encoding both as a plain-Python loop over the paper's formula and, for even d, as the
PyTorch tutorials build it (``div_term = exp(arange(0, d, 2) * -log(10000) / d)``).

torch is imported inside the functions, so importing this package stays cheap.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from dlgrade.authoring import compare, reference_observations


def _leaf(torch: Any, value: np.ndarray):
    return torch.tensor(value, dtype=torch.float64, requires_grad=True)


def attention(inputs: dict[str, np.ndarray], params: dict[str, Any], dout: np.ndarray):
    """``F.scaled_dot_product_attention(q, k, v, attn_mask=mask)`` (boolean mask, True =
    may attend; a (Tq, Tk) mask broadcasts over the batch). Fully masked rows: torch >= 2.5
    returns zeros there with zero gradients, the course's documented answer; older versions
    return NaN, so those rows are set to zero explicitly (through ``torch.where``, which
    also zeroes their gradient)."""
    import torch
    import torch.nn.functional as F

    q, k, v = (_leaf(torch, inputs[name]) for name in ("q", "k", "v"))
    mask = inputs.get("mask")
    if mask is None:
        out = F.scaled_dot_product_attention(q, k, v)
    else:
        allowed = torch.tensor(mask, dtype=torch.bool)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        none = ~allowed.any(dim=-1, keepdim=True)  # (Tq, 1) or (N, Tq, 1)
        out = torch.where(none, torch.zeros((), dtype=torch.float64), out)
    out.backward(torch.tensor(dout, dtype=torch.float64))
    return {"out": out.detach().numpy(), "dq": q.grad.numpy(), "dk": k.grad.numpy(),
            "dv": v.grad.numpy()}


def multi_head_attention(inputs: dict[str, np.ndarray], params: dict[str, Any],
                         dout: np.ndarray):
    """``nn.MultiheadAttention(E, num_heads, batch_first=True)`` in float64 with
    in_proj_weight = W_in.T, in_proj_bias = b_in, out_proj.weight = W_out.T and
    out_proj.bias = b_out; the weight gradients are mapped back the same way."""
    import torch

    e = inputs["x_q"].shape[-1]
    mha = torch.nn.MultiheadAttention(e, params["num_heads"], batch_first=True,
                                      dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.tensor(inputs["W_in"].T))
        mha.in_proj_bias.copy_(torch.tensor(inputs["b_in"]))
        mha.out_proj.weight.copy_(torch.tensor(inputs["W_out"].T))
        mha.out_proj.bias.copy_(torch.tensor(inputs["b_out"]))
    query, key, value = (_leaf(torch, inputs[n]) for n in ("x_q", "x_k", "x_v"))
    out, _ = mha(query, key, value, need_weights=False)
    out.backward(torch.tensor(dout, dtype=torch.float64))
    return {"out": out.detach().numpy(), "dx_q": query.grad.numpy(),
            "dx_k": key.grad.numpy(), "dx_v": value.grad.numpy(),
            "dW_in": mha.in_proj_weight.grad.numpy().T, "db_in": mha.in_proj_bias.grad.numpy(),
            "dW_out": mha.out_proj.weight.grad.numpy().T,
            "db_out": mha.out_proj.bias.grad.numpy()}


def pe_loop(T: int, d: int) -> np.ndarray:
    """The paper's formula, one entry at a time (column c = 2i or 2i + 1 has i = c // 2)."""
    pe = np.zeros((T, d))
    for t in range(T):
        for c in range(d):
            angle = t / 10000.0 ** (2 * (c // 2) / d)
            pe[t, c] = math.sin(angle) if c % 2 == 0 else math.cos(angle)
    return pe


def pe_tutorial(T: int, d: int) -> np.ndarray:
    """The PyTorch tutorials' encoding (even d only), in float64."""
    import torch

    position = torch.arange(T, dtype=torch.float64).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d))
    pe = torch.zeros(T, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe.numpy()


def positional_encoding_check(scenarios) -> list[str]:
    """The reference on every scenario against :func:`pe_loop` and, for even d where torch
    is installed, :func:`pe_tutorial`; and the published anchors PE[t, 0] = sin(t),
    PE[t, 1] = cos(t)."""
    try:
        import torch  # noqa: F401

        tutorial = True
    except ImportError:  # torch is optional here: the loop alone
        tutorial = False
    problems = []
    for scenario, ours in reference_observations("attention", scenarios):
        T, d = scenario.steps[0].args
        value = ours[next(iter(scenario.observe))]
        others = [("the formula, entry by entry", pe_loop(T, d))]
        if tutorial and d % 2 == 0:
            others.append(("the PyTorch tutorial's encoding", pe_tutorial(T, d)))
        for who, theirs in others:
            result = compare(value, theirs)
            if not result.ok:
                problems.append(f"{scenario.describe()}: differs from {who}: {result.message}")
        t = np.arange(T)
        if not (np.allclose(value[:, 0], np.sin(t)) and np.allclose(value[:, 1], np.cos(t))):
            problems.append(f"{scenario.describe()}: columns 0 and 1 are not sin(t), cos(t)")
    return problems
