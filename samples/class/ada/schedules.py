"""A4 - learning-rate schedules.

Student: Ada Lovelace
"""

import math


def _half_wave(start, end, fraction):
    """From ``start`` (fraction 0) to ``end`` (fraction 1) along a half cosine."""
    return end + 0.5 * (start - end) * (1.0 + math.cos(math.pi * fraction))


def step_decay(step, lr0, step_size, gamma=0.1):
    drops = int(step) // int(step_size)
    return float(lr0) * float(gamma) ** drops


def exponential_decay(step, lr0, gamma):
    if gamma > 0:
        return float(lr0 * math.exp(step * math.log(gamma)))
    return float(lr0 * gamma**step)


def cosine_annealing(step, lr_max, lr_min, T_max):
    return _half_wave(lr_max, lr_min, step / T_max)


def warmup_cosine(step, lr_max, warmup_steps, total_steps, lr_min=0.0):
    if step >= total_steps:
        return float(lr_min)
    if warmup_steps > 0 and step < warmup_steps:
        return lr_max * (step / warmup_steps)
    span = total_steps - warmup_steps
    return _half_wave(lr_max, lr_min, (step - warmup_steps) / span)


def one_cycle(step, max_lr, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    low = max_lr / div_factor
    phases = [
        (pct_start * total_steps - 1.0, low, max_lr),
        (total_steps - 1.0, max_lr, low / final_div_factor),
    ]
    begin = 0.0
    for number, (end, start_lr, end_lr) in enumerate(phases):
        if step <= end or number == len(phases) - 1:
            return _half_wave(start_lr, end_lr, (step - begin) / (end - begin))
        begin = end
    raise AssertionError("unreachable")
