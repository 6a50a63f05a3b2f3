"""Known mistakes for A4: each is a realistic student bug, with the checks it must fail.

Replacements use only ``np``, ``math`` and builtins (a mutant submission is the reference
module with these functions appended) and keep the real signatures.
"""

from __future__ import annotations

import math

import numpy as np
from dlgrade.authoring import Mutant

from .exercises import IN_PLACE, MISSING_DEFAULTS

# --- sgd -------------------------------------------------------------------------------------


def sgd_fixed_lr(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    return w - 1e-2 * dw, config  # the default, whatever config says


def sgd_unstored(w, dw, config=None):
    if config is None:
        config = {}
    return w - config.get("learning_rate", 1e-2) * dw, config


# --- sgd_momentum ----------------------------------------------------------------------------


def momentum_wrong_sign(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v + config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def momentum_velocity_flipped(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v + config["learning_rate"] * dw
    config["velocity"] = v
    return w - v, config


def momentum_not_kept(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = np.zeros_like(w)  # a fresh velocity every step
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


# --- nesterov --------------------------------------------------------------------------------


def nesterov_as_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def nesterov_one_minus(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    mu = config["momentum"]
    v_prev = config.get("velocity", np.zeros_like(w))
    v = mu * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    return w - mu * v_prev + (1 - mu) * v, config


# --- adagrad ---------------------------------------------------------------------------------


def adagrad_no_accumulation(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def adagrad_eps_inside(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w)) + dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"]), config


# --- rmsprop ---------------------------------------------------------------------------------


def rmsprop_swapped(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    rho = config["decay_rate"]
    cache = (1 - rho) * config.get("cache", np.zeros_like(w)) + rho * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def rmsprop_eps_inside(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    rho = config["decay_rate"]
    cache = rho * config.get("cache", np.zeros_like(w)) + (1 - rho) * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"]), config


# --- adam ------------------------------------------------------------------------------------


def adam_t_from_one(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 1) + 1  # starts at 1, so the first step corrects with t = 2
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    config["m"], config["v"], config["t"] = m, v, t
    return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"]), config


def adam_eps_inside(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    config["m"], config["v"], config["t"] = m, v, t
    return w - config["learning_rate"] * m_hat / np.sqrt(v_hat + config["epsilon"]), config


def adam_no_bias_correction(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    config["m"], config["v"], config["t"] = m, v, t
    return w - config["learning_rate"] * m / (np.sqrt(v) + config["epsilon"]), config


# --- adamw -----------------------------------------------------------------------------------


def adamw_coupled(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("weight_decay", 1e-2)
    dw = dw + config["weight_decay"] * w  # L2 through the gradient (Adam with weight decay)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    config["m"], config["v"], config["t"] = m, v, t
    return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"]), config


def adamw_decay_without_lr(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("weight_decay", 1e-2)
    decayed = w * (1 - config["weight_decay"])
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    config["m"], config["v"], config["t"] = m, v, t
    step = config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    return decayed - step, config


# --- clip_grad_norm --------------------------------------------------------------------------


def clip_per_array(grads, max_norm):
    total_norm = math.sqrt(sum(float(np.sum(g**2)) for g in grads.values()))
    clipped = {}
    for name, g in grads.items():
        norm = float(np.sqrt(np.sum(g**2)))
        clipped[name] = g * (max_norm / (norm + 1e-6)) if norm > max_norm else g.copy()
    return clipped, total_norm


def clip_squared_norm(grads, max_norm):
    total_norm = sum(float(np.sum(g**2)) for g in grads.values())  # no square root
    scale = max_norm / (total_norm + 1e-6) if total_norm > max_norm else 1.0
    return {name: g * scale for name, g in grads.items()}, total_norm


def clip_always(grads, max_norm):
    total_norm = math.sqrt(sum(float(np.sum(g**2)) for g in grads.values()))
    scale = max_norm / (total_norm + 1e-6)
    return {name: g * scale for name, g in grads.items()}, total_norm


def clip_in_place(grads, max_norm):
    total_norm = math.sqrt(sum(float(np.sum(g**2)) for g in grads.values()))
    if total_norm > max_norm:
        for g in grads.values():
            g *= max_norm / (total_norm + 1e-6)
    return dict(grads), total_norm


# --- schedules -------------------------------------------------------------------------------


def step_decay_off_by_one(step, lr0, step_size, gamma=0.1):
    return lr0 * gamma ** ((step + 1) // step_size)


def step_decay_no_floor(step, lr0, step_size, gamma=0.1):
    return lr0 * gamma ** (step / step_size)


def exponential_off_by_one(step, lr0, gamma):
    return lr0 * gamma ** (step + 1)


def exponential_as_rate(step, lr0, gamma):
    return lr0 * math.exp(-gamma * step)


def cosine_t_max_plus_one(step, lr_max, lr_min, T_max):
    return lr_min + (lr_max - lr_min) * (1 + math.cos(math.pi * step / (T_max + 1))) / 2


def cosine_ignores_lr_min(step, lr_max, lr_min, T_max):
    return lr_max * (1 + math.cos(math.pi * step / T_max)) / 2


def cosine_no_half(step, lr_max, lr_min, T_max):
    return lr_min + (lr_max - lr_min) * math.cos(math.pi * step / (2 * T_max))


def warmup_off_by_one(step, lr_max, warmup_steps, total_steps, lr_min=0.0):
    if step < warmup_steps:
        return lr_max * (step + 1) / warmup_steps
    if step > total_steps:
        return lr_min
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return lr_min + (lr_max - lr_min) * (1 + math.cos(math.pi * progress)) / 2


def warmup_progress_from_zero(step, lr_max, warmup_steps, total_steps, lr_min=0.0):
    if step < warmup_steps:
        return lr_max * step / warmup_steps
    if step > total_steps:
        return lr_min
    progress = step / total_steps
    return lr_min + (lr_max - lr_min) * (1 + math.cos(math.pi * progress)) / 2


def warmup_from_lr_min(step, lr_max, warmup_steps, total_steps, lr_min=0.0):
    if step < warmup_steps:
        return lr_min + (lr_max - lr_min) * step / warmup_steps
    if step > total_steps:
        return lr_min
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return lr_min + (lr_max - lr_min) * (1 + math.cos(math.pi * progress)) / 2


def one_cycle_no_minus_one(step, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                           final_div_factor=1e4):
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    end1 = pct_start * total_steps
    end2 = total_steps - 1
    if step <= end1:
        pct = step / end1
        return max_lr + (initial_lr - max_lr) / 2 * (1 + math.cos(math.pi * pct))
    pct = (step - end1) / (end2 - end1)
    return min_lr + (max_lr - min_lr) / 2 * (1 + math.cos(math.pi * pct))


def one_cycle_linear(step, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                     final_div_factor=1e4):
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    end1 = pct_start * total_steps - 1
    end2 = total_steps - 1
    if step <= end1:
        return initial_lr + (max_lr - initial_lr) * step / end1
    return max_lr + (min_lr - max_lr) * (step - end1) / (end2 - end1)


def one_cycle_min_lr(step, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                     final_div_factor=1e4):
    initial_lr = max_lr / div_factor
    min_lr = max_lr / final_div_factor
    end1 = pct_start * total_steps - 1
    end2 = total_steps - 1
    if step <= end1:
        pct = step / end1
        return max_lr + (initial_lr - max_lr) / 2 * (1 + math.cos(math.pi * pct))
    pct = (step - end1) / (end2 - end1)
    return min_lr + (max_lr - min_lr) / 2 * (1 + math.cos(math.pi * pct))


TRAJ_STATE = ("trajectory", "state")

MUTANTS: tuple[Mutant, ...] = (
    Mutant("a4.sgd", "fixed_lr",
           "sgd ignores config['learning_rate'] and always steps with the default 1e-2",
           ("trajectory",), {"sgd": sgd_fixed_lr}),
    Mutant("a4.sgd", "unstored", MISSING_DEFAULTS,
           ("defaults",), {"sgd": sgd_unstored}),
    Mutant("a4.sgd_momentum", "wrong_sign",
           "the momentum update has the wrong sign (v = momentum*v + lr*dw, then w + v climbs "
           "the gradient)", TRAJ_STATE, {"sgd_momentum": momentum_wrong_sign}),
    Mutant("a4.sgd_momentum", "velocity_sign",
           "the velocity is stored with the wrong sign (v = momentum*v + lr*dw and w - v: the "
           "steps are right but config['velocity'] must be momentum*v - lr*dw)",
           ("state",), {"sgd_momentum": momentum_velocity_flipped}),
    Mutant("a4.sgd_momentum", "not_kept",
           "the velocity does not carry over between steps (it restarts from zero, which is "
           "plain SGD)", TRAJ_STATE, {"sgd_momentum": momentum_not_kept}),
    Mutant("a4.nesterov", "plain_momentum",
           "nesterov is written as plain momentum (next_w = w + v, without the look-ahead "
           "correction)", TRAJ_STATE, {"nesterov": nesterov_as_momentum}),
    Mutant("a4.nesterov", "one_minus",
           "the look-ahead uses (1 - momentum) * v where (1 + momentum) * v belongs",
           TRAJ_STATE, {"nesterov": nesterov_one_minus}),
    Mutant("a4.adagrad", "no_accumulation",
           "adagrad does not accumulate: cache = dw**2 instead of cache += dw**2",
           TRAJ_STATE, {"adagrad": adagrad_no_accumulation}),
    Mutant("a4.adagrad", "eps_inside",
           "epsilon is inside the square root (sqrt(cache + epsilon) instead of "
           "sqrt(cache) + epsilon)", TRAJ_STATE, {"adagrad": adagrad_eps_inside}),
    Mutant("a4.rmsprop", "swapped",
           "decay_rate and 1 - decay_rate are swapped in the moving average of dw**2",
           TRAJ_STATE, {"rmsprop": rmsprop_swapped}),
    Mutant("a4.rmsprop", "eps_inside",
           "epsilon is inside the square root (sqrt(cache + epsilon) instead of "
           "sqrt(cache) + epsilon)", TRAJ_STATE, {"rmsprop": rmsprop_eps_inside}),
    Mutant("a4.adam", "t_from_one",
           "Adam's bias correction uses the wrong t (t starts at 1 and is incremented before "
           "use, so the first step corrects with t = 2)", TRAJ_STATE,
           {"adam": adam_t_from_one}),
    Mutant("a4.adam", "eps_inside",
           "epsilon is inside the square root (sqrt(v_hat + epsilon) instead of "
           "sqrt(v_hat) + epsilon)", TRAJ_STATE, {"adam": adam_eps_inside}),
    Mutant("a4.adam", "no_bias_correction",
           "Adam's bias correction is missing (m and v are used without dividing by "
           "1 - beta**t)", ("trajectory", "state"), {"adam": adam_no_bias_correction}),
    Mutant("a4.adamw", "coupled",
           "the weight decay is coupled: weight_decay * w is added to the gradient (L2, i.e. "
           "Adam with weight decay) instead of decaying w separately", TRAJ_STATE,
           {"adamw": adamw_coupled}),
    Mutant("a4.adamw", "decay_without_lr",
           "the weights decay by (1 - weight_decay) without the learning rate; AdamW uses "
           "w * (1 - learning_rate * weight_decay)", TRAJ_STATE,
           {"adamw": adamw_decay_without_lr}),
    Mutant("a4.clip_grad_norm", "per_array",
           "each array is clipped by its own norm instead of the global norm of all arrays",
           ("clipped",), {"clip_grad_norm": clip_per_array}),
    Mutant("a4.clip_grad_norm", "squared",
           "the norm is missing its square root (the sum of squares is used as the norm)",
           ("clipped", "norm"), {"clip_grad_norm": clip_squared_norm}),
    Mutant("a4.clip_grad_norm", "always",
           "the gradients are scaled even when total_norm <= max_norm",
           ("clipped",), {"clip_grad_norm": clip_always}),
    Mutant("a4.clip_grad_norm", "in_place",
           IN_PLACE,
           ("input_unchanged",), {"clip_grad_norm": clip_in_place}),
    Mutant("a4.step_decay", "off_by_one",
           "the step is off by one ((step + 1) // step_size: the decay comes one step early)",
           ("values",), {"step_decay": step_decay_off_by_one}),
    Mutant("a4.step_decay", "no_floor",
           "the decay is continuous: step / step_size without the integer division",
           ("values",), {"step_decay": step_decay_no_floor}),
    Mutant("a4.exponential_decay", "off_by_one",
           "the step is off by one (gamma ** (step + 1): step 0 must give lr0)",
           ("values",), {"exponential_decay": exponential_off_by_one}),
    Mutant("a4.exponential_decay", "as_rate",
           "gamma is used as a rate, lr0 * exp(-gamma * step), instead of lr0 * gamma ** step",
           ("values",), {"exponential_decay": exponential_as_rate}),
    Mutant("a4.cosine_annealing", "t_max_plus_one",
           "the cosine runs over T_max + 1 steps instead of T_max",
           ("values",), {"cosine_annealing": cosine_t_max_plus_one}),
    Mutant("a4.cosine_annealing", "ignores_lr_min",
           "lr_min is ignored: the cosine anneals to 0",
           ("values",), {"cosine_annealing": cosine_ignores_lr_min}),
    Mutant("a4.cosine_annealing", "quarter_wave",
           "a quarter cosine cos(pi * step / (2 T_max)) instead of (1 + cos(pi * step / "
           "T_max)) / 2", ("values",), {"cosine_annealing": cosine_no_half}),
    Mutant("a4.warmup_cosine", "off_by_one",
           "the warm-up is off by one (step + 1) / warmup_steps: it must start at 0",
           ("values",), {"warmup_cosine": warmup_off_by_one}),
    Mutant("a4.warmup_cosine", "progress_from_zero",
           "the cosine's progress is measured from step 0 (step / total_steps) instead of "
           "from the end of the warm-up", ("values",),
           {"warmup_cosine": warmup_progress_from_zero}),
    Mutant("a4.warmup_cosine", "from_lr_min",
           "the warm-up starts at lr_min instead of 0", ("values",),
           {"warmup_cosine": warmup_from_lr_min}),
    Mutant("a4.one_cycle", "no_minus_one",
           "phase 1 ends at pct_start * total_steps instead of pct_start * total_steps - 1",
           ("values",), {"one_cycle": one_cycle_no_minus_one}),
    Mutant("a4.one_cycle", "linear",
           "the learning rate changes linearly; OneCycleLR anneals along a cosine",
           ("values",), {"one_cycle": one_cycle_linear}),
    Mutant("a4.one_cycle", "min_lr",
           "min_lr is max_lr / final_div_factor; it must be initial_lr / final_div_factor",
           ("values",), {"one_cycle": one_cycle_min_lr}),
)
