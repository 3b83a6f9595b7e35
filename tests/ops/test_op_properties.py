"""Property tests driven by the OpInfo registry: every entry of OPINFOS goes through the same checks.

The tests are parametrised by the names in OPINFOS, so an entry added with `register_test` (in
tinygrad_nn/testing/opinfos.py, or by a user's module imported before collection) is checked like the
built-in ones. Each check is a plain function of (info, arrays, params), so that it can also be run on
an entry registered later (see the user-op tests at the end) and on a deliberately broken entry.

Inputs come from Hypothesis: shapes of 0 to 3 axes (broadcasting pairs for shapes="broadcast", compatible
pairs for "matmul"), values in the entry's domain and KINK_MARGIN away from its `away_from` points.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_nn import GradcheckError, Value, grad, gradcheck, gradgradcheck, sigmoid
from tinygrad_nn.engine import data_of, gradients
from tinygrad_nn.ops import (
    OPS,
    broadcast_to,
    defop,
    getitem,
    identity,
    scatter_add,
    sum_to,
)
from tinygrad_nn.ops import sum as vsum
from tinygrad_nn.rulecheck import RuleCutError
from tinygrad_nn.testing import (
    GRADGRAD_MAX_SIDE,
    MATMUL_KINDS,
    MAX_SIDE,
    OPINFOS,
    OpInfo,
    allowed_intervals,
    canonical_cases,
    check_float32,
    check_forward,
    check_grad,
    check_gradgrad,
    check_scalar,
    output_shape,
    register_test,
    scalar_case,
)

NAMES = sorted(OPINFOS)

# Fewer examples for the costly second-order check, whatever the profile.
_fewer = settings(max_examples=max(3, settings().max_examples // 3))


# -- inputs -------------------------------------------------------------------------------------------


def elements(info):
    return st.one_of([st.floats(a, b, allow_nan=False, allow_infinity=False, allow_subnormal=False)
                      for a, b in allowed_intervals(info.domain, info.away_from)])


@st.composite
def input_shapes(draw, info, max_side):
    """The input shapes for an entry without a sample."""
    if info.shapes == "matmul":
        kind = draw(st.sampled_from(sorted(MATMUL_KINDS)))
        sizes = draw(st.tuples(*[st.integers(1, max_side)] * 4))
        return MATMUL_KINDS[kind](*sizes)
    if info.shapes == "same" or info.nargs == 1:
        shape = draw(hnp.array_shapes(min_dims=info.min_ndim, max_dims=3, min_side=1, max_side=max_side))
        return [shape] * info.nargs
    if info.shapes == "broadcast":
        bs = draw(hnp.mutually_broadcastable_shapes(num_shapes=info.nargs, min_dims=info.min_ndim, max_dims=3,
                                                    min_side=1, max_side=max_side))
        return list(bs.input_shapes)
    raise ValueError(f"OpInfo {info.name}: unknown shapes kind {info.shapes!r}")


@st.composite
def cases(draw, info, max_side=MAX_SIDE):
    """(list of float64 arrays, params) for one check of an entry."""
    if info.sample is not None:
        arrays, params = info.sample(np.random.default_rng(draw(st.integers(0, 2**32 - 1))))
        return [np.asarray(a, dtype=np.float64) for a in arrays], params
    shapes = draw(input_shapes(info, max_side))
    arrays = [draw(hnp.arrays(np.float64, s, elements=elements(info))) for s in shapes]
    params = draw(st.sampled_from(info.params(output_shape(info, shapes))))
    return arrays, params


# -- the checks: plain functions of one case --------------------------------------------------------------


# -- the property tests, one per check and entry ---------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_forward_matches_numpy(name, data):
    info = OPINFOS[name]
    check_forward(info, *data.draw(cases(info), label="case"))


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_grad_matches_finite_differences(name, data):
    info = OPINFOS[name]
    check_grad(info, *data.draw(cases(info), label="case"))


@pytest.mark.parametrize("name", [n for n in NAMES if OPINFOS[n].scalar])
@given(data=st.data())
def test_scalar_payload_matches_0d_tensor(name, data):
    info = OPINFOS[name]
    if info.sample is not None:  # the entry's own sampler keeps the structure its inputs need (no ties...)
        values, params = scalar_case(info, np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))))
    else:
        values = data.draw(st.lists(elements(info), min_size=info.nargs, max_size=info.nargs), label="values")
        params = data.draw(st.sampled_from(info.params(())), label="params")
    check_scalar(info, values, params)


@pytest.mark.parametrize("name", [n for n in NAMES if OPINFOS[n].gradgrad])
@_fewer
@given(data=st.data())
def test_gradgrad_matches_finite_differences(name, data):
    info = OPINFOS[name]
    check_gradgrad(info, *data.draw(cases(info, max_side=GRADGRAD_MAX_SIDE), label="case"))


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_float32_stays_float32(name, data):
    info = OPINFOS[name]
    check_float32(info, *data.draw(cases(info), label="case"))


@pytest.mark.parametrize("name", NAMES)
def test_every_params_case(name):
    """Every keyword dict of the entry (every axis form, every kind of index...) at least once, whatever
    Hypothesis drew: forward, gradient and float32."""
    info = OPINFOS[name]
    for arrays, params in canonical_cases(info):
        check_forward(info, arrays, params)
        check_grad(info, arrays, params)
        check_float32(info, arrays, params)


def test_matmul_draws_cover_every_kind():
    assert len(canonical_cases(OPINFOS["matmul"])) == len(MATMUL_KINDS)
    seen = {len(a.shape) * 10 + len(b.shape) for (a, b), _ in canonical_cases(OPINFOS["matmul"])}
    assert seen == {11, 21, 12, 22, 33, 32, 23, 31, 13}


# -- every primitive is tested ----------------------------------------------------------------------------

# Primitives that are no user-facing function, so they have no OpInfo; each is checked below instead.
INTERNAL = {
    "identity": "marks the inputs to differentiate at (gradcheck, grad, gradients); x itself",
    "sum_to": "un-broadcasts gradients (the engine) and is broadcast_to's gradient rule",
    "scatter_add": "getitem's gradient rule",
}


def ops_in_graph(out):
    """Names of the primitives in the graph that computed `out`."""
    seen, stack, names = set(), [out], set()
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if v._op is not None:
            names.add(v._op.name)
        stack.extend(v._prev)
    return names


def test_every_builtin_primitive_has_an_opinfo():
    used = set()
    for info in OPINFOS.values():
        for arrays, params in canonical_cases(info):
            used |= ops_in_graph(info.fn(*[Value(a) for a in arrays], **params))
    # The package's own primitives; an op a user defines elsewhere (an example, a test) is theirs to register.
    builtin = {name for name, op in OPS.items() if getattr(op.forward, "__module__", "").startswith("tinygrad_nn.")}
    assert INTERNAL.keys() <= builtin, "INTERNAL names a primitive that no longer exists"
    assert not builtin - used - INTERNAL.keys(), ("primitives used by no OpInfo: register_test them in "
                                                  "tinygrad_nn/testing/opinfos.py")


_rng = np.random.default_rng(7)
INTERNAL_CASES = {
    # identity in the middle of a computation: the grad transforms and gradcheck wrap inputs in it too.
    "identity": (lambda x: identity(x * x) * x, [_rng.uniform(-2, 2, (2, 3))]),
    # sum_to directly, and as the un-broadcasting of b's gradient and as broadcast_to's gradient rule.
    "sum_to": (lambda x, b: sum_to(x, shape=(3, 1)) * (x + b) ** 2 + broadcast_to(b, shape=(2, 3, 1)),
               [_rng.uniform(-2, 2, (2, 3, 1)), _rng.uniform(-2, 2, (3, 1))]),
    # scatter_add directly (repeated indices) and as getitem's gradient rule.
    "scatter_add": (lambda x: scatter_add(x, index=np.array([0, 2, 0]), shape=(4, 2)) ** 2
                    + getitem(x, np.array([1, 1])).sum() * x[0],
                    [_rng.uniform(-2, 2, (3, 2))]),
}


@pytest.mark.parametrize("name", sorted(INTERNAL))
def test_internal_primitive_is_differentiated_twice(name):
    f, arrays = INTERNAL_CASES[name]
    # The primitive is in the first-order gradient graph (create_graph=True), so gradgradcheck
    # differentiates through its gradient rule, and the rule of that rule.
    wrt = [identity(Value(a)) for a in arrays]
    out = f(*wrt)
    grads = gradients(out, wrt, grad=np.ones(out.shape), create_graph=True)
    in_grads = set().union(*[ops_in_graph(g) for g in grads])
    assert name in ops_in_graph(out) | in_grads
    if name != "identity":  # identity's rule passes g on: it leaves no node in a gradient graph
        assert name in in_grads
    assert gradcheck(f, *arrays)
    assert gradgradcheck(f, *arrays)


def test_identity_third_derivative():
    f = lambda x: identity(identity(x) ** 4)
    assert grad(grad(grad(f)))(1.5) == pytest.approx(24 * 1.5)


# -- a user's op goes through the same checks -----------------------------------------------------------

CHECKS = {"forward": check_forward, "grad": check_grad, "gradgrad": check_gradgrad, "float32": check_float32}


@pytest.fixture(scope="module")
def softplus_info():
    """A user's op, as in examples/custom_op.py: defop + register_test, removed again afterwards."""
    op = defop("softplus_user", forward=lambda x: np.logaddexp(0.0, x),
               vjp=lambda g, ans, x: (g * sigmoid(x),))
    info = register_test(OpInfo("softplus_user", op, lambda x: np.log(1.0 + np.exp(x)), domain=(-4.0, 4.0)))
    yield info
    del OPINFOS["softplus_user"], OPS["softplus_user"]


