"""The built-in OpInfos: how to property-test each user-facing function (see opinfo.py), and the bad inputs
it must refuse (its `errors`, beside it).

tests/ops/test_op_properties.py runs every entry of OPINFOS through the same checks: forward against the
numpy `ref`, gradient against finite differences, a Python-float payload against a 0-d tensor (scalar=True),
gradient of gradient (gradgrad=True) and float32 in, float32 out. Read an entry as:

- inputs are drawn in `domain` and kept at least KINK_MARGIN away from every point of `away_from` (kinks
  and poles: finite differences straddling a kink, or the huge slopes next to a pole, are not gradients);
- `params(shape)` gets the shape of the output of broadcasting the inputs (for one input, its shape) and
  lists the keyword dicts to try;
- `sample(rng)` replaces both when the inputs need a structure values drawn one by one do not have
  (no ties for max, differing sizes for concatenate).

tests/ops/test_op_errors.py calls the entry's function on each of its ErrorCases and checks that it raises
`error` with a message that matches `match` and begins with the name of the op (or function) that refused:
wrong shapes, wrong axes, wrong dtypes (complex operands, float indices or conditions) and values outside
the domain (a negative base for a fractional power, a scalar divided by 0, a singular matrix). Functions that
no real input can make fail are listed in NO_BAD_INPUT with the reason, instead of an ErrorCase.

The exact behaviour at kinks (relu'(0), max with ties, ...) is pinned down in tests/ops/test_op_kinks.py.

>>> from tinygrad_nn.testing import OPINFOS
>>> case = OPINFOS["matmul"].errors[0]
>>> [x.shape for x in case.inputs], case.error.__name__
([(2, 3), (4, 2)], 'ValueError')
"""

from __future__ import annotations

import builtins

import numpy as np

from ..ops import special as _special
from ..ops.elementwise import (
    abs,
    add_n,
    clip,
    exp,
    log,
    maximum,
    minimum,
    reciprocal,
    relu,
    sigmoid,
    sqrt,
    step,
    tanh,
    where,
)
from ..ops.linalg import linear, matmul
from ..ops.reductions import log_softmax, logsumexp, max, mean, min, softmax, sum
from ..ops.shape import broadcast_to, concatenate, expand_dims, flatten, reshape, squeeze, stack, transpose
from .opinfo import ErrorCase, OpInfo, register_test

# Inputs keep this distance from the points of `away_from`: far beyond the finite-difference step (1e-6),
# and near enough that a pole's slopes stay moderate (|1/x^2| <= 100).
KINK_MARGIN = 0.1

# Entries whose forward is the very numpy computation of `ref` (or exact arithmetic on the same
# operands): the tests compare them bit for bit instead of within a tolerance.
EXACT = {
    "add", "add_n", "running_sum", "sub", "mul", "div", "neg", "abs", "relu", "step", "clip", "maximum",
    "minimum", "where", "sum", "max", "min", "matmul", "reshape", "transpose", "getitem", "broadcast_to",
    "concatenate", "stack", "expand_dims", "squeeze", "flatten",
}


# -- parameter lists and samplers ----------------------------------------------------------------


def _reduce_params(shape):
    """axis None / int / negative / tuple / empty tuple, with and without keepdims."""
    nd = len(shape)
    if nd == 0:
        return [{}, {"keepdims": True}]
    ps = [{}, {"axis": 0}, {"axis": -1, "keepdims": True}, {"axis": None, "keepdims": True}, {"axis": ()}]
    if nd >= 2:
        ps += [{"axis": (0, -1)}, {"axis": (-1, 0), "keepdims": True}]
    if nd >= 3:
        ps += [{"axis": 1}, {"axis": (0, 1, 2)}]
    return ps


def _softmax_params(shape):
    return [{"axis": -1}, {"axis": 0}]


def _rand_shape(rng, min_ndim=0, max_ndim=3, max_side=3):
    return tuple(int(s) for s in rng.integers(1, max_side + 1, size=rng.integers(min_ndim, max_ndim + 1)))


def _distinct(rng, shape, gap=0.2):
    """Values at least gap / 2 apart (a shuffled grid plus a little noise): max and min see no ties."""
    n = int(np.prod(shape, dtype=np.int64))
    grid = (rng.permutation(n) - n / 2) * gap
    return (grid + rng.uniform(-gap / 4, gap / 4, n)).reshape(shape)


def _reduce_sample(rng):
    shape = _rand_shape(rng)
    params = _reduce_params(shape)
    return [_distinct(rng, shape)], params[rng.integers(len(params))]


_PAIRS = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((3, 1, 2), (4, 2)),
          ((2, 2, 1), (2, 1, 3))]


def _separated_pair(rng):
    """Two broadcastable inputs on interleaved grids (a on even multiples of 0.2, b on odd ones, plus noise
    below 0.05): wherever they meet they differ by 0.1 at least, so maximum and minimum see no ties."""
    sa, sb = _PAIRS[rng.integers(len(_PAIRS))]
    a = 0.4 * rng.integers(-5, 5, sa) + rng.uniform(-0.05, 0.05, sa)
    b = 0.4 * rng.integers(-5, 5, sb) + 0.2 + rng.uniform(-0.05, 0.05, sb)
    return ([a, b] if rng.random() < 0.5 else [b, a]), {}


def _concat_sample(rng):
    """Three inputs that agree in every size but the one along `axis` (any axis, negative ones too)."""
    shape = list(_rand_shape(rng, min_ndim=1))
    axis = int(rng.integers(-len(shape), len(shape)))
    arrays = []
    for _ in range(3):
        shape[axis] = int(rng.integers(1, 4))
        arrays.append(rng.uniform(-2.0, 2.0, shape))
    return arrays, {"axis": axis}


def _linear_sample(rng):
    """x of shape (in,), (n, in) or (b, n, in); a weight (out, in) and a bias (out,), as Layer uses them."""
    n_in, n_out = (int(s) for s in rng.integers(1, 4, size=2))
    lead = [(), (int(rng.integers(1, 4)),), (2, int(rng.integers(1, 3)))][rng.integers(3)]
    return [rng.uniform(-2, 2, lead + (n_in,)), rng.uniform(-2, 2, (n_out, n_in)), rng.uniform(-2, 2, n_out)], {}


def _mask(shape):
    """A fixed True/False pattern of the given shape (both values once there are two elements)."""
    return np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape) % 3 != 1


def _getitem_params(shape):
    n, last = shape[0], shape[-1]
    ps = [
        {"index": 0}, {"index": -1}, {"index": slice(1, None)}, {"index": slice(None, None, -2)},
        {"index": np.array([0, 0, n - 1, 0])},  # repeated indices: their gradients add up
        {"index": np.arange(n) % 2 == 0},  # a boolean mask over the first axis
        {"index": _mask(shape)},  # a boolean mask over every axis
        {"index": (None, Ellipsis, slice(None, None, 2))}, {"index": (Ellipsis, None)},
        {"index": (Ellipsis, np.array([last - 1, 0, last - 1]))},  # repeated, on the last axis
    ]
    if len(shape) >= 2:
        m = shape[1]
        ps += [{"index": (0, slice(None), None)}, {"index": (np.array([1, 0, 1]) % n, np.array([0, 0, m - 1]))},
               {"index": (slice(None), np.array([[0, 0], [m - 1, 0]]))}]
    return ps


def _reshape_params(shape):
    size = int(np.prod(shape, dtype=np.int64))
    return [{"shape": (-1,)}, {"shape": shape[::-1]}, {"shape": (1,) + shape + (1,)}, {"shape": (size, 1)},
            {"shape": (-1, 1)}]


def _transpose_params(shape):
    nd = len(shape)
    if nd == 0:
        return [{"axes": None}, {"axes": ()}]
    return [{"axes": None}, {"axes": tuple(range(nd))[::-1]}, {"axes": tuple(range(1, nd)) + (0,)},
            {"axes": tuple(range(-1, -nd - 1, -1))},  # negative axes, as numpy allows
            {"axes": (-1,) + tuple(range(nd - 1))}]


def _broadcast_to_params(shape):
    return [{"shape": (2,) + shape}, {"shape": tuple(3 if s == 1 else s for s in shape)}, {"shape": (2, 1) + shape}]


def _squeeze_params(shape):
    ones = [i for i, s in enumerate(shape) if s == 1]
    return ([{"axis": None}] + [{"axis": i} for i in ones] + [{"axis": i - len(shape)} for i in ones]
            + ([{"axis": tuple(ones)}] if ones else []))


def _new_axis_params(shape):
    nd = len(shape)
    return [{"axis": 0}, {"axis": nd}, {"axis": -1}, {"axis": -nd - 1}]


# -- the reference functions that are more than one numpy call ------------------------------------


def _np_logsumexp(x, axis=None, keepdims=False):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))  # naive: fine within the domain


def _np_softmax(x, axis=-1):
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)


def _np_log_softmax(x, axis=-1):
    return x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))


# -- bad inputs: the ErrorCases the entries below declare (`errors=`), and what the refusal must say ------------
# Each case is checked by tests/ops/test_op_errors.py: the call raises `error`, with a message that matches
# `match` and begins with the name of the op that refused. Float arrays and Python floats among the inputs
# become Values first; anything else (a complex array, a string) is passed as it is.

# Functions with no bad real input, and why; the test checks that each exists and declares no ErrorCase.
NO_BAD_INPUT = {
    **{name: "defined for every real number; inf and NaN pass through as in numpy and PyTorch, and a non-real "
             "payload is refused by Value before any op runs"
       for name in ("neg", "exp", "tanh", "sigmoid", "relu", "step", "abs")},
    **{name: "an integer power of any real base is defined (an overflow gives inf, as in numpy and PyTorch)"
       for name in ("pow_0", "pow_2", "pow_3")},
    "rpow": "2 ** x is defined for every real x (an overflow gives inf, as in numpy and PyTorch)",
    "flatten": "every input, a scalar included, has a flat form",
    "ravel": "every input, a scalar included, has a flat form",
    "outer": "numpy's outer takes any two real inputs (it flattens them)",
    "kron": "numpy's kron takes any two real inputs (the shorter shape gets leading ones)",
    "astype": "its OpInfo function casts to float64 and back to the input's own dtype, so no input to it is "
              "wrong; astype's bad dtypes are tested directly in tests/ops/test_op_errors.py",
    # -- the elementwise functions of issue 9 (tinygrad_nn/ops/elementwise.py) --
    **{name: "defined for every real number; an overflow gives +-inf (sinh(1000.0), exp2(2000.0)) and inf and NaN "
             "pass through, as in numpy and PyTorch; a non-real payload is refused by Value before any op runs"
       for name in ("sin", "cos", "tan", "arctan", "sinh", "cosh", "arcsinh", "expm1", "exp2", "sinc", "square")},
    **{name: f"every real input has a result: outside its domain ({domain}) it is NaN, and at the boundary +-inf "
             f"where the function has a pole, as numpy and PyTorch give (elementwise.py keeps their convention for "
             f"these functions, for Python floats too)"
       for name, domain in (("arcsin", "[-1, 1]"), ("arccos", "[-1, 1]"), ("arccosh", "x >= 1"),
                            ("arctanh", "[-1, 1]"), ("log1p", "x >= -1"), ("log2", "x >= 0"), ("log10", "x >= 0"),
                            ("log", "x >= 0"), ("sqrt", "x >= 0"))},
    **{name: "piecewise constant and defined for every real number; +-inf and NaN map to themselves (numpy)"
       for name in ("sign", "floor", "ceil")},
    "round_2": "its OpInfo function fixes decimals=2, and every real number rounds (+-inf and NaN to themselves); "
               "round's bad decimals are declared under `round`",
    **{name: "a product with a constant (pi / 180 or its inverse), defined for every real number"
       for name in ("deg2rad", "rad2deg")},
    **{name: "defined for every real number (scipy.special's convention: NaN outside the domain, +-inf at a pole; "
             "inf and NaN pass through)"
       for name in ("erf", "erfc", "ndtr", "log_ndtr", "gammaln", "digamma", "logit", "xlogy")},
    "concatenate_flat": "with axis=None every input, a scalar included, flattens, and flat inputs always join",
    **{name: "defined for every real number (x Φ(x), or its tanh form); inf and NaN pass through as in PyTorch"
       for name in ("gelu", "gelu_tanh")},
    "mod_number": "x % 1.5: the divisor is a nonzero constant, so every real x has a remainder (inf % 1.5 is NaN, "
                  "as in numpy and Python)",
}


def _a(*shape):
    """A float64 array of the given shape with distinct values (1/8, 2/8, ...)."""
    n = int(np.prod(shape, dtype=np.int64))
    return np.arange(1.0, n + 1.0).reshape(shape) / 8.0


E = ErrorCase


_SQUARE = r"needs a square matrix or a stack of them \(shape \(\.\.\., n, n\)\), got shape"


_SINGULAR = np.ones((2, 2))


_NAN = np.array([[np.nan, 0.0], [0.0, 1.0]])


def _binary(name, *extra, op=None):
    """Inputs that do not broadcast, and an operand that is no real number (complex, or a string). `op` is the
    op that refuses, when it is not `name` (a % b is remainder)."""
    op = op or name
    return [E((_a(2, 3), _a(4)), match=rf"^{op}: cannot apply to inputs of shapes \(2, 3\), \(4,\).*"
                                       rf"the shapes must broadcast"),
            E((_a(2), np.array([1j, 2j])), error=TypeError,
              match=rf"^{op}: cannot combine a Value with ndarray .*must be real numbers"),
            E((_a(2), "2"), error=TypeError, match=rf"^{op}: cannot combine a Value with str '2'"),
            *extra]


