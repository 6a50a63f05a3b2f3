"""Known-bad variants of reference/layers.py, network.py and autograd.py: realistic student
mistakes.

A mutant submission is the reference module's source with a replacement's source appended and
the student-facing name rebound to it, so each replacement uses only ``np``, ``math`` and
builtins and keeps the real signature. Replaced backward passes read the reference forward's
cache: affine ``(x, w)``; affine_relu ``((x, w), z)``. Replacements of ``mlp_loss`` and
``Value`` are complete (they may not call helpers), and the ``Value`` classes refer to their
own class as ``type(self)``, so they behave the same in-process and in the sandbox.
"""

from __future__ import annotations

import math

import numpy as np
from dlgrade.authoring import Mutant

# --- affine (reference cache: (x, w)) ------------------------------------------------------


def _affine_backward_transposed_dw(dout, cache):
    x, w = cache
    flat = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), dout.T @ flat, dout.sum(axis=0)


def _affine_backward_no_db(dout, cache):
    x, w = cache
    flat = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), flat.T @ dout, np.zeros(w.shape[1])


def _affine_backward_flat_dx(dout, cache):
    x, w = cache
    flat = x.reshape(x.shape[0], -1)
    return dout @ w.T, flat.T @ dout, dout.sum(axis=0)


def _affine_backward_db_wrong_axis(dout, cache):
    x, w = cache
    flat = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), flat.T @ dout, dout.sum(axis=1)


# --- affine_relu (reference cache: ((x, w), z)) --------------------------------------------


def _affine_relu_backward_no_mask(dout, cache):
    (x, w), z = cache
    flat = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), flat.T @ dout, dout.sum(axis=0)


def _affine_relu_backward_times_output(dout, cache):
    (x, w), z = cache
    dz = dout * np.maximum(z, 0.0)
    flat = x.reshape(x.shape[0], -1)
    return (dz @ w.T).reshape(x.shape), flat.T @ dz, dz.sum(axis=0)


def _affine_relu_forward_bias_after_relu(x, w, b):
    flat = x.reshape(x.shape[0], -1)
    z = flat @ w
    return np.maximum(z, 0.0) + b, ((x, w), z)


def _affine_relu_backward_bias_after_relu(dout, cache):
    (x, w), z = cache
    dz = dout * (z > 0)
    flat = x.reshape(x.shape[0], -1)
    return (dz @ w.T).reshape(x.shape), flat.T @ dz, dout.sum(axis=0)


# --- perceptron ----------------------------------------------------------------------------


def _perceptron_predict_strict(X, w, b):
    return (X @ w + b > 0).astype(np.int64)


def _perceptron_epoch_strict(X, y, w, b, lr):
    w = np.array(w, dtype=np.float64, copy=True)
    b = float(b)
    for xi, yi in zip(X, y, strict=True):
        y_hat = 1.0 if float(xi @ w) + b > 0 else 0.0
        w = w + lr * (float(yi) - y_hat) * xi
        b = b + lr * (float(yi) - y_hat)
    return w, b


def _perceptron_epoch_batch(X, y, w, b, lr):
    w = np.array(w, dtype=np.float64, copy=True)
    errors = y - (X @ w + b >= 0).astype(np.float64)
    return w + lr * errors @ X, float(b) + lr * float(errors.sum())


def _perceptron_epoch_no_bias(X, y, w, b, lr):
    w = np.array(w, dtype=np.float64, copy=True)
    for xi, yi in zip(X, y, strict=True):
        y_hat = 1.0 if float(xi @ w) + b >= 0 else 0.0
        w = w + lr * (float(yi) - y_hat) * xi
    return w, b


# --- Value (complete replacement classes) ----------------------------------------------------


