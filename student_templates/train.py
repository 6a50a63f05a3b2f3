# dlgrade handout: train.py, version 2026.12, interface 04275d0a6fe9 (keep this line)
"""Training: a numerical gradient, and a two-layer network trained by mini-batch SGD.

``numerical_gradient`` is how you check any backward pass you write: compare it with centred
differences. ``train_mlp`` puts the pieces of A2 and A3 together into a training loop.

You may import your own layers and losses, e.g. ``from layers import affine_forward,
affine_backward`` and ``from losses import softmax_cross_entropy_loss`` (those files sit
next to this one), or write everything here.

The line ``from a10_helpers import ...`` below imports the course's helpers (a10_helpers.py
comes with the assignment): the grader builds the functions it differentiates and measures
your trained network with them, through this module. Keep it.
"""

import numpy as np
from a10_helpers import make_function, trained  # noqa: F401 - the grader calls them


def numerical_gradient(f, x, h=1e-5):
    """The gradient of a scalar function f at x, by centred differences.

    For every entry i of x (x may have ANY shape: 1-D, 2-D, 3-D, ...), with e_i the array
    that is 1 at entry i and 0 elsewhere:

        grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h)

    So f is called 2 * x.size times, each time on an array shaped like x in which exactly
    one entry is moved by +h or -h. You may move the entry of x itself, in place, or of a
    copy; either way, when numerical_gradient returns, x must hold exactly the values it
    had on entry (save each entry before you move it and put the saved value back: adding
    h and subtracting it again does not always give the same float). f never modifies its
    argument. One loop over all the entries is enough (``np.nditer`` with
    ``flags=["multi_index"]``, or flat indices with ``x.reshape(-1)`` / ``x.flat``).

    Args:
        f: a Python function of one array argument, shaped like x, returning a number.
        x: float array of any shape.
        h: the step, a small positive number.

    Returns:
        grad: float array shaped like x.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a10.numerical_gradient: implement numerical_gradient")


def train_mlp(X, y, hidden, lr, epochs, batch_size, rng):
    """Train a two-layer network (affine - ReLU - affine) with softmax cross-entropy by
    mini-batch stochastic gradient descent.

    With N, D = X.shape and C = int(y.max()) + 1 classes, the network is

        scores = relu(X @ W1 + b1) @ W2 + b2          relu(z) = max(z, 0)

    1. Initialise, in this order and with no other use of rng before:

        W1 = rng.standard_normal((D, hidden)) * np.sqrt(2.0 / D)
        b1 = np.zeros(hidden)
        W2 = rng.standard_normal((hidden, C)) * np.sqrt(2.0 / hidden)
        b2 = np.zeros(C)

    2. Repeat for each of the ``epochs`` epochs:

        order = rng.permutation(N)            (a NEW order every epoch)
        for start in range(0, N, batch_size):
            batch = order[start:start + batch_size]

       The last batch of an epoch is smaller when batch_size does not divide N: keep it
       (ceil(N / batch_size) steps per epoch). For each batch of B = len(batch) samples:

        loss = mean over the B samples of -log softmax(scores)[y]   (no regularisation)
        gradients of that loss (so dscores = (softmax - one_hot(y)) / B; the ReLU passes
            the gradient where its input is > 0)
        every parameter P <- P - lr * dP
        record the loss, computed BEFORE the update

    rng is used for the initialisation and the permutations only, in that order.

    Time: the grader's largest run (two spirals: N = 100, hidden = 64, 600 epochs of 5
    batches, 3000 steps) takes about 0.1 s when each step is a few matrix products; the
    exercise has 10 seconds in all. Do not loop over the samples of a batch in Python.

    Args:
        X: float array of shape (N, D).
        y: int array of shape (N,), labels in [0, C).
        hidden: the number of hidden units, an int.
        lr: the learning rate, a positive float.
        epochs: the number of passes over the data, an int.
        batch_size: the mini-batch size, an int >= 1 (it may exceed N: one batch).
        rng: a numpy.random.Generator.

    Returns:
        (losses, params): losses is a 1-D float array with one entry per step, shape
        (epochs * ceil(N / batch_size),), in order; params is a dict with the trained
        "W1" (D, hidden), "b1" (hidden,), "W2" (hidden, C), "b2" (C,).
    """
    # YOUR CODE HERE
    raise NotImplementedError("a10.train_mlp: implement train_mlp")