_INT_AXES = r"axis must be an int or a tuple of ints, got"


def _reduction(name, who=None):
    """Axes out of range, repeated, or not ints (numpy refuses a float axis with a TypeError too). `who` is the
    function that refuses, when it is not `name`."""
    who = who or name
    return [E((_a(2, 3),), {"axis": 2}, match=rf"^{who}: axis 2 is out of range for an input of shape \(2, 3\)"),
            E((_a(2, 3),), {"axis": -3}, match=rf"^{who}: axis -3 is out of range"),
            E((_a(2, 3),), {"axis": (0, -2)}, match=rf"^{who}: axis \(0, -2\) repeats an axis"),
            E((_a(2, 3),), {"axis": 0.5}, error=TypeError, match=rf"^{who}: {_INT_AXES} float 0\.5"),
            E((_a(2, 3),), {"axis": (0, 1.0)}, error=TypeError,
             match=rf"^{who}: {_INT_AXES} float 1\.0 in axis=\(0, 1\.0\)")]


# A Python float divided by 0.0 raises, as for `/` (div); arrays give numpy's nan.
_MOD0 = r"^remainder: division by zero on the scalars 1\.0, 0\.0"


# Scans, sort and diff run along one axis: a tuple is refused (numpy's TypeError), not cut to its first axis.
_ONE_AXIS = r"axis must be an int, got"


_ORDS = r"vector norms take ord None, 1, 2, inf, -inf or a number p > 1"


def _pow_pole_errors(_k):
    """The bad inputs of pow_-1, pow_-2."""
    return [E((0.0,), error=ZeroDivisionError,
              match=rf"^pow: division by zero on the scalars 0\.0, {_k}")]


def _pow_fraction_errors(_k):
    """The bad inputs of pow_0.5, pow_1.7."""
    _neg = rf"^pow: a negative base -2\.0 with the non-integer exponent {_k} has no real result"
    return [E((-2.0,), match=_neg)]  # a scalar (a tensor gives NaN there, as numpy)


def _softmax_errors(_name):
    """The bad inputs of softmax, log_softmax."""
    return [E((_a(2, 3),), {"axis": 2}, match=rf"^{_name}: axis 2 is out of range for an input of shape \(2, 3\)"),
            E((2.0,), {"axis": -1}, match=rf"^{_name}: axis -1 is out of range for an input of shape \(\)"),
            E((_a(2, 3),), {"axis": 0.5}, error=TypeError, match=rf"^{_name}: {_INT_AXES} float 0\.5")]


# var and std divide by n - ddof: it must be a number that leaves a degree of freedom.
def _ddof_errors(_name):
    """The bad inputs of var, std."""
    return [E((_a(2, 3),), {"axis": 0, "ddof": 2}, match=rf"^{_name}: ddof=2 leaves 0 degrees of freedom for the 2 "
                                                         rf"element\(s\) of each result"),
            E((_a(2, 3),), {"ddof": 7}, match=rf"^{_name}: ddof=7 leaves -1 degrees of freedom"),
            E((_a(2, 3),), {"ddof": "1"}, error=TypeError, match=rf"^{_name}: ddof must be a number .*got str '1'"),
            E((_a(2, 3),), {"ddof": 1, "correction": 0}, match=rf"^{_name}: ddof=1 and correction=0 disagree")]


def _split_errors(_name):
    """The bad inputs of split, array_split."""
    return [E((_a(3),), {"indices_or_sections": 0, "axis": 0},
              match=rf"^{_name}: the number of pieces must be at least 1, got 0"),
            E((_a(3),), {"indices_or_sections": 2, "axis": 1}, match=rf"^{_name}: axis 1 is out of range"),
            E((2.0,), {"indices_or_sections": 1, "axis": 0}, match=rf"^{_name}: a 0-d input has no axis to split"),
            E((_a(3),), {"indices_or_sections": [1.5], "axis": 0}, error=TypeError,
              match=rf"^{_name}: an index must be an int, got float 1\.5"),
            E((_a(3),), {"indices_or_sections": 1.5, "axis": 0}, error=TypeError,
              match=rf"^{_name}: indices_or_sections must be an int \(the number of pieces\) or a sequence")]


def _triangle_errors(_name):
    """The bad inputs of tril, triu."""
    return [E((2.0,), {"k": 0}, match=rf"^{_name}: needs a matrix \(or a stack of them\), got a 0-d input"),
            E((_a(2, 3),), {"k": 0.5}, error=TypeError, match=rf"^{_name}: k must be an int, got float 0\.5")]


def _diagonal_errors(_name):
    """The bad inputs of diagonal, trace."""
    return [E((_a(3),), match=rf"^{_name}: needs an input of at least 2 axes, got shape \(3,\)"),
            E((_a(2, 3),), {"axis1": 0, "axis2": -2}, match=rf"^{_name}: axis1 and axis2 must differ, both are 0"),
            E((_a(2, 3),), {"axis1": 0, "axis2": 2}, match=rf"^{_name}: axis2=2 is out of range"),
            E((_a(2, 3),), {"offset": 0.5}, error=TypeError, match=rf"^{_name}: offset must be an int")]


def _det_errors(_name):
    """The bad inputs of det, det_gradient."""
    return [E((_a(2, 3),), match=rf"^det: {_SQUARE} \(2, 3\)"),
            E((_a(3),), match=rf"^det: {_SQUARE} \(3,\)")]


def _eigh_errors(_name):
    """The bad inputs of eigh_values, eigh_vectors."""
    return [E((_a(2, 3),), match=rf"^eigh: {_SQUARE} \(2, 3\)"),
            E((_a(3),), match=rf"^eigh: {_SQUARE} \(3,\)")]


def _one_axis_errors(_name):
    """The bad inputs of cumsum, cumprod, sort, diff."""
    return [E((_a(2, 3),), {"axis": 2}, match=rf"^{_name}: axis 2 is out of range for an input of shape \(2, 3\)"),
            E((_a(2, 3),), {"axis": -3}, match=rf"^{_name}: axis -3 is out of range"),
            E((_a(2, 3),), {"axis": (0, 1)}, error=TypeError, match=rf"^{_name}: {_ONE_AXIS} tuple \(0, 1\)"),
            E((_a(2, 3),), {"axis": 0.5}, error=TypeError, match=rf"^{_name}: {_ONE_AXIS} float 0\.5")]


def _scan_errors(_name):
    """The bad inputs of cumsum, cumprod."""
    return [E((2.0,), {"axis": 0}, match=rf"^{_name}: a scalar has no axis 0 to run along; use axis=None")]


def _pool_errors(_name):
    """The bad inputs of max_pool2d, avg_pool2d."""
    return [E((_a(4, 4),), {"kernel_size": 2}, match=rf"^{_name}: the input must have shape \(N, C, H, W\)"),
            E((_a(1, 1, 2, 2),), {"kernel_size": 3}, match=rf"^{_name}: the kernel 3x3 is larger than the padded "
                                                             rf"input 2x2"),
            E((_a(1, 1, 2, 2),), {"kernel_size": 0}, match=rf"^{_name}: kernel_size must be positive"),
            E((_a(1, 1, 2, 2),), {"kernel_size": 1.5}, error=TypeError,
              match=rf"^{_name}: kernel_size must be an int or a pair of ints"),
            E((_a(1, 1, 2, 2),), {"kernel_size": 1, "stride": 0}, match=rf"^{_name}: stride must be positive")]


# -- the table ----------------------------------------------------------------------------------------

# Arithmetic, written with the operators users write (the scalar fast paths of + and * included).
register_test(OpInfo("add", lambda a, b: a + b, np.add, nargs=2,
                     errors=_binary("add")))
# n-ary sums: the op itself, and a running sum that the engine records as one add_n node.
register_test(OpInfo("add_n", add_n, lambda a, b, c: a + b + c, nargs=3,
                     errors=[E((_a(2), _a(3), _a(2)),
                               match=r"^add_n: cannot apply to inputs of shapes \(2,\), \(3,\), \(2,\)")]))
register_test(OpInfo("running_sum", lambda a, b, c: builtins.sum((x * c for x in (a, b, a)), a + b),
                     lambda a, b, c: a + b + a * c + b * c + a * c, nargs=3,
                     errors=[E((_a(2), _a(3), _a(2)), match=r"^add: cannot apply to inputs of shapes \(2,\), \(3,\)")]))
register_test(OpInfo("sub", lambda a, b: a - b, np.subtract, nargs=2,
                     errors=_binary("sub")))
register_test(OpInfo("mul", lambda a, b: a * b, np.multiply, nargs=2,
                     errors=_binary("mul")))
register_test(OpInfo("div", lambda a, b: a / b, np.divide, nargs=2, away_from=(0.0,),  # pole at b = 0
                     errors=_binary("div", E((1.0, 0.0), error=ZeroDivisionError,
                                             match=r"^div: division by zero on the scalars 1\.0, 0\.0"))))
register_test(OpInfo("rdiv", lambda x: 2.0 / x, lambda x: 2.0 / x, away_from=(0.0,),
                     errors=[E((0.0,), error=ZeroDivisionError,
                               match=r"^reciprocal: division by zero")]))  # number / Value
register_test(OpInfo("neg", lambda x: -x, np.negative))
register_test(OpInfo("reciprocal", reciprocal, np.reciprocal, away_from=(0.0,),
                     errors=[E((0.0,), error=ZeroDivisionError, match=r"^reciprocal: division by zero")]))  # pole at 0

# x ** k for a number k: integer powers take bases of either sign (negative ones keep off the pole at 0);
# fractional ones need a positive base, away from 0 where their higher derivatives blow up.
register_test(OpInfo("pow_2", lambda x: x ** 2, lambda x: x ** 2))
register_test(OpInfo("pow_3", lambda x: x ** 3, lambda x: x ** 3))
register_test(OpInfo("pow_-1", lambda x: x ** -1, lambda x: 1.0 / x, away_from=(0.0,),
                     errors=_pow_pole_errors('-1')))
register_test(OpInfo("pow_-2", lambda x: x ** -2, lambda x: 1.0 / x ** 2, away_from=(0.0,),
                     errors=_pow_pole_errors('-2')))
register_test(OpInfo("pow_0.5", lambda x: x ** 0.5, np.sqrt, domain=(0.1, 3.0),
                     errors=_pow_fraction_errors('0.5')))
register_test(OpInfo("pow_1.7", lambda x: x ** 1.7, lambda x: x ** 1.7, domain=(0.1, 3.0),
                     errors=_pow_fraction_errors('1.7')))
register_test(OpInfo("pow_0", lambda x: x ** 0, np.ones_like))  # flat: gradient 0, at base 0 too
# a ** b with a Value exponent: the base must be positive (log a is in the gradient).
register_test(OpInfo("pow", lambda a, b: a ** b, np.power, nargs=2, domain=(0.25, 2.5),
                     errors=[E((-2.0, 0.5),
                               match=r"^pow: a negative base -2\.0 with the non-integer exponent 0\.5 has no real "
                                     r"result"),
                             E((_a(2, 3), _a(4)), match=r"^pow: cannot apply to inputs of shapes \(2, 3\), \(4,\)"),
                             E((_a(2), 1j), error=TypeError, match=r"^pow: exponent must be real, got 1j")]))
register_test(OpInfo("rpow", lambda x: 2.0 ** x, lambda x: 2.0 ** x))  # number ** Value

# Elementwise functions.
register_test(OpInfo("exp", exp, np.exp, domain=(-3.0, 3.0)))
register_test(OpInfo("log", log, np.log, domain=(0.1, 4.0)))  # pole at 0
register_test(OpInfo("sqrt", sqrt, np.sqrt, domain=(0.1, 4.0)))  # infinite slope at 0
register_test(OpInfo("abs", abs, np.abs, away_from=(0.0,)))  # kink at 0
register_test(OpInfo("tanh", tanh, np.tanh, domain=(-3.0, 3.0)))
register_test(OpInfo("sigmoid", sigmoid, lambda x: 1.0 / (1.0 + np.exp(-x)), domain=(-6.0, 6.0)))
register_test(OpInfo("relu", relu, lambda x: np.maximum(x, 0.0), away_from=(0.0,)))  # kink at 0
register_test(OpInfo("step", step, lambda x: (x >= 0).astype(x.dtype), away_from=(0.0,)))  # jump at 0; slope 0
register_test(OpInfo("clip", lambda x, lo, hi: clip(x, lo=lo, hi=hi), lambda x, lo, hi: np.clip(x, lo, hi),
                     away_from=(-0.5, 0.8),  # kinks at the bounds
                     params=lambda s: [{"lo": -0.5, "hi": 0.8}, {"lo": -0.5, "hi": None}, {"lo": None, "hi": 0.8}],
                     errors=[E((_a(3),), {"lo": 1.0, "hi": 0.0},
                               match=r"^clip: lower bound 1\.0 is above upper bound 0\.0")]))


def _clip_bounds_sample(rng):
    """x, and Value bounds lo < hi of shapes that broadcast with it, x kept off both bounds (the kinks)."""
    shape = _rand_shape(rng)
    lo = rng.uniform(-1.5, -0.5, shape[-1:] if shape and rng.random() < 0.5 else ())
    hi = rng.uniform(0.5, 1.5, shape if rng.random() < 0.5 else ())
    x = rng.uniform(-2.0, 2.0, shape)
    for b in (lo, hi):  # at least KINK_MARGIN from each bound
        near = np.abs(x - b) < KINK_MARGIN
        x = np.where(near, b + np.where(x >= b, 1.0, -1.0) * 2 * KINK_MARGIN, x)
    return [x, lo, hi], {}


