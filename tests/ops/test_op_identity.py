"""One op, one name: the public function of an op is the op itself, its facts are declared with it, its Value
methods call it, and its parameters may be given by position (as numpy and PyTorch take them) or are refused
by name."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import tinygrad_nn
from tinygrad_nn import Value, gradcheck, gradgradcheck
from tinygrad_nn.ops import OPS, Op, catalog, clip, concatenate, reshape
from tinygrad_nn.testing import OPINFOS

PUBLIC = sorted(set(tinygrad_nn.ops.__all__) - catalog._REGISTRY)


def test_every_public_op_is_the_registered_op_of_its_name():
    from tinygrad_nn import special

    public_ops = [name for name in OPS if hasattr(tinygrad_nn, name)]
    assert {"pow", "where", "clip", "round", "getitem", "concatenate", "conv2d", "svd", "eigh"} <= set(public_ops)
    for name in public_ops:
        assert getattr(tinygrad_nn, name) is OPS[name], name
        assert getattr(tinygrad_nn.ops, name) is OPS[name], name
    special_ops = [name for name in OPS if name in special.__all__]
    assert "polygamma" in special_ops
    for name in special_ops:
        assert getattr(special, name) is OPS[name], name


def test_every_public_function_declares_its_facts():
    for name in PUBLIC:
        facts = getattr(tinygrad_nn.ops, name).facts
        assert facts.inputs == "n" or (isinstance(facts.inputs, int) and facts.inputs >= 1), name
        assert facts.order == "any" or isinstance(facts.order, int), name


def _method_case(name, info):
    """Inputs and params from the function's own OpInfo (the first of its variants whose fn is the function)."""
    rng = np.random.default_rng(0)
    if info.sample is not None:
        arrays, params = info.sample(rng)
    else:
        shape = (2, 3) if info.shapes != "matmul" else None
        if info.shapes == "matmul":
            arrays = [rng.uniform(*info.domain, (2, 3)), rng.uniform(*info.domain, (3, 2))]
        else:
            arrays = [rng.uniform(*info.domain, shape) for _ in range(info.nargs)]
        params = info.params(shape or (2, 2))[0]
    return arrays, params


def test_every_declared_method_is_reachable_on_value_and_runs_the_same_function():
    declared = {}
    for name in PUBLIC:
        fn = getattr(tinygrad_nn.ops, name)
        for m in fn.facts.methods:
            declared.setdefault(m, fn)
    assert {"exp", "sum", "asin", "reshape", "clip", "inverse"} <= set(declared)
    for m, fn in declared.items():
        method = getattr(Value, m, None)
        assert callable(method), f"Value.{m} is missing (declared by {fn})"
        info = OPINFOS.get(fn.name if isinstance(fn, Op) else fn.__name__)
        if info is None or info.fn is not fn:
            continue
        arrays, params = _method_case(m, info)
        x, rest = Value(arrays[0]), [Value(a) for a in arrays[1:]]
        by_method = getattr(x, m)(*rest, **params)
        by_function = fn(x, *rest, **params)
        if isinstance(fn, Op) and fn.prepare is None:
            assert by_method._op is fn, m  # the method records the op itself
        np.testing.assert_array_equal(np.asarray(by_method.data), np.asarray(by_function.data), err_msg=m)


# -- positional parameters -------------------------------------------------------------------------------


def test_positional_parameters_of_the_issue():
    x = Value(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.sum(0).data, [3.0, 5.0, 7.0])
    np.testing.assert_array_equal(x.max(1).data, [2.0, 5.0])
    np.testing.assert_array_equal(x.sum(0, True).data, [[3.0, 5.0, 7.0]])
    assert reshape(x, (3, 2)).shape == (3, 2)
    assert tinygrad_nn.sum(x, 1).shape == (2,) and tinygrad_nn.logsumexp(x, 0).shape == (3,)
    x.sum(1).sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((2, 3)))
    # the functions whose OpInfos give no leading parameter by keyword
    v = Value(np.array([[1.234, np.nan], [-np.inf, 2.0]]))
    np.testing.assert_array_equal(tinygrad_nn.round(v, 1).data, np.round(v.data, 1))
    np.testing.assert_array_equal(tinygrad_nn.nan_to_num(v, True, 5.0).data, np.nan_to_num(v.data, True, 5.0))
    np.testing.assert_array_equal(tinygrad_nn.argmax(x, 1), [2, 2])
    assert tinygrad_nn.astype(x, np.float32).dtype == np.float32
    np.testing.assert_array_equal(tinygrad_nn.pad(Value([1.0]), 1, "constant", 2.0).data, [2.0, 1.0, 2.0])


def _positional(fn, n_inputs, params):
    """params as positional arguments after the inputs, by the function's signature; None where they are not
    the leading parameters after the inputs (then only keywords can say them)."""
    names = [p.name for p in inspect.signature(fn).parameters.values()
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][n_inputs:]
    if list(params) != names[:len(params)]:
        return None
    return list(params.values())


def _parameters_after_inputs(fn):
    n = fn.facts.inputs
    if n == "n":
        n = 1  # a list (or the first of *args) comes first
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][n:]


WITH_PARAMETERS = [name for name in PUBLIC if _parameters_after_inputs(getattr(tinygrad_nn.ops, name))]


def _cases(name):
    """(arrays, params) from the OpInfos of `name` (the entry of that name and its variants, name_...)."""
    rng = np.random.default_rng(1)
    for key, info in OPINFOS.items():
        if key != name and not key.startswith(name + "_"):
            continue
        if info.sample is not None:
            yield from (info.sample(rng) for _ in range(4))
        else:
            shape = (2, 3, 2)
            arrays = [rng.uniform(*info.domain, shape) for _ in range(info.nargs)]
            yield from ((arrays, p) for p in info.params(shape))


