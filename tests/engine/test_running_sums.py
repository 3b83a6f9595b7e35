"""Running sums: `sum(w * x for ...)` and `a + b + c * d` are recorded as one add_n node, not a chain of adds.

The engine folds a term into a sum only when nothing but the expression holds the sum and the term
(Value.__add__), and it never changes a node: the longer sum is a new node. These tests pin down that
nobody can tell: values, gradients and the order in which gradients accumulate are those of the chain,
bit for bit, and a sum that is kept keeps its value.
"""

import functools
import operator
import random
import sys
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_nn import Value, fastpaths, grad, no_grad
from tinygrad_nn.viz import to_dot

from .test_micrograd_compat import make_mlp_classes

# Folding needs exact reference counts: CPython up to 3.13, with the GIL (elsewhere sums stay chains).
pytestmark = pytest.mark.skipif(sys.implementation.name != "cpython" or sys.version_info >= (3, 14)
                                or not getattr(sys, "_is_gil_enabled", lambda: True)(),
                                reason="running sums are folded on CPython < 3.14 with the GIL only")


def ops_of(v):
    return [p.op for p in v._prev]


# -- when a sum is folded --------------------------------------------------------------------------


def test_a_neurons_weighted_sum_is_one_node():
    w = [Value(float(i) + 0.5) for i in range(5)]
    b = Value(0.25)
    x = [1.0, -2.0, 0.5, 3.0, -1.5]
    act = sum((wi * xi for wi, xi in zip(w, x)), b)
    assert act.op == "add_n"
    head, *terms = act._prev
    assert head.op == "add" and head._prev[0] is b  # b + w0*x0: the bias is not a temporary
    assert [t.op for t in terms] == ["mul"] * 4
    assert act.data == ((((0.25 + 0.5 * 1.0) + 1.5 * -2.0) + 2.5 * 0.5) + 3.5 * 3.0) + 4.5 * -1.5
    act.backward()
    assert [wi.grad for wi in w] == x and b.grad == 1.0


def test_an_expression_of_temporaries_is_one_node():
    a, b, c = Value(2.0), Value(-3.0), Value(0.5)
    y = a * b + b * c + c * a + 1.0
    assert y.op == "add_n" and ops_of(y) == ["add", "mul", ""]
    y.backward()
    assert (a.grad, b.grad, c.grad) == (-2.5, 2.5, -1.0)


def test_a_named_sum_is_added_to_by_an_ordinary_add():
    a, b = Value(1.5), Value(-0.5)
    s = a * b + a * a + b * b  # add_n over (a*b + a*a) and b*b
    before = (s.data, s._prev)
    t = s + a * b
    assert t is not s and (s.data, s._prev) == before
    assert t.op == "add" and t._prev[0] is s


def test_terms_held_elsewhere_are_added_by_a_chain():
    a = Value(3.0)
    terms = [a * k for k in (1.0, 2.0, 3.0)]  # a list holds them
    s = sum(terms, a * 0.5)
    assert s.op == "add" and s._prev[0].op == "add" and s._prev[0]._prev[0].op == "add"
    named = a * 4.0
    u = (a * 1.0 + a * 2.0) + named
    assert u.op == "add"


def test_a_sum_kept_by_c_code_keeps_its_value():
    # numpy's object loops hold their elements without a reference of their own: to Value.__add__, a1[0]
    # looks like a temporary. It must still not change, nor be confused with the sums grown from it.
    x, y = Value(2.0), Value(3.0)
    a2, a3 = np.empty(1, object), np.empty(1, object)
    a2[0], a3[0] = x * x, y * y  # older than the sum they join: backward reaches them after it
    a1 = np.empty(1, object)
    a1[0] = x * y + y * y + x * x
    r, r2 = a1 + a2, a1 + a3  # two sums grown from the same one
    assert (a1[0].data, r[0].data, r2[0].data) == (19.0, 23.0, 28.0)
    assert [len(v._prev) for v in (a1[0], r[0], r2[0])] == [2, 3, 3]
    (r[0] + r2[0] + a1[0]).backward()  # 3 (xy + y^2 + x^2) + x^2 + y^2
    assert (x.grad, y.grad, a2[0].grad, a3[0].grad) == (25.0, 30.0, 1.0, 1.0)
    x.grad = y.grad = 0.0
    a1[0].backward()  # the terms that later sums added are not in its graph: not reached, not reset
    assert (x.grad, y.grad, a2[0].grad, a3[0].grad) == (7.0, 8.0, 1.0, 1.0)


def test_no_graph_under_no_grad():
    a, b = Value(1.0), Value(2.0)
    with no_grad():
        s = a * b + a * a + b * b
    assert s.op == "" and not s.requires_grad and s.data == 7.0


def test_the_interpreter_check_passes_on_this_cpython():
    assert fastpaths._sums_fuse and fastpaths._running_sums_are_safe()


# -- nobody can tell: the chain's values, gradients and accumulation order -----------------------------


