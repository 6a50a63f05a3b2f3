# dlgrade handout: rnn.py, version 2026.12, interface c458b91c149d (keep this line)
"""Recurrent layers: a vanilla RNN (one step, and a whole sequence with backpropagation
through time), an LSTM step, a GRU step, and a word embedding.

Layers follow the forward/backward style used throughout the course:

* ``<name>_forward(...) -> (out, cache)`` computes the output and returns, as ``cache``,
  whatever the backward pass will need (the cache is yours to choose: it is graded only
  through the backward pass). The LSTM step is the one exception: it returns two states,
  ``(next_h, next_c, cache)``, and its backward pass takes one upstream gradient for each.
* ``<name>_backward(dout, cache) -> grads`` takes ``dout = dL/dout`` (shaped like ``out``)
  and returns the gradients with respect to the layer's inputs, in the order stated.

Shapes: N is the batch size, T the sequence length, D the input size, H the hidden size.
Sequences are batch first: x has shape (N, T, D). Weights multiply from the right
(``x @ Wx`` with Wx of shape (D, H)); PyTorch's ``nn.RNNCell``, ``nn.LSTMCell`` and
``nn.GRUCell`` store the transposes (``weight_ih`` is Wx.T). Inputs are float64 arrays
(the embedding's indices are integers). Loops over time steps are expected; every case is
small, and each exercise must finish within 10 seconds.
"""

import numpy as np


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One time step of a vanilla (Elman) RNN with a tanh nonlinearity, as nn.RNNCell.

        next_h = tanh(x @ Wx + h_prev @ Wh + b)

    Args:
        x: input of this time step, shape (N, D).
        h_prev: hidden state of the previous time step, shape (N, H).
        Wx: input-to-hidden weights, shape (D, H).
        Wh: hidden-to-hidden weights, shape (H, H).
        b: biases, shape (H,).

    Returns:
        next_h: the new hidden state, shape (N, H).
        cache: whatever rnn_step_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a7.rnn_step: implement rnn_step_forward")


def rnn_step_backward(dnext_h, cache):
    """Backward pass of one RNN time step.

    With a = x @ Wx + h_prev @ Wh + b the pre-activation, tanh'(a) = 1 - next_h**2, so

        da = dnext_h * (1 - next_h**2)
        dx = da @ Wx.T            dh_prev = da @ Wh.T
        dWx = x.T @ da            dWh = h_prev.T @ da
        db = da summed over the batch axis (axis 0)

    Args:
        dnext_h: upstream gradient of next_h, shape (N, H).
        cache: what rnn_step_forward returned as cache.

    Returns:
        (dx, dh_prev, dWx, dWh, db), shaped like x, h_prev, Wx, Wh and b.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a7.rnn_step: implement rnn_step_backward")


def rnn_forward(x, h0, Wx, Wh, b):
    """A vanilla RNN over a whole sequence, as nn.RNN(batch_first=True) with tanh.

    The same weights are used at every time step t = 0, 1, ..., T - 1:

        h[:, t] = tanh(x[:, t] @ Wx + h[:, t - 1] @ Wh + b),   with h[:, -1] read as h0

    You may call your rnn_step_forward here.

    Args:
        x: input sequence, shape (N, T, D).
        h0: initial hidden state, shape (N, H).
        Wx: input-to-hidden weights, shape (D, H).
        Wh: hidden-to-hidden weights, shape (H, H).
        b: biases, shape (H,).

    Returns:
        h: the hidden states of every time step, shape (N, T, H) (h0 is not included:
            h[:, 0] is the state after the first input).
        cache: whatever rnn_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a7.rnn_sequence: implement rnn_forward")


def rnn_backward(dh, cache):
    """Backpropagation through time for rnn_forward.

    dh[:, t] is the gradient of the loss with respect to h[:, t] coming from outside the
    RNN (from a layer that reads every hidden state). But h[:, t] also feeds step t + 1, so
    the gradient that reaches it is

        dh[:, t] + (dh_prev returned by the backward pass of step t + 1)

    Go back from t = T - 1 to t = 0, passing that sum to the backward pass of step t. The
    weights are shared by every step, so dWx, dWh and db are the SUMS of the steps'
    gradients; dh0 is the dh_prev of step 0.

    Args:
        dh: upstream gradients of every hidden state, shape (N, T, H).
        cache: what rnn_forward returned as cache.

    Returns:
        (dx, dh0, dWx, dWh, db): dx of shape (N, T, D), dh0 like h0, dWx like Wx, dWh like
        Wh, db like b.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a7.rnn_sequence: implement rnn_backward")


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """One time step of an LSTM (as CS231n; the equations of nn.LSTMCell).

    The four gates come from one product, split into four blocks of H columns in the order
    i, f, o, g (input, forget, output gate, then the candidate cell g):

        a = x @ Wx + h_prev @ Wh + b                  shape (N, 4H)
        i = sigmoid(a[:, 0:H])        f = sigmoid(a[:, H:2H])
        o = sigmoid(a[:, 2H:3H])      g = tanh(a[:, 3H:4H])
        next_c = f * c_prev + i * g
        next_h = o * tanh(next_c)

    with sigmoid(s) = 1 / (1 + exp(-s)). (nn.LSTMCell stores its blocks in the order
    i, f, g, o: mind the order here.)

    Args:
        x: input of this time step, shape (N, D).
        h_prev: previous hidden state, shape (N, H).
        c_prev: previous cell state, shape (N, H).
        Wx: input-to-hidden weights, shape (D, 4H).
        Wh: hidden-to-hidden weights, shape (H, 4H).
        b: biases, shape (4H,).

    Returns:
        (next_h, next_c, cache): the new hidden and cell states, each of shape (N, H), and
        whatever lstm_step_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a7.lstm_step: implement lstm_step_forward")