# Value bounds are inputs: their gradients are checked too (PyTorch's clamp with tensor bounds).
register_test(OpInfo("clip_value_bounds", lambda x, lo, hi: clip(x, lo, hi), np.clip, nargs=3,
                     sample=_clip_bounds_sample,
                     errors=[E((_a(3), 1.0, _a(3)), match=r"^clip: lower bound 1\.0 is above upper bound")]))
# Ties of two inputs are kinks: the sample keeps the inputs apart wherever they broadcast against each other.
register_test(OpInfo("maximum", maximum, np.maximum, nargs=2, sample=_separated_pair,
                     errors=_binary("maximum")))
register_test(OpInfo("minimum", minimum, np.minimum, nargs=2, sample=_separated_pair,
                     errors=_binary("minimum")))
register_test(OpInfo("where", lambda a, b, cond: where(cond, a, b), lambda a, b, cond: np.where(cond, a, b), nargs=2,
                     params=lambda s: [{"cond": _mask(s)}, {"cond": True}, {"cond": np.zeros(s, bool)}],
                     errors=[E((_a(2, 3), _a(2, 3)), {"cond": np.ones((2, 3))}, error=TypeError,
                           match=r"^where: the condition must be booleans \(or integers\), got ndarray of dtype "
                                 r"float64"),
                             E((_a(2, 3), _a(2, 3)), {"cond": np.ones(4, bool)},
                           match=r"^where: cannot apply to inputs of shapes \(2, 3\), \(2, 3\).*must broadcast")]))

# matmul: the test draws 1-D . 1-D, 2-D . 1-D, 1-D . 2-D, 2-D . 2-D and batched operands (broadcast batch too).
register_test(OpInfo("matmul", matmul, np.matmul, nargs=2, shapes="matmul", scalar=False,
                     errors=[E((_a(2, 3), _a(4, 2)), match=r"^matmul: inner sizes differ: \(2, 3\) @ \(4, 2\)"),
                             E((2.0, _a(3)),
                               match=r"^matmul: both inputs need at least one axis, got shapes \(\) and \(3,\)"),
                             E((_a(3), 2.0),
                               match=r"^matmul: both inputs need at least one axis, got shapes \(3,\) and \(\)"),
                             E((_a(2, 2, 3), _a(3, 3, 2)),
                               match=r"^matmul: cannot apply to inputs of shapes \(2, 2, 3\), \(3, 3, 2\)")]))
register_test(OpInfo("linear", linear, lambda x, w, b: x @ w.T + b, nargs=3, scalar=False, sample=_linear_sample,
                     errors=[E((_a(3), _a(2, 4), _a(2)),
                               match=r"^linear: cannot apply to inputs of shapes \(3,\), \(2, 4\), \(2,\).*"
                                                            r"x must end in the layer's input size"),
                             E((_a(3), _a(2, 3), _a(3)),
                               match=r"^linear: weight must have shape \(out, in\) and bias \(out,\), got "
                                                            r"\(2, 3\) and \(3,\)")]))

# Reductions. max and min get inputs without ties (tied maxima share the gradient: a kink).
register_test(OpInfo("sum", sum, np.sum, params=_reduce_params,
                     errors=_reduction('sum')))
register_test(OpInfo("mean", mean, np.mean, params=_reduce_params,
                     errors=_reduction('mean')))
register_test(OpInfo("max", max, np.max, params=_reduce_params, sample=_reduce_sample,
                     errors=[*_reduction('max'),
                             E((np.zeros((0, 3)),),
                               match=r"^max: the input of shape \(0, 3\) is empty and has no maximum")]))
register_test(OpInfo("min", min, np.min, params=_reduce_params, sample=_reduce_sample,
                     errors=[*_reduction('min'),
                             E((np.zeros((0, 3)),),
                               match=r"^min: the input of shape \(0, 3\) is empty and has no minimum")]))
register_test(OpInfo("logsumexp", logsumexp, _np_logsumexp, domain=(-5.0, 5.0), params=_reduce_params,
                     errors=_reduction('logsumexp')))
register_test(OpInfo("softmax", softmax, _np_softmax, domain=(-5.0, 5.0), min_ndim=1, params=_softmax_params,
                     scalar=False,
                     errors=_softmax_errors('softmax')))
register_test(OpInfo("log_softmax", log_softmax, _np_log_softmax, domain=(-5.0, 5.0), min_ndim=1,
                     params=_softmax_params, scalar=False,
                     errors=_softmax_errors('log_softmax')))

# Shape functions: they move values around (exactly), so their gradients move them back.
register_test(OpInfo("reshape", lambda x, shape: reshape(x, shape=shape), np.reshape, params=_reshape_params,
                     scalar=False,
                     errors=[E((_a(2, 3),), {"shape": (4,)},
                               match=r"^reshape: cannot apply to inputs of shapes \(2, 3\), shape=\(4,\): "
                                                              r"cannot reshape array of size 6.*same number of "
                                                              r"elements"),
                             E((_a(2, 3),), {"shape": (-1, -1)},
                               match=r"^reshape: .*can only specify one unknown dimension")]))
register_test(OpInfo("transpose", lambda x, axes: transpose(x, axes=axes), np.transpose, params=_transpose_params,
                     scalar=False,
                     errors=[E((_a(2, 3),), {"axes": (0, 0)},
                               match=r"^transpose: axes=\(0, 0\) repeats an axis \(axis 0 of an input of shape "
                                     r"\(2, 3\)\)"),
                             E((_a(2, 3),), {"axes": (0,)},
                               match=r"^transpose: axes=\(0,\) names 1 of the 2 axes of an input of shape \(2, 3\); "
                                     r"give a permutation"),
                             E((2.0,), {"axes": None}, match=r"^transpose: a scalar has no axes to permute")]))
register_test(OpInfo("getitem", lambda x, index: x[index], lambda x, index: x[index], min_ndim=1,
                     params=_getitem_params, scalar=False,
                     errors=[E((_a(2, 3),), {"index": 5}, error=IndexError,
                               match=r"^getitem: .*index 5 is out of bounds for axis 0"),
                             E((_a(2, 3),), {"index": (0, 0, 0)}, error=IndexError,
                               match=r"^getitem: .*too many indices"),
                             E((_a(2, 3),), {"index": np.ones(3, bool)}, error=IndexError,
                           match=r"^getitem: .*boolean index did not match"),
                             E((_a(2, 3),), {"index": np.array([0.5])}, error=IndexError,
                           match=r"^getitem: index arrays must hold integers or booleans, got dtype float64"),
                             E((2.0,), {"index": 0}, error=TypeError,
                               match=r"^getitem: a scalar Value cannot be indexed")]))
register_test(OpInfo("broadcast_to", lambda x, shape: broadcast_to(x, shape=shape), np.broadcast_to,
                     params=_broadcast_to_params, scalar=False,
                     errors=[E((_a(2, 3),), {"shape": (4, 3)},
                               match=r"^broadcast_to: cannot apply to inputs of shapes \(2, 3\), "
                                                                 r"shape=\(4, 3\).*must broadcast to the target"),
                             E((_a(2, 3),), {"shape": (3,)}, match=r"^broadcast_to: .*shape=\(3,\)")]))
register_test(OpInfo("concatenate", lambda *xs, axis: concatenate(xs, axis=axis),
                     lambda *xs, axis: np.concatenate(xs, axis=axis), nargs=3, scalar=False, sample=_concat_sample,
                     errors=[E((_a(2, 3), _a(3, 3), _a(2, 3)), {"axis": 1},
                           match=r"^concatenate: cannot apply to inputs of shapes \(2, 3\), \(3, 3\), \(2, 3\), "
                                 r"axis=1"),
                             E((_a(2, 3), _a(3), _a(2, 3)), {"axis": 0},
                               match=r"^concatenate: .*same number of dimensions"),
                             E((_a(2), _a(2), _a(2)), {"axis": 1},
                               match=r"^concatenate: axis 1 is out of range for an input of shape \(2,\) \(1 axis\)"),
                             E((1.0, 2.0, 3.0), {"axis": 0}, match=r"^concatenate: scalars cannot be joined")]))
# axis=None: numpy's flatten-then-join (scalars included), through reshape's gradient.
register_test(OpInfo("concatenate_flat", lambda *xs: concatenate(xs, axis=None),
                     lambda *xs: np.concatenate(xs, axis=None), nargs=3, shapes="same", scalar=False))
register_test(OpInfo("stack", lambda *xs, axis: stack(xs, axis=axis), lambda *xs, axis: np.stack(xs, axis=axis),
                     nargs=3, shapes="same", params=_new_axis_params, scalar=False,
                     errors=[E((_a(2), _a(3), _a(2)), {"axis": 0},
                               match=r"^stack: all inputs need the same shape, got \[\(2,\), \(3,\)\]"),
                             E((_a(2), _a(2), _a(2)), {"axis": 2},
                               match=r"^stack: axis 2 is out of range for a new axis"),
                             E((), {"axis": 0}, match=r"^stack: needs at least one input")]))
register_test(OpInfo("expand_dims", expand_dims, np.expand_dims, params=_new_axis_params, scalar=False,
                     errors=[E((_a(2),), {"axis": 2},
                               match=r"^expand_dims: axis 2 is out of range for a new axis in an input of shape "
                                                        r"\(2,\) \(1 axis\); use an int in \[-2, 1\]"),
                             E((_a(2),), {"axis": 0.5}, error=TypeError,
                               match=r"^expand_dims: axis must be an int, got float 0\.5")]))
register_test(OpInfo("squeeze", squeeze, np.squeeze, params=_squeeze_params, scalar=False,
                     errors=[E((_a(2, 1),), {"axis": 0}, match=r"^squeeze: axis 0 has size 2, not 1"),
                             E((_a(2, 1),), {"axis": 2}, match=r"^squeeze: axis 2 is out of range"),
                             E((_a(2, 1),), {"axis": 0.5}, error=TypeError,
                               match=r"^squeeze: axis must be an int or a tuple of ints, got float 0\.5")]))
register_test(OpInfo("flatten", flatten, np.ravel, scalar=False))


# ----------------------------------------------------------------------------------------------------------
# Breadth, issue 9: shape and indexing functions, and linear algebra (shape.py, linalg.py). Functions that
# return several Values (split, slogdet, eigh, svd) are tested through a function of their pieces; the
# inputs of the matrix functions are built to keep them well defined (invertible, positive definite,
# eigenvalues and singular values apart), and the exact edges are in tests/ops/test_ops_breadth_shape_linalg.py.

from ..engine import gradients  # noqa: E402
from ..ops.elementwise import identity  # noqa: E402
from ..ops.linalg import (  # noqa: E402
    cholesky,
    det,
    dot,
    eigh,
    einsum,
    inner,
    inv,
    kron,
    outer,
    slogdet,
    solve,
    svd,
    tensordot,
)
from ..ops.shape import (  # noqa: E402
    array_split,
    astype,
    diag,
    diagonal,
    flip,
    hsplit,
    hstack,
    moveaxis,
    pad,
    ravel,
    repeat,
    roll,
    split,
    swapaxes,
    tile,
    trace,
    tril,
    triu,
    vsplit,
    vstack,
)

EXACT.update({"pad", "flip", "roll", "tile", "repeat", "split", "array_split", "vsplit", "hsplit", "tril", "triu",
              "diag", "diagonal", "ravel", "swapaxes", "moveaxis", "astype", "vstack", "hstack", "outer", "kron"})


def _pad_params(shape):
    nd = len(shape)
    ps = [{"pad_width": 1, "constant_values": 0}, {"pad_width": (2, 0), "constant_values": -1.5}]
    if nd:  # one pair per axis (and per-axis constants)
        ps.append({"pad_width": tuple((i % 2, 1) for i in range(nd)),
                   "constant_values": tuple((i, -i) for i in range(nd))})
    return ps


def _flip_params(shape):
    nd = len(shape)
    return ([{"axis": None}] + ([{"axis": 0}, {"axis": -1}] if nd else [])
            + ([{"axis": (0, -1)}] if nd >= 2 else []))


def _roll_params(shape):
    nd = len(shape)
    ps = [{"shift": 1, "axis": None}, {"shift": -5, "axis": None}]
    if nd:
        ps += [{"shift": 2, "axis": 0}, {"shift": -1, "axis": -1}, {"shift": (1, 2), "axis": (0, -1)},
               {"shift": (1, 1), "axis": (0, 0)}]  # two shifts along one axis add up
    return ps


def _tile_params(shape):
    return [{"reps": 2}, {"reps": (2, 1)}, {"reps": (1, 2, 1, 3)}, {"reps": ()}]


def _repeat_params(shape):
    ps = [{"repeats": 2, "axis": None}, {"repeats": [3], "axis": None}]
    if shape:
        ps += [{"repeats": 2, "axis": 0}, {"repeats": np.arange(shape[-1]) % 3, "axis": -1}]  # counts 0, 1, 2, 0...
    return ps


def _use_pieces(pieces):
    """Each piece scaled by its own weight, piece 1 left unused: gradients go to their own places, and the
    unused piece's elements get zero."""
    return concatenate([ravel(p) * (i + 1.0) for i, p in enumerate(pieces) if i != 1])


def _split_params(shape):
    n0, nl = shape[0], shape[-1]
    return [{"indices_or_sections": 1, "axis": 0}, {"indices_or_sections": n0, "axis": 0},
            {"indices_or_sections": nl, "axis": -1}, {"indices_or_sections": [1, 3], "axis": 0},
            {"indices_or_sections": [2, 1, -1], "axis": -1}]  # decreasing indices give empty pieces


