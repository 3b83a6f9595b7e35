"""Random programs: Hypothesis composes 2 to 6 of the registry's elementwise functions over leaves of
random broadcastable shapes (see programs.py), and checks

- the whole program's gradients against central finite differences (gradcheck), and its second
  derivatives on smaller programs (gradgradcheck);
- the scalar engine against the tensor engine: the same program run once per output element on Python
  floats gives the tensor run's values, and its gradients summed over the elements give the tensor run's
  gradients. math (scalars) and numpy (tensors) may round the last bit differently, and a program carries
  such differences through up to 6 functions and their squashes: hence a tolerance of about 100 ulps.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_nn import Value, gradcheck, gradgradcheck
from tinygrad_nn.testing import OPINFOS

from .programs import ELEMENTWISE, is_elementwise, programs, run, run_scalars

# |scalar - tensor| <= ATOL + RTOL * |tensor|: some hundred ulps of the result, and an absolute floor for
# results that are differences of nearly equal terms (1 - sigmoid(x)^2 and the like).
RTOL, ATOL = 1e-11, 1e-13

# A second-order check costs a backward pass per element of the gradient: fewer, smaller programs.
_fewer = settings(max_examples=max(5, settings().max_examples // 5))


def test_the_draws_are_the_elementwise_functions():
    # Found from the registry; these few must be among them, or the detection is broken.
    assert {"add", "mul", "div", "exp", "log", "tanh", "sigmoid", "relu", "where"} <= set(ELEMENTWISE)
    for name in ("sum", "mean", "softmax", "reshape", "transpose", "matmul", "getitem"):
        if name in OPINFOS:
            assert not is_elementwise(OPINFOS[name]), name


@given(case=programs(ELEMENTWISE))
def test_program_gradients_match_finite_differences(case):
    program, leaves = case
    assert gradcheck(lambda *xs: run(program, xs), *leaves)


@_fewer
@given(case=programs(ELEMENTWISE, max_steps=4, max_leaves=2, max_side=2))
def test_program_second_derivatives_match_finite_differences(case):
    program, leaves = case
    assert gradgradcheck(lambda *xs: run(program, xs), *leaves)


@given(case=programs(ELEMENTWISE), data=st.data())
def test_scalar_engine_matches_tensor_engine(case, data):
    program, leaves = case
    xs = [Value(a) for a in leaves]
    out = run(program, xs)
    assert out.shape == program.shape
    assert out.data.__class__ is np.ndarray
    upstream = data.draw(hnp.arrays(np.float64, out.shape, elements=st.floats(-2.0, 2.0, allow_subnormal=False)),
                         label="upstream")
    out.backward(upstream)

    values, grads = run_scalars(program, leaves, upstream)
    np.testing.assert_allclose(values, out.data, rtol=RTOL, atol=ATOL, err_msg="values")
    for i, (x, g) in enumerate(zip(xs, grads)):
        assert x.grad.shape == x.shape
        np.testing.assert_allclose(g, x.grad, rtol=RTOL, atol=ATOL, err_msg=f"gradient of x{i}")
