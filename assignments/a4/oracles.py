"""A4 oracles: the reference against PyTorch (``dlgrade validate``), on exactly the graded
cases (public and hidden).

* Update rules: ``torch.optim`` in float64 on the same objectives (``p.grad`` set from
  :func:`dlgrade.sandbox.programs.gradient`), every iterate and the final state
  (velocity = -lr * momentum_buffer, Adagrad's ``sum``, RMSprop's ``square_avg``, Adam's
  ``exp_avg``, ``exp_avg_sq`` and ``step``). The CS231n Nesterov form is algebraically
  ``torch.optim.SGD(nesterov=True)``: with v = -lr * buf, next_w = w + momentum * v_new -
  lr * dw, which is what torch computes, so it is checked against torch like the others.
* Schedules: ``torch.optim.lr_scheduler`` (StepLR, ExponentialLR, CosineAnnealingLR,
  OneCycleLR) stepping a dummy optimizer; ``warmup_cosine`` against a vectorised closed form
  and, after the warm-up, against CosineAnnealingLR shifted by the warm-up.
* ``clip_grad_norm`` against ``torch.nn.utils.clip_grad_norm_``.

torch is imported inside the functions only. Each check returns a list of disagreements.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from dlgrade.authoring import reference

#: The documented defaults (CURRICULUM.md), written out again rather than read from the
#: reference, so a wrong default in the reference is caught.
DEFAULTS: dict[str, dict[str, float]] = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "nesterov": {"learning_rate": 1e-2, "momentum": 0.9},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-8},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "adamw": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
              "weight_decay": 1e-2},
}
RTOL, ATOL = 1e-10, 1e-12


def _optimizer(rule: str, p: Any, c: dict[str, float]) -> Any:
    import torch

    lr = c["learning_rate"]
    if rule == "sgd":
        return torch.optim.SGD([p], lr=lr)
    if rule in ("sgd_momentum", "nesterov"):
        return torch.optim.SGD([p], lr=lr, momentum=c["momentum"],
                               nesterov=rule == "nesterov")
    if rule == "adagrad":
        return torch.optim.Adagrad([p], lr=lr, eps=c["epsilon"])
    if rule == "rmsprop":
        return torch.optim.RMSprop([p], lr=lr, alpha=c["decay_rate"], eps=c["epsilon"])
    betas = (c["beta1"], c["beta2"])
    if rule == "adam":
        return torch.optim.Adam([p], lr=lr, betas=betas, eps=c["epsilon"])
    return torch.optim.AdamW([p], lr=lr, betas=betas, eps=c["epsilon"],
                             weight_decay=c["weight_decay"])


def torch_trajectory(rule: str, w0: np.ndarray, config: dict | None, objective: dict,
                     steps: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Every iterate of torch's version of ``rule``, and its final state in the rule's
    terms (velocity, cache, m, v, t)."""
    import torch
    from dlgrade.authoring import gradient

    c = {**DEFAULTS[rule], **(config or {})}
    p = torch.tensor(np.array(w0, dtype=np.float64), dtype=torch.float64, requires_grad=True)
    opt = _optimizer(rule, p, c)
    iterates = [p.detach().numpy().copy()]
    for _ in range(steps):
        p.grad = torch.from_numpy(gradient(objective, p.detach().numpy().copy()))
        opt.step()
        iterates.append(p.detach().numpy().copy())
    state = opt.state[p]
    found: dict[str, np.ndarray] = {}
    if rule in ("sgd_momentum", "nesterov"):
        found["velocity"] = -c["learning_rate"] * state["momentum_buffer"].numpy()
    elif rule == "adagrad":
        found["cache"] = state["sum"].numpy()
    elif rule == "rmsprop":
        found["cache"] = state["square_avg"].numpy()
    elif rule in ("adam", "adamw"):
        found["m"] = state["exp_avg"].numpy()
        found["v"] = state["exp_avg_sq"].numpy()
        found["t"] = np.asarray(float(state["step"]))
    return np.stack(iterates), found


def check_rule(rule: str, cases: list) -> list[str]:
    """The reference's trajectory of every case (``TrajectoryCase``) against torch.optim's,
    its final state, and every hyper-parameter against the documented default."""
    from .exercises import HYPER

    update = getattr(reference("optim"), rule)
    problems = []
    for case in cases:
        where = f"a4.{rule} {case.label} {case.about}"
        ours = case.run(update, rule)
        theirs, state = torch_trajectory(rule, case.w0, case.config, case.objective,
                                         case.steps)
        if not np.allclose(ours["w"], theirs, rtol=RTOL, atol=ATOL):
            worst = float(np.max(np.abs(ours["w"] - theirs)))
            problems.append(f"{where}: iterates differ from torch.optim (max |diff| {worst:.3g})")
        for key, value in state.items():
            if not np.allclose(np.asarray(ours["config"][key], dtype=np.float64), value,
                               rtol=RTOL, atol=ATOL):
                problems.append(f"{where}: final {key} differs from torch.optim's")
        expected = {**DEFAULTS[rule], **(case.config or {})}
        for key in HYPER[rule]:
            if ours["config"].get(key) != expected[key]:
                problems.append(f"{where}: config[{key!r}] is {ours['config'].get(key)!r}, "
                                f"documented {expected[key]!r}")
    return problems