def test_interleaved_uses_of_a_leaf_accumulate_in_the_chains_order():
    # h is a term, then gets new consumers (h * 2.1, k * h, h * 0.7) before the sum ends, then is a term
    # again: folding h itself in would move its gradients past theirs, and the sums would round otherwise.
    def run():
        h, k = Value(0.3), Value(1.9)

        def terms():  # each made as the sum reaches it
            yield from (h, h * 2.1, k * 0.9, h)
            yield k * h
            yield h * 0.7

        out = sum(terms(), k * 1.3) * 1.7
        out.backward()
        return out.data, h.grad, k.grad

    chain, folded = chained_and_folded(run)
    assert chain == folded == (10.523, 11.39, 4.25)  # (h's gradient would end ...999 with h folded in)


def chained_and_folded(fn):
    """fn() run with running sums recorded as chains of binary adds, then as usual."""
    fastpaths._sums_fuse = False
    try:
        chain = fn()
    finally:
        fastpaths._sums_fuse = True
    return chain, fn()


# A term of the sum: its kind and the leaves it uses (the first of only two, so that terms often share a
# leaf: the case where folding a term in could change the order its gradients accumulate in).
TERM = st.tuples(st.sampled_from(["leaf", "mul", "mulc", "num", "named", "relu"]),
                 st.integers(0, 1), st.integers(0, 3))


@settings(max_examples=200)
@given(seed=st.integers(0, 2**32 - 1), start=TERM, terms=st.lists(TERM, min_size=3, max_size=12),
       tail=st.integers(0, 3))
def test_random_running_sums_match_the_chain_bit_for_bit(seed, start, terms, tail):
    # Values from the seed, not from Hypothesis: it would shrink them to numbers like 0.5 and 1.0, whose
    # sums are exact in any order, so that an order changed by folding could not show.
    rng = random.Random(seed)
    values = [rng.uniform(-3, 3) for _ in range(4)]
    consts = [rng.uniform(-3, 3) for _ in range(1 + len(terms))]

    def run():
        leaves = [Value(v) for v in values]
        named = [leaves[0] * leaves[1], leaves[2] + leaves[3], leaves[1].relu(), leaves[3] * 0.7]

        def term(spec, c):  # made as the sum reaches it, so its own nodes come between the sum's
            kind, i, j = spec
            if kind == "leaf":
                return leaves[i]
            if kind == "mul":
                return leaves[i] * leaves[j]
            if kind == "mulc":
                return leaves[i] * c
            if kind == "num":
                return c
            if kind == "named":
                return named[i]
            return (leaves[i] - leaves[j]).relu()

        s = term(start, consts[0])
        if not isinstance(s, Value):
            s = leaves[tail] * s
        s = sum((term(t, c) for t, c in zip(terms, consts[1:])), s)
        out = s * leaves[tail] + named[tail] * s  # more consumers after the sum
        out.backward()
        return [out.data, s.data] + [v.grad for v in leaves + named]

    chain, folded = chained_and_folded(run)
    assert chain == folded


def test_micrograd_mlp_gradients_match_torch_bit_for_bit():
    torch = pytest.importorskip("torch")
    X = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    Y = [1.0, -1.0, -1.0, 1.0]

    def loss_and_grads(V):
        model = make_mlp_classes(V)(3, [8, 8, 1], random.Random(5))
        scores = [model(x) for x in X]
        data_loss = sum((1 + -yi * si).relu() for yi, si in zip(Y, scores)) * (1.0 / len(Y))
        loss = data_loss + 1e-4 * sum(p * p for p in model.parameters())
        loss.backward()
        return float(loss.data), [float(p.grad) for p in model.parameters()]

    def tensor(x):
        return torch.tensor(float(x), dtype=torch.float64, requires_grad=True)

    ours, theirs = loss_and_grads(Value), loss_and_grads(tensor)
    assert ours == theirs


# -- the rest of the engine sees an ordinary node ------------------------------------------------------


def test_second_order_through_a_running_sum():
    def g(x):
        return sum((x * x * c for c in (0.5, 1.5, 2.0)), x * x)  # 5 x^2

    assert grad(g)(1.5) == 15.0 and grad(grad(g))(1.5) == 10.0


def test_a_running_sum_draws_as_one_node():
    w = [Value(1.0), Value(2.0), Value(3.0)]
    act = sum((wi * 2.0 for wi in w), Value(0.5))
    assert isinstance(act._prev, tuple)
    dot = to_dot(act)
    assert dot.count("{ add_n |") == 1 and dot.count("{ add |") == 1 and dot.count("{ mul |") == 3
    assert dot.count(" -> ") == 2 + 3 + 3 * 2  # add: two inputs; add_n: add and two products; products: two


def test_a_finished_graph_with_running_sums_is_freed_without_the_collector(no_gc):
    w = [Value(float(i)) for i in range(4)]
    act = sum((wi * 0.5 for wi in w), Value(1.0)).relu()
    node = weakref.ref(act._prev[0])
    act.backward()
    del act
    assert node() is None


def test_reduce_with_operator_add_folds_too():
    a = Value(0.5)
    s = functools.reduce(operator.add, (a * k for k in (1.0, 2.0, 3.0, 4.0)))
    assert s.op == "add_n" and len(s._prev) == 3
    s.backward()
    assert a.grad == 10.0 and s.data == 5.0