def _array_split_params(shape):
    return _split_params(shape) + [{"indices_or_sections": 3, "axis": 0}, {"indices_or_sections": 2, "axis": -1}]


def _sections_params(shape):
    return [{"indices_or_sections": 1}, {"indices_or_sections": [1, 3]}, {"indices_or_sections": [0, 0]}]


def _k_params(shape):
    return [{"k": 0}, {"k": 1}, {"k": -1}, {"k": 5}]


def _diag_sample(rng):
    shape = (int(rng.integers(1, 5)),) if rng.random() < 0.5 else tuple(int(s) for s in rng.integers(1, 5, 2))
    return [rng.uniform(-2, 2, shape)], {"k": int(rng.integers(-2, 3))}


def _diagonal_params(shape):
    nd = len(shape)
    ps = [{}, {"offset": 1}, {"offset": -1, "axis1": -1, "axis2": 0}, {"axis1": 1, "axis2": 0}]
    if nd >= 3:
        ps += [{"offset": 1, "axis1": 0, "axis2": 2}, {"axis1": -1, "axis2": 1}]
    return ps


def _swapaxes_params(shape):
    return [{"axis1": 0, "axis2": -1}, {"axis1": -1, "axis2": 0}, {"axis1": 0, "axis2": 0}]


def _moveaxis_params(shape):
    ps = [{"source": 0, "destination": -1}, {"source": -1, "destination": 0}]
    if len(shape) >= 2:
        ps += [{"source": [0, -1], "destination": [-1, 0]}, {"source": (0, 1), "destination": (1, 0)}]
    return ps


def _vstack_sample(rng):
    n = int(rng.integers(1, 4))
    kind = rng.integers(3)
    if kind == 0:  # vectors become rows
        shapes = [(n,)] * 3
    elif kind == 1:  # matrices of differing row counts
        shapes = [(int(rng.integers(1, 4)), n) for _ in range(3)]
    else:  # 0-d inputs become 1 x 1 matrices; 3-d ones join along axis 0
        shapes = [()] * 3 if rng.random() < 0.5 else [(int(rng.integers(1, 3)), n, 2) for _ in range(3)]
    return [rng.uniform(-2, 2, s) for s in shapes], {}


def _hstack_sample(rng):
    n = int(rng.integers(1, 4))
    kind = rng.integers(3)
    if kind == 0:  # vectors of differing lengths join along axis 0
        shapes = [(int(rng.integers(1, 4)),) for _ in range(3)]
    elif kind == 1:  # matrices of differing column counts join along axis 1
        shapes = [(n, int(rng.integers(1, 4))) for _ in range(3)]
    else:
        shapes = [()] * 3
    return [rng.uniform(-2, 2, s) for s in shapes], {}


# The shape functions: they move values around exactly, so their gradients move g back (every element of
# the input reached by the output gets its share; the others get zero).
register_test(OpInfo("pad", lambda x, **p: pad(x, **p), lambda x, **p: np.pad(x, **p), params=_pad_params,
                     scalar=False,
                     errors=[E((_a(2, 3),), {"pad_width": -1}, match=r"^pad: pad widths must not be negative"),
                             E((_a(2, 3),), {"pad_width": ((1, 1),) * 3},
                               match=r"^pad: pad_width .* does not fit an input of shape "
                                                                           r"\(2, 3\)"),
                             E((_a(2, 3),), {"pad_width": 1.5}, error=TypeError,
                               match=r"^pad: pad_width must hold ints"),
                             E((_a(2, 3),), {"pad_width": 1, "mode": "reflect"}, error=NotImplementedError,
                           match=r"^pad: only mode='constant' is supported")]))
register_test(OpInfo("flip", flip, np.flip, params=_flip_params, scalar=False,
                     errors=[E((_a(2, 3),), {"axis": 2},
                               match=r"^flip: axis 2 is out of range for an input of shape \(2, 3\) \(2 axes\)"),
                             E((_a(2, 3),), {"axis": (0, -2)}, match=r"^flip: axis \(0, -2\) repeats an axis"),
                             E((_a(2, 3),), {"axis": 0.5}, error=TypeError,
                               match=r"^flip: axis must be an int or a tuple of ints, got float 0\.5")]))
register_test(OpInfo("roll", roll, np.roll, params=_roll_params, scalar=False,
                     errors=[E((_a(2, 3),), {"shift": (1, 2, 3), "axis": (0, 1)},
                               match=r"^roll: shift \(1, 2, 3\) and axis \(0, 1\) "
                                                                                  r"must have the same length"),
                             E((_a(2, 3),), {"shift": 1, "axis": 2}, match=r"^roll: axis 2 is out of range"),
                             E((_a(2, 3),), {"shift": 1.5, "axis": 0}, error=TypeError,
                               match=r"^roll: shift must be an int")]))
register_test(OpInfo("tile", tile, np.tile, params=_tile_params, scalar=False,
                     errors=[E((_a(2),), {"reps": (2, -1)}, match=r"^tile: reps must not be negative"),
                             E((_a(2),), {"reps": 1.5}, error=TypeError,
                               match=r"^tile: reps must be an int, got float 1\.5")]))
register_test(OpInfo("repeat", repeat, np.repeat, params=_repeat_params, scalar=False,
                     errors=[E((_a(2),), {"repeats": -1, "axis": 0}, match=r"^repeat: repeats must not be negative"),
                             E((_a(2),), {"repeats": [1, 2, 3], "axis": 0},
                               match=r"^repeat: repeats of shape \(3,\) need one count per "
                                                                                r"element along axis 0"),
                             E((_a(2),), {"repeats": 1.5, "axis": 0}, error=TypeError,
                               match=r"^repeat: repeats must be an int or ints"),
                             E((_a(2),), {"repeats": 2, "axis": 1}, match=r"^repeat: axis 1 is out of range")]))
register_test(OpInfo("split", lambda x, **p: _use_pieces(split(x, **p)),
                     lambda x, **p: _use_pieces(np.split(x, **p)), min_ndim=1, params=_split_params, scalar=False,
                     errors=[*_split_errors('split'),
                             E((_a(3),), {"indices_or_sections": 2, "axis": 0},
                           match=r"^split: 3 elements along axis 0 do not split into 2 equal pieces.*use "
                                 r"array_split")]))
register_test(OpInfo("array_split", lambda x, **p: _use_pieces(array_split(x, **p)),
                     lambda x, **p: _use_pieces(np.array_split(x, **p)), min_ndim=1, params=_array_split_params,
                     scalar=False,
                     errors=_split_errors('array_split')))
register_test(OpInfo("vsplit", lambda x, **p: _use_pieces(vsplit(x, **p)),
                     lambda x, **p: _use_pieces(np.vsplit(x, **p)), min_ndim=2, params=_sections_params,
                     scalar=False,
                     errors=[E((_a(3),), {"indices_or_sections": 1},
                               match=r"^vsplit: needs an input of at least 2 axes, got shape \(3,\)"),
                             E((_a(3, 2),), {"indices_or_sections": 2},
                               match=r"^vsplit: 3 elements along axis 0 do not split into 2")]))
register_test(OpInfo("hsplit", lambda x, **p: _use_pieces(hsplit(x, **p)),
                     lambda x, **p: _use_pieces(np.hsplit(x, **p)), min_ndim=1, params=_sections_params,
                     scalar=False,
                     errors=[E((2.0,), {"indices_or_sections": 1}, match=r"^hsplit: a 0-d input has no axis to split"),
                             E((_a(3, 2),), {"indices_or_sections": 3},
                               match=r"^hsplit: 2 elements along axis 1 do not split into 3")]))
register_test(OpInfo("tril", tril, np.tril, min_ndim=1, params=_k_params, scalar=False,
                     errors=_triangle_errors('tril')))
register_test(OpInfo("triu", triu, np.triu, min_ndim=1, params=_k_params, scalar=False,
                     errors=_triangle_errors('triu')))
register_test(OpInfo("diag", diag, np.diag, scalar=False, sample=_diag_sample,
                     errors=[E((_a(2, 2, 2),), {"k": 0},
                               match=r"^diag: needs a 1-D or 2-D input, got shape \(2, 2, 2\)"),
                             E((2.0,), {"k": 0}, match=r"^diag: needs a 1-D or 2-D input, got shape \(\)"),
                             E((_a(2),), {"k": 0.5}, error=TypeError,
                               match=r"^diag: k must be an int, got float 0\.5")]))
register_test(OpInfo("diagonal", diagonal, np.diagonal, min_ndim=2, params=_diagonal_params, scalar=False,
                     errors=_diagonal_errors('diagonal')))
register_test(OpInfo("trace", trace, np.trace, min_ndim=2, params=_diagonal_params, scalar=False,
                     errors=_diagonal_errors('trace')))
register_test(OpInfo("ravel", ravel, np.ravel, scalar=False))
register_test(OpInfo("swapaxes", swapaxes, np.swapaxes, min_ndim=1, params=_swapaxes_params, scalar=False,
                     errors=[E((_a(2, 3),), {"axis1": 0, "axis2": 2},
                               match=r"^swapaxes: axis2=2 is out of range for an input of shape \(2, 3\) \(2 axes\)"),
                             E((_a(2, 3),), {"axis1": 0.5, "axis2": 0}, error=TypeError,
                               match=r"^swapaxes: axis1 must be an int, got float 0\.5")]))
register_test(OpInfo("moveaxis", moveaxis, np.moveaxis, min_ndim=1, params=_moveaxis_params, scalar=False,
                     errors=[E((_a(2, 3),), {"source": [0, 1], "destination": [0]},
                               match=r"^moveaxis: source \[0, 1\] and destination "
                                                                                      r"\[0\] must name as many axes"),
                             E((_a(2, 3),), {"source": 0, "destination": 2},
                               match=r"^moveaxis: destination=2 is out of range"),
                             E((_a(2, 3),), {"source": [0, 0], "destination": [0, 1]},
                               match=r"^moveaxis: source=\[0, 0\] repeats an axis"),
                             E((_a(2, 3),), {"source": 0.5, "destination": 0}, error=TypeError,
                           match=r"^moveaxis: source must be an int or a tuple of ints, got float 0\.5")]))
# astype there and back: float32 in, float64 inside, float32 out (the gradient is cast back at each step);
# float64 in, the casts are copies. The exact dtype behaviour is tested on its own.
register_test(OpInfo("astype", lambda x: astype(astype(x, np.float64) * 3.0, x.dtype),
                     lambda x: (x.astype(np.float64) * 3.0).astype(x.dtype), scalar=False))
register_test(OpInfo("vstack", lambda *xs: vstack(xs), lambda *xs: np.vstack(xs), nargs=3, scalar=False,
                     sample=_vstack_sample,
                     errors=[E((_a(2), _a(3), _a(2)),
                               match=r"^vstack: the inputs' shapes \[\(1, 2\), \(1, 3\), \(1, 2\)\] do not fit"),
                             E((), match=r"^vstack: needs at least one input")]))
register_test(OpInfo("hstack", lambda *xs: hstack(xs), lambda *xs: np.hstack(xs), nargs=3, scalar=False,
                     sample=_hstack_sample,
                     errors=[E((_a(2, 3), _a(3, 3), _a(2, 3)),
                               match=r"^hstack: the inputs' shapes \[\(2, 3\), \(3, 3\), \(2, 3\)\] do "
                                                                  r"not fit.*except along axis 1"),
                             E((_a(2), _a(2, 1), _a(2)), match=r"^hstack: the inputs' shapes .* same number of axes"),
                             E((), match=r"^hstack: needs at least one input")]))


# -- linear algebra ------------------------------------------------------------------------------------

def _dot_sample(rng):
    """Every pairing of ranks numpy's dot distinguishes: scalar, vector, matrix, stacks of matrices."""
    n, k, m, b = (int(s) for s in rng.integers(1, 4, size=4))
    pairs = [((), (n, k)), ((n, k), ()), ((k,), (k,)), ((n, k), (k,)), ((k,), (k, m)), ((n, k), (k, m)),
             ((b, n, k), (k,)), ((k,), (b, k, m)), ((b, n, k), (k, m)), ((n, k), (b, k, m)),
             ((b, n, k), (2, k, m))]
    sa, sb = pairs[rng.integers(len(pairs))]
    return [rng.uniform(-2, 2, sa), rng.uniform(-2, 2, sb)], {}


def _tensordot_sample(rng):
    s = [int(v) for v in rng.integers(1, 4, size=4)]
    cases = [((s[0], s[1], s[2]), (s[1], s[2], s[3]), 2), ((s[0], s[1]), (s[1], s[2]), 1),
             ((s[0], s[1]), (s[2],), 0), ((s[0], s[1], s[2]), (s[2], s[3], s[1]), ([1, 2], [2, 0])),
             ((s[0], s[1]), (s[1], s[0]), ([0, -1], [-1, 0])), ((s[0],), (s[2], s[0]), (0, 1)),
             ((), (s[0],), 0)]
    sa, sb, axes = cases[rng.integers(len(cases))]
    return [rng.uniform(-2, 2, sa), rng.uniform(-2, 2, sb)], {"axes": axes}


def _inner_sample(rng):
    n, m, k = (int(v) for v in rng.integers(1, 4, size=3))
    sa, sb = [((k,), (k,)), ((n, k), (k,)), ((n, k), (m, k)), ((2, n, k), (m, k)), ((), (n, k))][rng.integers(5)]
    return [rng.uniform(-2, 2, sa), rng.uniform(-2, 2, sb)], {}