# --- schedules -------------------------------------------------------------------------------


def torch_schedule(name: str, args: tuple, kwargs: dict, last: int) -> np.ndarray:
    """Learning rates at steps 0..last from torch's scheduler for ``name``."""
    import torch
    from torch.optim import lr_scheduler as s

    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    if name == "step_decay":
        lr0, step_size = args
        opt = torch.optim.SGD([p], lr=lr0)
        sched = s.StepLR(opt, step_size=step_size, gamma=kwargs.get("gamma", 0.1))
    elif name == "exponential_decay":
        lr0, gamma = args
        opt = torch.optim.SGD([p], lr=lr0)
        sched = s.ExponentialLR(opt, gamma=gamma)
    elif name == "cosine_annealing":
        lr_max, lr_min, t_max = args
        opt = torch.optim.SGD([p], lr=lr_max)
        sched = s.CosineAnnealingLR(opt, T_max=t_max, eta_min=lr_min)
    elif name == "one_cycle":
        max_lr, total = args
        opt = torch.optim.SGD([p], lr=max_lr)
        sched = s.OneCycleLR(opt, max_lr=max_lr, total_steps=total,
                             pct_start=kwargs.get("pct_start", 0.3), anneal_strategy="cos",
                             cycle_momentum=False, div_factor=kwargs.get("div_factor", 25.0),
                             final_div_factor=kwargs.get("final_div_factor", 1e4),
                             three_phase=False)
    else:
        raise ValueError(f"torch has no scheduler for {name}")
    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(last + 1):
            found.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    return np.array(found, dtype=np.float64)


def warmup_cosine_closed_form(steps: np.ndarray, lr_max: float, warmup_steps: int,
                              total_steps: int, lr_min: float = 0.0) -> np.ndarray:
    """The documented warm-up + cosine, vectorised over ``steps``."""
    steps = np.asarray(steps, dtype=np.float64)
    warm = lr_max * steps / max(warmup_steps, 1)
    progress = np.clip((steps - warmup_steps) / (total_steps - warmup_steps), 0.0, 1.0)
    cosine = lr_min + 0.5 * (lr_max - lr_min) * (1 + np.cos(np.pi * progress))
    return np.where(steps < warmup_steps, warm, cosine)


def check_schedule(name: str) -> list[str]:
    schedules = reference("schedules")
    from .exercises import SCHEDULE_CASES

    function = getattr(schedules, name)
    problems = []
    for cases in SCHEDULE_CASES[name]:
        for args, kwargs, last in cases:
            ours = np.array([function(s, *args, **kwargs) for s in range(last + 1)])
            where = f"a4.{name}{(*args, *kwargs.items())}"
            if not all(type(function(s, *args, **kwargs)) is float for s in (0, last)):
                problems.append(f"{where}: the reference does not return a Python float")
            if name == "warmup_cosine":
                theirs = warmup_cosine_closed_form(np.arange(last + 1), *args, **kwargs)
                lr_max, warmup, total = args
                tail = torch_schedule("cosine_annealing",
                                      (lr_max, kwargs.get("lr_min", 0.0), total - warmup), {},
                                      total - warmup)
                if not np.allclose(ours[warmup:total + 1], tail, rtol=1e-9, atol=1e-12):
                    problems.append(f"{where}: the cosine part differs from CosineAnnealingLR")
            else:
                theirs = torch_schedule(name, args, kwargs, last)
            if not np.allclose(ours, theirs, rtol=1e-9, atol=1e-12):
                bad = int(np.argmax(~np.isclose(ours, theirs, rtol=1e-9, atol=1e-12)))
                problems.append(f"{where}: step {bad}: {ours[bad]!r} but torch gives "
                                f"{theirs[bad]!r}")
    return problems


# --- clipping --------------------------------------------------------------------------------


def check_clip() -> list[str]:
    import torch

    optim = reference("optim")
    from .exercises import CLIP_CASES, clip_inputs

    problems = []
    number = 0
    for cases in CLIP_CASES:
        for shapes, norm, max_norm in cases:
            number += 1
            grads = clip_inputs(number, shapes, norm, cases is CLIP_CASES[1])
            before = {k: g.copy() for k, g in grads.items()}
            clipped, total = optim.clip_grad_norm(grads, max_norm)
            params = []
            for g in grads.values():
                p = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
                p.grad = torch.tensor(g.copy())
                params.append(p)
            theirs = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
            where = f"a4.clip_grad_norm case {number} (max_norm={max_norm})"
            if type(total) is not float or not np.isclose(total, theirs, rtol=1e-12, atol=0):
                problems.append(f"{where}: total_norm {total!r}, torch {theirs!r}")
            if set(clipped) != set(grads):
                problems.append(f"{where}: keys differ")
                continue
            for (key, value), p in zip(clipped.items(), params, strict=True):
                if not np.allclose(value, p.grad.numpy(), rtol=1e-12, atol=1e-15):
                    problems.append(f"{where}: {key} differs from torch's clipped gradient")
            if any(not np.array_equal(before[k], grads[k]) for k in grads):
                problems.append(f"{where}: the reference modified its input")
    return problems
