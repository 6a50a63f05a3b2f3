"""The ``optim`` assignment: the student file ``optim.py`` (CS231n assignment 2)."""

from dlgrade.authoring import Assignment, Mutant

from .exercises import EXERCISES

MISTAKES = (
    Mutant("optim.sgd_momentum", "velocity_not_stored",
           "the velocity is not stored in config, so momentum is lost between steps",
           ("trajectory", "state"), patch=(('    config["velocity"] = v\n', ""),)),
    Mutant("optim.sgd_momentum", "minus_velocity",
           "next_w = w - v, although v already points downhill", ("trajectory", "state"),
           patch=(("    next_w = w + v\n", "    next_w = w - v\n"),)),
    Mutant("optim.rmsprop", "no_sqrt",
           "the step divides by the cache itself, not by its square root",
           ("trajectory", "state"),
           patch=(("(np.sqrt(cache) + config[\"epsilon\"])", "(cache + config[\"epsilon\"])"),)),
    Mutant("optim.rmsprop", "decay_swapped",
           "decay_rate weights the new squared gradient instead of the old cache",
           ("trajectory", "state"),
           patch=(("cache = decay * config[\"cache\"] + (1 - decay) * dw**2",
                   "cache = (1 - decay) * config[\"cache\"] + decay * dw**2"),)),
    Mutant("optim.adam", "no_bias_correction",
           "m and v are used without bias correction (divide them by 1 - beta**t)",
           ("trajectory", "state"),
           patch=(('m_hat = config["m"] / (1 - beta1 ** config["t"])', 'm_hat = config["m"]'),
                  ('v_hat = config["v"] / (1 - beta2 ** config["t"])', 'v_hat = config["v"]'))),
    Mutant("optim.adam", "t_after_use",
           "t is incremented after the bias correction instead of before it",
           ("trajectory", "state"),
           patch=(('    config["t"] += 1\n', ""),
                  ('(np.sqrt(v_hat) + config["epsilon"])\n',
                   '(np.sqrt(v_hat) + config["epsilon"])\n    config["t"] += 1\n'))),
    Mutant("optim.adam", "default_learning_rate",
           "the default learning rate is 1e-2; CS231n's Adam defaults to 1e-3",
           ("trajectory", "state", "defaults"),
           patch=(('config.setdefault("learning_rate", 1e-3)',
                   'config.setdefault("learning_rate", 1e-2)'),)),
)

ASSIGNMENT = Assignment(
    id="optim",
    title="Update rules",
    exercises=EXERCISES,
    mutants=MISTAKES,
)
