"""Torch oracles and checks for A5 (torch float64, imported inside the functions only).

* batchnorm / layernorm: F.batch_norm (training=True, batch statistics) and F.layer_norm,
  back-propagated with autograd: out, dx, dgamma, dbeta.
* l1_penalty / l2_penalty: reg * |w|.sum() and 0.5 * reg * (w**2).sum() with autograd.
* batchnorm_running_check: the reference's running averages against F.batch_norm's (the
  running mean directly, with torch's momentum = 1 - ours; the running variance from the
  recurrence on torch's biased batch variance, since torch itself averages the unbiased one),
  and its test-mode output against F.batch_norm(training=False) on those statistics.
* dropout_check: F.dropout (training=True and False) and its autograd gradient satisfy every
  graded dropout property, and so does the reference run as the grader runs it.
* initializer_check: torch.nn.init's initialiser (on the torch layout of the same weight)
  satisfies every graded property, its fans equal ours, and so does the reference's output.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from dlgrade.authoring import reference, reference_observations


def _norm_oracle(apply: Callable[..., Any]) -> Callable[..., dict]:
    def oracle(inputs: dict[str, np.ndarray], params: dict[str, Any], dout: Any) -> dict:
        import torch
        import torch.nn.functional as F

        x, gamma, beta = (torch.tensor(inputs[k], dtype=torch.float64, requires_grad=True)
                          for k in ("x", "gamma", "beta"))
        out = apply(F, x, gamma, beta, params)
        out.backward(torch.tensor(dout, dtype=torch.float64))
        return {"out": out.detach().numpy(), "dx": x.grad.numpy(),
                "dgamma": gamma.grad.numpy(), "dbeta": beta.grad.numpy()}

    return oracle


batchnorm = _norm_oracle(lambda F, x, g, b, p: F.batch_norm(
    x, None, None, g, b, training=True, eps=p["bn_param"].get("eps", 1e-5)))
layernorm = _norm_oracle(lambda F, x, g, b, p: F.layer_norm(
    x, (x.shape[-1],), g, b, eps=p.get("eps", 1e-5)))


def _penalty_oracle(value: Callable[[Any, float], Any]) -> Callable[..., dict]:
    def oracle(inputs: dict[str, np.ndarray], params: dict[str, Any], dout: Any) -> dict:
        import torch

        w = torch.tensor(inputs["w"], dtype=torch.float64, requires_grad=True)
        loss = value(w, params["reg"])
        (grad,) = torch.autograd.grad(loss, w)
        return {"loss": loss.detach().numpy(), "dw": grad.numpy()}

    return oracle


l1_penalty = _penalty_oracle(lambda w, reg: reg * w.abs().sum())
l2_penalty = _penalty_oracle(lambda w, reg: 0.5 * reg * (w * w).sum())


def _reference_observations(module: str, scenario: Any) -> dict[str, Any]:
    return reference_observations(module, [scenario])[0][1]


def _close(a: Any, b: Any) -> bool:
    return bool(np.allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                            rtol=1e-10, atol=1e-12))


def batchnorm_running_check(cases: tuple[Any, ...]) -> list[str]:
    import torch
    import torch.nn.functional as F

    problems = []
    for scenario in cases:
        ours = _reference_observations("normalization", scenario)
        put, *rest = scenario.steps
        extra = {k: v for k, v in put.args[0].items() if k != "mode"}
        momentum, eps = extra.get("momentum", 0.9), extra.get("eps", 1e-5)
        trains = [s for s in rest if s.fn == "batchnorm_forward"][:-1]
        gamma, beta = (torch.tensor(a) for a in trains[0].args[1:3])
        d = gamma.shape[0]
        rm, rv = torch.zeros(d, dtype=torch.float64), torch.zeros(d, dtype=torch.float64)
        var_avg = torch.zeros(d, dtype=torch.float64)
        for k, step in enumerate(trains, start=1):
            x = torch.tensor(step.args[0])
            F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=1 - momentum, eps=eps)
            var_avg = momentum * var_avg + (1 - momentum) * x.var(dim=0, unbiased=False)
            if not _close(ours[f"bn_param['running_mean'] after train call {k}"], rm.numpy()):
                problems.append(f"{scenario.describe()}: running_mean after call {k}")
            if not _close(ours[f"bn_param['running_var'] after train call {k}"],
                          var_avg.numpy()):
                problems.append(f"{scenario.describe()}: running_var after call {k}")
        test = rest[-2]
        x_test = torch.tensor(test.args[0])
        want = F.batch_norm(x_test, rm.clone(), var_avg.clone(), gamma, beta, training=False,
                            eps=eps)
        if not _close(ours["out in test mode"], want.numpy()):
            problems.append(f"{scenario.describe()}: test-mode output")
    return problems


def dropout_check() -> list[str]:
    import torch
    import torch.nn.functional as F

    from .exercises import _dropout_scenarios

    problems = []
    torch.manual_seed(0)
    for scenario in _dropout_scenarios(True):
        first = scenario.steps[0]
        x_np, p = first.args
        dout_np = scenario.steps[1].args[0]
        x = torch.tensor(x_np, requires_grad=True)
        out = F.dropout(x, p, training=True)
        (dx,) = torch.autograd.grad(out, x, torch.tensor(dout_np))
        x_plain = torch.tensor(x_np)
        test_out = F.dropout(x_plain, p, training=False)
        theirs = {"out": out.detach().numpy(), "dx": dx.numpy(),
                  "out of a second call": F.dropout(x_plain, p, training=True).numpy(),
                  "out (train=False)": test_out.numpy(), "dx (train=False)": dout_np}
        ours = _reference_observations("regularization", scenario)
        for who, values in (("torch", theirs), ("reference", ours)):
            for prop in scenario.properties:
                message = prop.judge(values, ours)
                if message is not None:
                    problems.append(f"{who}, {scenario.describe()}, {prop.check}: {message}")
    return problems


def initializer_check(name: str, cases: tuple[Any, ...]) -> list[str]:
    import torch
    from torch.nn import init
    from torch.nn.init import _calculate_fan_in_and_fan_out as torch_fans

    fans = reference("initializers").fans

    draw = {
        "xavier_uniform": lambda t, g: init.xavier_uniform_(t, gain=g),
        "xavier_normal": lambda t, g: init.xavier_normal_(t, gain=g),
        "he_normal": lambda t, g: init.kaiming_normal_(t, mode="fan_in", nonlinearity="relu"),
        "he_uniform": lambda t, g: init.kaiming_uniform_(t, mode="fan_in", nonlinearity="relu"),
        "lecun_normal": lambda t, g: init.kaiming_normal_(t, mode="fan_in",
                                                          nonlinearity="linear"),
        "orthogonal": lambda t, g: init.orthogonal_(t, gain=g),
    }[name]
    problems = []
    torch.manual_seed(0)
    for scenario in cases:
        shape = tuple(scenario.steps[0].args[0])
        gain = (scenario.steps[0].kwargs or {}).get("gain", 1.0)
        # torch stores a linear weight as (out, in): our (fan_in, fan_out) transposed.
        torch_shape = shape[::-1] if len(shape) == 2 else shape
        if tuple(torch_fans(torch.empty(torch_shape))) != fans(shape):
            problems.append(f"{scenario.describe()}: fans {fans(shape)} differ from torch's")
        def sample(shape: tuple[int, ...], gain: float = gain) -> np.ndarray:
            torch_shape = shape[::-1] if len(shape) == 2 else shape
            t = draw(torch.empty(torch_shape, dtype=torch.float64), gain).numpy()
            return t.T.copy() if len(shape) == 2 else t

        from .exercises import seeded_shape  # exercises imports this module

        small = seeded_shape(shape)
        first = sample(small)
        theirs = {"w": sample(shape), "w small": first, "w again": first,
                  "w other seed": sample(small)}
        ours = _reference_observations("initializers", scenario)
        for who, values in (("torch", theirs), ("reference", ours)):
            for prop in scenario.properties:
                message = prop.judge(values, ours)
                if message is not None:
                    problems.append(f"{who}, {scenario.describe()}, {prop.check}: {message}")
    return problems
