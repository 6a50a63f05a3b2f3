"""The exercises of ``optim.py``: three update rules, each graded on whole trajectories.

Each is one ``update_rule`` declaration: the sandboxed child runs ``steps`` updates
``w, config = rule(w, gradient(w), config)`` on random quadratics and sends back every
iterate and the final config. Checks: ``trajectory`` (every iterate), ``state`` (the final
velocity / cache / m, v, t) and ``defaults`` (every hyper-parameter in the final config:
the given ones kept, the missing ones filled with CS231n's defaults).
"""

from __future__ import annotations

from dlgrade.authoring import quadratic, update_rule

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
#: operations differently agree to ~1e-13, and a rule computed in float32 (accepted) stays
#: within half of this on every case (update_rule draws the cases so).
TOLERANCE = (1e-5, 1e-6)


#: Two quadratics with eigenvalues in [0.5, 2.5], one case on each in turn.
OBJECTIVES = (quadratic((5,)), quadratic((2, 3)))


def rule_exercise(rule, title, hint):
    return update_rule(
        f"optim.{rule}", rule, module="optim", title=title,
        hyper=HYPER[rule], state=STATE[rule], settings=SETTINGS[rule],
        steps=(PUBLIC_STEPS, HIDDEN_STEPS), objectives=OBJECTIVES, tolerance=TOLERANCE,
        points=2.0, hint=hint, oracle=lambda cases: oracles.check_rule(rule, cases),
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
