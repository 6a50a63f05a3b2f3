"""Torch oracles for A6 (torch float64 autograd, imported inside the functions only).

* conv2d: F.conv2d(x, w, b, stride, padding) back-propagated: out, dx, dw, db.
* maxpool2d / avgpool2d: F.max_pool2d / F.avg_pool2d(x, (PH, PW), stride) (no padding,
  floor mode), back-propagated: out, dx.
* maxpool_ties_check: on every tie scenario, the reference's out and dx against
  F.max_pool2d's (whose backward routes each window's gradient to its first maximum).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from dlgrade.authoring import compare, reference_observations


def _tensors(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    import torch

    return {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
            for k, v in inputs.items()}


def conv2d(inputs: dict[str, np.ndarray], params: dict[str, Any], dout: np.ndarray) -> dict:
    import torch
    import torch.nn.functional as F

    t = _tensors(inputs)
    conv = params["conv_param"]
    out = F.conv2d(t["x"], t["w"], t["b"], stride=conv["stride"], padding=conv["pad"])
    out.backward(torch.tensor(dout, dtype=torch.float64))
    return {"out": out.detach().numpy(), **{f"d{k}": v.grad.numpy() for k, v in t.items()}}


def _pool(name: str):
    def oracle(inputs: dict[str, np.ndarray], params: dict[str, Any], dout: np.ndarray) -> dict:
        import torch
        import torch.nn.functional as F

        return _torch_pool(getattr(F, name), inputs["x"], params["pool_param"], dout, torch)

    return oracle


def _torch_pool(fn: Any, x: np.ndarray, pool: dict[str, int], dout: np.ndarray,
                torch: Any) -> dict:
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = fn(t, (pool["pool_height"], pool["pool_width"]), pool["stride"])
    out.backward(torch.tensor(dout, dtype=torch.float64))
    return {"out": out.detach().numpy(), "dx": t.grad.numpy()}


maxpool2d = _pool("max_pool2d")
avgpool2d = _pool("avg_pool2d")


def maxpool_ties_check(scenarios: tuple[Any, ...]) -> list[str]:
    """The reference's out and dx on every tie scenario against F.max_pool2d's."""
    import torch
    import torch.nn.functional as F

    problems = []
    for scenario, ours in reference_observations("conv", scenarios):
        forward, backward = scenario.steps
        (x,), (dout, _) = forward.args, backward.args
        theirs = _torch_pool(F.max_pool2d, x, forward.kwargs["pool_param"], dout, torch)
        for name in ("out", "dx"):
            result = compare(ours[name], theirs[name])
            if not result.ok:
                problems.append(f"{scenario.describe()}: {name} {result.message}")
    return problems