@pytest.mark.parametrize("name", WITH_PARAMETERS)
def test_parameters_given_by_position_equal_keywords(name):
    fn = getattr(tinygrad_nn.ops, name)
    tried = 0
    for arrays, params in _cases(name):
        n = len(arrays) if fn.facts.inputs != "n" else 1
        inputs = [Value(a) for a in arrays] if fn.facts.inputs != "n" else [[Value(a) for a in arrays]]
        values = _positional(fn, n, params)
        if not params or values is None:
            continue
        try:
            by_keyword = fn(*inputs, **params)
        except (TypeError, ValueError):  # the OpInfo's fn arranges its arguments otherwise (where(cond, a, b))
            continue
        by_position = fn(*inputs, *values)
        for k, p in zip(by_keyword if isinstance(by_keyword, (list, tuple)) else [by_keyword],
                        by_position if isinstance(by_position, (list, tuple)) else [by_position]):
            np.testing.assert_array_equal(np.asarray(k.data), np.asarray(p.data), err_msg=f"{name} {params}")
        tried += 1
    if not tried:
        pytest.skip(f"{name}: its OpInfos give no leading parameter by keyword")


def test_too_many_positional_arguments_are_refused_by_name():
    x = Value(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"^exp: takes 1 input and no parameters, but got 2 positional arguments"):
        tinygrad_nn.exp(x, 0)
    with pytest.raises(TypeError, match=r"^sum: takes 1 input and the parameters axis, keepdims, but got 4"):
        x.sum(0, True, 1)
    with pytest.raises(TypeError, match=r"^sum: got axis twice, by position and as axis="):
        x.sum(0, axis=1)
    with pytest.raises(TypeError, match=r"^add: takes 2 inputs and no parameters"):
        tinygrad_nn.add(x, x, x)


# -- concatenate(axis=None) -------------------------------------------------------------------------------


def test_concatenate_axis_none_flattens_first_as_numpy_and_differentiates():
    a, b = np.arange(6.0).reshape(2, 3), np.array([[7.0], [8.0]])
    np.testing.assert_array_equal(concatenate([Value(a), Value(b)], axis=None).data,
                                  np.concatenate([a, b], axis=None))
    np.testing.assert_array_equal(concatenate([Value(2.0), Value(a)], axis=None).data,
                                  np.concatenate([np.array(2.0), a], axis=None))
    w = np.arange(8.0)
    va, vb = Value(a), Value(b)
    (concatenate([va, vb], axis=None) * w).sum().backward()
    np.testing.assert_array_equal(va.grad, w[:6].reshape(2, 3))
    np.testing.assert_array_equal(vb.grad, w[6:].reshape(2, 1))
    assert gradcheck(lambda p, q: concatenate([p, q], axis=None) ** 2, va, vb)
    assert gradgradcheck(lambda p, q: concatenate([p, q], axis=None) ** 3, va, vb)


def test_numpys_concatenate_and_clip_take_the_same_routes():
    a, b = Value(np.ones((2, 2))), Value(np.ones(3))
    np.concatenate([a, b], axis=None).sum().backward()
    np.testing.assert_array_equal(a.grad, np.ones((2, 2)))
    np.testing.assert_array_equal(b.grad, np.ones(3))
    x, lo, hi = Value(np.array([-2.0, 0.5, 3.0])), Value(0.0), Value(1.0)
    np.clip(x, lo, hi).sum().backward()
    assert (lo.grad, hi.grad) == (1.0, 1.0)
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])


def test_concatenate_refuses_a_single_value_by_name():
    with pytest.raises(TypeError, match=r"^concatenate: takes a list"):
        concatenate(Value(np.ones(3)))


# -- clip with Value bounds ---------------------------------------------------------------------------------


def test_clip_with_value_bounds_differentiates_through_them_as_torch_clamp():
    torch = pytest.importorskip("torch", reason="compares with PyTorch's clamp")
    rng = np.random.default_rng(3)
    x0, lo0, hi0 = rng.uniform(-2, 2, (3, 4)), rng.uniform(-1.5, -0.5, (4,)), rng.uniform(0.5, 1.5, (3, 1))
    w = rng.uniform(-1, 1, (3, 4))
    x, lo, hi = Value(x0), Value(lo0), Value(hi0)
    (clip(x, lo, hi) * w).sum().backward()
    tx, tlo, thi = (torch.tensor(a, requires_grad=True) for a in (x0, lo0, hi0))
    (torch.clamp(tx, tlo, thi) * torch.tensor(w)).sum().backward()
    for ours, theirs in ((x, tx), (lo, tlo), (hi, thi)):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=0, atol=1e-15)


def test_clip_with_a_value_bound_on_scalars_and_one_sided():
    x, lo = Value(-2.0), Value(0.5)
    y = clip(x, lo)
    y.backward()
    assert (y.data, x.grad, lo.grad) == (0.5, 0.0, 1.0)
    x, hi = Value(np.array([0.0, 3.0])), Value(1.0)
    (x.clip(hi=hi) * np.array([2.0, 5.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 0.0])
    assert hi.grad == 5.0
    # The bounds' gradients are right against finite differences, away from the kinks.
    a, b, c = Value(np.array([-2.0, 0.1, 2.0])), Value(np.array([-1.0, -1.0, -1.0])), Value(1.0)
    assert gradcheck(lambda p, q, r: clip(p, q, r) * 3.0, a, b, c)
    with pytest.raises(ValueError, match=r"^clip: lower bound .* is above upper bound"):
        clip(Value(np.ones(2)), Value(np.array([2.0, 0.0])), Value(1.0))