# einsum: a spread of subscripts (shapes drawn for its letters; sizes of 1 too, since numpy broadcasts them).
_EINSUM = {
    "contract": ["ij,jk->ik", "ij,jk", "i,i->", "i,i", "i,j->ij", "ij->ji", "ij->", "ijk,jl->ilk", "bij,bjk->bik",
                 "ij,jk,kl->il", "i,ij,j", "ij,ij->i"],
    "diagonal": ["ii->i", "ii", "ii->", "iij->j", "ij,jj->i", "iji->ij", "iii->i", "ij,ii,j"],
    "ellipsis": ["...ij,...jk->...ik", "...i,...i", "i...->...", "...,...->...", "ij...,j...->i...", "...ii->...i",
                 "i...i"],
}


def _einsum_sample(kind):
    def sample(rng):
        subscripts = _EINSUM[kind][rng.integers(len(_EINSUM[kind]))]
        size = {c: int(rng.integers(1, 4)) for c in "ijklb"}
        lhs = subscripts.split("->")[0]
        arrays = []
        for t in lhs.split(","):
            ell = ()
            if "..." in t:  # a random batch for '...', sometimes with size-1 axes that broadcast
                ell = tuple(int(rng.integers(1, 3)) if rng.random() < 0.7 else 1 for _ in range(rng.integers(0, 3)))
            head, _, tail = t.partition("...")
            arrays.append(rng.uniform(-2, 2, tuple(size[c] for c in head) + ell + tuple(size[c] for c in tail)))
        return arrays, {"subscripts": subscripts}
    return sample


def _einsum_broadcast_sample(rng):
    """Size-1 axes under ordinary letters broadcast too (numpy allows it): their gradient is summed."""
    n, m = (int(v) for v in rng.integers(2, 4, size=2))
    subscripts, sa, sb = [("ij,ij->ij", (1, m), (n, m)), ("ij,jk->ik", (n, 1), (m, 2)), ("ij,j->i", (n, m), (1,)),
                          ("ii,i->i", (1, 1), (n,))][rng.integers(4)]
    return [rng.uniform(-2, 2, sa), rng.uniform(-2, 2, sb)], {"subscripts": subscripts}


def _small_pair_sample(rng):
    """Two inputs of any ranks (0 to 3) and small sizes: outer and kron have as many outputs as the product of
    the inputs' sizes, and the full-Jacobian check costs a backward pass per output."""
    return [rng.uniform(-2, 2, _rand_shape(rng, max_side=2)), rng.uniform(-2, 2, _rand_shape(rng, max_side=3))], {}


def _well_conditioned(rng, n, lead=()):
    """A random matrix plus n on the diagonal: far from singular (its smallest singular value is >= about 1)."""
    return rng.uniform(-1, 1, lead + (n, n)) + n * np.eye(n) * rng.choice([-1.0, 1.0], size=lead + (1, 1))


def _matrices_sample(rng):
    n = int(rng.integers(1, 4))
    lead = [(), (2,), (2, 1)][rng.integers(3)]
    return [_well_conditioned(rng, n, lead)], {}


def _solve_sample(rng):
    n, k = (int(v) for v in rng.integers(1, 4, size=2))
    sa, sb = [((), (n,)), ((), (n, k)), ((2,), (n,)), ((2,), (2, n, k)), ((2,), (n, k)), ((1,), (3, n, k))][
        rng.integers(6)]
    return [_well_conditioned(rng, n, sa), rng.uniform(-2, 2, sb)], {}


def _orthogonal(rng, n, lead=()):
    q, r = np.linalg.qr(rng.standard_normal(lead + (n, n)))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def _spread_values(rng, k, lead=(), low=0.5, gap=0.4):
    """k values per matrix, at least `gap` apart and above `low` (shuffled)."""
    base = low + gap * np.arange(k) + rng.uniform(0, gap / 2, lead + (k,))
    return np.take_along_axis(base, rng.permuted(np.broadcast_to(np.arange(k), lead + (k,)), axis=-1), axis=-1)


def _spd_sample(rng):
    n = int(rng.integers(1, 4))
    lead = [(), (2,)][rng.integers(2)]
    q = _orthogonal(rng, n, lead)
    a = q @ (_spread_values(rng, n, lead)[..., :, None] * np.swapaxes(q, -1, -2))
    return [(a + np.swapaxes(a, -1, -2)) / 2], {}  # exactly symmetric, as numpy's reference needs


def _symmetric_sample(rng):
    """Symmetric matrices with eigenvalues of both signs, at least 0.4 apart."""
    n = int(rng.integers(1, 4))
    lead = [(), (2,)][rng.integers(2)]
    q = _orthogonal(rng, n, lead)
    a = q @ (_spread_values(rng, n, lead, low=-1.0)[..., :, None] * np.swapaxes(q, -1, -2))
    return [(a + np.swapaxes(a, -1, -2)) / 2], {}


def _svd_sample(rng):
    m, n = (int(v) for v in rng.integers(1, 4, size=2))
    lead = [(), (2,)][rng.integers(2)]
    k = builtins.min(m, n)
    s = _spread_values(rng, k, lead)
    u, v = _orthogonal(rng, m, lead)[..., :, :k], _orthogonal(rng, n, lead)[..., :, :k]
    a = u @ (s[..., :, None] * np.swapaxes(v, -1, -2))
    return [a], {"full_matrices": bool(rng.random() < 0.5)}


def _det_gradient(a):
    """det's gradient as a function of a (the cofactor matrix), computed by the engine with create_graph: its
    own gradient is det's second derivative. This entry also tests the cofactor primitive."""
    x = identity(a)
    (g,) = gradients(sum(det(x)), [x], create_graph=True)
    return g


def _np_det_gradient(a):
    return np.linalg.det(a)[..., None, None] * np.swapaxes(np.linalg.inv(a), -1, -2)


def _reshape_to(x, shape):
    return reshape(x, shape=shape)


def _sign_fixed(v, axis):
    """Each eigen/singular vector times its first component: the same whichever sign LAPACK chose."""
    first = v[..., :1, :] if axis == -2 else v[..., :, :1]
    return v * first


def _svd_pieces(a, full_matrices, svd_fn, cat, flat):
    m, n = a.shape[-2:]
    k = builtins.min(m, n)
    u, s, vh = svd_fn(a, full_matrices=full_matrices)
    u, vh = u[..., :, :k], vh[..., :k, :]  # with full_matrices, the thin part (the rest has no gradient)
    lead = a.shape[:-2]
    return cat([flat(_sign_fixed(u, -2), lead + (-1,)), s, flat(_sign_fixed(vh, -1), lead + (-1,))], axis=-1)


register_test(OpInfo("dot", dot, np.dot, nargs=2, scalar=False, sample=_dot_sample,
                     errors=[E((_a(2, 3), _a(2, 3)),
                               match=r"^dot: shapes \(2, 3\) and \(2, 3\) are not aligned: a\.shape\[-1\] \(3\) "
                                                        r"must equal b\.shape\[-2\] \(2\)"),
                             E((_a(3), _a(4)), match=r"^dot: shapes \(3,\) and \(4,\) are not aligned")]))
register_test(OpInfo("tensordot", tensordot, np.tensordot, nargs=2, scalar=False, sample=_tensordot_sample,
                     errors=[E((_a(2, 3), _a(3, 4)), {"axes": 3},
                               match=r"^tensordot: axes=3 needs 0 <= axes <= the number of axes"),
                             E((_a(2, 3), _a(3, 4)), {"axes": -1}, match=r"^tensordot: axes=-1 needs 0 <= axes"),
                             E((_a(2, 3), _a(3, 4)), {"axes": ([0], [0])},
                               match=r"^tensordot: summed axes differ in size"),
                             E((_a(2, 3), _a(3, 4)), {"axes": ([1, 1], [0, 0])},
                               match=r"^tensordot: axis \[1, 1\] repeats an axis"),
                             E((_a(2, 3), _a(3, 4)), {"axes": ([1], [0, 1])},
                               match=r"^tensordot: axes .* pair 1 axes of a with 2 of b"),
                             E((_a(2, 3), _a(3, 4)), {"axes": ([1], [2])},
                               match=r"^tensordot: axis 2 is out of range")]))
register_test(OpInfo("inner", inner, np.inner, nargs=2, scalar=False, sample=_inner_sample,
                     errors=[E((_a(2, 3), _a(4)),
                               match=r"^inner: the last axes of shapes \(2, 3\) and \(4,\) differ in size")]))
register_test(OpInfo("outer", outer, np.outer, nargs=2, scalar=False, sample=_small_pair_sample))
register_test(OpInfo("kron", kron, np.kron, nargs=2, scalar=False, sample=_small_pair_sample))
# The bad subscripts of each kind of contraction, beside the entries (which are made in a loop).
_EINSUM_ERRORS = {
    "contract": [E((_a(2, 3), _a(4, 5)), {"subscripts": "ij,jk->ik"},
                   match=r"^einsum: cannot apply to inputs of shapes "
                 r"\(2, 3\), \(4, 5\).*equal sizes"),
                 E((_a(2, 3), _a(3, 5)), {"subscripts": "ijk,jk->ik"},
                   match=r"^einsum: .*too many subscripts for operand 0"),
                 E((_a(2, 3), _a(3, 5)), {"subscripts": "ij,jk->iz"},
                   match=r"^einsum: .*output subscript 'z' which never "
                 r"appeared"),
                 E((_a(2, 3), _a(3, 5)), {"subscripts": "ij->i"}, match=r"^einsum: .*fewer operands provided")],
    "diagonal": [E((_a(2, 3), _a(3)), {"subscripts": "ii,i->i"},
                   match=r"^einsum: .*dimensions in operand 0 for collapsing "
                 r"index 'i' don't match \(2 != 3\)")],
    "ellipsis": [E((_a(2, 3, 4), _a(3, 4, 5)), {"subscripts": "...ij,...jk->...ik"},
                 match=r"^einsum: cannot apply to inputs of shapes \(2, 3, 4\), \(3, 4, 5\)")],
}
for _kind in _EINSUM:
    register_test(OpInfo(f"einsum_{_kind}", lambda *xs, subscripts: einsum(subscripts, *xs),
                         lambda *xs, subscripts: np.einsum(subscripts, *xs), nargs=2, scalar=False,
                         sample=_einsum_sample(_kind), errors=_EINSUM_ERRORS.get(_kind, [])))
register_test(OpInfo("einsum_broadcast", lambda *xs, subscripts: einsum(subscripts, *xs),
                     lambda *xs, subscripts: np.einsum(subscripts, *xs), nargs=2, scalar=False,
                     sample=_einsum_broadcast_sample,
                     errors=[E((_a(2, 3), _a(4, 3)), {"subscripts": "ij,ij->ij"},
                           match=r"^einsum: cannot apply to inputs of shapes \(2, 3\), \(4, 3\).*or 1\) wherever "
                                 r"a letter repeats")]))
register_test(OpInfo("inv", inv, np.linalg.inv, scalar=False, sample=_matrices_sample,
                     errors=[E((_a(2, 3),), match=rf"^inv: {_SQUARE} \(2, 3\)"),
                             E((_a(3),), match=rf"^inv: {_SQUARE} \(3,\)"),
                             E((_SINGULAR,),
                               match=r"^inv: Singular matrix \(shapes \(2, 2\)\); a singular matrix has no inverse")]))
register_test(OpInfo("solve", solve, np.linalg.solve, nargs=2, scalar=False, sample=_solve_sample,
                     errors=[E((_a(2, 3), _a(2)), match=rf"^solve: {_SQUARE} \(2, 3\)"),
                             E((np.eye(2), _a(3)),
                               match=r"^solve: b must have shape \(2,\) or \(\.\.\., 2, k\) for a of shape \(2, 2\), "
                                                      r"got \(3,\)"),
                             E((np.eye(2), 2.0), match=r"^solve: b must have shape .* got \(\)"),
                             E((_SINGULAR, _a(2)), match=r"^solve: Singular matrix .*a x = b has no unique x")]))
register_test(OpInfo("det", det, np.linalg.det, scalar=False, sample=_matrices_sample,
                     errors=_det_errors('det')))
register_test(OpInfo("det_gradient", _det_gradient, _np_det_gradient, scalar=False, sample=_matrices_sample,
                     errors=_det_errors('det_gradient')))


def _np_det_hessian(a, g):
    """d/da <g, cofactor(a)> for an invertible a: <g, m> C - C gᵀ m with m = a^-T and C = det(a) m."""
    m = np.swapaxes(np.linalg.inv(a), -1, -2)
    c = np.linalg.det(a)[..., None, None] * m
    return np.sum(g * m, axis=(-2, -1), keepdims=True) * c - c @ np.swapaxes(g, -1, -2) @ m


def _det_hessian_sample(rng):
    [a], _ = _matrices_sample(rng)
    return [a, rng.uniform(-1, 1, a.shape)], {}


# det's second derivative, a primitive of its own (from the SVD, right at singular matrices too).
register_test(OpInfo("det_hessian", lambda a, g: _linalg._det_hessian(a, g), _np_det_hessian, nargs=2, scalar=False,
                     sample=_det_hessian_sample,
                     errors=[E((_a(2, 3), _a(2, 3)), match=rf"^det_hessian: {_SQUARE} \(2, 3\)"),
                             E((_a(2, 2), _a(3, 3)), match=r"^det_hessian: g must have the matrices' shape \(2, 2\)")]))
