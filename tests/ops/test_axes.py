"""Axis arguments follow one set of rules in every op that takes one (tinygrad_nn/ops/axes.py): a wrong type (bool
included) is a TypeError naming the op and the value, an axis out of range a ValueError naming the op, the axis, the
input's shape and number of axes and the valid range, an axis named twice a ValueError; numpy integers work as ints.
"""

import re

import numpy as np
import pytest

import tinygrad_nn as t
from tinygrad_nn import Value
from tinygrad_nn.ops.axes import axis_tuple, integer, new_axis, one_axis

X = np.arange(1.0, 7.0).reshape(2, 3)

# Ops whose axis argument may name several axes: (op name in errors, call with the axis, numpy's call).
MANY = {
    "sum": (lambda x, a: t.sum(x, axis=a), lambda x, a: np.sum(x, axis=a)),
    "max": (lambda x, a: t.max(x, axis=a), lambda x, a: np.max(x, axis=a)),
    "min": (lambda x, a: t.min(x, axis=a), lambda x, a: np.min(x, axis=a)),
    "mean": (lambda x, a: t.mean(x, axis=a), lambda x, a: np.mean(x, axis=a)),
    "prod": (lambda x, a: t.prod(x, axis=a), lambda x, a: np.prod(x, axis=a)),
    "var": (lambda x, a: t.var(x, axis=a), lambda x, a: np.var(x, axis=a)),
    "std": (lambda x, a: t.std(x, axis=a), lambda x, a: np.std(x, axis=a)),
    "logsumexp": (lambda x, a: t.logsumexp(x, axis=a), lambda x, a: np.log(np.sum(np.exp(x), axis=a))),
    "softmax": (lambda x, a: t.softmax(x, axis=a), lambda x, a: np.exp(x) / np.sum(np.exp(x), axis=a, keepdims=True)),
    "log_softmax": (lambda x, a: t.log_softmax(x, axis=a),
                    lambda x, a: x - np.log(np.sum(np.exp(x), axis=a, keepdims=True))),
    "norm": (lambda x, a: t.norm(x, axis=a), lambda x, a: np.linalg.norm(x, axis=a)),
    "flip": (lambda x, a: t.flip(x, axis=a), lambda x, a: np.flip(x, axis=a)),
}

# Ops that run along exactly one axis.
ONE = {
    "cumsum": (lambda x, a: t.cumsum(x, axis=a), lambda x, a: np.cumsum(x, axis=a)),
    "cumprod": (lambda x, a: t.cumprod(x, axis=a), lambda x, a: np.cumprod(x, axis=a)),
    "sort": (lambda x, a: t.sort(x, axis=a), lambda x, a: np.sort(x, axis=a)),
    "diff": (lambda x, a: t.diff(x, axis=a), lambda x, a: np.diff(x, axis=a)),
    "argmax": (lambda x, a: t.argmax(x, axis=a), lambda x, a: np.argmax(x, axis=a)),
    "argmin": (lambda x, a: t.argmin(x, axis=a), lambda x, a: np.argmin(x, axis=a)),
    "argsort": (lambda x, a: t.argsort(x, axis=a), lambda x, a: np.argsort(x, axis=a, kind="stable")),
    "repeat": (lambda x, a: t.repeat(x, 2, axis=a), lambda x, a: np.repeat(x, 2, axis=a)),
    "split": (lambda x, a: t.stack(t.split(x, 1, axis=a)), lambda x, a: np.stack(np.split(x, 1, axis=a))),
    "concatenate": (lambda x, a: t.concatenate([x, x], axis=a), lambda x, a: np.concatenate([x, x], axis=a)),
}

# Ops that insert a new axis.
NEW = {
    "expand_dims": (lambda x, a: t.expand_dims(x, a), lambda x, a: np.expand_dims(x, a)),
    "stack": (lambda x, a: t.stack([x, x], axis=a), lambda x, a: np.stack([x, x], axis=a)),
}

# roll takes several axes and may name one twice (the shifts add up, as in numpy's roll).
ROLL = {"roll": (lambda x, a: t.roll(x, 1, axis=a), lambda x, a: np.roll(x, 1, axis=a))}

EXISTING = {**MANY, **ONE, **ROLL}
ALL = {**EXISTING, **NEW}


def _data(y):
    return y.data if isinstance(y, Value) else np.asarray(y)


@pytest.mark.parametrize("name", sorted(ALL))
def test_numpy_integers_work_as_ints(name):
    fn, ref = ALL[name]
    for a in (np.int64(1), np.int32(-1), np.uint8(0)):
        np.testing.assert_allclose(_data(fn(Value(X), a)), ref(X, int(a)), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(ALL))
@pytest.mark.parametrize("axis", [True, False, np.True_, 1.0, "1"], ids=repr)
def test_a_wrong_type_is_a_type_error_naming_the_op_and_the_value(name, axis):
    fn, _ = ALL[name]
    with pytest.raises(TypeError) as info:
        fn(Value(X), axis)
    msg = str(info.value)
    assert msg.startswith(f"{name}: axis must be an int"), msg
    assert msg.endswith(f"got {type(axis).__name__} {axis!r}"), msg


@pytest.mark.parametrize("name", sorted(MANY))
def test_a_wrong_type_inside_a_tuple_is_refused_too(name):
    fn, _ = MANY[name]
    with pytest.raises(TypeError, match=rf"^{name}: axis must be an int or a tuple of ints, got bool True in "
                                        rf"axis=\(0, True\)$"):
        fn(Value(X), (0, True))


