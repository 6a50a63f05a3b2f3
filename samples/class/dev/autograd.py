# dlgrade handout: autograd.py, version 2026.12, interface 23ddd17a0a33 (keep this line)
"""A scalar reverse-mode autograd engine (in the style of micrograd).

A ``Value`` wraps one number (``.data``, a float) and records how it was computed, so that
``out.backward()`` can fill in ``.grad = d out / d node`` for every node ``out`` depends on.

How it works: every operation creates a new Value that remembers its operands (its
children) and a small function ``_backward`` that, given the new node's ``.grad``, ADDS the
node's contribution to each child's ``.grad`` (chain rule). ``backward()`` sets
``self.grad = 1.0`` and then calls ``_backward`` of every node in reverse topological order
(a node only after every node that uses it), so each node's gradient is complete before it
is passed on. Gradients must accumulate (``+=``): a node used twice (``x * x``, or a node
feeding two branches that meet again) receives a contribution from each use.
"""

import math


class Value:
    """A scalar node of a computation graph.

    Attributes:
        data: the number (a float).
        grad: d(output)/d(this node) after output.backward(); starts at 0.0.

    Operators: ``+ - * /`` between Values and plain numbers, on either side (``2 * v``,
    ``1 - v``, ``3 / v`` included), unary ``-v``, and ``v ** k`` for a plain number k.
    Methods ``exp()``, ``log()`` (natural log), ``tanh()``, ``relu()`` (max(x, 0), with
    derivative 0 at x <= 0) and ``sigmoid()`` (1 / (1 + e^-x)) each return a new Value.
    """

    def __init__(self, data, _children=(), _op=""):
        """A node holding ``data``; _children and _op are for the operations' own use."""
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)
        self._op = _op

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other):
        """self + other: d/dself = 1, d/dother = 1."""
        # YOUR CODE HERE
        raise NotImplementedError("a3.value: implement Value.__add__")

    def __mul__(self, other):
        """self * other: d/dself = other, d/dother = self."""
        # YOUR CODE HERE
        raise NotImplementedError("a3.value: implement Value.__mul__")

    def __pow__(self, other):
        """self ** k for a plain number k: d/dself = k * self ** (k - 1)."""
        # YOUR CODE HERE
        raise NotImplementedError("a3.value: implement Value.__pow__")

    def __neg__(self):
        """-self."""
        # YOUR CODE HERE
        raise NotImplementedError("a3.value: implement Value.__neg__")

    def __sub__(self, other):
        """self - other."""
        # YOUR CODE HERE
        raise NotImplementedError("a3.value: implement Value.__sub__")

    def __truediv__(self, other):
        """self / other (other a Value or a number)."""
        # YOUR CODE HERE
        raise NotImplementedError("a3.value: implement Value.__truediv__")

    def __radd__(self, other):
        """other + self, for a plain number other."""
        # YOUR CODE HERE
        raise NotImplementedError("a3.value: implement Value.__radd__")

    def __rsub__(self, other):
        """other - self, for a plain number other."""
        # YOUR CODE HERE
        raise NotImplementedError("a3.value: implement Value.__rsub__")

    def __rmul__(self, other):
        """other * self, for a plain number other."""
        # YOUR CODE HERE
        raise NotImplementedError("a3.value: implement Value.__rmul__")

    def __rtruediv__(self, other):
        """other / self, for a plain number other."""
        # YOUR CODE HERE
        raise NotImplementedError("a3.value: implement Value.__rtruediv__")

    def exp(self):
        """e ** self: derivative e ** self."""
        # YOUR CODE HERE
        raise NotImplementedError("a3.value: implement Value.exp")

    def log(self):
        """Natural log (self > 0): derivative 1 / self."""
        # YOUR CODE HERE
        raise NotImplementedError("a3.value: implement Value.log")

    def tanh(self):
        """tanh(self): derivative 1 - tanh(self) ** 2."""
        # YOUR CODE HERE
        raise NotImplementedError("a3.value: implement Value.tanh")

    def relu(self):
        """max(self, 0): derivative 1 where self > 0, else 0."""
        # YOUR CODE HERE
        raise NotImplementedError("a3.value: implement Value.relu")

    def sigmoid(self):
        """1 / (1 + e ** -self): derivative s * (1 - s) with s the sigmoid."""
        # YOUR CODE HERE
        raise NotImplementedError("a3.value: implement Value.sigmoid")

    def backward(self):
        """Fill in .grad of every node this one depends on: set self.grad = 1.0, then call
        each node's _backward in reverse topological order (every node after all the nodes
        that use it). Build the order with a depth-first search that visits each node once."""
        # YOUR CODE HERE
        raise NotImplementedError("a3.value: implement Value.backward")