@given(data=st.data())
def test_user_registered_op_goes_through_every_check(softplus_info, data):
    info = OPINFOS["softplus_user"]  # found by name, as the parametrised tests find theirs
    assert info is softplus_info
    for check in CHECKS.values():
        check(info, *data.draw(cases(info, max_side=GRADGRAD_MAX_SIDE)))
    values = data.draw(st.lists(elements(info), min_size=1, max_size=1))
    check_scalar(info, values, {})


def _broken(name, forward, vjp, ref):
    op = defop(name, forward=forward, vjp=vjp)
    return op, OpInfo(name, op, ref, domain=(-2.0, 2.0))


@pytest.fixture
def broken_ops():
    """Deliberately wrong ops: the checks must catch each of them (they are registered only in OPS)."""
    made = {
        "bad_vjp": _broken("test_bad_vjp", lambda x: np.logaddexp(0.0, x), lambda g, ans, x: (g * 0.5,),
                           lambda x: np.logaddexp(0.0, x)),
        "bad_forward": _broken("test_bad_forward", lambda x: x * 1.0000001, lambda g, ans, x: (g * 1.0000001,),
                               lambda x: x),
        # right to first order, but the rule reads the payload, so no second-order graph is recorded
        "bad_gradgrad": _broken("test_bad_gradgrad", lambda x: x * x, lambda g, ans, x: (g * (2.0 * data_of(x)),),
                                lambda x: x * x),
        "bad_float32": _broken("test_bad_float32", lambda x: np.asarray(x, dtype=np.float64) * 2.0,
                               lambda g, ans, x: (g * 2.0,), lambda x: x * 2.0),
        "bad_scalar": _broken("test_bad_scalar", lambda x: np.atleast_1d(x) * 2.0, lambda g, ans, x: (g * 2.0,),
                              lambda x: x * 2.0),
    }
    yield {k: info for k, (_, info) in made.items()}
    for _, info in made.values():
        del OPS[info.name]


