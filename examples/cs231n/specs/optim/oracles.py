"""``dlgrade validate``'s proof of the update rules: the reference's trajectories against
a plain-numpy re-implementation of each documented formula, and against ``torch.optim``
when torch is installed (without torch that comparison is skipped, not failed)."""

from __future__ import annotations

import numpy as np
from dlgrade.authoring import gradient, reference

DEFAULTS = {
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}


def numpy_trajectory(rule, w0, config, objective, steps):
    """Every iterate of ``rule`` from ``w0``, written from the formulas, not the reference."""
    h = {**DEFAULTS[rule], **(config or {})}
    w = np.array(w0, dtype=np.float64)
    s1, s2 = np.zeros_like(w), np.zeros_like(w)
    iterates = [w.copy()]
    for t in range(1, steps + 1):
        g = gradient(objective, w)
        if rule == "sgd_momentum":
            s1 = h["momentum"] * s1 - h["learning_rate"] * g
            w = w + s1
        elif rule == "rmsprop":
            s1 = h["decay_rate"] * s1 + (1 - h["decay_rate"]) * g * g
            w = w - h["learning_rate"] * g / (np.sqrt(s1) + h["epsilon"])
        else:
            s1 = h["beta1"] * s1 + (1 - h["beta1"]) * g
            s2 = h["beta2"] * s2 + (1 - h["beta2"]) * g * g
            step = h["learning_rate"] * (s1 / (1 - h["beta1"] ** t))
            w = w - step / (np.sqrt(s2 / (1 - h["beta2"] ** t)) + h["epsilon"])
        iterates.append(w.copy())
    return np.stack(iterates)


def torch_trajectory(rule, w0, config, objective, steps):
    """The same trajectory from torch.optim (CS231n's rules are torch's, re-parametrised:
    torch's momentum buffer is -velocity / learning_rate)."""
    import torch

    h = {**DEFAULTS[rule], **(config or {})}
    p = torch.tensor(np.array(w0, dtype=np.float64), requires_grad=True)
    if rule == "sgd_momentum":
        opt = torch.optim.SGD([p], lr=h["learning_rate"], momentum=h["momentum"])
    elif rule == "rmsprop":
        opt = torch.optim.RMSprop([p], lr=h["learning_rate"], alpha=h["decay_rate"],
                                  eps=h["epsilon"])
    else:
        opt = torch.optim.Adam([p], lr=h["learning_rate"], betas=(h["beta1"], h["beta2"]),
                               eps=h["epsilon"])
    iterates = [p.detach().numpy().copy()]
    for _ in range(steps):
        p.grad = torch.tensor(gradient(objective, p.detach().numpy()))
        opt.step()
        iterates.append(p.detach().numpy().copy())
    return np.stack(iterates)


def check_rule(rule, cases):
    update = getattr(reference("optim"), rule)
    try:
        import torch  # noqa: F401
        others = (("numpy", numpy_trajectory), ("torch.optim", torch_trajectory))
    except ImportError:  # torch is optional: the numpy oracle alone
        others = (("numpy", numpy_trajectory),)
    problems = []
    for case in cases:  # every TrajectoryCase of the exercise, hidden ones included
        ours = case.run(update, rule)
        for who, make in others:
            theirs = make(rule, case.w0, case.config, case.objective, case.steps)
            if not np.allclose(ours["w"], theirs, rtol=1e-9, atol=1e-11):
                worst = float(np.max(np.abs(ours["w"] - theirs)))
                problems.append(f"{rule} {case.label} {case.about}: iterates differ from "
                                f"{who} (max |diff| {worst:.3g})")
        expected = {**DEFAULTS[rule], **(case.config or {})}
        for key, value in expected.items():
            if ours["config"].get(key) != value:
                problems.append(f"{rule} {case.label}: config[{key!r}] is "
                                f"{ours['config'].get(key)!r}, documented {value!r}")
    return problems
