"""The exercises of ``optim.py``: three update rules, each graded on whole trajectories.

One case is one ``trajectory`` step: the sandboxed child runs ``steps`` updates
``w, config = rule(w, gradient(w), config)`` on a random quadratic and sends back every
iterate and the final config. Checks: ``trajectory`` (every iterate), ``state`` (the final
velocity / cache / m, v, t) and ``defaults`` (every hyper-parameter in the final config:
the given ones kept, the missing ones filled with CS231n's defaults).
"""

from __future__ import annotations

import numpy as np
from dlgrade.authoring import Exercise, Property, Scenario, Step, seed_for

from . import oracles

#: Hyper-parameters and state of each rule, as the docstrings of reference/optim.py give them.
HYPER = {
    "sgd_momentum": ("learning_rate", "momentum"),
    "rmsprop": ("learning_rate", "decay_rate", "epsilon"),
    "adam": ("learning_rate", "beta1", "beta2", "epsilon"),
}
STATE = {"sgd_momentum": ("velocity",), "rmsprop": ("cache",), "adam": ("m", "v", "t")}
#: (public, hidden) configs per rule; None is config=None (every default).
SETTINGS = {
    "sgd_momentum": ((None, {"learning_rate": 0.02, "momentum": 0.8}),
                     ({"momentum": 0.5}, {"learning_rate": 0.005})),
    "rmsprop": ((None, {"learning_rate": 0.005, "decay_rate": 0.9}),
                ({"epsilon": 1e-4}, {"learning_rate": 0.002, "decay_rate": 0.95})),
    "adam": ((None, {"learning_rate": 0.02, "beta1": 0.8}),
             ({"beta2": 0.99}, {"learning_rate": 0.01, "epsilon": 1e-4})),
}
PUBLIC_STEPS, HIDDEN_STEPS = 30, 40
#: (rtol, atol) of iterates and state: correct float64 implementations that order their
#: operations differently agree to ~1e-13.
TOLERANCE = (1e-6, 1e-8)


def unused_sampler(rng, shape, huge):
    return {}  # program exercises draw their inputs in their scenarios


def quadratic(rng, shape):
    """0.5 (w - c)^T A (w - c) with eigenvalues in [0.5, 2.5], and a start about 1.5 away
    from the minimum c in each coordinate: an objective the engine's trajectory op knows."""
    n = int(np.prod(shape))
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    a = (q * rng.uniform(0.5, 2.5, size=n)) @ q.T
    c = rng.normal(size=shape)
    return {"kind": "quadratic", "A": (a + a.T) / 2, "c": c}, c + rng.normal(scale=1.5, size=shape)


def trajectory_cases(rule, hidden):
    """``(label, about, hidden, w0, config, objective, steps)`` of each case."""
    public, secret = SETTINGS[rule]
    plans = [(False, c) for c in public] + ([(True, c) for c in secret] if hidden else [])
    cases, counts = [], {False: 0, True: 0}
    for number, (is_hidden, config) in enumerate(plans):
        counts[is_hidden] += 1
        rng = seed_for(f"optim.{rule}", number, hidden=is_hidden)
        shape = ((5,), (2, 3))[number % 2]
        objective, w0 = quadratic(rng, shape)
        steps = HIDDEN_STEPS if is_hidden else PUBLIC_STEPS
        given = "config=None" if config is None else ", ".join(
            f"{k}={v!r}" for k, v in config.items())
        label = f"{'hidden' if is_hidden else 'public'} case {counts[is_hidden]}"
        cases.append((label, f"(w of shape {shape}, {steps} steps, {given})", is_hidden, w0,
                      config, objective, steps))
    return cases


def rule_scenarios(rule):
    def scenarios(hidden):
        found = []
        for label, about, is_hidden, w0, config, objective, steps in trajectory_cases(
                rule, hidden):
            observe = {"w": (0, ("w",)), "config": (0, ("config",))}
            for key in STATE[rule]:
                observe[key] = (0, ("config", key, "float"))
            defaults = Property("defaults", "config_defaults", {
                "function": rule, "keys": list(HYPER[rule]),
                "missing": "fill in each missing hyper-parameter with "
                           "config.setdefault(key, default)"})
            found.append(Scenario(
                label=label, about=about, hidden=is_hidden,
                steps=(Step(rule, (w0, config, objective), op="trajectory",
                            extra={"steps": steps}),),
                observe=observe,
                compare={"trajectory": ("w",), "state": STATE[rule]},
                properties=(defaults,), tolerance=TOLERANCE, sequence={"w": "update"}))
        return tuple(found)

    return scenarios


def rule_exercise(rule, title, hint):
    return Exercise(
        id=f"optim.{rule}", title=title, module="optim", kind="program",
        functions=(rule,), inputs=(), wrt=(), sample=unused_sampler,
        scenarios=rule_scenarios(rule),
        weights={"trajectory": 0.6, "state": 0.3, "defaults": 0.1},
        returns={rule: "(next_w, config) with next_w shaped like w and config a dict "
                       f"holding {', '.join(STATE[rule])}"},
        points=2.0,
        oracle_check=lambda: oracles.check_rule(rule, trajectory_cases(rule, True)),
        hint=hint,
    )


EXERCISES = (
    rule_exercise("sgd_momentum", "SGD with momentum",
                  "v = momentum * v - learning_rate * dw; next_w = w + v; keep v in "
                  "config['velocity']."),
    rule_exercise("rmsprop", "RMSProp",
                  "Divide by sqrt(cache) + epsilon, where cache = decay_rate * cache + "
                  "(1 - decay_rate) * dw**2."),
    rule_exercise("adam", "Adam",
                  "Increment t BEFORE using it (the first step has t = 1) and correct m and "
                  "v by 1 - beta**t."),
)
