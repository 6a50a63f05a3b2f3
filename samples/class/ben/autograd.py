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
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        """self * other: d/dself = other, d/dother = self."""
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, other):
        """self ** k for a plain number k: d/dself = k * self ** (k - 1)."""
        k = float(other)
        out = Value(self.data**k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def __neg__(self):
        """-self."""
        return self * -1.0

    def __sub__(self, other):
        """self - other."""
        return self + (-other)

    def __truediv__(self, other):
        """self / other (other a Value or a number)."""
        other = other if isinstance(other, Value) else Value(other)
        return self * other**-1

    def __radd__(self, other):
        """other + self, for a plain number other."""
        return self + other

    def __rsub__(self, other):
        """other - self, for a plain number other."""
        return (-self) + other

    def __rmul__(self, other):
        """other * self, for a plain number other."""
        return self * other

    def __rtruediv__(self, other):
        """other / self, for a plain number other."""
        return self**-1 * other

    def exp(self):
        """e ** self: derivative e ** self."""
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self):
        """Natural log (self > 0): derivative 1 / self."""
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self):
        """tanh(self): derivative 1 - tanh(self) ** 2."""
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1.0 - t * t) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        """max(self, 0): derivative 1 where self > 0, else 0."""
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self):
        """1 / (1 + e ** -self): derivative s * (1 - s) with s the sigmoid."""
        if self.data >= 0:
            s = 1.0 / (1.0 + math.exp(-self.data))
        else:
            e = math.exp(self.data)
            s = e / (1.0 + e)
        out = Value(s, (self,), "sigmoid")

        def _backward():
            self.grad += s * (1.0 - s) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        """Fill in .grad of every node this one depends on: set self.grad = 1.0, then call
        each node's _backward in reverse topological order (every node after all the nodes
        that use it). Build the order with a depth-first search that visits each node once."""
        order, seen = [], set()
        stack = [(self, False)]
        while stack:  # iterative post-order DFS: deep graphs do not hit the recursion limit
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev if id(child) not in seen)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()
