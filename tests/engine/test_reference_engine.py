"""The reference engine (tinygrad_nn/micro.py) and the real one compute the same thing, bit for bit.

Hypothesis writes random scalar programs (a list of steps, each an op on earlier results and a few leaves);
each runs through both engines, and every value and every leaf's gradient must be equal to the last bit.
The programs use every op the reference engine has, numbers on either side, running sums (sum(...)), and
reuse of results (so that gradients from several paths add up, where the order of the additions shows).
"""

from __future__ import annotations

import math

from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygrad_nn
from tinygrad_nn import fastpaths, micro

UNARY = ["neg", "exp", "log", "tanh", "sigmoid", "relu", "pow2", "pow3", "pow-1", "pow-2", "pow0.5", "pow1.7",
         "pow0"]
BINARY = ["add", "sub", "mul", "div", "radd", "rsub", "rmul", "rdiv", "sum3"]


def run(engine, leaves, program):
    """Run `program` with `engine`'s Value; return the output's value, every result's value, the leaves' grads."""
    xs = [engine.Value(v) for v in leaves]
    vals = list(xs)
    for op, i, j, c in program:
        a, b = vals[i % len(vals)], vals[j % len(vals)]
        if op == "log":
            y = (a * a + 0.5).log()  # keeps the log's argument positive
        elif op == "pow0.5":
            y = (a * a + 0.25) ** 0.5
        elif op == "pow1.7":
            y = (a * a + 0.25) ** 1.7
        elif op.startswith("pow"):
            y = a ** int(op[3:])
        elif op == "neg":
            y = -a
        elif op in ("exp", "tanh", "sigmoid", "relu"):
            y = getattr(a, op)()
        elif op == "add":
            y = a + b
        elif op == "sub":
            y = a - b
        elif op == "mul":
            y = a * b
        elif op == "div":
            y = a / b
        elif op == "radd":
            y = c + a
        elif op == "rsub":
            y = c - a
        elif op == "rmul":
            y = c * a
        elif op == "rdiv":
            y = c / a
        elif op == "sum3":  # a running sum of temporaries, as micrograd's neurons write them
            y = sum((v * c for v in (a, b, a)), b)
        vals.append(y)
    # Every result also feeds the output (several paths into each leaf), with weights that are not powers of
    # two, so that upstream gradients carry rounding into every rule.
    out = vals[-1] * 1.3
    for v in vals[len(leaves):-1]:
        out = out + v * 0.3
    out.backward()
    return out.data, [v.data for v in vals], [x.grad for x in xs]


def same(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


step = st.tuples(st.sampled_from(UNARY + BINARY), st.integers(0, 50), st.integers(0, 50),
                 st.sampled_from([0.5, -1.25, 2.0, 3.0]))
programs = st.lists(step, min_size=1, max_size=12)
leaf_values = st.lists(st.floats(-2.0, 2.0, allow_nan=False, allow_subnormal=False).filter(lambda v: abs(v) > 1e-3),
                       min_size=1, max_size=4)


def _both(leaves, program):
    try:
        ref = run(micro, leaves, program)
    except (ZeroDivisionError, OverflowError, ValueError):
        assume(False)  # a division by 0.0, say: Python raises in both engines alike (tested elsewhere)
    return ref, run(tinygrad_nn, leaves, program)


@settings(max_examples=200, deadline=None)
@given(leaf_values, programs)
def test_random_programs_agree_bit_for_bit(leaves, program):
    (out_r, vals_r, grads_r), (out, vals, grads) = _both(leaves, program)
    assert same(out, out_r)
    assert all(same(a, b) for a, b in zip(vals, vals_r))
    assert all(same(a, b) for a, b in zip(grads, grads_r)), (grads, grads_r)


@settings(max_examples=60, deadline=None)
@given(leaf_values, programs)
def test_random_programs_agree_without_the_fast_paths_too(leaves, program):
    fastpaths.disable()
    try:
        (out_r, _, grads_r), (out, _, grads) = _both(leaves, program)
    finally:
        fastpaths.enable()
    assert same(out, out_r) and all(same(a, b) for a, b in zip(grads, grads_r))


def test_a_program_of_every_op():
    program = [(op, k, k + 1, 0.5) for k, op in enumerate(UNARY + BINARY)]
    (out_r, vals_r, grads_r), (out, vals, grads) = _both([0.7, -1.3, 1.1], program)
    assert out == out_r and vals == vals_r and grads == grads_r


def test_the_reference_engine_is_short():
    # It is there to be read in one sitting.
    lines = [ln for ln in open(micro.__file__, encoding="utf-8").read().splitlines() if ln.strip()]
    assert len(lines) <= 200