class _ValueOverwrite:
    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)
        self._op = _op

    def _make(self, data, children, local):
        # local: d(out)/d(child) for each child, in order
        out = type(self)(data, children)

        def _backward():
            for child, slope in zip(children, local, strict=True):
                child.grad = slope * out.grad

        out._backward = _backward
        return out

    def _lift(self, other):
        return other if isinstance(other, type(self)) else type(self)(other)

    def __add__(self, other):
        other = self._lift(other)
        return self._make(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = self._lift(other)
        return self._make(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, other):
        k = float(other)
        return self._make(self.data**k, (self,), (k * self.data ** (k - 1),))

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * self._lift(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return (-self) + other

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return self**-1 * other

    def exp(self):
        e = math.exp(self.data)
        return self._make(e, (self,), (e,))

    def log(self):
        return self._make(math.log(self.data), (self,), (1.0 / self.data,))

    def tanh(self):
        t = math.tanh(self.data)
        return self._make(t, (self,), (1.0 - t * t,))

    def relu(self):
        return self._make(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,))

    def sigmoid(self):
        s = 0.5 * (1.0 + math.tanh(0.5 * self.data))
        return self._make(s, (self,), (s * (1.0 - s),))

    def backward(self):
        order, seen = [], set()

        def visit(node):
            if id(node) not in seen:
                seen.add(id(node))
                for child in node._prev:
                    visit(child)
                order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


class _ValueNoTopologicalSort:
    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)
        self._op = _op

    def _make(self, data, children, local):
        # local: d(out)/d(child) for each child, in order
        out = type(self)(data, children)

        def _backward():
            for child, slope in zip(children, local, strict=True):
                child.grad += slope * out.grad

        out._backward = _backward
        return out

    def _lift(self, other):
        return other if isinstance(other, type(self)) else type(self)(other)

    def __add__(self, other):
        other = self._lift(other)
        return self._make(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = self._lift(other)
        return self._make(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, other):
        k = float(other)
        return self._make(self.data**k, (self,), (k * self.data ** (k - 1),))

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * self._lift(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return (-self) + other

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return self**-1 * other

    def exp(self):
        e = math.exp(self.data)
        return self._make(e, (self,), (e,))

    def log(self):
        return self._make(math.log(self.data), (self,), (1.0 / self.data,))

    def tanh(self):
        t = math.tanh(self.data)
        return self._make(t, (self,), (1.0 - t * t,))

    def relu(self):
        return self._make(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,))

    def sigmoid(self):
        s = 0.5 * (1.0 + math.tanh(0.5 * self.data))
        return self._make(s, (self,), (s * (1.0 - s),))

    def backward(self):
        self.grad = 1.0

        def propagate(node):
            node._backward()
            for child in node._prev:
                propagate(child)

        propagate(self)


class _ValueForwardOrder:
    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)
        self._op = _op

    def _make(self, data, children, local):
        # local: d(out)/d(child) for each child, in order
        out = type(self)(data, children)

        def _backward():
            for child, slope in zip(children, local, strict=True):
                child.grad += slope * out.grad

        out._backward = _backward
        return out

    def _lift(self, other):
        return other if isinstance(other, type(self)) else type(self)(other)

    def __add__(self, other):
        other = self._lift(other)
        return self._make(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = self._lift(other)
        return self._make(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, other):
        k = float(other)
        return self._make(self.data**k, (self,), (k * self.data ** (k - 1),))

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * self._lift(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return (-self) + other

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return self**-1 * other

    def exp(self):
        e = math.exp(self.data)
        return self._make(e, (self,), (e,))

    def log(self):
        return self._make(math.log(self.data), (self,), (1.0 / self.data,))

    def tanh(self):
        t = math.tanh(self.data)
        return self._make(t, (self,), (1.0 - t * t,))

    def relu(self):
        return self._make(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,))

    def sigmoid(self):
        s = 0.5 * (1.0 + math.tanh(0.5 * self.data))
        return self._make(s, (self,), (s * (1.0 - s),))

    def backward(self):
        order, seen = [], set()

        def visit(node):
            if id(node) not in seen:
                seen.add(id(node))
                for child in node._prev:
                    visit(child)
                order.append(node)

        visit(self)
        self.grad = 1.0
        for node in order:
            node._backward()


class _ValueTanhOfInput:
    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)
        self._op = _op

    def _make(self, data, children, local):
        # local: d(out)/d(child) for each child, in order
        out = type(self)(data, children)

        def _backward():
            for child, slope in zip(children, local, strict=True):
                child.grad += slope * out.grad

        out._backward = _backward
        return out

    def _lift(self, other):
        return other if isinstance(other, type(self)) else type(self)(other)

    def __add__(self, other):
        other = self._lift(other)
        return self._make(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = self._lift(other)
        return self._make(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, other):
        k = float(other)
        return self._make(self.data**k, (self,), (k * self.data ** (k - 1),))

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * self._lift(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return (-self) + other

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return self**-1 * other

    def exp(self):
        e = math.exp(self.data)
        return self._make(e, (self,), (e,))

    def log(self):
        return self._make(math.log(self.data), (self,), (1.0 / self.data,))

    def tanh(self):
        t = math.tanh(self.data)
        return self._make(t, (self,), (1.0 - self.data**2,))

    def relu(self):
        return self._make(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,))

    def sigmoid(self):
        s = 0.5 * (1.0 + math.tanh(0.5 * self.data))
        return self._make(s, (self,), (s * (1.0 - s),))

    def backward(self):
        order, seen = [], set()

        def visit(node):
            if id(node) not in seen:
                seen.add(id(node))
                for child in node._prev:
                    visit(child)
                order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()



MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        exercise="a3.affine",
        name="transposed-dw",
        mistake="the weight gradient is transposed: dw must be X.T @ dout, of shape (D, M) like "
        "w, not dout.T @ X",
        fails=("backward", "gradcheck", "stability"),
        functions={"affine_backward": _affine_backward_transposed_dw},
    ),
    Mutant(
        exercise="a3.affine",
        name="dropped-db",
        mistake="the bias gradient is dropped (db is all zeros): db is dout summed over the "
        "batch axis",
        fails=("backward", "gradcheck", "stability"),
        functions={"affine_backward": _affine_backward_no_db},
    ),
    Mutant(
        exercise="a3.affine",
        name="dx-not-reshaped",
        mistake="dx is left flat, shape (N, D): reshape it to the shape of x (N, d1, ..., dk)",
        fails=("backward", "gradcheck"),
        functions={"affine_backward": _affine_backward_flat_dx},
    ),
    Mutant(
        exercise="a3.affine",
        name="db-wrong-axis",
        mistake="db is summed over the wrong axis: sum dout over the batch axis (axis 0), "
        "giving shape (M,)",
        fails=("backward", "gradcheck", "stability"),
        functions={"affine_backward": _affine_backward_db_wrong_axis},
    ),
    Mutant(
        exercise="a3.affine_relu",
        name="no-relu-mask",
        mistake="the backward pass ignores the ReLU: dout must be zeroed where the "
        "pre-activation z = X @ w + b is <= 0 before the affine backward",
        fails=("backward", "gradcheck", "stability"),
        functions={"affine_relu_backward": _affine_relu_backward_no_mask},
    ),
    Mutant(
        exercise="a3.affine_relu",
        name="times-output",
        mistake="the ReLU backward multiplies dout by the ReLU's output instead of by the 0/1 "
        "mask (z > 0)",
        fails=("backward", "gradcheck", "stability"),
        functions={"affine_relu_backward": _affine_relu_backward_times_output},
    ),
    Mutant(
        exercise="a3.affine_relu",
        name="bias-after-relu",
        mistake="the bias is added after the ReLU: it belongs inside, relu(X @ w + b)",
        fails=("forward", "backward", "gradcheck", "stability"),
        functions={"affine_relu_forward": _affine_relu_forward_bias_after_relu,
                   "affine_relu_backward": _affine_relu_backward_bias_after_relu},
    ),
    Mutant(
        exercise="a3.perceptron",
        name="strict-step",
        mistake="the step uses z > 0: a score of exactly z == 0 must predict 1 (z >= 0)",
        fails=("predict", "epoch"),
        functions={"perceptron_predict": _perceptron_predict_strict,
                   "perceptron_epoch": _perceptron_epoch_strict},
    ),
    Mutant(
        exercise="a3.perceptron",
        name="batch-update",
        mistake="the epoch predicts every sample with the initial weights and applies the "
        "summed update at the end; the perceptron updates after each sample (online)",
        fails=("epoch",),
        functions={"perceptron_epoch": _perceptron_epoch_batch},
    ),
    Mutant(
        exercise="a3.perceptron",
        name="no-bias-update",
        mistake="the bias is never updated: b <- b + lr * (y_i - y_hat_i) after each sample",
        fails=("epoch",),
        functions={"perceptron_epoch": _perceptron_epoch_no_bias},
    ),
    Mutant(
        exercise="a3.mlp_loss",
        name="reg-on-biases",
        mistake="the L2 penalty is applied to the biases too; it covers the weights W only",
        fails=("loss", "gradients"),
        patch=(
            ("    grads = {}\n",
             '    loss += 0.5 * reg * sum(np.sum(params[f"b{k}"] ** 2)\n'
             "                            for k in range(1, layers + 1))\n"
             "    grads = {}\n"),
            ('grads[f"b{layers}"] = dscores.sum(axis=0)',
             'grads[f"b{layers}"] = dscores.sum(axis=0) + reg * params[f"b{layers}"]'),
            ('grads[f"b{layer}"] = dz.sum(axis=0)',
             'grads[f"b{layer}"] = dz.sum(axis=0) + reg * params[f"b{layer}"]'),
        ),
    ),
    Mutant(
        exercise="a3.mlp_loss",
        name="penalty-gradient-doubled",
        mistake="the penalty's gradient is 2 * reg * W; the derivative of 0.5 * reg * W**2 is "
        "reg * W",
        fails=("gradients", "gradcheck"),
        patch=(
            ('h.T @ dscores + reg * params', 'h.T @ dscores + 2.0 * reg * params'),
            ('h_in.T @ dz + reg * params', 'h_in.T @ dz + 2.0 * reg * params'),
        ),
    ),
    Mutant(
        exercise="a3.mlp_loss",
        name="no-mean-in-gradient",
        mistake="the softmax gradient misses the 1/N: dscores = (softmax - one_hot) / N, as "
        "the loss is a mean",
        fails=("gradients", "gradcheck"),
        patch=(("    dscores /= n\n", ""),),
    ),
    Mutant(
        exercise="a3.mlp_loss",
        name="no-max-shift",
        mistake="the softmax takes exp of the raw scores, which overflows for large scores: "
        "subtract each row's max first",
        fails=("loss", "gradients", "gradcheck"),
        patch=(("shifted = scores - scores.max(axis=1, keepdims=True)", "shifted = scores"),),
    ),
    Mutant(
        exercise="a3.mlp_loss",
        name="relu-passes-everything",
        mistake="the ReLU's backward passes every gradient; it must zero it where the hidden "
        "pre-activation is <= 0",
        fails=("gradients", "gradcheck"),
        patch=(("dz = dh * (z > 0)", "dz = dh"),),
    ),
    Mutant(
        exercise="a3.mlp_loss",
        name="tanh-derivative-of-z",
        mistake="the tanh derivative uses the pre-activation, 1 - z**2; it is 1 - tanh(z)**2",
        fails=("gradients", "gradcheck"),
        patch=(("dz = dh * (1.0 - a**2)", "dz = dh * (1.0 - z**2)"),),
    ),
    Mutant(
        exercise="a3.value",
        name="grad-overwritten",
        mistake="gradients are overwritten (=) instead of accumulated (+=), so a node used "
        "more than once keeps only its last contribution",
        fails=("reuse",),
        functions={"Value": _ValueOverwrite},
    ),
    Mutant(
        exercise="a3.value",
        name="no-topological-sort",
        mistake="backward recurses into the children without a topological order, so a node "
        "shared by two paths passes its gradient on before it is complete",
        fails=("reuse",),
        functions={"Value": _ValueNoTopologicalSort},
    ),
    Mutant(
        exercise="a3.value",
        name="forward-order",
        mistake="backward calls _backward in topological order instead of reverse "
        "topological order (the output must go first)",
        fails=("backward", "reuse"),
        functions={"Value": _ValueForwardOrder},
    ),
    Mutant(
        exercise="a3.value",
        name="tanh-derivative-of-input",
        mistake="tanh's derivative uses the input, 1 - x**2; it is 1 - tanh(x)**2",
        fails=("backward", "reuse"),
        functions={"Value": _ValueTanhOfInput},
    ),
)
