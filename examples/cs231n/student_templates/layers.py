# dlgrade handout: layers.py, interface f41a2fb442a6 (keep this line)
"""CS231n assignment 2: layers of a fully connected network, with their backward passes.

Every forward returns ``(out, cache)``; every backward takes the upstream gradient ``dout``
(shaped like ``out``) and that cache. Losses return ``(loss, dx)``, averaged over the N
examples of the batch.
"""

import numpy as np


def affine_forward(x, w, b):
    """Computes the forward pass for an affine (fully connected) layer.

    The input x has shape (N, d_1, ..., d_k) and holds a minibatch of N examples, where
    each example x[i] has shape (d_1, ..., d_k). Each input is reshaped into a vector of
    dimension D = d_1 * ... * d_k, then transformed to an output vector of dimension M.

    Inputs:
    - x: an array of shape (N, d_1, ..., d_k)
    - w: weights, of shape (D, M)
    - b: biases, of shape (M,)

    Returns a tuple of:
    - out: output, of shape (N, M)
    - cache: (x, w, b)
    """
    # YOUR CODE HERE
    raise NotImplementedError("layers.affine: implement affine_forward")


def affine_backward(dout, cache):
    """Computes the backward pass for an affine layer.

    Inputs:
    - dout: upstream derivative, of shape (N, M)
    - cache: (x, w, b) as affine_forward returned it

    Returns a tuple of:
    - dx: gradient with respect to x, of shape (N, d_1, ..., d_k)
    - dw: gradient with respect to w, of shape (D, M)
    - db: gradient with respect to b, of shape (M,)
    """
    # YOUR CODE HERE
    raise NotImplementedError("layers.affine: implement affine_backward")


def relu_forward(x):
    """Computes the forward pass for a layer of rectified linear units (ReLUs).

    Input:
    - x: inputs, of any shape

    Returns a tuple of:
    - out: output, of the same shape as x
    - cache: x
    """
    # YOUR CODE HERE
    raise NotImplementedError("layers.relu: implement relu_forward")


def relu_backward(dout, cache):
    """Computes the backward pass for a layer of ReLUs.

    Input:
    - dout: upstream derivatives, of any shape
    - cache: input x, of the same shape as dout

    Returns:
    - dx: gradient with respect to x
    """
    # YOUR CODE HERE
    raise NotImplementedError("layers.relu: implement relu_backward")


def batchnorm_forward(x, gamma, beta, bn_param):
    """Forward pass for batch normalization.

    During training the sample mean and (uncorrected) sample variance are computed from
    minibatch statistics and used to normalize the incoming data. During training we also
    keep an exponentially decaying running mean of the mean and variance of each feature;
    these averages normalize the data at test time:

    running_mean = momentum * running_mean + (1 - momentum) * sample_mean
    running_var = momentum * running_var + (1 - momentum) * sample_var

    Input:
    - x: data of shape (N, D)
    - gamma: scale parameter of shape (D,)
    - beta: shift parameter of shape (D,)
    - bn_param: dictionary with the following keys:
      - mode: 'train' or 'test'; required
      - eps: constant for numeric stability (default 1e-5)
      - momentum: constant for the running mean / variance (default 0.9)
      - running_mean: array of shape (D,), the running mean of the features (default 0)
      - running_var: array of shape (D,), the running variance of the features (default 0)

    Returns a tuple of:
    - out: of shape (N, D)
    - cache: a tuple of values needed in the backward pass

    In train mode, store the updated running_mean and running_var back into bn_param.
    """
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    out, cache = None, None
    if mode == "train":
        # YOUR CODE HERE
        raise NotImplementedError("layers.batchnorm: implement batchnorm_forward")
    elif mode == "test":
        # YOUR CODE HERE
        raise NotImplementedError("layers.batchnorm: implement batchnorm_forward")
    else:
        raise ValueError(f"Invalid forward batchnorm mode {mode!r}")
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    """Backward pass for batch normalization (train mode).

    Inputs:
    - dout: upstream derivatives, of shape (N, D)
    - cache: the cache batchnorm_forward returned in train mode

    Returns a tuple of:
    - dx: gradient with respect to inputs x, of shape (N, D)
    - dgamma: gradient with respect to the scale parameter gamma, of shape (D,)
    - dbeta: gradient with respect to the shift parameter beta, of shape (D,)
    """
    # YOUR CODE HERE
    raise NotImplementedError("layers.batchnorm: implement batchnorm_backward")


def dropout_forward(x, dropout_param):
    """Forward pass for inverted dropout.

    Unlike the dropout of the original paper, this is inverted dropout: kept units are
    scaled by 1 / p in train mode, so that the expected output is x and test mode needs no
    scaling.

    Inputs:
    - x: input data, of any shape
    - dropout_param: a dictionary with the following keys:
      - p: the probability of KEEPING each neuron output
      - mode: 'test' or 'train'; in test mode the input is returned unchanged
      - seed: if given, seed numpy's global generator with np.random.seed(seed) first, so
        that the function is deterministic (for gradient checking)

    Outputs:
    - out: array of the same shape as x
    - cache: (dropout_param, mask); in train mode mask is the array that multiplied x,
      in test mode it is None
    """
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    out = None
    if mode == "train":
        # YOUR CODE HERE
        raise NotImplementedError("layers.dropout: implement dropout_forward")
    elif mode == "test":
        # YOUR CODE HERE
        raise NotImplementedError("layers.dropout: implement dropout_forward")
    cache = (dropout_param, mask)
    return out, cache


def dropout_backward(dout, cache):
    """Backward pass for inverted dropout.

    Inputs:
    - dout: upstream derivatives, of any shape
    - cache: (dropout_param, mask) from dropout_forward

    Returns:
    - dx: gradient with respect to x
    """
    dropout_param, mask = cache
    if dropout_param["mode"] == "test":
        return dout
    # YOUR CODE HERE
    raise NotImplementedError("layers.dropout: implement dropout_backward")


def svm_loss(x, y):
    """Computes the loss and gradient of the multiclass SVM (hinge) loss, margin 1.

    Inputs:
    - x: input data, of shape (N, C), where x[i, j] is the score of the jth class for the
      ith input
    - y: vector of labels, of shape (N,), where y[i] is the label of x[i] and
      0 <= y[i] < C

    Returns a tuple of:
    - loss: scalar giving the loss, averaged over the N inputs
    - dx: gradient of the loss with respect to x
    """
    # YOUR CODE HERE
    raise NotImplementedError("layers.svm_loss: implement svm_loss")


def softmax_loss(x, y):
    """Computes the loss and gradient for softmax classification.

    Inputs:
    - x: input data, of shape (N, C), where x[i, j] is the score of the jth class for the
      ith input
    - y: vector of labels, of shape (N,), where y[i] is the label of x[i] and
      0 <= y[i] < C

    Returns a tuple of:
    - loss: scalar giving the loss, averaged over the N inputs
    - dx: gradient of the loss with respect to x

    Shift each row of scores by its maximum before exponentiating: large scores must not
    overflow.
    """
    # YOUR CODE HERE
    raise NotImplementedError("layers.softmax_loss: implement softmax_loss")
