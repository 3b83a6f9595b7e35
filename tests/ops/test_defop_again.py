"""defop run twice with one name (a notebook cell run again, or the README's and docs/engine.md's snippets
one after the other): the later definition replaces the earlier with a warning; a built-in op is never replaced."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nn import Value, exp, relu
from tinygrad_nn.ops import OPS, defop
from tinygrad_nn.testing import OPINFOS, OpInfo, register_test


@pytest.fixture
def name():
    yield "softplus_again"
    OPS.pop("softplus_again", None)
    OPINFOS.pop("softplus_again", None)


def _softplus(name, scale=1.0):
    return defop(name, forward=lambda x: scale * np.logaddexp(0.0, x), vjp=lambda g, ans, x: (g * (1 - exp(-ans)),))


def test_a_second_definition_replaces_the_first_with_a_warning(name):
    first = _softplus(name)
    y_old = first(Value(0.0))
    with pytest.warns(UserWarning, match="defop: replacing the op named 'softplus_again' registered earlier"):
        second = _softplus(name, scale=2.0)
    assert OPS[name] is second and second is not first
    assert second(Value(0.0)).data == pytest.approx(2 * np.log(2.0))
    assert y_old.data == pytest.approx(np.log(2.0))  # computed before: the old definition, unchanged


def test_register_test_too(name):
    op = _softplus(name)
    register_test(OpInfo(name, op, ref=lambda x: np.logaddexp(0.0, x)))
    with pytest.warns(UserWarning, match="register_test: replacing the OpInfo named 'softplus_again'"):
        info = register_test(OpInfo(name, op, ref=lambda x: np.logaddexp(0.0, x), domain=(-1.0, 1.0)))
    assert OPINFOS[name] is info


def test_an_op_a_module_of_the_package_registers_late_is_builtin_too(name):
    def forward(x):
        return x

    forward.__module__ = "tinygrad_nn.some_later_module"  # as if defined there, imported after the package
    defop(name, forward=forward, vjp=lambda g, ans, x: (g,))
    with pytest.raises(ValueError, match="built-in op of tinygrad_nn"):
        _softplus(name)


def test_a_builtin_test_entry_is_never_replaced():
    from tinygrad_nn.testing import opinfos  # noqa: F401  (registers the built-in OpInfos)

    with pytest.raises(ValueError, match="register_test: 'exp' is a built-in op"):
        register_test(OpInfo("exp", exp, ref=np.exp))


@pytest.mark.parametrize("builtin", ["exp", "relu", "add", "matmul"])
def test_a_builtin_op_is_never_replaced(builtin):
    before = OPS[builtin]
    with pytest.raises(ValueError, match=f"defop: '{builtin}' is a built-in op of tinygrad_nn and cannot be replaced"):
        defop(builtin, forward=np.exp, vjp=lambda g, ans, x: (g * ans,))
    assert OPS[builtin] is before
    assert relu(Value(-1.0)).data == 0.0