def lstm_step_backward(dnext_h, dnext_c, cache):
    """Backward pass of one LSTM time step.

    next_c reaches the loss directly (dnext_c) and through next_h = o * tanh(next_c), so

        dc = dnext_c + dnext_h * o * (1 - tanh(next_c)**2)
        do = dnext_h * tanh(next_c)
        di = dc * g        df = dc * c_prev        dg = dc * i        dc_prev = dc * f

    then through the nonlinearities (sigmoid' = s (1 - s), tanh' = 1 - t**2), into one
    (N, 4H) array in the forward's order i, f, o, g:

        da = [di * i (1 - i), df * f (1 - f), do * o (1 - o), dg * (1 - g**2)]
        dx = da @ Wx.T    dh_prev = da @ Wh.T    dWx = x.T @ da    dWh = h_prev.T @ da
        db = da summed over the batch axis (axis 0)

    Args:
        dnext_h: upstream gradient of next_h, shape (N, H).
        dnext_c: upstream gradient of next_c, shape (N, H).
        cache: what lstm_step_forward returned as cache.

    Returns:
        (dx, dh_prev, dc_prev, dWx, dWh, db), shaped like x, h_prev, c_prev, Wx, Wh, b.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a7.lstm_step: implement lstm_step_backward")


def lstm_step_forward_pair(x, h_prev, c_prev, Wx, Wh, b):
    """PROVIDED, do not change or remove: the grader calls it to grade your LSTM step.

    It returns lstm_step_forward's result as ((next_h, next_c), cache), the grader's
    (out, cache) form, so that your own cache is kept for lstm_step_backward.
    """
    next_h, next_c, cache = lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b)
    return (next_h, next_c), cache


def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    """One time step of a GRU, with PyTorch's equations (nn.GRUCell).

    Two products, each split into three blocks of H columns in the order r, z, n (reset
    gate, update gate, candidate state):

        gx = x @ Wx + bx          gh = h_prev @ Wh + bh          each of shape (N, 3H)
        r = sigmoid(gx[:, 0:H] + gh[:, 0:H])
        z = sigmoid(gx[:, H:2H] + gh[:, H:2H])
        n = tanh(gx[:, 2H:3H] + r * gh[:, 2H:3H])
        next_h = (1 - z) * n + z * h_prev

    Note where r goes: PyTorch applies it to (h_prev @ Wh_n + bh_n), the hidden product
    WITH its bias, after the product. (The GRU of Cho et al. 2014 applies r to h_prev
    before the product, tanh(gx_n + (r * h_prev) @ Wh_n + bh_n): that is not this layer.)
    z weights the OLD state. sigmoid(s) = 1 / (1 + exp(-s)).

    Args:
        x: input of this time step, shape (N, D).
        h_prev: previous hidden state, shape (N, H).
        Wx: input-to-hidden weights, shape (D, 3H).
        Wh: hidden-to-hidden weights, shape (H, 3H).
        bx: input biases, shape (3H,).
        bh: hidden biases, shape (3H,).

    Returns:
        next_h: the new hidden state, shape (N, H).
        cache: whatever gru_step_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a7.gru_step: implement gru_step_forward")


def gru_step_backward(dnext_h, cache):
    """Backward pass of one GRU time step.

    With hn = h_prev @ Wh_n + bh_n (the last block of gh):

        dn = dnext_h * (1 - z)     dz = dnext_h * (h_prev - n)
        dan = dn * (1 - n**2)      (the gradient of n's pre-activation)
        dr = dan * hn
        daz = dz * z (1 - z)       dar = dr * r (1 - r)
        dgx = [dar, daz, dan]          (N, 3H), blocks r, z, n
        dgh = [dar, daz, dan * r]      (N, 3H): r scales the n block of gh
        dx = dgx @ Wx.T      dWx = x.T @ dgx      dbx = dgx summed over axis 0
        dWh = h_prev.T @ dgh      dbh = dgh summed over axis 0
        dh_prev = dgh @ Wh.T + dnext_h * z      (h_prev also enters next_h directly)

    Args:
        dnext_h: upstream gradient of next_h, shape (N, H).
        cache: what gru_step_forward returned as cache.

    Returns:
        (dx, dh_prev, dWx, dWh, dbx, dbh), shaped like x, h_prev, Wx, Wh, bx, bh.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a7.gru_step: implement gru_step_backward")


def embedding_forward(x, W):
    """A word embedding, as nn.Embedding: each index picks a row of W.

        out[n, t] = W[x[n, t]]

    Args:
        x: integer indices, shape (N, T), each in 0 .. V - 1 (an index may repeat).
        W: the embedding matrix, shape (V, D).

    Returns:
        out: array of shape (N, T, D).
        cache: whatever embedding_backward needs.
    """
    # YOUR CODE HERE
    raise NotImplementedError("a7.embedding: implement embedding_forward")


def embedding_backward(dout, cache):
    """Backward pass of the embedding. The indices are not differentiable: only dW.

        dW[v] = the SUM of dout[n, t] over every (n, t) with x[n, t] == v
                (zero for a row no index picked)

    An index that occurs several times collects every one of its gradients. Beware:
    ``dW[x] += dout`` does NOT do that (numpy writes each repeated row once); use
    ``np.add.at(dW, x, dout)`` or a loop.

    Args:
        dout: upstream gradient, shape (N, T, D).
        cache: what embedding_forward returned as cache.

    Returns:
        dW: array shaped like W, (V, D).
    """
    # YOUR CODE HERE
    raise NotImplementedError("a7.embedding: implement embedding_backward")
