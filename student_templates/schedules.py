# dlgrade handout: schedules.py, version 2026.12, interface 6b920175a649 (keep this line)
"""Learning-rate schedules as pure functions of the step (assignment A4).

Each schedule maps a step number (an int >= 0: the number of optimizer steps taken so far,
like the ``last_epoch`` of a ``torch.optim.lr_scheduler`` scheduler after that many calls to
``scheduler.step()``) and its hyper-parameters to the learning rate for that step, returned
as a Python float. Nothing is stored between calls, so ``schedule(7, ...)`` gives the same
answer whatever was called before. The formulas are PyTorch's where PyTorch has the
schedule (``StepLR``, ``ExponentialLR``, ``CosineAnnealingLR``, ``OneCycleLR``).
"""

import math


def step_decay(step, lr0, step_size, gamma=0.1):
    """Step decay (``torch.optim.lr_scheduler.StepLR``): multiply by ``gamma`` every
    ``step_size`` steps.

        lr = lr0 * gamma ** (step // step_size)          (// is integer division)

    Args:
        step: the step number, an int >= 0.
        lr0: the initial learning rate.
        step_size: steps between two decays, an int >= 1.
        gamma: the decay factor.

    Returns:
        The learning rate at ``step``, a float.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a4.step_decay: implement step_decay")


def exponential_decay(step, lr0, gamma):
    """Exponential decay (``torch.optim.lr_scheduler.ExponentialLR``): multiply by ``gamma``
    every step.

        lr = lr0 * gamma ** step

    Args:
        step: the step number, an int >= 0.
        lr0: the initial learning rate.
        gamma: the decay factor per step.

    Returns:
        The learning rate at ``step``, a float.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a4.exponential_decay: implement exponential_decay")


def cosine_annealing(step, lr_max, lr_min, T_max):
    """Cosine annealing from ``lr_max`` down to ``lr_min`` over ``T_max`` steps (the closed
    form of ``torch.optim.lr_scheduler.CosineAnnealingLR`` with ``eta_min=lr_min``).

        lr = lr_min + (lr_max - lr_min) * (1 + cos(pi * step / T_max)) / 2

    so lr = lr_max at step 0 and lr = lr_min at step T_max. Graded for 0 <= step <= T_max.

    Args:
        step: the step number, an int with 0 <= step <= T_max.
        lr_max: the learning rate at step 0.
        lr_min: the learning rate at step T_max.
        T_max: the number of steps of the half cosine, an int >= 1.

    Returns:
        The learning rate at ``step``, a float.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a4.cosine_annealing: implement cosine_annealing")


def warmup_cosine(step, lr_max, warmup_steps, total_steps, lr_min=0.0):
    """Linear warm-up from 0 to ``lr_max``, then cosine annealing down to ``lr_min``.

    For 0 <= warmup_steps < total_steps:

        step < warmup_steps:             lr = lr_max * step / warmup_steps
        warmup_steps <= step <= total_steps:
            progress = (step - warmup_steps) / (total_steps - warmup_steps)
            lr = lr_min + (lr_max - lr_min) * (1 + cos(pi * progress)) / 2
        step > total_steps:              lr = lr_min

    so lr = 0 at step 0 (when warmup_steps > 0), lr = lr_max at step warmup_steps, and
    lr = lr_min from step total_steps on. With warmup_steps = 0 there is no warm-up.

    Args:
        step: the step number, an int >= 0.
        lr_max: the peak learning rate, reached at step ``warmup_steps``.
        warmup_steps: the length of the linear warm-up, an int >= 0.
        total_steps: the step at which the cosine reaches ``lr_min``, an int > warmup_steps.
        lr_min: the final learning rate.

    Returns:
        The learning rate at ``step``, a float.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a4.warmup_cosine: implement warmup_cosine")


def one_cycle(step, max_lr, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    """The one-cycle policy (``torch.optim.lr_scheduler.OneCycleLR`` with
    ``anneal_strategy="cos"`` and ``three_phase=False``): cosine warm-up from a low rate to
    ``max_lr``, then cosine annealing to a much lower one.

        initial_lr = max_lr / div_factor
        min_lr = initial_lr / final_div_factor
        end1 = pct_start * total_steps - 1          (a float: the last step of phase 1)
        end2 = total_steps - 1                      (the last step of phase 2)

        step <= end1:  lr = anneal(initial_lr, max_lr, step / end1)
        step > end1:   lr = anneal(max_lr, min_lr, (step - end1) / (end2 - end1))

    where ``anneal(start, end, pct) = end + (start - end) / 2 * (1 + cos(pi * pct))`` goes
    from ``start`` (pct = 0) to ``end`` (pct = 1) along a half cosine. So lr = initial_lr at
    step 0 and lr = min_lr at step total_steps - 1. Graded for 0 <= step < total_steps,
    with pct_start * total_steps > 1.

    Args:
        step: the step number, an int with 0 <= step < total_steps.
        max_lr: the peak learning rate.
        total_steps: the length of the cycle in steps.
        pct_start: the fraction of the cycle spent increasing the learning rate.
        div_factor: initial_lr = max_lr / div_factor.
        final_div_factor: min_lr = initial_lr / final_div_factor.

    Returns:
        The learning rate at ``step``, a float.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a4.one_cycle: implement one_cycle")