def test_the_checks_catch_broken_ops(broken_ops):
    x = [np.array([0.3, -1.2, 1.7])]
    with pytest.raises(GradcheckError):
        check_grad(broken_ops["bad_vjp"], x, {})
    with pytest.raises(AssertionError):
        check_forward(broken_ops["bad_forward"], x, {})
    check_grad(broken_ops["bad_gradgrad"], x, {})  # right to first order...
    # ...but its rule is not differentiable: on a tensor the engine refuses the rule as it runs (its payloads
    # are watched under create_graph); on a scalar (a Python float, which cannot be watched) gradgradcheck finds it
    with pytest.raises(RuleCutError, match="^test_bad_gradgrad: its gradient rule computes with the numbers"):
        check_gradgrad(broken_ops["bad_gradgrad"], x, {})
    with pytest.raises(GradcheckError):
        check_gradgrad(broken_ops["bad_gradgrad"], [0.7], {})
    with pytest.raises(AssertionError, match="float64"):
        check_float32(broken_ops["bad_float32"], x, {})
    with pytest.raises(AssertionError, match="payload"):
        check_scalar(broken_ops["bad_scalar"], [0.5], {})


def test_sum_of_user_op_uses_its_rule(softplus_info):
    # The registered op composes with the built-in ones like any other.
    x = Value(np.array([0.0, 1.0]))
    vsum(softplus_info.fn(x)).backward()
    np.testing.assert_allclose(x.grad, 1.0 / (1.0 + np.exp(-np.array([0.0, 1.0]))), rtol=1e-15)