register_test(OpInfo("slogdet", lambda a: slogdet(a)[1], lambda a: np.linalg.slogdet(a)[1], scalar=False,
                     sample=_matrices_sample,
                     errors=[E((_a(2, 3),), match=rf"^slogdet: {_SQUARE} \(2, 3\)"),
                             E((2.0,), match=rf"^slogdet: {_SQUARE} \(\)")]))
register_test(OpInfo("cholesky", cholesky, np.linalg.cholesky, scalar=False, sample=_spd_sample,
                     errors=[E((_a(2, 3),), match=rf"^cholesky: {_SQUARE} \(2, 3\)"),
                             E((-np.eye(2),),
                               match=r"^cholesky: Matrix is not positive definite .*symmetric positive definite")]))
register_test(OpInfo("eigh_values", lambda a: eigh(a)[0], lambda a: np.linalg.eigh(a)[0], scalar=False,
                     sample=_symmetric_sample,
                     errors=_eigh_errors('eigh_values')))
register_test(OpInfo("eigh_vectors", lambda a: _sign_fixed(eigh(a)[1], -2),
                     lambda a: _sign_fixed(np.linalg.eigh(a)[1], -2), scalar=False, sample=_symmetric_sample,
                     errors=_eigh_errors('eigh_vectors')))
register_test(OpInfo("svd_values", lambda a, full_matrices: svd(a, full_matrices=full_matrices, compute_uv=False),
                     lambda a, full_matrices: np.linalg.svd(a, full_matrices=full_matrices, compute_uv=False),
                     scalar=False, sample=_svd_sample,
                     errors=[E((_a(3),), {"full_matrices": False},
                               match=r"^svd: needs a matrix or a stack of them .* got shape \(3,\)"),
                             E((_NAN,), {"full_matrices": False},
                               match=r"^svd: SVD did not converge \(shapes \(2, 2\)\); the matrix must "
                                                                     r"hold finite numbers")]))
register_test(OpInfo("svd", lambda a, full_matrices: _svd_pieces(a, full_matrices, svd, concatenate, _reshape_to),
                     lambda a, full_matrices: _svd_pieces(a, full_matrices, np.linalg.svd, np.concatenate,
                                                          np.reshape),
                     scalar=False, sample=_svd_sample,
                     errors=[E((_NAN,), {"full_matrices": True}, match=r"^svd: SVD did not converge")]))

# =======================================================================================
# Breadth (issue 9): the new elementwise functions, reductions and scans. Exact edges (zeros in prod and
# cumprod, norm at 0, ties in sort, nan in fmax, the jumps of floor and mod) are pinned down in
# tests/ops/test_ops_breadth_elementwise.py and tests/ops/test_ops_breadth_reductions.py.

from ..ops import elementwise as _ew  # noqa: E402
from ..ops import linalg as _linalg  # noqa: E402
from ..ops import reductions as _red  # noqa: E402

EXACT.update({
    # Forwards that are the very numpy function of the reference on arrays and exact arithmetic on floats. (The
    # trigonometric, hyperbolic and logarithmic ones use `math` on floats, which may differ from numpy in the
    # last bit: they are compared within a tolerance.)
    "square", "sign", "floor", "ceil", "round", "round_2", "fmax", "fmin", "remainder", "mod_operator", "rmod",
    "mod_number", "deg2rad", "rad2deg", "nan_to_num", "prod", "cumsum", "cumprod", "sort", "diff",
})

# Trigonometric and hyperbolic functions, kept off their poles (tan at +-pi/2) and where their slopes are infinite
# (arcsin and arctanh at +-1, arccosh at 1).
register_test(OpInfo("sin", _ew.sin, np.sin, domain=(-4.0, 4.0)))
register_test(OpInfo("cos", _ew.cos, np.cos, domain=(-4.0, 4.0)))
register_test(OpInfo("tan", _ew.tan, np.tan, domain=(-1.3, 1.3)))
register_test(OpInfo("arcsin", _ew.arcsin, np.arcsin, domain=(-0.9, 0.9)))
register_test(OpInfo("arccos", _ew.arccos, np.arccos, domain=(-0.9, 0.9)))
register_test(OpInfo("arctan", _ew.arctan, np.arctan, domain=(-4.0, 4.0)))
# atan2 has no limit at the origin: each input keeps away from 0.
register_test(OpInfo("arctan2", _ew.arctan2, np.arctan2, nargs=2, away_from=(0.0,),
                     errors=_binary('arctan2')))
register_test(OpInfo("sinh", _ew.sinh, np.sinh, domain=(-3.0, 3.0)))
register_test(OpInfo("cosh", _ew.cosh, np.cosh, domain=(-3.0, 3.0)))
register_test(OpInfo("arcsinh", _ew.arcsinh, np.arcsinh, domain=(-4.0, 4.0)))
register_test(OpInfo("arccosh", _ew.arccosh, np.arccosh, domain=(1.1, 4.0)))
register_test(OpInfo("arctanh", _ew.arctanh, np.arctanh, domain=(-0.9, 0.9)))

# Logarithms and exponentials.
register_test(OpInfo("log1p", _ew.log1p, np.log1p, domain=(-0.9, 3.0)))
register_test(OpInfo("expm1", _ew.expm1, np.expm1, domain=(-3.0, 3.0)))
register_test(OpInfo("log2", _ew.log2, np.log2, domain=(0.1, 4.0)))
register_test(OpInfo("log10", _ew.log10, np.log10, domain=(0.1, 4.0)))
register_test(OpInfo("exp2", _ew.exp2, np.exp2, domain=(-3.0, 3.0)))
register_test(OpInfo("square", _ew.square, np.square))

# Two inputs. hypot's slope has no limit at the origin: the inputs keep away from 0.
register_test(OpInfo("hypot", _ew.hypot, np.hypot, nargs=2, away_from=(0.0,),
                     errors=_binary('hypot')))
register_test(OpInfo("logaddexp", _ew.logaddexp, np.logaddexp, nargs=2, domain=(-4.0, 4.0),
                     errors=_binary('logaddexp')))
register_test(OpInfo("logaddexp2", _ew.logaddexp2, np.logaddexp2, nargs=2, domain=(-4.0, 4.0),
                     errors=_binary('logaddexp2')))
# sinc near and at 0 uses its Taylor series: the domain straddles 0 on purpose.
register_test(OpInfo("sinc", _ew.sinc, np.sinc, domain=(-2.5, 2.5)))

# Rounding: flat between the jumps, which the inputs keep away from; the gradient is 0.
register_test(OpInfo("sign", _ew.sign, np.sign, away_from=(0.0,)))
register_test(OpInfo("floor", _ew.floor, np.floor, away_from=(-2.0, -1.0, 0.0, 1.0, 2.0)))
register_test(OpInfo("ceil", _ew.ceil, np.ceil, away_from=(-2.0, -1.0, 0.0, 1.0, 2.0)))
register_test(OpInfo("round", _ew.round, np.round, away_from=(-1.5, -0.5, 0.5, 1.5),
                     errors=[E((_a(3),), {"decimals": 0.5}, error=TypeError,
                               match=r"^round: decimals must be an int .*got float 0\.5"),
                             E((1.0,), {"decimals": "1"}, error=TypeError,
                               match=r"^round: decimals must be an int .*got str '1'")]))


def _round_2_sample(rng):
    """Values 0.002..0.004 above or below a multiple of 0.01: at least 0.001 from the jumps of round(x, 2)."""
    shape = _rand_shape(rng, min_ndim=1)
    offset = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.002, 0.004, shape)
    return [np.round(rng.uniform(-2.0, 2.0, shape), 2) + offset], {}


register_test(OpInfo("round_2", lambda x: _ew.round(x, decimals=2), lambda x: np.round(x, 2), sample=_round_2_sample))

# NaN-aware extrema (no ties: a tie sends the gradient to the first input, a kink).
register_test(OpInfo("fmax", _ew.fmax, np.fmax, nargs=2, sample=_separated_pair,
                     errors=_binary('fmax')))
register_test(OpInfo("fmin", _ew.fmin, np.fmin, nargs=2, sample=_separated_pair,
                     errors=_binary('fmin')))


def _mod_sample(rng):
    """a and b with a / b at least 0.1 away from an integer (a % b jumps there); b away from 0."""
    shape_b = [(), (3,), (2, 1)][rng.integers(3)]
    b = rng.choice([-1.0, 1.0], shape_b) * rng.uniform(0.5, 2.0, shape_b)
    shape = np.broadcast_shapes(shape_b, (2, 3))
    a = b * (rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.9, shape))
    return [a, b], {}


# (away_from only matters to the scalar check, which draws values one by one: a divisor of 0.0 raises for floats.)
register_test(OpInfo("remainder", _ew.remainder, np.remainder, nargs=2, sample=_mod_sample, away_from=(0.0,),
                     errors=_binary("remainder", E((1.0, 0.0), error=ZeroDivisionError, match=_MOD0))))
register_test(OpInfo("mod_operator", lambda a, b: a % b, np.remainder, nargs=2, sample=_mod_sample, away_from=(0.0,),
                     errors=_binary("mod_operator", E((1.0, 0.0), error=ZeroDivisionError,
                                                      match=_MOD0), op="remainder")))
register_test(OpInfo("mod_number", lambda x: x % 1.5, lambda x: np.remainder(x, 1.5), away_from=(-1.5, 0.0, 1.5)))
register_test(OpInfo("rmod", lambda x: 2.0 % x, lambda x: np.remainder(2.0, x), domain=(1.1, 1.9),
                     errors=[E((0.0,), error=ZeroDivisionError,
                               match=r"^remainder: division by zero on the scalars 2\.0, 0\.0")]))  # 2/x in (1, 2)

register_test(OpInfo("deg2rad", _ew.deg2rad, np.deg2rad))
register_test(OpInfo("rad2deg", _ew.rad2deg, np.rad2deg))
# finite inputs here; nan and inf in the edge tests
register_test(OpInfo("nan_to_num", _ew.nan_to_num, np.nan_to_num,
                     errors=[E((_a(3),), {"nan": "a"}, error=TypeError,
                               match=r"^nan_to_num: nan must be a real number .*got str 'a'"),
                             E((1.0,), {"posinf": 1j}, error=TypeError,
                               match=r"^nan_to_num: posinf must be a real number .*complex 1j")]))


# -- reductions and scans ---------------------------------------------------------------------------


def _scan_params(shape):
    return [{}] if not shape else [{}, {"axis": 0}, {"axis": -1}] + ([{"axis": 1}] if len(shape) >= 2 else [])


def _var_params(shape):
    """_reduce_params with ddof 0, and ddof 1 wherever each result reduces 2 elements or more."""
    out = []
    for p in _reduce_params(shape):
        out.append(p)
        axes = range(len(shape)) if p.get("axis") is None else np.atleast_1d(p["axis"])
        if int(np.prod([shape[a] for a in axes], dtype=np.int64)) >= 2:
            out.append(dict(p, ddof=1))
    return out


def _std_sample(rng):
    """std's slope at a constant input is taken as 0 (a kink): every reduced group has 2 distinct values or more."""
    shape = list(_rand_shape(rng, min_ndim=1))
    axis = int(rng.integers(len(shape)))
    shape[axis] = builtins.max(shape[axis], 2)
    params = [{"axis": axis}, {"axis": axis, "ddof": 1, "keepdims": True}, {}, {"ddof": 1}][rng.integers(4)]
    return [_distinct(rng, tuple(shape), gap=0.3)], params


def _sort_sample(rng):
    shape = _rand_shape(rng, min_ndim=1)
    params = [{}, {"axis": 0}, {"axis": -1}, {"axis": None}][rng.integers(4)]
    return [_distinct(rng, shape)], params  # ties are a kink (any assignment of their gradients is valid)


def _diff_sample(rng):
    shape = list(_rand_shape(rng, min_ndim=1))
    axis = int(rng.integers(-len(shape), len(shape)))
    n = int(rng.integers(1, 3))
    shape[axis] = builtins.max(shape[axis], n + 1)
    params = [{"n": n, "axis": axis}, {"axis": axis, "prepend": 0.5}, {"axis": axis, "append": -1.0},
              {"n": n, "axis": axis, "prepend": 1.0, "append": 2.0}][rng.integers(4)]
    return [rng.uniform(-2.0, 2.0, tuple(shape))], params


def _norm_params(shape):
    """The forms whose gradient is smooth away from zeros: the 2-norm, p-norms, the 1-norm and Frobenius."""
    ps = [{}, {"keepdims": True}]
    if len(shape) >= 1:
        ps += [{"axis": -1}, {"ord": 2, "axis": 0}, {"ord": 1, "axis": 0, "keepdims": True}, {"ord": 3, "axis": -1}]
    if len(shape) in (1, 2):
        ps += [{"ord": 1 if len(shape) == 1 else "fro"}]
    if len(shape) >= 2:
        ps += [{"ord": "fro", "axis": (0, 1)}, {"axis": (-1, 0), "keepdims": True}]
    return ps


