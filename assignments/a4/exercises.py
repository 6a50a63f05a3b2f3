"""A4 exercise specs: seven update rules and clipping (``optim.py``), five learning-rate
schedules (``schedules.py``). All are "program" exercises.

* Update rules are :func:`~dlgrade.authoring.update_rule` exercises, graded on whole
  trajectories run in the child: 60 steps for public
  cases, 80 for hidden ones, on random quadratics (w of shape (5,) and (2, 3)) and on a
  non-convex double well, with several hyper-parameter settings, ``config=None`` (every
  default) included. Checks: ``trajectory`` (every iterate), ``state`` (the final
  velocity / cache / m, v, t) and ``defaults`` (every hyper-parameter of the final config:
  given ones kept, missing ones filled with the documented default). Learning rates are
  chosen so that the reference converges smoothly (no chaos): rounding differences between
  correct implementations stay near 1e-13, far below the tolerance.
* Schedules are called at every step 0..T of several parameter sets; check ``values``.
* ``clip_grad_norm``: checks ``clipped``, ``norm`` and ``input_unchanged`` (the caller's dict
  is kept in the child and read back after the call, so scaling in place is caught).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from dlgrade.authoring import (
    Exercise,
    Property,
    Scenario,
    Script,
    TrajectoryCase,
    double_well,
    quadratic,
    seed_for,
    update_rule,
    update_rule_cases,
)

from . import oracles

#: Trajectory lengths (the brief asks for at least 50 steps).
PUBLIC_STEPS = 60
HIDDEN_STEPS = 80
#: Comparison tolerance of trajectories and states, (rtol, atol). The trajectory program casts
#: every returned next_w to float64, so the dtype table cannot see a student who computes in
#: float32 (which CURRICULUM.md accepts); measured on every graded case, such a rule drifts by
#: at most 0.2 of this tolerance, while correct float64 implementations that order their
#: operations differently (torch's step_size / denom form of Adam) differ by ~1e-13. Every
#: known mistake is off by more than 1e3 times the tolerance in at least one case.
TRAJECTORY_TOLERANCE = (1e-5, 1e-6)

#: Hyper-parameter keys of each rule, in the order the docstrings give them.
HYPER: dict[str, tuple[str, ...]] = {
    "sgd": ("learning_rate",),
    "sgd_momentum": ("learning_rate", "momentum"),
    "nesterov": ("learning_rate", "momentum"),
    "adagrad": ("learning_rate", "epsilon"),
    "rmsprop": ("learning_rate", "decay_rate", "epsilon"),
    "adam": ("learning_rate", "beta1", "beta2", "epsilon"),
    "adamw": ("learning_rate", "beta1", "beta2", "epsilon", "weight_decay"),
}
#: State keys of each rule (compared after the last step).
STATE: dict[str, tuple[str, ...]] = {
    "sgd": (),
    "sgd_momentum": ("velocity",),
    "nesterov": ("velocity",),
    "adagrad": ("cache",),
    "rmsprop": ("cache",),
    "adam": ("m", "v", "t"),
    "adamw": ("m", "v", "t"),
}
#: Hyper-parameter settings per rule: (public, hidden). None means config=None (defaults).
#: Learning rates keep every trajectory smooth on the objectives below; some settings are
#: partial configs, so the rule must fill in the rest. Larger epsilons make an epsilon put
#: inside the square root visible.
SETTINGS: dict[str, tuple[tuple[dict | None, ...], tuple[dict | None, ...]]] = {
    "sgd": ((None, {"learning_rate": 0.1}),
            ({"learning_rate": 0.05}, None, {"learning_rate": 0.2})),
    "sgd_momentum": ((None, {"learning_rate": 0.02, "momentum": 0.8}),
                     ({"learning_rate": 0.05, "momentum": 0.5}, None, {"momentum": 0.95},
                      {"learning_rate": 0.03})),
    "nesterov": ((None, {"learning_rate": 0.02, "momentum": 0.8}),
                 ({"learning_rate": 0.05, "momentum": 0.5}, None, {"momentum": 0.95},
                  {"learning_rate": 0.03})),
    "adagrad": ((None, {"learning_rate": 0.3, "epsilon": 0.1}),
                ({"learning_rate": 0.5}, None, {"learning_rate": 0.2, "epsilon": 0.05})),
    "rmsprop": ((None, {"learning_rate": 0.005, "decay_rate": 0.9, "epsilon": 0.01}),
                ({"learning_rate": 0.01, "decay_rate": 0.95}, None,
                 {"learning_rate": 0.002, "epsilon": 0.05})),
    "adam": ((None, {"learning_rate": 0.02, "epsilon": 1e-3}),
             ({"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.99}, None,
              {"learning_rate": 0.01, "epsilon": 1e-2}, {"beta2": 0.9})),
    "adamw": ((None, {"learning_rate": 0.02, "weight_decay": 0.1, "epsilon": 1e-3}),
              ({"learning_rate": 0.05, "weight_decay": 0.5, "beta2": 0.99}, None,
               {"learning_rate": 0.01, "weight_decay": 0.2, "epsilon": 1e-2})),
}

#: Shown (in part) when a rule does not keep its hyper-parameters in config; the mutant that
#: forgets them says the same.
MISSING_DEFAULTS = ("the hyper-parameters are not stored in config (fill in each missing "
                    "default with config.setdefault(key, value))")


def _unused_sampler(rng: np.random.Generator, shape: tuple[int, ...],
                    huge: bool) -> dict[str, np.ndarray]:
    return {}  # program exercises draw their inputs in their scenarios


#: Objective of the k-th case, cycling: quadratic (5,), quadratic (2, 3), double well (4,).
OBJECTIVES = (quadratic((5,)), quadratic((2, 3)), double_well((4,)))


def trajectory_cases(rule: str, hidden: bool) -> list[TrajectoryCase]:
    """The graded trajectories of ``rule`` (what its exercise runs), seeded by rule."""
    return update_rule_cases(f"a4.{rule}", rule, "optim", SETTINGS[rule], hidden=hidden,
                             steps=(PUBLIC_STEPS, HIDDEN_STEPS), objectives=OBJECTIVES,
                             tolerance=TRAJECTORY_TOLERANCE)


RULE_TITLES = {
    "sgd": "SGD",
    "sgd_momentum": "SGD with momentum",
    "nesterov": "Nesterov momentum",
    "adagrad": "Adagrad",
    "rmsprop": "RMSprop",
    "adam": "Adam",
    "adamw": "AdamW (decoupled weight decay)",
}
RULE_HINTS = {
    "sgd": "next_w = w - learning_rate * dw, with config.setdefault('learning_rate', 1e-2).",
    "sgd_momentum": "v = momentum * v - learning_rate * dw; next_w = w + v; store v in "
                    "config['velocity'] (zeros at the first step).",
    "nesterov": "Keep v_prev before updating v; next_w = w - momentum * v_prev + "
                "(1 + momentum) * v.",
    "adagrad": "cache accumulates dw**2 over ALL steps; epsilon goes outside the square root.",
    "rmsprop": "cache = decay_rate * cache + (1 - decay_rate) * dw**2; epsilon outside the "
               "square root.",
    "adam": "Increment t BEFORE using it (the first step has t = 1); correct m and v with "
            "1 - beta**t; epsilon goes outside the square root.",
    "adamw": "Decay the weights (w * (1 - learning_rate * weight_decay)) separately; do not add "
             "weight_decay * w to the gradient.",
}


def _rule_exercise(rule: str) -> Exercise:
    return update_rule(
        f"a4.{rule}", rule, module="optim", title=RULE_TITLES[rule], hyper=HYPER[rule],
        state=STATE[rule], settings=SETTINGS[rule], steps=(PUBLIC_STEPS, HIDDEN_STEPS),
        objectives=OBJECTIVES, tolerance=TRAJECTORY_TOLERANCE, points=2.0, time_limit=10.0,
        hint=RULE_HINTS[rule], missing_defaults=MISSING_DEFAULTS,
        builds_on=("a4.adam",) if rule == "adamw" else (),
        oracle=lambda cases: oracles.check_rule(rule, cases),
    )


# --- schedules -------------------------------------------------------------------------------

#: Per schedule: (public, hidden) lists of (positional args, keyword args, last step graded).
SCHEDULE_CASES: dict[str, tuple[tuple[tuple[tuple, dict, int], ...], ...]] = {
    "step_decay": ((((0.1, 5), {}, 30), ((1.0, 3), {"gamma": 0.5}, 20)),
                   (((0.05, 7), {"gamma": 0.3}, 40), ((2.0, 1), {"gamma": 0.9}, 15))),
    "exponential_decay": ((((0.1, 0.9), {}, 30), ((1.0, 0.5), {}, 12)),
                          (((0.3, 0.97), {}, 60), ((0.02, 0.8), {}, 25))),
    "cosine_annealing": ((((0.1, 0.0, 20), {}, 20), ((1.0, 0.1, 13), {}, 13)),
                         (((0.5, 0.01, 50), {}, 50), ((0.2, 0.05, 7), {}, 7))),
    "warmup_cosine": ((((0.1, 5, 30), {}, 35), ((1.0, 10, 40), {"lr_min": 0.05}, 45)),
                      (((0.5, 0, 20), {"lr_min": 0.05}, 25), ((0.3, 3, 10), {}, 12))),
    "one_cycle": ((((0.1, 50), {}, 49),
                   ((1.0, 40), {"pct_start": 0.25, "div_factor": 10.0,
                                "final_div_factor": 100.0}, 39)),
                  (((0.5, 100), {"pct_start": 0.4, "div_factor": 20.0,
                                 "final_div_factor": 1e3}, 99),
                   ((0.05, 23), {}, 22))),
}
SCHEDULE_TITLES = {
    "step_decay": "Step decay schedule",
    "exponential_decay": "Exponential decay schedule",
    "cosine_annealing": "Cosine annealing schedule",
    "warmup_cosine": "Linear warm-up then cosine schedule",
    "one_cycle": "One-cycle schedule",
}
SCHEDULE_ARGS = {
    "step_decay": ("lr0", "step_size"),
    "exponential_decay": ("lr0", "gamma"),
    "cosine_annealing": ("lr_max", "lr_min", "T_max"),
    "warmup_cosine": ("lr_max", "warmup_steps", "total_steps"),
    "one_cycle": ("max_lr", "total_steps"),
}
SCHEDULE_HINTS = {
    "step_decay": "lr0 * gamma ** (step // step_size): the step counts from 0.",
    "exponential_decay": "lr0 * gamma ** step.",
    "cosine_annealing": "lr_min + (lr_max - lr_min) * (1 + cos(pi * step / T_max)) / 2.",
    "warmup_cosine": "Warm-up lr_max * step / warmup_steps starts at 0; the cosine's progress "
                     "is measured from the end of the warm-up.",
    "one_cycle": "Phase 1 ends at pct_start * total_steps - 1; both phases use the cosine "
                 "anneal; min_lr = max_lr / div_factor / final_div_factor.",
}


def schedule_scenarios(name: str) -> Callable[[bool], tuple[Scenario, ...]]:
    def scenarios(hidden: bool) -> tuple[Scenario, ...]:
        public, secret = SCHEDULE_CASES[name]
        found = []
        for is_hidden, cases in ((False, public), (True, secret)):
            if is_hidden and not hidden:
                continue
            for number, (args, kwargs, last) in enumerate(cases, start=1):
                given = ", ".join([f"{a}={v!r}" for a, v in zip(SCHEDULE_ARGS[name], args,
                                                                    strict=True)]
                                  + [f"{k}={v!r}" for k, v in kwargs.items()])
                script = Script()
                values = tuple(script.observe(f"lr at step {step}",
                                              script.call(name, step, *args, **kwargs), "float")
                               for step in range(last + 1))
                found.append(Scenario(
                    label=f"{'hidden' if is_hidden else 'public'} case {number}",
                    about=f"({given}, steps 0..{last})", hidden=is_hidden,
                    steps=script.steps, observe=script.observations,
                    compare={"values": values}))
        return tuple(found)

    return scenarios


def _schedule_exercise(name: str) -> Exercise:
    return Exercise(
        id=f"a4.{name}", title=SCHEDULE_TITLES[name], module="schedules", kind="program",
        functions=(name,), inputs=(), wrt=(), sample=_unused_sampler,
        scenarios=schedule_scenarios(name), weights={"values": 1.0}, points=1.0,
        returns={name: "the learning rate as a float"}, hint=SCHEDULE_HINTS[name],
        oracle_check=lambda: oracles.check_schedule(name),
    )


# --- gradient clipping -----------------------------------------------------------------------

#: (public, hidden) clipping cases: (array shapes by name, target global norm, max_norm).
#: Where clipping happens, at least one array's own norm is below max_norm (so per-array
#: clipping differs from global clipping); some cases need no clipping at all.
CLIP_CASES: tuple[tuple[tuple[dict[str, tuple[int, ...]], float, float], ...], ...] = (
    (({"W1": (4, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)}, 5.0, 1.0),
     ({"W1": (5, 4), "b1": (4,)}, 0.6, 1.0)),
    (({"W1": (3, 6), "b1": (6,), "W2": (6, 6), "b2": (6,), "W3": (6, 2)}, 12.0, 5.0),
     ({"w": (7,)}, 0.3, 0.5),
     ({"W": (2, 3, 4), "b": (4,)}, 2.5, 2.0)),
)


def clip_inputs(number: int, shapes: dict[str, tuple[int, ...]],
                norm: float, hidden: bool = False) -> dict[str, np.ndarray]:
    """Gradients with global norm ``norm``; the last array is made 20 times smaller than the
    rest so that, when clipping, its own norm stays under max_norm."""
    rng = seed_for("a4.clip_grad_norm", number, hidden=hidden)
    grads = {k: rng.normal(size=s) for k, s in shapes.items()}
    if len(grads) > 1:
        grads[list(grads)[-1]] /= 20.0
    total = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    return {k: g * (norm / total) for k, g in grads.items()}


#: The message when the caller's arrays changed; the in-place mutant's mistake says the same.
IN_PLACE = "clip_grad_norm scales the caller's arrays in place instead of returning new ones"


#: The caller's dict, read back after the call, still holds the original arrays (judged
#: only once the call itself worked, so an unimplemented stub earns nothing here).
INPUT_UNCHANGED = Property("input_unchanged", "input_unchanged",
                           {"called": "total_norm", "prefix": "grads[", "mistake": IN_PLACE})


def clip_scenarios(hidden: bool) -> tuple[Scenario, ...]:
    found = []
    number = 0
    for is_hidden, cases in ((False, CLIP_CASES[0]), (True, CLIP_CASES[1])):
        if is_hidden and not hidden:
            continue
        for index, (shapes, norm, max_norm) in enumerate(cases, start=1):
            number += 1
            grads = clip_inputs(number, shapes, norm, is_hidden)
            script = Script()
            kept = script.put(grads)
            clipped = script.call("clip_grad_norm", kept, max_norm)
            script.observe("total_norm", clipped, 1, "float")
            after = script.get(kept)
            for key in grads:
                script.observe(f"clipped[{key!r}]", clipped, 0, key)
                script.observe(f"grads[{key!r}] after the call", after, key)
            observe = script.observations
            found.append(Scenario(
                label=f"{'hidden' if is_hidden else 'public'} case {index}",
                about=(f"({len(grads)} arrays {', '.join(f'{k} {s}' for k, s in shapes.items())}"
                       f", max_norm={max_norm!r}"
                       f"{'' if norm > max_norm else ', no clipping needed'})"),
                hidden=is_hidden,
                steps=script.steps,
                observe=observe,
                compare={"clipped": tuple(o for o in observe if o.startswith("clipped")),
                         "norm": ("total_norm",)},
                properties=(INPUT_UNCHANGED,),
                inputs={}))
    return tuple(found)


CLIP = Exercise(
    id="a4.clip_grad_norm", title="Gradient clipping by global norm", module="optim",
    kind="program", functions=("clip_grad_norm",), inputs=(), wrt=(), sample=_unused_sampler,
    scenarios=clip_scenarios, weights={"clipped": 0.5, "norm": 0.3, "input_unchanged": 0.2},
    points=2.0,
    returns={"clip_grad_norm": "(clipped, total_norm): a new dict with the same keys, and a "
                               "float"},
    hint="One norm over ALL arrays together; scale by max_norm / (total_norm + 1e-6) only when "
         "total_norm > max_norm; build a new dict instead of changing the caller's arrays.",
    oracle_check=lambda: oracles.check_clip(),
)

RULES = ("sgd", "sgd_momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
SCHEDULES = ("step_decay", "exponential_decay", "cosine_annealing", "warmup_cosine",
             "one_cycle")

EXERCISES: tuple[Exercise, ...] = (
    *(_rule_exercise(r) for r in RULES),
    CLIP,
    *(_schedule_exercise(s) for s in SCHEDULES),
)
