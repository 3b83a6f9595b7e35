"""Every registered function refuses its bad inputs with a clear error that names it (OpInfo.errors).

The ErrorCases are declared beside each OpInfo in tinygrad_nn/testing/opinfos.py: wrong shapes, axes, dtypes
and values outside the domain. Each is run here on Values (float arrays and Python floats among the inputs
become Values), in float64 and in float32, and must raise its declared exception with a message that matches
its regular expression and begins with "<op>:", the name of the op or function that refused. The tests iterate the
registry: an OpInfo registered later is held to the same rule (declare an ErrorCase, or list it in
NO_BAD_INPUT with a reason).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import tinygrad_nn.ops as ops
from tinygrad_nn import Value, astype
from tinygrad_nn.nn import functional
from tinygrad_nn.ops import OPS
from tinygrad_nn.testing import NO_BAD_INPUT, OPINFOS

NAMES = sorted(OPINFOS)
# The names an error may begin with: the primitives, the public functions built from them, and the functions of
# tinygrad_nn.nn.functional (the building blocks, property-tested like the ops).
KNOWN_NAMES = set(OPS) | set(ops.__all__) | set(functional.__all__)


def as_values(inputs, dtype=np.float64):
    """Float arrays (cast to dtype) and Python floats become Values; anything else is passed as it is."""
    out = []
    for x in inputs:
        if isinstance(x, np.ndarray) and x.dtype.kind == "f":
            out.append(Value(x.astype(dtype)))
        elif x.__class__ is float:
            out.append(Value(x))
        else:
            out.append(x)
    return out


def check_error_case(info, case, dtype=np.float64):
    """Call info.fn on the case's inputs; return the exception after checking its type and message."""
    assert case.match, f"{info.name}: an ErrorCase needs a message pattern (match=...)"
    with pytest.raises(case.error) as caught:
        info.fn(*as_values(case.inputs, dtype), **case.params)
    msg = str(caught.value)
    assert re.search(case.match, msg), f"{info.name}: message {msg!r} does not match {case.match!r}"
    head = msg.split(":", 1)[0]
    assert head in KNOWN_NAMES, f"{info.name}: the message {msg!r} does not begin with the name of an op and ':'"
    assert case.match.lstrip("^").startswith(head + ":"), \
        f"{info.name}: the pattern {case.match!r} should pin the op's name ({head}:) at the start"
    return caught.value


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", [n for n in NAMES if OPINFOS[n].errors])
def test_declared_bad_inputs_are_refused_by_name(name, dtype):
    info = OPINFOS[name]
    for case in info.errors:
        check_error_case(info, case, dtype)


def test_every_opinfo_declares_its_bad_inputs():
    missing = [n for n in NAMES if not OPINFOS[n].errors and n not in NO_BAD_INPUT]
    assert not missing, (f"OpInfos without an ErrorCase: {missing}; declare their bad inputs beside "
                         f"them (errors=...) in tinygrad_nn/testing/opinfos.py, or list them in NO_BAD_INPUT there "
                         f"with the reason")


def test_the_exemptions_are_current():
    for name, reason in NO_BAD_INPUT.items():
        assert name in OPINFOS, f"NO_BAD_INPUT lists {name!r}, which is no OpInfo"
        assert not OPINFOS[name].errors, f"{name} is exempt but declares ErrorCases: drop the exemption"
        assert len(reason) > 20, f"{name}: say why no input is bad"


# The exempt functions' claim, checked: extreme and non-finite inputs give a result, never an exception.
EXTREMES = [-np.inf, -1e300, -710.0, -1.0, -0.0, 0.0, 1e-300, 1.0, 710.0, 1e300, np.inf, np.nan]


@pytest.mark.parametrize("name", sorted(NO_BAD_INPUT))
def test_exempt_functions_accept_every_real_input(name):
    info = OPINFOS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow warnings: the values are inf, as asked
        args = [Value(np.array(EXTREMES)) for _ in range(info.nargs)]
        assert isinstance(info.fn(*args, **info.params((len(EXTREMES),))[0]), Value)
        if info.scalar:
            for x in EXTREMES:
                assert isinstance(info.fn(*[Value(float(x))] * info.nargs), Value)


