"""The reference engine: tinygrad_nn for scalars in micrograd's shape. Read this first.

Everything the real engine (tinygrad_nn/engine/ and ops/) does for a graph of Python floats happens here in
a few lines: each op computes its value and keeps a closure that passes its gradient back to its inputs, and
`backward` runs those closures latest node first. The real engine does the same with a table of ops
(so that every rule also works on numpy arrays and on Values, for higher order) and without closures
(so that a graph is freed as soon as it is dropped): its `Value` is engine/node.py, its `backward` and the
rules' contract (`run_rules`) engine/backward.py. tests/engine/test_reference_engine.py runs random
programs through both and requires the same values and gradients, bit for bit: the formulas below are
written as the real rules are, in the same order of operations.

>>> from tinygrad_nn.micro import Value
>>> a, b = Value(-4.0), Value(3.0)
>>> c = (a * b + b ** 3).relu() + a.tanh()
>>> c.backward()
>>> round(a.grad, 6), b.grad
(3.001341, 23.0)
"""

from __future__ import annotations

import itertools
import math

_creation = itertools.count()


class Value:
    """A scalar node: its value, its gradient, its inputs and how to pass a gradient back to them."""

    def __init__(self, data, _prev=(), _op="", label=""):
        self.data = float(data)
        self.grad = 0.0
        self._prev = _prev
        self._op = _op  # the op's name: a label for drawing, as in micrograd
        self.label = label
        self._backward = lambda: None
        self._order = next(_creation)  # creation order is a topological order

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    # Each op: the value, then the rule that sends the output's gradient (out.grad) to the inputs.
    def __add__(self, other):
        other = _value(other)
        out = Value(self.data + other.data, (self, other), "add")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = _value(other)
        out = Value(self.data * other.data, (self, other), "mul")

        def _backward():
            self.grad += out.grad * other.data
            other.grad += out.grad * self.data
        out._backward = _backward
        return out

    def __truediv__(self, other):
        other = _value(other)
        out = Value(self.data / other.data, (self, other), "div")

        def _backward():
            self.grad += out.grad / other.data
            other.grad += -out.grad * (out.data / other.data)  # PyTorch's order of operations
        out._backward = _backward
        return out

    def __pow__(self, k):
        assert isinstance(k, (int, float)), "the reference engine takes number exponents only"
        k = float(k)
        x = self.data
        out = Value(_pow(x, k), (self,), "pow")

        def _backward():
            if k == 0:
                self.grad += out.grad * 0.0
            elif k == 2:
                self.grad += out.grad * (2.0 * x)
            else:
                self.grad += out.grad * (k * _pow(x, k - 1.0))
        out._backward = _backward
        return out

    def exp(self):
        out = Value(_exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.grad * out.data
        out._backward = _backward
        return out

    def log(self):
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += out.grad * (1.0 - out.data * out.data)
        out._backward = _backward
        return out

    def sigmoid(self):
        out = Value(1.0 / (1.0 + _exp(-self.data)), (self,), "sigmoid")

        def _backward():
            self.grad += out.grad * (1.0 - out.data) * out.data
        out._backward = _backward
        return out

    def relu(self):
        out = Value(0.0 if self.data <= 0.0 else self.data, (self,), "relu")

        def _backward():
            self.grad += out.grad * (not out.data <= 0.0)
        out._backward = _backward
        return out

    def backward(self):
        # Every node that leads here, latest first: each passes its gradient on only once it has them all.
        seen, stack, nodes = {self}, [self], []
        while stack:
            v = stack.pop()
            nodes.append(v)
            for p in v._prev:
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        self.grad = 1.0
        for v in sorted(nodes, key=lambda v: v._order, reverse=True):
            v._backward()

    # The rest is written with the ops above.
    def __neg__(self):
        return _neg(self)

    def __sub__(self, other):
        return self + _neg(_value(other))

    def __radd__(self, other):
        return _value(other) + self

    def __rmul__(self, other):
        return _value(other) * self

    def __rsub__(self, other):
        return _value(other) - self

    def __rtruediv__(self, other):  # number / x as PyTorch computes it: reciprocal(x) * number
        return _reciprocal(self) * other


def _value(x):
    return x if isinstance(x, Value) else Value(x)


def _neg(x):
    out = Value(-x.data, (x,), "neg")

    def _backward():
        x.grad += -out.grad
    out._backward = _backward
    return out


def _reciprocal(x):
    out = Value(1.0 / x.data, (x,), "reciprocal")

    def _backward():
        x.grad += -out.grad * (out.data * out.data)
    out._backward = _backward
    return out


def _exp(x):
    try:
        return math.exp(x)
    except OverflowError:  # numpy and PyTorch give inf
        return math.inf


def _pow(x, k):
    # PyTorch's CPU kernel special-cases these exponents; so does the real engine, and so do we.
    special = {2: lambda: x * x, 3: lambda: x * x * x, 1: lambda: x, -1: lambda: 1.0 / x,
               -2: lambda: 1.0 / (x * x), 0.5: lambda: math.sqrt(x), -0.5: lambda: 1.0 / math.sqrt(x)}
    return special[k]() if k in special else x ** k
