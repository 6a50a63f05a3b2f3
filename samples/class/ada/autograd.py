"""A3 - a scalar autograd engine.

Student: Ada Lovelace
"""

import math


class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self.parents = list(_children)  # pairs (node, local derivative)

    @staticmethod
    def wrap(v):
        return v if isinstance(v, Value) else Value(v)

    def __add__(self, other):
        other = Value.wrap(other)
        return Value(self.data + other.data, [(self, 1.0), (other, 1.0)])

    __radd__ = __add__

    def __mul__(self, other):
        other = Value.wrap(other)
        return Value(self.data * other.data, [(self, other.data), (other, self.data)])

    __rmul__ = __mul__

    def __neg__(self):
        return Value(-self.data, [(self, -1.0)])

    def __sub__(self, other):
        other = Value.wrap(other)
        return Value(self.data - other.data, [(self, 1.0), (other, -1.0)])

    def __rsub__(self, other):
        return Value.wrap(other) - self

    def __truediv__(self, other):
        other = Value.wrap(other)
        q = self.data / other.data
        return Value(q, [(self, 1.0 / other.data), (other, -q / other.data)])

    def __rtruediv__(self, other):
        return Value.wrap(other) / self

    def __pow__(self, k):
        return Value(self.data ** k, [(self, k * self.data ** (k - 1))])

    def exp(self):
        e = math.exp(self.data)
        return Value(e, [(self, e)])

    def log(self):
        return Value(math.log(self.data), [(self, 1.0 / self.data)])

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, [(self, 1.0 - t ** 2)])

    def relu(self):
        return Value(self.data * (self.data > 0), [(self, float(self.data > 0))])

    def sigmoid(self):
        s = 1.0 / (1.0 + math.exp(-self.data)) if self.data > -30 else math.exp(self.data)
        return Value(s, [(self, s * (1.0 - s))])

    def backward(self):
        order, done = [], set()

        def visit(v):
            if v in done:
                return
            done.add(v)
            for parent, _ in v.parents:
                visit(parent)
            order.append(v)

        visit(self)
        self.grad = 1.0
        for v in order[::-1]:
            for parent, local in v.parents:
                parent.grad += local * v.grad
