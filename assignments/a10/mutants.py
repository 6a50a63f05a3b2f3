"""Known mistakes in reference/train.py, as patches of the reference.

The toy-set checks (``xor``, ``spirals``) are judged on public data that does not depend on
the course secret, so whether a mistaken loop still fits them is fixed: the ``fails`` below
say what each mistake's network does there (tests/test_a10_content.py re-derives it).
"""

from __future__ import annotations

from dlgrade.authoring import Mutant

from .exercises import M_NOT_RESTORED

_LOOP = "    for index in np.ndindex(*x.shape):\n        saved = x[index]\n"
_PROBE = ("        x[index] = saved - h\n        minus = f(x)\n        x[index] = saved\n"
          "        grad[index] = (plus - minus) / (2.0 * h)\n")

GRADIENT = (
    Mutant("a10.numerical_gradient", "forward_difference",
           "forward differences (f(x + h e_i) - f(x)) / h instead of centred ones: the "
           "error is of order h, not h**2",
           ("gradient",),
           patch=((_PROBE, "        x[index] = saved\n        minus = f(x)\n"
                           "        grad[index] = (plus - minus) / h\n"),)),
    Mutant("a10.numerical_gradient", "divide_by_h",
           "the centred difference is divided by h instead of 2h (every entry twice too "
           "large)",
           ("gradient",),
           patch=(("grad[index] = (plus - minus) / (2.0 * h)",
                   "grad[index] = (plus - minus) / h"),)),
    Mutant("a10.numerical_gradient", "not_restored", M_NOT_RESTORED,
           ("gradient", "restored"),
           patch=((_PROBE, "        x[index] = saved - h\n        minus = f(x)\n"
                           "        grad[index] = (plus - minus) / (2.0 * h)\n"),)),
    Mutant("a10.numerical_gradient", "first_axis_only",
           "the loop runs over the first axis only, so for a 2-D or 3-D x each probe moves a "
           "whole row x[i] at once: loop over every entry, whatever the shape",
           ("gradient",),
           patch=((_LOOP, "    for index in range(x.shape[0]):\n"
                          "        saved = np.copy(x[index])\n"),)),
    Mutant("a10.numerical_gradient", "two_axes_only",
           "a double loop over x.shape[0] and x.shape[1], which assumes a 2-D x (a 1-D x "
           "raises, and for a 3-D x each probe moves a whole x[i, j])",
           ("gradient", "restored"),
           patch=((_LOOP, "    for index in ((i, j) for i in range(x.shape[0])\n"
                          "                  for j in range(x.shape[1])):\n"
                          "        saved = np.copy(x[index])\n"),)),
)

_EPOCHS = "    for _ in range(epochs):\n        order = rng.permutation(n)\n"

TRAIN = (
    Mutant("a10.train_mlp", "shuffle_once",
           "the samples are shuffled once, before the first epoch, and every epoch reuses "
           "that order: draw rng.permutation(N) at the start of EVERY epoch",
           ("history", "params"),
           patch=((_EPOCHS, "    order = rng.permutation(n)\n    for _ in range(epochs):\n"),)),
    Mutant("a10.train_mlp", "no_shuffle",
           "the samples are never shuffled (every epoch takes them in order 0, 1, ..., "
           "N - 1): draw rng.permutation(N) at the start of every epoch",
           ("history", "params", "spirals"),
           patch=(("order = rng.permutation(n)", "order = np.arange(n)"),)),
    Mutant("a10.train_mlp", "drop_last",
           "the last, smaller batch of each epoch is dropped (it must be kept: "
           "ceil(N / batch_size) steps per epoch)",
           ("history", "params"),
           patch=(("for start in range(0, n, batch_size):",
                   "for start in range(0, n - batch_size + 1, batch_size):"),)),
    Mutant("a10.train_mlp", "gradient_not_averaged",
           "the gradient is summed over the batch, not averaged (dscores is not divided by "
           "the batch size B), so each step is B times too large",
           ("history", "params", "spirals"),
           patch=(("            dscores /= len(batch)\n", ""),)),
    Mutant("a10.train_mlp", "lr_twice",
           "the learning rate is applied twice (P -= lr * lr * dP)",
           ("history", "params", "spirals"),
           patch=(("params[key] - lr * grads[key]", "params[key] - lr * lr * grads[key]"),)),
    Mutant("a10.train_mlp", "no_relu_mask",
           "the backward pass ignores the ReLU (the gradient flows back where z <= 0 too)",
           ("history", "params", "xor", "spirals"),
           patch=(("dz = (dscores @ params[\"W2\"].T) * (z > 0)",
                   "dz = dscores @ params[\"W2\"].T"),)),
    Mutant("a10.train_mlp", "small_init",
           "the weights start at 0.01 * standard normal instead of the documented "
           "sqrt(2 / fan_in) scale",
           ("history", "params", "xor", "spirals"),
           patch=(("rng.standard_normal((d, hidden)) * np.sqrt(2.0 / d)",
                   "rng.standard_normal((d, hidden)) * 0.01"),
                  ("rng.standard_normal((hidden, classes)) * np.sqrt(2.0 / hidden)",
                   "rng.standard_normal((hidden, classes)) * 0.01"))),
)

MUTANTS: tuple[Mutant, ...] = (*GRADIENT, *TRAIN)