def _norm_max_sample(rng):
    """The norms that take a max or a min (vector inf and -inf, matrix 1, -1, inf and -inf), over inputs without
    ties in |x| nor in the row and column sums of |x|, and without zeros (abs has a kink there)."""
    if rng.random() < 0.5:
        shape = _rand_shape(rng, min_ndim=1)
        x = 0.5 + rng.permutation(int(np.prod(shape))).reshape(shape) * 0.2 + rng.uniform(-0.05, 0.05, shape)
        x = x * rng.choice([-1.0, 1.0], shape)
        params = [{"ord": np.inf, "axis": -1}, {"ord": -np.inf, "axis": 0, "keepdims": True}]
        if len(shape) == 1:
            params.append({"ord": np.inf})
        return [x], params[rng.integers(len(params))]
    rows, cols = (int(s) for s in rng.integers(2, 4, size=2))
    # |x[i, j]| = 0.5 + j + 0.1 i (then rows and columns shuffled): column sums differ by `rows`, row sums by
    # 0.1 * cols at least.
    mag = 0.5 + np.arange(cols)[None, :] + 0.1 * np.arange(rows)[:, None] + rng.uniform(-0.01, 0.01, (rows, cols))
    x = rng.choice([-1.0, 1.0], (rows, cols)) * mag[rng.permutation(rows)][:, rng.permutation(cols)]
    params = [{"ord": 1}, {"ord": -1}, {"ord": np.inf}, {"ord": -np.inf, "axis": (1, 0)}]
    return [x], params[rng.integers(len(params))]


register_test(OpInfo("prod", _red.prod, np.prod, params=_reduce_params,
                     errors=_reduction('prod')))
register_test(OpInfo("var", _red.var, np.var, params=_var_params,
                     errors=[*_reduction('var'),
                             *_ddof_errors('var')]))
register_test(OpInfo("std", _red.std, np.std, sample=_std_sample, scalar=False,
                     errors=[*_reduction('std'),
                             *_ddof_errors('std')]))
register_test(OpInfo("cumsum", _red.cumsum, np.cumsum, params=_scan_params, scalar=False,
                     errors=[*_one_axis_errors('cumsum'),
                             *_scan_errors('cumsum')]))
register_test(OpInfo("cumprod", _red.cumprod, np.cumprod, params=_scan_params, scalar=False,
                     errors=[*_one_axis_errors('cumprod'),
                             *_scan_errors('cumprod')]))
register_test(OpInfo("norm", _red.norm, np.linalg.norm, params=_norm_params, away_from=(0.0,),
                     errors=[E((_a(3),), {"ord": 0.5}, match=rf"^norm: unsupported ord=0\.5; {_ORDS}"),
                             E((_a(2, 3),), {"ord": -1, "axis": 0}, match=r"^norm: unsupported ord=-1;"),
                             E((_a(2, 3),), {"ord": "x", "axis": 0}, match=r"^norm: unsupported ord='x';"),
                             E((_a(2, 3),), {"ord": 3, "axis": (0, 1)},
                               match=r"^norm: unsupported ord=3 for a matrix norm"),
                             E((_a(2, 3, 2),), {"ord": 1},
                               match=r"^norm: ord=1 without an axis needs a 1-D or 2-D input, got shape "
                                                              r"\(2, 3, 2\); give axis"),
                             E((_a(2, 3),), {"axis": (0, -2)}, match=r"^norm: axis \(0, -2\) repeats an axis"),
                             E((_a(2, 3),), {"axis": 2},
                               match=r"^norm: axis 2 is out of range for an input of shape \(2, 3\)"),
                             E((_a(2, 3),), {"axis": 0.5}, error=TypeError,
                               match=r"^norm: axis must be an int or a tuple of ints, got float 0\.5"),
                             E((_a(2, 3, 2),), {"axis": (0, 1, 2)},
                               match=r"^norm: axis must be an int or a pair of ints, got \(0, 1, 2\)")]))
register_test(OpInfo("norm_max", _red.norm, np.linalg.norm, sample=_norm_max_sample, scalar=False,
                     errors=[E((_a(2, 3),), {"ord": "fro", "axis": -1},
                               match=r"^norm: ord='fro' is a matrix norm, but one axis was given"),
                             E((_a(2, 3, 2),), {"ord": np.inf},
                               match=r"^norm: ord=inf without an axis needs a 1-D or 2-D input"),
                             E((_a(2, 3),), {"ord": -np.inf, "axis": (1, 1)},
                               match=r"^norm: axis \(1, 1\) repeats an axis")]))
register_test(OpInfo("sort", _red.sort, np.sort, sample=_sort_sample, scalar=False,
                     errors=[*_one_axis_errors('sort'),
                             E((2.0,), match=r"^sort: a scalar has no axis to sort along; use axis=None")]))
register_test(OpInfo("diff", _red.diff, np.diff, sample=_diff_sample, scalar=False,
                     errors=[*_one_axis_errors('diff'),
                             E((2.0,), match=r"^diff: needs an input with at least one axis"),
                             E((_a(2, 3),), {"n": -1}, match=r"^diff: order n must be a non-negative int, got -1"),
                             E((_a(2, 3),), {"n": 1.5}, error=TypeError,
                           match=r"^diff: order n must be an int, got float 1\.5"),
                             E((_a(2, 3),), {"prepend": _a(3, 3), "axis": 1},
                           match=r"^diff: prepend of shape \(3, 3\) does not fit the input of shape \(2, "
                                 r"3\).*except along axis 1"),
                             E((_a(2, 3),), {"append": _a(3)}, match=r"^diff: append of shape \(3,\) does not fit"),
                             E((_a(2, 3),), {"append": "a"}, error=TypeError,
                               match=r"^diff: append must be real numbers")]))


def _np_linear_recurrence(b, a, reverse=False):
    s = np.array(b, dtype=np.float64)
    n = s.shape[-1]
    for i in (range(n - 2, -1, -1) if reverse else range(1, n)):
        s[..., i] = b[..., i] + a[..., i] * s[..., i + (1 if reverse else -1)]
    return s


# cumprod's exact gradient rule (zeros, underflow, second order) runs on it.
register_test(OpInfo("linear_recurrence", _red.linear_recurrence, _np_linear_recurrence, nargs=2, shapes="same",
                     min_ndim=1, params=lambda s: [{}, {"reverse": True}], scalar=False,
                     errors=[E((_a(2, 3), _a(4)),
                               match=r"^linear_recurrence: cannot apply to inputs of shapes \(2, 3\), \(4,\).*"
                                                    r"b and a must broadcast"),
                             E((2.0, 0.5), match=r"^linear_recurrence: the inputs need at least one axis"),
                             E((_a(3), np.array([1j, 2j, 3j])), error=TypeError,
                           match=r"^linear_recurrence: cannot combine a Value with ndarray .*must be real numbers")]))
EXACT.add("linear_recurrence")

# -- chapter 5: convolution, pooling (conv.py) and flatten's dims ------------------------------------------
# (max and sum here are the ops: the builtins are builtins.max and builtins.sum)
# The samplers draw the batch, channels, kernel, stride and padding (ints or pairs), and an image large
# enough for the padded kernel; the references are plain loops over the output positions, independent of
# the ops' im2col and matrix products.

from ..ops.conv import avg_pool2d, conv2d, conv2d_weight, conv_transpose2d, max_pool2d  # noqa: E402


def _int_or_pair(rng, lo, hi):
    """An int, or (less often) a (height, width) pair, in [lo, hi]: both forms of the ops' arguments."""
    if rng.random() < 0.6:
        return int(rng.integers(lo, hi + 1))
    return int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1))


def _as_pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _conv_geometry(rng, max_pad=2):
    """(kernel, stride, padding) as the ops take them, and an image size (H, W) they fit."""
    kernel = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    stride, padding = _int_or_pair(rng, 1, 2), _int_or_pair(rng, 0, max_pad)
    size = tuple(int(rng.integers(builtins.max(1, k - 2 * p), k + 4)) for k, p in zip(kernel, _as_pair(padding)))
    return kernel, stride, padding, size


def _conv_sample(rng, bias=True):
    n, c_in, c_out = (int(s) for s in rng.integers(1, 3, size=3))
    kernel, stride, padding, size = _conv_geometry(rng)
    arrays = [rng.uniform(-2, 2, (n, c_in) + size), rng.uniform(-2, 2, (c_out, c_in) + kernel)]
    if bias:
        arrays.append(rng.uniform(-2, 2, c_out))
    return arrays, {"stride": stride, "padding": padding}