def test_bool_axes_are_refused_as_numpy_reductions_refuse_them():
    # numpy's reductions and scans refuse a bool axis; its Python-level functions (flip, expand_dims) take True as
    # 1 only because bool subclasses int. One rule for every op: refused.
    for ref in (np.sum, np.max, np.cumsum, np.argmax):
        with pytest.raises(TypeError):
            ref(X, axis=True)
    for fn in (t.sum, t.max, t.cumsum, t.argmax, t.flip, t.expand_dims):
        with pytest.raises(TypeError, match="axis must be an int"):
            fn(Value(X), axis=True)


_EXISTING_RANGE = "is out of range for an input of shape (2, 3) (2 axes); use an int in [-2, 1]"
_NEW_RANGE = "is out of range for a new axis in an input of shape (2, 3) (2 axes); use an int in [-3, 2]"


@pytest.mark.parametrize("name, axis, says", [(n, a, _EXISTING_RANGE) for n in sorted(EXISTING) for a in (2, -3, 7)]
                         + [(n, a, _NEW_RANGE) for n in sorted(NEW) for a in (3, -4)])
def test_out_of_range_names_the_op_the_axis_the_shape_and_the_range(name, axis, says):
    with pytest.raises(ValueError) as info:
        ALL[name][0](Value(X), axis)
    assert str(info.value) == f"{name}: axis {axis} {says}"


@pytest.mark.parametrize("name", sorted(MANY))
def test_an_axis_named_twice_is_a_value_error(name):
    fn, _ = MANY[name]
    with pytest.raises(ValueError) as info:
        fn(Value(X), (1, -1))
    assert str(info.value) == (f"{name}: axis (1, -1) repeats an axis (axis 1 of an input of shape (2, 3)); name "
                               f"each axis once")


@pytest.mark.parametrize("name", sorted(ONE))
def test_one_axis_ops_refuse_a_tuple(name):
    fn, _ = ONE[name]
    with pytest.raises(TypeError, match=rf"^{name}: axis must be an int, got tuple \(0, 1\)$"):
        fn(Value(X), (0, 1))


def test_roll_adds_the_shifts_of_an_axis_named_twice():
    np.testing.assert_array_equal(t.roll(Value(X), (1, 1), axis=(1, -1)).data, np.roll(X, (1, 1), axis=(1, -1)))
    with pytest.raises(TypeError, match=r"^roll: axis must be an int, got float 1\.0$"):
        t.roll(Value(X), (1, 1), axis=(0, 1.0))


def test_named_axis_arguments_are_named_in_errors():
    with pytest.raises(ValueError, match=r"^swapaxes: axis2=5 is out of range for an input of shape \(2, 3\)"):
        t.swapaxes(Value(X), 0, 5)
    with pytest.raises(TypeError, match=r"^diagonal: axis1 must be an int, got float 0\.5$"):
        t.diagonal(Value(X), axis1=0.5)
    with pytest.raises(ValueError, match=r"^moveaxis: axis 5 in source=\[0, 5\] is out of range"):
        t.moveaxis(Value(X), [0, 5], [0, 1])
    with pytest.raises(ValueError, match=r"^cross: axisb=1 is out of range for an input of shape \(3,\) \(1 axis\); "
                                         r"use an int in \[-1, 0\]$"):
        t.cross(Value(np.ones(3)), Value(np.ones(3)), axisb=1)
    with pytest.raises(ValueError, match=r"^flatten: end_dim=2 is out of range for an input of shape \(2, 3\)"):
        t.flatten(Value(X), 0, 2)


def test_a_0d_input_has_no_axis():
    with pytest.raises(ValueError, match=r"^sum: axis 0 is out of range for an input of shape \(\) \(0 axes\); a 0-d "
                                         r"input has no axis to name$"):
        t.sum(Value(2.0), axis=0)
    assert t.sum(Value(2.0), axis=()).data == 2.0  # as numpy: no axis reduced


def test_int_parameters_refuse_floats_and_bools():
    for fn, name in ((lambda v: t.tril(Value(X), k=v), "tril: k"), (lambda v: t.diag(Value(X), k=v), "diag: k"),
                     (lambda v: t.roll(Value(X), v, axis=0), "roll: shift"),
                     (lambda v: t.diff(Value(X), n=v), "diff: order n")):
        for v in (0.5, True):
            want = rf"^{name} must be an int, got {type(v).__name__} {re.escape(repr(v))}$"
            with pytest.raises(TypeError, match=want):
                fn(v)
    np.testing.assert_array_equal(t.tril(Value(X), k=np.int8(-1)).data, np.tril(X, -1))


def test_transpose_checks_its_permutation():
    with pytest.raises(ValueError, match=r"^transpose: axes=\(1, 1\) repeats an axis"):
        t.transpose(Value(X), axes=(1, 1))
    with pytest.raises(ValueError, match=r"^transpose: axes=\(0,\) names 1 of the 2 axes"):
        t.transpose(Value(X), axes=(0,))
    np.testing.assert_array_equal(t.transpose(Value(X), axes=(np.int64(1), 0)).data, X.T)


def test_the_module_functions():
    assert axis_tuple("f", None, (2, 3, 4)) == (0, 1, 2)
    assert axis_tuple("f", [2, 0], (2, 3, 4)) == (2, 0)  # the order given (moveaxis needs it)
    assert axis_tuple("f", range(2), (2, 3)) == (0, 1)
    assert one_axis("f", np.int16(-2), (2, 3)) == 0
    assert new_axis("f", -1, ()) == 0 and new_axis("f", 0, ()) == 0
    assert integer("f", "k", np.int64(3)) == 3 and type(integer("f", "k", np.int64(3))) is int
    with pytest.raises(TypeError, match=r"^f: k must be an int, got bool np\.True_$"):
        integer("f", "k", np.True_)
