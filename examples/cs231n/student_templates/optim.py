# dlgrade handout: optim.py, interface f2509b6e564c (keep this line)
"""CS231n assignment 2: first-order update rules for training neural networks.

Each update rule has the interface::

    def update(w, dw, config=None):
        ...
        return next_w, config

Inputs:
- w: a numpy array giving the current weights
- dw: a numpy array of the same shape as w giving the gradient of the loss with respect
  to w
- config: a dictionary of hyper-parameters (learning rate, momentum, ...) and of the state
  the rule keeps between steps (velocity, caches). None means every default.

Returns:
- next_w: the next point after the update
- config: the config dictionary to pass to the next iteration of the update rule, with
  every hyper-parameter in it (the default where none was given) and the updated state

NOTE: For most update rules the default learning rate will probably not perform well;
however the default values of the other hyper-parameters should work well for a variety of
different problems.
"""

import numpy as np


def sgd_momentum(w, dw, config=None):
    """Performs stochastic gradient descent with momentum.

    config format:
    - learning_rate: scalar learning rate (default 1e-2)
    - momentum: scalar between 0 and 1 giving the momentum value (default 0.9); setting
      momentum = 0 reduces to sgd
    - velocity: a numpy array of the same shape as w and dw used to store a moving average
      of the gradients (zeros at the first step)

    The update: v = momentum * v - learning_rate * dw; next_w = w + v.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    # YOUR CODE HERE
    raise NotImplementedError("optim.sgd_momentum: implement sgd_momentum")
    return next_w, config


def rmsprop(w, dw, config=None):
    """Uses the RMSProp update rule, which uses a moving average of squared gradient
    values to set adaptive per-parameter learning rates.

    config format:
    - learning_rate: scalar learning rate (default 1e-2)
    - decay_rate: scalar between 0 and 1 giving the decay rate for the squared gradient
      cache (default 0.99)
    - epsilon: small scalar used for smoothing to avoid dividing by zero (default 1e-8)
    - cache: moving average of second moments of gradients (zeros at the first step)

    The update: cache = decay_rate * cache + (1 - decay_rate) * dw**2;
    next_w = w - learning_rate * dw / (sqrt(cache) + epsilon).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))
    # YOUR CODE HERE
    raise NotImplementedError("optim.rmsprop: implement rmsprop")
    return next_w, config


def adam(w, dw, config=None):
    """Uses the Adam update rule, which incorporates moving averages of both the gradient
    and its square and a bias correction term.

    config format:
    - learning_rate: scalar learning rate (default 1e-3)
    - beta1: decay rate for the moving average of the first moment of the gradient
      (default 0.9)
    - beta2: decay rate for the moving average of the second moment of the gradient
      (default 0.999)
    - epsilon: small scalar used for smoothing to avoid dividing by zero (default 1e-8)
    - m: moving average of the gradient (zeros at the first step)
    - v: moving average of the squared gradient (zeros at the first step)
    - t: iteration number (0 before the first step)

    Increment t BEFORE using it: the first step has t = 1. The update: m and v are moving
    averages of dw and dw**2; m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t);
    next_w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    # YOUR CODE HERE
    raise NotImplementedError("optim.adam: implement adam")
    return next_w, config
