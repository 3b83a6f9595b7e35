"""Random programs of the attack tests (tests/attack/programs.py), jitted: output and every leaf's gradient
equal eager's bit for bit, on the recorded data and on new data."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.attack.programs import ELEMENTWISE, programs, run
from tests.jit.helpers import same_bits
from tinygrad_nn import Value, jit


def _eager(program, arrays, upstream):
    leaves = [Value(a) for a in arrays]
    out = run(program, leaves)
    out.backward(upstream)
    return out, [x.grad for x in leaves]


@settings(max_examples=25, deadline=None)
@given(case=programs(ELEMENTWISE), data=st.data())
def test_a_random_program_replays_bit_for_bit(case, data):
    program, arrays = case
    upstream = np.random.default_rng(0).uniform(0.5, 1.5, program.shape)

    def step(*leaves):
        out = run(program, leaves)
        out.backward(upstream)
        return out

    jitted = jit.jit(step, strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for k in range(4):
            now = [np.asarray(a * (1.0 + 1e-9 * k)) for a in arrays]  # a hair apart, inside every domain
            leaves = [Value(a) for a in now]
            out = jitted(*leaves)
            out_e, grads_e = _eager(program, now, upstream)
            assert same_bits(out, out_e), f"call {k}: output differs\n{program}"
            for i, (x, g) in enumerate(zip(leaves, grads_e)):
                assert same_bits(x.grad, g), f"call {k}: gradient of x{i} differs\n{program}"