def _conv_transpose_sample(rng):
    n, c_in, c_out = (int(s) for s in rng.integers(1, 3, size=3))
    kernel = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    size = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    stride = _int_or_pair(rng, 1, 2)
    output_padding = tuple(int(rng.integers(0, s)) for s in _as_pair(stride))
    # padding no larger than keeps an output of at least one pixel
    padding = tuple(int(rng.integers(0, builtins.max(1, ((h - 1) * s + k + op - 1) // 2 + 1)))
                    for h, s, k, op in zip(size, _as_pair(stride), kernel, output_padding))
    arrays = [rng.uniform(-2, 2, (n, c_in) + size), rng.uniform(-2, 2, (c_in, c_out) + kernel),
              rng.uniform(-2, 2, c_out)]
    return arrays, {"stride": stride, "padding": padding, "output_padding": output_padding}


def _conv_weight_sample(rng):
    (x, w), params = _conv_sample(rng, bias=False)
    out = _np_conv2d(x, w, None, **params)
    return [x, rng.uniform(-2, 2, out.shape)], {"kernel_size": w.shape[2:], **params}


def _pool_sample(rng, distinct):
    kernel = _int_or_pair(rng, 1, 3)
    stride = [None, _int_or_pair(rng, 1, 3)][rng.integers(2)]
    size = tuple(k + int(rng.integers(0, 4)) for k in _as_pair(kernel))
    lead = [(int(rng.integers(1, 3)), int(rng.integers(1, 3))), (2,)][rng.integers(2)]
    shape = lead + size  # (N, C, H, W), or (C, H, W) for one image
    # max_pool2d: values on a shuffled grid, so that no window holds a tie (ties are a kink: test_conv.py)
    x = _distinct(rng, shape) if distinct else rng.uniform(-2, 2, shape)
    return [x], {"kernel_size": kernel, "stride": stride}


def _np_conv2d(x, w, b=None, stride=1, padding=0):
    (sh, sw), (ph, pw) = _as_pair(stride), _as_pair(padding)
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    kh, kw = w.shape[2:]
    ho, wo = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    out = np.zeros((x.shape[0], w.shape[0], ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    return out if b is None else out + b[:, None, None]


def _np_conv_transpose2d(x, w, b, stride=1, padding=0, output_padding=0):
    (sh, sw), (ph, pw), (oh, ow) = _as_pair(stride), _as_pair(padding), _as_pair(output_padding)
    kh, kw = w.shape[2:]
    h, wd = x.shape[2:]
    full = np.zeros((x.shape[0], w.shape[1], (h - 1) * sh + kh + oh, (wd - 1) * sw + kw + ow))
    for i in range(h):  # every input pixel stamps the filter, scaled by its value, onto the output
        for j in range(wd):
            full[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += np.tensordot(x[:, :, i, j], w, axes=(1, 0))
    out = full[:, :, ph:full.shape[2] - ph, pw:full.shape[3] - pw]
    return out + b[:, None, None]


def _np_conv2d_weight(x, g, kernel_size, stride=1, padding=0):
    (sh, sw), (ph, pw) = _as_pair(stride), _as_pair(padding)
    kh, kw = kernel_size
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    gw = np.zeros((g.shape[1], x.shape[1], kh, kw))
    for i in range(g.shape[2]):
        for j in range(g.shape[3]):
            patch = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            gw += np.tensordot(g[:, :, i, j], patch, axes=(0, 0))
    return gw


def _np_pool(reduce):
    def ref(x, kernel_size, stride=None):
        (kh, kw) = _as_pair(kernel_size)
        (sh, sw) = (kh, kw) if stride is None else _as_pair(stride)
        ho, wo = (x.shape[-2] - kh) // sh + 1, (x.shape[-1] - kw) // sw + 1
        out = np.zeros(x.shape[:-2] + (ho, wo))
        for i in range(ho):
            for j in range(wo):
                out[..., i, j] = reduce(x[..., i * sh:i * sh + kh, j * sw:j * sw + kw], axis=(-2, -1))
        return out
    return ref


def _flatten_params(shape):
    nd = builtins.max(len(shape), 1)
    ps = [{}, {"start_dim": -1}, {"end_dim": 0}, {"start_dim": 0, "end_dim": -1}]
    if nd >= 2:
        ps += [{"start_dim": 1}, {"start_dim": 0, "end_dim": -2}, {"start_dim": 1, "end_dim": 1}]
    if nd >= 3:
        ps += [{"start_dim": 1, "end_dim": 2}, {"start_dim": -3, "end_dim": -2}]
    return ps


def _np_flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return x.reshape(1)
    start, end = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape(x.shape[:start] + (int(np.prod(x.shape[start:end + 1])),) + x.shape[end + 1:])


# (conv2d without a bias is checked through conv2d_weight's and avg_pool2d's gradients, and in test_conv.py)
register_test(OpInfo("conv2d", conv2d, _np_conv2d, nargs=3, scalar=False, sample=_conv_sample,
                     errors=[E((_a(4, 4), _a(1, 1, 2, 2), _a(1)),
                           match=r"^conv2d: the input must have shape \(N, C, H, W\), or \(C, H, W\) for one "
                                 r"image, got shape "
                                 r"\(4, 4\)"),
                             E((_a(1, 2, 4, 4), _a(1, 3, 2, 2), _a(1)),
                               match=r"^conv2d: the input has 2 channels .* expects C_in = 3"),
                             E((_a(1, 2, 4, 4), _a(2, 2, 2), _a(2)),
                               match=r"^conv2d: weight must have shape \(C_out, C_in, kh, kw\), "
                                                                      r"got \(2, 2, 2\)"),
                             E((_a(1, 2, 4, 4), _a(3, 2, 2, 2), _a(2)),
                               match=r"^conv2d: bias must have shape \(3,\), one per output "
                                                                           r"channel, got \(2,\)"),
                             E((_a(1, 1, 2, 2), _a(1, 1, 3, 3), _a(1)),
                               match=r"^conv2d: the kernel 3x3 is larger than the padded input "
                                                                           r"2x2"),
                             E((_a(1, 1, 4, 4), _a(1, 1, 2, 2), _a(1)), {"stride": 0},
                               match=r"^conv2d: stride must be positive, got 0"),
                             E((_a(1, 1, 4, 4), _a(1, 1, 2, 2), _a(1)), {"stride": 1.5}, error=TypeError,
                           match=r"^conv2d: stride must be an int or a pair of ints \(height, width\), got 1\.5"),
                             E((_a(1, 1, 4, 4), _a(1, 1, 2, 2), _a(1)), {"padding": -1},
                           match=r"^conv2d: padding must be non-negative, got -1")]))
register_test(OpInfo("conv_transpose2d", conv_transpose2d, _np_conv_transpose2d, nargs=3, scalar=False,
                     sample=_conv_transpose_sample,
                     errors=[E((_a(1, 4, 4), _a(1, 1, 2, 2), _a(1)),
                               match=r"^conv_transpose2d: x must have shape \(N, C_in, H, W\) and "
                                                                        r"weight \(C_in, C_out, kh, kw\), got "
                                                                        r"\(1, 4, 4\)"),
                             E((_a(1, 2, 4, 4), _a(3, 1, 2, 2), _a(1)),
                               match=r"^conv_transpose2d: the input has 2 channels .* expects 3"),
                             E((_a(1, 1, 4, 4), _a(1, 1, 2, 2), _a(1)), {"stride": 2, "output_padding": 2},
                           match=r"^conv_transpose2d: output_padding \(2, 2\) must be smaller than the stride "
                                 r"\(2, 2\)"),
                             E((_a(1, 1, 4, 4), _a(1, 2, 2, 2), _a(3)),
                           match=r"^conv_transpose2d: bias must have shape \(2,\), got \(3,\)"),
                             E((_a(1, 1, 1, 1), _a(1, 1, 1, 1), _a(1)), {"padding": 1},
                           match=r"^conv_transpose2d: the output would be -1x-1 .*use less padding")]))
register_test(OpInfo("conv2d_weight", conv2d_weight, _np_conv2d_weight, nargs=2, scalar=False,
                     sample=_conv_weight_sample,
                     errors=[E((_a(2, 1, 4, 4), _a(3, 1, 3, 3)), {"kernel_size": 2},
                           match=r"^conv2d_weight: x must have shape \(N, C_in, H, W\) and grad_output .* with "
                                 r"the same N"),
                             E((_a(2, 1, 4, 4), _a(2, 1, 2, 2)), {"kernel_size": 2},
                           match=r"^conv2d_weight: grad_output is 2x2 but a 2x2 convolution of the 4x4 input .* "
                                 r"gives 3x3"),
                             E((_a(2, 1, 4, 4), _a(2, 1, 3, 3)), {"kernel_size": 0},
                               match=r"^conv2d_weight: kernel_size must be positive"),
                             E((_a(2, 1, 4, 4), _a(2, 1, 3, 3)), {"kernel_size": (1, 2, 3)}, error=TypeError,
                           match=r"^conv2d_weight: kernel_size must be an int or a pair of ints")]))
register_test(OpInfo("max_pool2d", max_pool2d, _np_pool(np.max), scalar=False,
                     sample=lambda rng: _pool_sample(rng, distinct=True),
                     errors=_pool_errors('max_pool2d')))
register_test(OpInfo("avg_pool2d", avg_pool2d, _np_pool(np.mean), scalar=False,
                     sample=lambda rng: _pool_sample(rng, distinct=False),
                     errors=_pool_errors('avg_pool2d')))
register_test(OpInfo("flatten_dims", flatten, _np_flatten, params=_flatten_params, scalar=False,
                     errors=[E((_a(2, 3),), {"start_dim": 3},
                               match=r"^flatten: start_dim=3 is out of range for an input of shape \(2, 3\) "
                                     r"\(2 axes\); use an int in \[-2, 1\]"),
                             E((_a(2, 3),), {"end_dim": -3}, match=r"^flatten: end_dim=-3 is out of range"),
                             E((_a(2, 3, 4),), {"start_dim": 2, "end_dim": 1},
                               match=r"^flatten: start_dim 2 comes after end_dim 1")]))
EXACT.add("flatten_dims")


# -- special functions (tinygrad_nn/ops/special.py; references from scipy.special) ------------------------

def _scipy(name, *fixed):
    def ref(*xs):
        import scipy.special

        return getattr(scipy.special, name)(*fixed, *xs)
    return ref


def _xlogy_sample(rng):
    """x with exact zeros among its values (where xlogy is 0 whatever y is), y kept positive."""
    shape = _rand_shape(rng)
    x = rng.uniform(-2.0, 2.0, shape) * (rng.random(shape) < 0.8)
    return [x, rng.uniform(0.2, 3.0, _rand_shape(rng, max_ndim=0) if rng.random() < 0.3 else shape)], {}


register_test(OpInfo("erf", _special.erf, _scipy("erf")))
register_test(OpInfo("erfc", _special.erfc, _scipy("erfc")))
register_test(OpInfo("ndtr", _special.ndtr, _scipy("ndtr"), domain=(-3.0, 3.0)))
register_test(OpInfo("log_ndtr", _special.log_ndtr, _scipy("log_ndtr"), domain=(-6.0, 3.0)))
register_test(OpInfo("gammaln", _special.gammaln, _scipy("gammaln"), domain=(0.3, 5.0)))
register_test(OpInfo("digamma", _special.digamma, _scipy("digamma"), domain=(0.3, 5.0)))
register_test(OpInfo("polygamma", lambda x, n: _special.polygamma(n, x), lambda x, n: _scipy("polygamma", n)(x),
                     domain=(0.5, 4.0), params=lambda shape: [{"n": 0}, {"n": 1}, {"n": 2}],
                     errors=[E((_a(3),), {"n": -1}, match=r"^polygamma: n must be a whole number >= 0, got -1"),
                             E((_a(3),), {"n": 1.5}, match=r"^polygamma: n must be a whole number >= 0, got 1\.5")]))
register_test(OpInfo("logit", _special.logit, _scipy("logit"), domain=(0.05, 0.95)))
register_test(OpInfo("xlogy", _special.xlogy, _scipy("xlogy"), nargs=2, sample=_xlogy_sample))


# -- rotations, depth splits, linspace, cross products, the pseudo-inverse, partition ---------------------

from ..ops import linalg as _la  # noqa: E402
from ..ops import shape as _sh  # noqa: E402


def _rot90_params(shape):
    return [{"k": 1}, {"k": 2}, {"k": -1, "axes": (1, 0)}, {"k": 3, "axes": (0, -1)}, {"k": 4}]


def _linspace_sample(rng):
    lead = [(), (2,), (3, 1)][rng.integers(3)]
    params = [{"num": 5}, {"num": 4, "endpoint": False}, {"num": 3, "axis": -1}, {"num": 1}, {"num": 2}]
    return [rng.uniform(-2, 2, lead), rng.uniform(-2, 2, lead[-1:])], params[rng.integers(len(params))]


def _cross_sample(rng):
    lead = [(), (2,), (2, 1)][rng.integers(3)]
    n = 3 if rng.random() < 0.8 else 2
    return [rng.uniform(-2, 2, lead + (n,)), rng.uniform(-2, 2, lead[1:] + (n,))], {}


def _pinv_sample(rng):
    """Matrices of full rank, tall, wide or square (the pseudo-inverse is smooth there), and stacks."""
    return _svd_sample(rng)[0], {}


def _partition_sample(rng):
    shape = _rand_shape(rng, min_ndim=1)
    axis = int(rng.integers(-len(shape), len(shape)))
    n = shape[axis]
    kth = int(rng.integers(0, n)) if rng.random() < 0.7 else [0, n - 1]
    return [_distinct(rng, shape)], {"kth": kth, "axis": axis}


register_test(OpInfo("rot90", _sh.rot90, np.rot90, min_ndim=2, params=_rot90_params, scalar=False,
                     errors=[E((_a(2, 3),), {"axes": (0, 0)},
                               match=r"^rot90: axes must be two different axes, got \(0, 0\)"),
                             E((_a(2, 3),), {"axes": (0, 2)}, match=r"^rot90: axis 2 is out of range"),
                             E((_a(2, 3),), {"axes": (0,)}, match=r"^rot90: axes must name two axes")]))
register_test(OpInfo("dsplit", lambda x, **p: _use_pieces(_sh.dsplit(x, **p)),
                     lambda x, **p: _use_pieces(np.dsplit(x, **p)), min_ndim=3, params=_sections_params,
                     scalar=False,
                     errors=[E((_a(2, 3),), {"indices_or_sections": 1},
                               match=r"^dsplit: needs an input of at least 3 axes"),
                             E((_a(1, 2, 3),), {"indices_or_sections": 2},
                               match=r"^dsplit: 3 elements along axis 2 do not split")]))
register_test(OpInfo("linspace", _sh.linspace, np.linspace, nargs=2, sample=_linspace_sample, scalar=False,
                     errors=[E((0.0, 1.0), {"num": -1}, match=r"^linspace: num must be >= 0, got -1"),
                             E((_a(2), _a(3)), {"num": 4},
                               match=r"^linspace: start and stop of shapes \(2,\) and \(3,\) do not broadcast")]))
register_test(OpInfo("cross", _la.cross, np.cross, nargs=2, sample=_cross_sample, scalar=False,
                     errors=[E((_a(4), _a(4)),
                               match=r"^cross: the vectors must both have 3 components \(or both 2\), got 4 and 4"),
                             E((_a(3), _a(2)),
                               match=r"^cross: the vectors must both have 3 components \(or both 2\), got 3 and 2")]))
register_test(OpInfo("pinv", _la.pinv, np.linalg.pinv, sample=_pinv_sample, scalar=False,
                     errors=[E((_a(3),), match=r"^pinv: needs a matrix or a stack of them")]))
register_test(OpInfo("partition", _red.partition, np.partition, sample=_partition_sample, scalar=False,
                     errors=[E((_a(3),), {"kth": 5}, match=r"^partition: kth=5 along axis 0 of shape \(3,\)"),
                             E((2.0,), {"kth": 0}, match=r"^partition: a scalar has no axis to partition along")]))
EXACT.update({"rot90", "dsplit", "partition"})


# -- issue 19: the nn building blocks' functions (tinygrad_nn.nn.functional) --------------------------------
# Kept together so that they move as one block.


def _np_ndtr(x):
    import math

    return np.vectorize(lambda v: 0.5 * math.erfc(-v / math.sqrt(2.0)), otypes=[np.float64])(x).astype(x.dtype)


def _np_layer_norm(x, w, b):
    m = x.mean(axis=-1, keepdims=True)
    return (x - m) / np.sqrt(((x - m) ** 2).mean(axis=-1, keepdims=True) + 1e-5) * w + b


def _norm_sample(rng):
    n = int(rng.integers(2, 5))
    lead = _rand_shape(rng, 0, 2)
    return [rng.uniform(-2, 2, lead + (n,)), rng.uniform(0.5, 2, (n,)), rng.uniform(-1, 1, (n,))], {}


def _np_sdpa(q, k, v):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    s = np.where(np.tril(np.ones(s.shape[-2:], bool)), s, -np.inf)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)) @ v


def _sdpa_sample(rng):
    lead, length, e = _rand_shape(rng, 0, 1), int(rng.integers(1, 4)), int(rng.integers(1, 4))
    return [rng.uniform(-1.5, 1.5, lead + (length, e)) for _ in range(3)], {}


def _nn_functional():
    from ..nn import functional  # the nn package imports the ops (and testing): only when an entry runs

    return functional


register_test(OpInfo("gelu", lambda x: _nn_functional().gelu(x),
                     lambda x: x * _np_ndtr(x), domain=(-4.0, 4.0)))
register_test(OpInfo("gelu_tanh", lambda x: _nn_functional().gelu(x, approximate="tanh"),
                     lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))),
                     domain=(-4.0, 4.0)))
register_test(OpInfo("layer_norm", lambda x, w, b: _nn_functional().layer_norm(x, w.shape, w, b), _np_layer_norm,
                     nargs=3, scalar=False, sample=_norm_sample,
                     errors=[E((_a(2, 5), _a(4), _a(4)),
                               match=r"^layer_norm: normalized_shape \(4,\) must be the last axes of the input, "
                                     r"whose shape is \(2, 5\)")]))
register_test(OpInfo("rms_norm", lambda x, w, b: _nn_functional().rms_norm(x, w.shape, w, eps=1e-6) + b,
                     lambda x, w, b: x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + 1e-6) * w + b,
                     nargs=3, scalar=False, sample=_norm_sample,
                     errors=[E((_a(2, 5), _a(4), _a(4)),
                               match=r"^rms_norm: normalized_shape \(4,\) must be the last axes")]))
register_test(OpInfo("scaled_dot_product_attention_causal",
                     lambda q, k, v: _nn_functional().scaled_dot_product_attention(q, k, v, is_causal=True),
                     _np_sdpa, nargs=3, scalar=False, sample=_sdpa_sample,
                     errors=[E((_a(2, 3), _a(2, 4), _a(2, 4)),
                               match=r"^scaled_dot_product_attention: query \(\.\.\., L, E\) and key "
                                     r"\(\.\.\., S, E\) must share E, got shapes \(2, 3\) and \(2, 4\)")]))