def test_astype_refuses_non_real_dtypes():
    """astype is exempt above only because its OpInfo fixes the dtype: its own bad dtypes, here. (An integer dtype
    gives plain integers without gradient, issue 19: tests/engine/test_pytorch_habits.py.)"""
    x = Value(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"^astype: cannot convert NaN or inf to int32"):
        astype(Value([np.nan]), np.int32)
    with pytest.raises(TypeError, match=r"^astype: Values hold real floats, so dtype must be a float type"):
        astype(x, np.complex128)
    with pytest.raises(TypeError, match=r"^astype: 'no such type' is no dtype"):
        astype(x, "no such type")
    with pytest.raises(ValueError, match=r"^astype: a scalar Value holds a Python float \(float64\) and cannot "
                                         r"become float32"):
        astype(Value(1.0), np.float32)


def test_the_check_catches_a_wrong_declaration():
    """The checker itself fails on a wrong type, a wrong message and a message without the op's name."""
    from tinygrad_nn.testing import ErrorCase

    matmul, add = OPINFOS["matmul"], OPINFOS["add"]
    bad = [  # (entry, wrong declaration, how the check fails)
        (matmul, ErrorCase((np.ones((2, 3)), np.ones((4, 2))), error=TypeError, match="^matmul:"), ValueError),
        (matmul, ErrorCase((np.ones((2, 3)), np.ones((4, 2))), match="^matmul: no such words"), AssertionError),
        (matmul, ErrorCase((np.ones((2, 3)), np.ones((3, 2))), match="^matmul:"), pytest.fail.Exception),  # no raise
        # int arrays stay plain arrays: numpy's own message, which names no op
        (add, ErrorCase((np.ones(2, int), np.ones(3, int)), match="broadcast"), AssertionError),
    ]
    for info, case, failure in bad:
        with pytest.raises(failure):
            check_error_case(info, case)


# -- messages once reported here, now fixed: kept as tests --------------------------------------------------

def _raw_add():
    ops.add(np.ones(2), np.ones(3))  # no Value among the inputs: the forward runs bare, outside _explain


def _raw_exp():
    ops.exp("a")


def test_ops_called_without_values_name_themselves():
    # With no Value among the inputs an op runs its forward bare (that is how rules run), still explained.
    with pytest.raises(ValueError, match=r"^add: "):
        _raw_add()
    with pytest.raises(TypeError, match=r"^exp: "):
        _raw_exp()


# (A float axis given to mean and min, and min of an empty input, are ErrorCases of mean and min now.)

# Python's float ** raises OverflowError (and 1.0 / (x * x) divides by an underflowed 0.0) where numpy, PyTorch and
# this library's own scalar exp give +-inf: scalar pow gives what numpy does, and so does its gradient
# (the values and gradients below are PyTorch's in float64).
@pytest.mark.parametrize("x, make, value, grad", [
    (2.0, lambda x: x ** 2000.0, np.inf, np.inf),
    (2000.0, lambda x: 2.0 ** x, np.inf, np.inf),
    (1e300, lambda x: x ** 1.5, np.inf, 1.5e150),
    (-2.0, lambda x: x ** 2001.0, -np.inf, np.inf),
    (1e-300, lambda x: x ** -2.0, np.inf, -np.inf),
    (1e-300, lambda x: x ** -1.5, np.inf, -np.inf),
], ids=["x**k", "k**x", "x**1.5", "(-x)**odd", "tiny**-2", "tiny**-1.5"])
def test_scalar_pow_overflow_gives_inf(x, make, value, grad):
    v = Value(x)
    y = make(v)
    y.backward()
    assert y.data == value and y.data.__class__ is float
    assert v.grad == pytest.approx(grad, rel=1e-15)


def test_scalar_pow_of_zero_by_a_negative_power_still_raises():
    """Only a true zero divides by zero: 0.0 ** -1.5 raises as 1.0 / 0.0 does (see the ErrorCases of pow_-1)."""
    with pytest.raises(ZeroDivisionError, match=r"^pow: division by zero on the scalars 0\.0, -1\.5"):
        Value(0.0) ** -1.5


def test_linalg_errors_keep_their_class():
    with pytest.raises(np.linalg.LinAlgError, match=r"^inv: Singular matrix"):
        ops.inv(Value(np.ones((2, 2))))
