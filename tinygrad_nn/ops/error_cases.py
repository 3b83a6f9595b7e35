"""The bad inputs of every registered function (`OpInfo.errors`), and what the refusal must say.

tests/ops/test_op_errors.py calls ``info.fn(*inputs, **params)`` for every ErrorCase below and checks that it
raises `error` with a message that matches `match` and begins with the name of the op (or function) that
refused, followed by a colon. Float arrays and Python floats among `inputs` become Values first, since users
call the functions on Values; anything else (a complex array, a string, a number 1j) is passed as it is, to
see what the op says of it. The test also runs each case with float32 arrays.

Read an entry as: "given these inputs, `name` refuses with this error". The cases are wrong shapes (inputs
that do not broadcast or align), wrong axes (out of range, repeated, not ints), wrong dtypes (complex
operands, float indices or conditions) and values outside the domain (a negative base for a fractional
power, a scalar divided by 0, a singular matrix). Functions that no real input can make fail are listed in
NO_BAD_INPUT with the reason, instead of an ErrorCase.

>>> from tinygrad_nn.ops import OPINFOS
>>> case = OPINFOS["matmul"].errors[0]
>>> [x.shape for x in case.inputs], case.error.__name__
([(2, 3), (4, 2)], 'ValueError')
"""

from __future__ import annotations

import numpy as np

from .registry import OPINFOS, ErrorCase

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
    "mod_number": "x % 1.5: the divisor is a nonzero constant, so every real x has a remainder (inf % 1.5 is NaN, "
                  "as in numpy and Python)",
}

# Names given to _declare that OPINFOS does not know (a renamed entry): the test asserts there are none,
# rather than the package failing to import.
UNKNOWN: list[str] = []


def _declare(name, *cases):
    info = OPINFOS.get(name)
    if info is None:
        UNKNOWN.append(name)
        return
    info.errors.extend(cases)


def _a(*shape):
    """A float64 array of the given shape with distinct values (1/8, 2/8, ...)."""
    n = int(np.prod(shape, dtype=np.int64))
    return np.arange(1.0, n + 1.0).reshape(shape) / 8.0


E = ErrorCase
_SQUARE = r"needs a square matrix or a stack of them \(shape \(\.\.\., n, n\)\), got shape"
_SINGULAR = np.ones((2, 2))  # rank 1
_NAN = np.array([[np.nan, 0.0], [0.0, 1.0]])


def _binary(name, *extra, op=None):
    """Inputs that do not broadcast, and an operand that is no real number (complex, or a string). `op` is the
    op that refuses, when it is not `name` (a % b is remainder)."""
    op = op or name
    _declare(name,
             E((_a(2, 3), _a(4)), match=rf"^{op}: cannot apply to inputs of shapes \(2, 3\), \(4,\).*"
                                        rf"the shapes must broadcast"),
             E((_a(2), np.array([1j, 2j])), error=TypeError,
               match=rf"^{op}: cannot combine a Value with ndarray .*must be real numbers"),
             E((_a(2), "2"), error=TypeError, match=rf"^{op}: cannot combine a Value with str '2'"),
             *extra)


# -- arithmetic and elementwise functions ------------------------------------------------------------------

_binary("add")
_binary("sub")
_binary("mul")
_binary("div", E((1.0, 0.0), error=ZeroDivisionError, match=r"^div: division by zero on the scalars 1\.0, 0\.0"))
_binary("maximum")
_binary("minimum")
_declare("add_n", E((_a(2), _a(3), _a(2)), match=r"^add_n: cannot apply to inputs of shapes \(2,\), \(3,\), \(2,\)"))
# The running sum starts from a + b: that is the op that refuses.
_declare("running_sum", E((_a(2), _a(3), _a(2)), match=r"^add: cannot apply to inputs of shapes \(2,\), \(3,\)"))
# number / x is reciprocal(x) * number, as in PyTorch: reciprocal refuses a scalar 0 (tensors give inf).
_declare("rdiv", E((0.0,), error=ZeroDivisionError, match=r"^reciprocal: division by zero"))
_declare("reciprocal", E((0.0,), error=ZeroDivisionError, match=r"^reciprocal: division by zero"))
for _k in ("-1", "-2"):
    _declare(f"pow_{_k}", E((0.0,), error=ZeroDivisionError,
                            match=rf"^pow: division by zero on the scalars 0\.0, {_k}"))
for _k in ("0.5", "1.7"):
    _neg = rf"^pow: a negative base -2\.0 with the non-integer exponent {_k} has no real result"
    _declare(f"pow_{_k}", E((-2.0,), match=_neg))  # a scalar (a tensor gives NaN there, as numpy)
_declare("pow",
         E((-2.0, 0.5), match=r"^pow: a negative base -2\.0 with the non-integer exponent 0\.5 has no real result"),
         E((_a(2, 3), _a(4)), match=r"^pow: cannot apply to inputs of shapes \(2, 3\), \(4,\)"),
         E((_a(2), 1j), error=TypeError, match=r"^pow: exponent must be real, got 1j"))
_declare("polygamma", E((_a(3),), {"n": -1}, match=r"^polygamma: n must be a whole number >= 0, got -1"),
         E((_a(3),), {"n": 1.5}, match=r"^polygamma: n must be a whole number >= 0, got 1\.5"))
_declare("clip", E((_a(3),), {"lo": 1.0, "hi": 0.0}, match=r"^clip: lower bound 1\.0 is above upper bound 0\.0"))
_declare("where",
         E((_a(2, 3), _a(2, 3)), {"cond": np.ones((2, 3))}, error=TypeError,
           match=r"^where: the condition must be booleans \(or integers\), got ndarray of dtype float64"),
         E((_a(2, 3), _a(2, 3)), {"cond": np.ones(4, bool)},
           match=r"^where: cannot apply to inputs of shapes \(2, 3\), \(2, 3\).*must broadcast"))

# -- matrix products ------------------------------------------------------------------------------------

_declare("matmul",
         E((_a(2, 3), _a(4, 2)), match=r"^matmul: inner sizes differ: \(2, 3\) @ \(4, 2\)"),
         E((2.0, _a(3)), match=r"^matmul: both inputs need at least one axis, got shapes \(\) and \(3,\)"),
         E((_a(3), 2.0), match=r"^matmul: both inputs need at least one axis, got shapes \(3,\) and \(\)"),
         # the batch axes must broadcast, as numpy's
         E((_a(2, 2, 3), _a(3, 3, 2)), match=r"^matmul: cannot apply to inputs of shapes \(2, 2, 3\), \(3, 3, 2\)"))
_declare("linear",
         E((_a(3), _a(2, 4), _a(2)), match=r"^linear: cannot apply to inputs of shapes \(3,\), \(2, 4\), \(2,\).*"
                                            r"x must end in the layer's input size"),
         E((_a(3), _a(2, 3), _a(3)), match=r"^linear: weight must have shape \(out, in\) and bias \(out,\), got "
                                            r"\(2, 3\) and \(3,\)"))

# -- reductions -------------------------------------------------------------------------------------------

_INT_AXES = r"axis must be None, an int or a tuple of ints, got"


def _reduction(name, who=None):
    """Axes out of range, repeated, or not ints (numpy refuses a float axis with a TypeError too). `who` is the
    function that refuses, when it is not `name`."""
    who = who or name
    _declare(name,
             E((_a(2, 3),), {"axis": 2}, match=rf"^{who}: axis 2 is out of range for an input of shape \(2, 3\)"),
             E((_a(2, 3),), {"axis": -3}, match=rf"^{who}: axis -3 is out of range"),
             E((_a(2, 3),), {"axis": (0, -2)}, match=rf"^{who}: axis \(0, -2\) repeats an axis"),
             E((_a(2, 3),), {"axis": 0.5}, error=TypeError, match=rf"^{who}: {_INT_AXES} float 0\.5"),
             E((_a(2, 3),), {"axis": (0, 1.0)}, error=TypeError,
               match=rf"^{who}: {_INT_AXES} float 1\.0 in axis=\(0, 1\.0\)"))


for _name in ("sum", "mean", "max", "min", "logsumexp", "prod", "var", "std"):
    _reduction(_name)
_declare("max", E((np.zeros((0, 3)),), match=r"^max: the input of shape \(0, 3\) is empty and has no maximum"))
_declare("min", E((np.zeros((0, 3)),), match=r"^min: the input of shape \(0, 3\) is empty and has no minimum"))
for _name in ("softmax", "log_softmax"):
    _declare(_name,
             E((_a(2, 3),), {"axis": 2}, match=rf"^{_name}: axis 2 is out of range for an input of shape \(2, 3\)"),
             E((2.0,), {"axis": -1}, match=rf"^{_name}: axis -1 is out of range for an input of shape \(\)"),
             E((_a(2, 3),), {"axis": 0.5}, error=TypeError, match=rf"^{_name}: {_INT_AXES} float 0\.5"))
# var and std divide by n - ddof: it must be a number that leaves a degree of freedom.
for _name in ("var", "std"):
    _declare(_name,
             E((_a(2, 3),), {"axis": 0, "ddof": 2}, match=rf"^{_name}: ddof=2 leaves 0 degrees of freedom for the 2 "
                                                          rf"element\(s\) of each result"),
             E((_a(2, 3),), {"ddof": 7}, match=rf"^{_name}: ddof=7 leaves -1 degrees of freedom"),
             E((_a(2, 3),), {"ddof": "1"}, error=TypeError, match=rf"^{_name}: ddof must be a number .*got str '1'"),
             E((_a(2, 3),), {"ddof": 1, "correction": 0}, match=rf"^{_name}: ddof=1 and correction=0 disagree"))

# -- shape functions --------------------------------------------------------------------------------------

_declare("reshape",
         E((_a(2, 3),), {"shape": (4,)}, match=r"^reshape: cannot apply to inputs of shapes \(2, 3\), shape=\(4,\): "
                                              r"cannot reshape array of size 6.*same number of elements"),
         E((_a(2, 3),), {"shape": (-1, -1)}, match=r"^reshape: .*can only specify one unknown dimension"))
_declare("transpose",
         E((_a(2, 3),), {"axes": (0, 0)}, match=r"^transpose: .*repeated axis.*permutation of range\(ndim\)"),
         E((_a(2, 3),), {"axes": (0,)}, match=r"^transpose: .*axes don't match array"),
         E((2.0,), {"axes": None}, match=r"^transpose: a scalar has no axes to permute"))
_declare("getitem",
         E((_a(2, 3),), {"index": 5}, error=IndexError, match=r"^getitem: .*index 5 is out of bounds for axis 0"),
         E((_a(2, 3),), {"index": (0, 0, 0)}, error=IndexError, match=r"^getitem: .*too many indices"),
         E((_a(2, 3),), {"index": np.ones(3, bool)}, error=IndexError,
           match=r"^getitem: .*boolean index did not match"),
         E((_a(2, 3),), {"index": np.array([0.5])}, error=IndexError,
           match=r"^getitem: index arrays must hold integers or booleans, got dtype float64"),
         E((2.0,), {"index": 0}, error=TypeError, match=r"^getitem: a scalar Value cannot be indexed"))
_declare("broadcast_to",
         E((_a(2, 3),), {"shape": (4, 3)}, match=r"^broadcast_to: cannot apply to inputs of shapes \(2, 3\), "
                                                 r"shape=\(4, 3\).*must broadcast to the target"),
         E((_a(2, 3),), {"shape": (3,)}, match=r"^broadcast_to: .*shape=\(3,\)"))
_declare("concatenate",
         E((_a(2, 3), _a(3, 3), _a(2, 3)), {"axis": 1},
           match=r"^concatenate: cannot apply to inputs of shapes \(2, 3\), \(3, 3\), \(2, 3\), axis=1"),
         E((_a(2, 3), _a(3), _a(2, 3)), {"axis": 0}, match=r"^concatenate: .*same number of dimensions"),
         E((_a(2), _a(2), _a(2)), {"axis": 1}, match=r"^concatenate: .*axis 1 is out of bounds"),
         E((1.0, 2.0, 3.0), {"axis": 0}, match=r"^concatenate: scalars cannot be joined"))
_declare("stack",
         E((_a(2), _a(3), _a(2)), {"axis": 0}, match=r"^stack: all inputs need the same shape, got \[\(2,\), \(3,\)\]"),
         E((_a(2), _a(2), _a(2)), {"axis": 2}, match=r"^stack: axis 2 is out of range for a new axis"),
         E((), {"axis": 0}, match=r"^stack: needs at least one input"))
_declare("expand_dims",
         E((_a(2),), {"axis": 2}, match=r"^expand_dims: axis 2 is out of range for a new axis in an input of shape "
                                        r"\(2,\); use an int in \[-2, 1\]"),
         E((_a(2),), {"axis": 0.5}, error=TypeError, match=r"^expand_dims: axis must be an int, got float 0\.5"))
_declare("squeeze",
         E((_a(2, 1),), {"axis": 0}, match=r"^squeeze: axis 0 has size 2, not 1"),
         E((_a(2, 1),), {"axis": 2}, match=r"^squeeze: axis 2 is out of range"),
         E((_a(2, 1),), {"axis": 0.5}, error=TypeError, match=r"^squeeze: axis must be None, an int or a sequence"))
_declare("pad",
         E((_a(2, 3),), {"pad_width": -1}, match=r"^pad: pad widths must not be negative"),
         E((_a(2, 3),), {"pad_width": ((1, 1),) * 3}, match=r"^pad: pad_width .* does not fit an input of shape "
                                                           r"\(2, 3\)"),
         E((_a(2, 3),), {"pad_width": 1.5}, error=TypeError, match=r"^pad: pad_width must hold ints"),
         E((_a(2, 3),), {"pad_width": 1, "mode": "reflect"}, error=NotImplementedError,
           match=r"^pad: only mode='constant' is supported"))
_declare("flip",
         E((_a(2, 3),), {"axis": 2}, match=r"^flip: axis 2 is out of range for an input of 2 axes"),
         E((_a(2, 3),), {"axis": (0, -2)}, match=r"^flip: axis \(0, -2\) names an axis twice"),
         E((_a(2, 3),), {"axis": 0.5}, error=TypeError, match=r"^flip: axis must be None, an int or a sequence"))
_declare("roll",
         E((_a(2, 3),), {"shift": (1, 2, 3), "axis": (0, 1)}, match=r"^roll: shift \(1, 2, 3\) and axis \(0, 1\) "
                                                                  r"must have the same length"),
         E((_a(2, 3),), {"shift": 1, "axis": 2}, match=r"^roll: axis 2 is out of range"),
         E((_a(2, 3),), {"shift": 1.5, "axis": 0}, error=TypeError, match=r"^roll: shift must be an int"))
_declare("tile",
         E((_a(2),), {"reps": (2, -1)}, match=r"^tile: reps must not be negative"),
         E((_a(2),), {"reps": 1.5}, error=TypeError, match=r"^tile: reps must be an int, got float 1\.5"))
_declare("repeat",
         E((_a(2),), {"repeats": -1, "axis": 0}, match=r"^repeat: repeats must not be negative"),
         E((_a(2),), {"repeats": [1, 2, 3], "axis": 0}, match=r"^repeat: repeats of shape \(3,\) need one count per "
                                                                r"element along axis 0"),
         E((_a(2),), {"repeats": 1.5, "axis": 0}, error=TypeError, match=r"^repeat: repeats must be an int or ints"),
         E((_a(2),), {"repeats": 2, "axis": 1}, match=r"^repeat: axis 1 is out of range"))
for _name in ("split", "array_split"):
    _declare(_name,
             E((_a(3),), {"indices_or_sections": 0, "axis": 0},
               match=rf"^{_name}: the number of pieces must be at least 1, got 0"),
             E((_a(3),), {"indices_or_sections": 2, "axis": 1}, match=rf"^{_name}: axis 1 is out of range"),
             E((2.0,), {"indices_or_sections": 1, "axis": 0}, match=rf"^{_name}: a 0-d input has no axis to split"),
             E((_a(3),), {"indices_or_sections": [1.5], "axis": 0}, error=TypeError,
               match=rf"^{_name}: an index must be an int, got float 1\.5"),
             E((_a(3),), {"indices_or_sections": 1.5, "axis": 0}, error=TypeError,
               match=rf"^{_name}: indices_or_sections must be an int \(the number of pieces\) or a sequence"))
_declare("split", E((_a(3),), {"indices_or_sections": 2, "axis": 0},
                    match=r"^split: 3 elements along axis 0 do not split into 2 equal pieces.*use array_split"))
_declare("vsplit",
         E((_a(3),), {"indices_or_sections": 1}, match=r"^vsplit: needs an input of at least 2 axes, got shape \(3,\)"),
         E((_a(3, 2),), {"indices_or_sections": 2}, match=r"^vsplit: 3 elements along axis 0 do not split into 2"))
_declare("hsplit",
         E((2.0,), {"indices_or_sections": 1}, match=r"^hsplit: a 0-d input has no axis to split"),
         E((_a(3, 2),), {"indices_or_sections": 3}, match=r"^hsplit: 2 elements along axis 1 do not split into 3"))
for _name in ("tril", "triu"):
    _declare(_name,
             E((2.0,), {"k": 0}, match=rf"^{_name}: needs a matrix \(or a stack of them\), got a 0-d input"),
             E((_a(2, 3),), {"k": 0.5}, error=TypeError, match=rf"^{_name}: k must be an int, got float 0\.5"))
_declare("diag",
         E((_a(2, 2, 2),), {"k": 0}, match=r"^diag: needs a 1-D or 2-D input, got shape \(2, 2, 2\)"),
         E((2.0,), {"k": 0}, match=r"^diag: needs a 1-D or 2-D input, got shape \(\)"),
         E((_a(2),), {"k": 0.5}, error=TypeError, match=r"^diag: k must be an int, got float 0\.5"))
for _name in ("diagonal", "trace"):
    _declare(_name,
             E((_a(3),), match=rf"^{_name}: needs an input of at least 2 axes, got shape \(3,\)"),
             E((_a(2, 3),), {"axis1": 0, "axis2": -2}, match=rf"^{_name}: axis1 and axis2 must differ, both are 0"),
             E((_a(2, 3),), {"axis1": 0, "axis2": 2}, match=rf"^{_name}: axis 2 is out of range"),
             E((_a(2, 3),), {"offset": 0.5}, error=TypeError, match=rf"^{_name}: offset must be an int"))
_declare("swapaxes",
         E((_a(2, 3),), {"axis1": 0, "axis2": 2}, match=r"^swapaxes: axis 2 is out of range for an input of 2 axes"),
         E((_a(2, 3),), {"axis1": 0.5, "axis2": 0}, error=TypeError, match=r"^swapaxes: axis must be an int"))
_declare("moveaxis",
         E((_a(2, 3),), {"source": [0, 1], "destination": [0]}, match=r"^moveaxis: source \[0, 1\] and destination "
                                                                      r"\[0\] must name as many axes"),
         E((_a(2, 3),), {"source": 0, "destination": 2}, match=r"^moveaxis: axis 2 is out of range"),
         E((_a(2, 3),), {"source": [0, 0], "destination": [0, 1]}, match=r"^moveaxis: axis \[0, 0\] names an axis "
                                                                          r"twice"),
         E((_a(2, 3),), {"source": 0.5, "destination": 0}, error=TypeError,
           match=r"^moveaxis: axis must be None, an int or a sequence"))
_declare("vstack",
         E((_a(2), _a(3), _a(2)), match=r"^vstack: the inputs' shapes \[\(1, 2\), \(1, 3\), \(1, 2\)\] do not fit"),
         E((), match=r"^vstack: needs at least one input"))
_declare("hstack",
         E((_a(2, 3), _a(3, 3), _a(2, 3)), match=r"^hstack: the inputs' shapes \[\(2, 3\), \(3, 3\), \(2, 3\)\] do "
                                                  r"not fit.*except along axis 1"),
         E((_a(2), _a(2, 1), _a(2)), match=r"^hstack: the inputs' shapes .* same number of axes"),
         E((), match=r"^hstack: needs at least one input"))

# -- linear algebra -----------------------------------------------------------------------------------------

_declare("dot",
         E((_a(2, 3), _a(2, 3)), match=r"^dot: shapes \(2, 3\) and \(2, 3\) are not aligned: a\.shape\[-1\] \(3\) "
                                        r"must equal b\.shape\[-2\] \(2\)"),
         E((_a(3), _a(4)), match=r"^dot: shapes \(3,\) and \(4,\) are not aligned"))
_declare("tensordot",
         E((_a(2, 3), _a(3, 4)), {"axes": 3}, match=r"^tensordot: axes=3 needs 0 <= axes <= the number of axes"),
         E((_a(2, 3), _a(3, 4)), {"axes": -1}, match=r"^tensordot: axes=-1 needs 0 <= axes"),
         E((_a(2, 3), _a(3, 4)), {"axes": ([0], [0])}, match=r"^tensordot: summed axes differ in size"),
         E((_a(2, 3), _a(3, 4)), {"axes": ([1, 1], [0, 0])}, match=r"^tensordot: axes .* repeats an axis"),
         E((_a(2, 3), _a(3, 4)), {"axes": ([1], [0, 1])}, match=r"^tensordot: axes .* pair 1 axes of a with 2 of b"),
         E((_a(2, 3), _a(3, 4)), {"axes": ([1], [2])}, match=r"^tensordot: axis 2 is out of range"))
_declare("inner", E((_a(2, 3), _a(4)), match=r"^inner: the last axes of shapes \(2, 3\) and \(4,\) differ in size"))
_declare("einsum_contract",
         E((_a(2, 3), _a(4, 5)), {"subscripts": "ij,jk->ik"}, match=r"^einsum: cannot apply to inputs of shapes "
                                                                   r"\(2, 3\), \(4, 5\).*equal sizes"),
         E((_a(2, 3), _a(3, 5)), {"subscripts": "ijk,jk->ik"}, match=r"^einsum: .*too many subscripts for operand 0"),
         E((_a(2, 3), _a(3, 5)), {"subscripts": "ij,jk->iz"}, match=r"^einsum: .*output subscript 'z' which never "
                                                                   r"appeared"),
         E((_a(2, 3), _a(3, 5)), {"subscripts": "ij->i"}, match=r"^einsum: .*fewer operands provided"))
_declare("einsum_diagonal",
         E((_a(2, 3), _a(3)), {"subscripts": "ii,i->i"}, match=r"^einsum: .*dimensions in operand 0 for collapsing "
                                                               r"index 'i' don't match \(2 != 3\)"))
_declare("einsum_ellipsis",
         E((_a(2, 3, 4), _a(3, 4, 5)), {"subscripts": "...ij,...jk->...ik"},
           match=r"^einsum: cannot apply to inputs of shapes \(2, 3, 4\), \(3, 4, 5\)"))
_declare("einsum_broadcast",
         E((_a(2, 3), _a(4, 3)), {"subscripts": "ij,ij->ij"},
           match=r"^einsum: cannot apply to inputs of shapes \(2, 3\), \(4, 3\).*or 1\) wherever a letter repeats"))
_declare("inv",
         E((_a(2, 3),), match=rf"^inv: {_SQUARE} \(2, 3\)"),
         E((_a(3),), match=rf"^inv: {_SQUARE} \(3,\)"),
         E((_SINGULAR,), match=r"^inv: Singular matrix \(shapes \(2, 2\)\); a singular matrix has no inverse"))
_declare("solve",
         E((_a(2, 3), _a(2)), match=rf"^solve: {_SQUARE} \(2, 3\)"),
         E((np.eye(2), _a(3)), match=r"^solve: b must have shape \(2,\) or \(\.\.\., 2, k\) for a of shape \(2, 2\), "
                                      r"got \(3,\)"),
         E((np.eye(2), 2.0), match=r"^solve: b must have shape .* got \(\)"),
         E((_SINGULAR, _a(2)), match=r"^solve: Singular matrix .*a x = b has no unique x"))
for _name in ("det", "det_gradient"):
    _declare(_name, E((_a(2, 3),), match=rf"^det: {_SQUARE} \(2, 3\)"), E((_a(3),), match=rf"^det: {_SQUARE} \(3,\)"))
_declare("det_hessian", E((_a(2, 3), _a(2, 3)), match=rf"^det_hessian: {_SQUARE} \(2, 3\)"),
         E((_a(2, 2), _a(3, 3)), match=r"^det_hessian: g must have the matrices' shape \(2, 2\)"))
_declare("slogdet", E((_a(2, 3),), match=rf"^slogdet: {_SQUARE} \(2, 3\)"),
         E((2.0,), match=rf"^slogdet: {_SQUARE} \(\)"))
_declare("cholesky",
         E((_a(2, 3),), match=rf"^cholesky: {_SQUARE} \(2, 3\)"),
         E((-np.eye(2),), match=r"^cholesky: Matrix is not positive definite .*symmetric positive definite"))
for _name in ("eigh_values", "eigh_vectors"):
    _declare(_name, E((_a(2, 3),), match=rf"^eigh: {_SQUARE} \(2, 3\)"), E((_a(3),), match=rf"^eigh: {_SQUARE} \(3,\)"))
_declare("svd_values",
         E((_a(3),), {"full_matrices": False}, match=r"^svd: needs a matrix or a stack of them .* got shape \(3,\)"),
         E((_NAN,), {"full_matrices": False}, match=r"^svd: SVD did not converge \(shapes \(2, 2\)\); the matrix must "
                                                     r"hold finite numbers"))
_declare("svd", E((_NAN,), {"full_matrices": True}, match=r"^svd: SVD did not converge"))

# -- the functions of issue 9 (elementwise.py and reductions.py); the one-input elementwise ones are in NO_BAD_INPUT --

for _name in ("arctan2", "hypot", "logaddexp", "logaddexp2", "fmax", "fmin"):
    _binary(_name)
# A Python float divided by 0.0 raises, as for `/` (div); arrays give numpy's nan.
_MOD0 = r"^remainder: division by zero on the scalars 1\.0, 0\.0"
_binary("remainder", E((1.0, 0.0), error=ZeroDivisionError, match=_MOD0))
_binary("mod_operator", E((1.0, 0.0), error=ZeroDivisionError, match=_MOD0), op="remainder")
_declare("rmod", E((0.0,), error=ZeroDivisionError, match=r"^remainder: division by zero on the scalars 2\.0, 0\.0"))
_declare("round",
         E((_a(3),), {"decimals": 0.5}, error=TypeError, match=r"^round: decimals must be an int .*got float 0\.5"),
         E((1.0,), {"decimals": "1"}, error=TypeError, match=r"^round: decimals must be an int .*got str '1'"))
_declare("nan_to_num",
         E((_a(3),), {"nan": "a"}, error=TypeError, match=r"^nan_to_num: nan must be a real number .*got str 'a'"),
         E((1.0,), {"posinf": 1j}, error=TypeError, match=r"^nan_to_num: posinf must be a real number .*complex 1j"))

# Scans, sort and diff run along one axis: a tuple is refused (numpy's TypeError), not cut to its first axis.
_ONE_AXIS = r"axis must be one int \(or None\), got"
for _name in ("cumsum", "cumprod", "sort", "diff"):
    _declare(_name,
             E((_a(2, 3),), {"axis": 2}, match=rf"^{_name}: axis 2 is out of range for an input of shape \(2, 3\)"),
             E((_a(2, 3),), {"axis": -3}, match=rf"^{_name}: axis -3 is out of range"),
             E((_a(2, 3),), {"axis": (0, 1)}, error=TypeError, match=rf"^{_name}: {_ONE_AXIS} tuple \(0, 1\)"),
             E((_a(2, 3),), {"axis": 0.5}, error=TypeError, match=rf"^{_name}: {_ONE_AXIS} float 0\.5"))
for _name in ("cumsum", "cumprod"):
    _declare(_name, E((2.0,), {"axis": 0}, match=rf"^{_name}: a scalar has no axis 0 to run along; use axis=None"))
_declare("sort", E((2.0,), match=r"^sort: a scalar has no axis to sort along; use axis=None"))
_declare("diff",
         E((2.0,), match=r"^diff: needs an input with at least one axis"),
         E((_a(2, 3),), {"n": -1}, match=r"^diff: order n must be a non-negative int, got -1"),
         E((_a(2, 3),), {"n": 1.5}, error=TypeError,
           match=r"^diff: order n must be a non-negative int, got float 1\.5"),
         E((_a(2, 3),), {"prepend": _a(3, 3), "axis": 1},
           match=r"^diff: prepend of shape \(3, 3\) does not fit the input of shape \(2, 3\).*except along axis 1"),
         E((_a(2, 3),), {"append": _a(3)}, match=r"^diff: append of shape \(3,\) does not fit"),
         E((_a(2, 3),), {"append": "a"}, error=TypeError, match=r"^diff: append must be real numbers"))
_declare("linear_recurrence",
         E((_a(2, 3), _a(4)), match=r"^linear_recurrence: cannot apply to inputs of shapes \(2, 3\), \(4,\).*"
                                    r"b and a must broadcast"),
         E((2.0, 0.5), match=r"^linear_recurrence: the inputs need at least one axis"),
         E((_a(3), np.array([1j, 2j, 3j])), error=TypeError,
           match=r"^linear_recurrence: cannot combine a Value with ndarray .*must be real numbers"))

_ORDS = r"vector norms take ord None, 1, 2, inf, -inf or a number p > 1"
_declare("norm",
         E((_a(3),), {"ord": 0.5}, match=rf"^norm: unsupported ord=0\.5; {_ORDS}"),
         E((_a(2, 3),), {"ord": -1, "axis": 0}, match=r"^norm: unsupported ord=-1;"),
         E((_a(2, 3),), {"ord": "x", "axis": 0}, match=r"^norm: unsupported ord='x';"),
         E((_a(2, 3),), {"ord": 3, "axis": (0, 1)}, match=r"^norm: unsupported ord=3 for a matrix norm"),
         E((_a(2, 3, 2),), {"ord": 1}, match=r"^norm: ord=1 without an axis needs a 1-D or 2-D input, got shape "
                                              r"\(2, 3, 2\); give axis"),
         E((_a(2, 3),), {"axis": (0, -2)}, match=r"^norm: axis \(0, -2\) repeats an axis"),
         E((_a(2, 3),), {"axis": 2}, match=r"^norm: axis 2 is out of range for an input of shape \(2, 3\)"),
         E((_a(2, 3),), {"axis": 0.5}, error=TypeError, match=r"^norm: axis must be None, an int or a pair of ints, "
                                                               r"got float 0\.5"),
         E((_a(2, 3, 2),), {"axis": (0, 1, 2)}, match=r"^norm: axis must be an int or a pair of ints, got \(0, 1, 2\)"))
# norm_max is norm with the orders that take a max or a min: those orders over the wrong number of axes.
_declare("norm_max",
         E((_a(2, 3),), {"ord": "fro", "axis": -1}, match=r"^norm: ord='fro' is a matrix norm, but one axis was given"),
         E((_a(2, 3, 2),), {"ord": np.inf}, match=r"^norm: ord=inf without an axis needs a 1-D or 2-D input"),
         E((_a(2, 3),), {"ord": -np.inf, "axis": (1, 1)}, match=r"^norm: axis \(1, 1\) repeats an axis"))

# -- convolution and pooling (conv.py), and flatten's start_dim/end_dim ---------------------------------------

_declare("conv2d",
         E((_a(4, 4), _a(1, 1, 2, 2), _a(1)),
           match=r"^conv2d: the input must have shape \(N, C, H, W\), or \(C, H, W\) for one image, got shape "
                 r"\(4, 4\)"),
         E((_a(1, 2, 4, 4), _a(1, 3, 2, 2), _a(1)), match=r"^conv2d: the input has 2 channels .* expects C_in = 3"),
         E((_a(1, 2, 4, 4), _a(2, 2, 2), _a(2)), match=r"^conv2d: weight must have shape \(C_out, C_in, kh, kw\), "
                                                      r"got \(2, 2, 2\)"),
         E((_a(1, 2, 4, 4), _a(3, 2, 2, 2), _a(2)), match=r"^conv2d: bias must have shape \(3,\), one per output "
                                                           r"channel, got \(2,\)"),
         E((_a(1, 1, 2, 2), _a(1, 1, 3, 3), _a(1)), match=r"^conv2d: the kernel 3x3 is larger than the padded input "
                                                           r"2x2"),
         E((_a(1, 1, 4, 4), _a(1, 1, 2, 2), _a(1)), {"stride": 0}, match=r"^conv2d: stride must be positive, got 0"),
         E((_a(1, 1, 4, 4), _a(1, 1, 2, 2), _a(1)), {"stride": 1.5}, error=TypeError,
           match=r"^conv2d: stride must be an int or a pair of ints \(height, width\), got 1\.5"),
         E((_a(1, 1, 4, 4), _a(1, 1, 2, 2), _a(1)), {"padding": -1},
           match=r"^conv2d: padding must be non-negative, got -1"))
_declare("conv_transpose2d",
         E((_a(1, 4, 4), _a(1, 1, 2, 2), _a(1)), match=r"^conv_transpose2d: x must have shape \(N, C_in, H, W\) and "
                                                        r"weight \(C_in, C_out, kh, kw\), got \(1, 4, 4\)"),
         E((_a(1, 2, 4, 4), _a(3, 1, 2, 2), _a(1)), match=r"^conv_transpose2d: the input has 2 channels .* expects 3"),
         E((_a(1, 1, 4, 4), _a(1, 1, 2, 2), _a(1)), {"stride": 2, "output_padding": 2},
           match=r"^conv_transpose2d: output_padding \(2, 2\) must be smaller than the stride \(2, 2\)"),
         E((_a(1, 1, 4, 4), _a(1, 2, 2, 2), _a(3)),
           match=r"^conv_transpose2d: bias must have shape \(2,\), got \(3,\)"),
         E((_a(1, 1, 1, 1), _a(1, 1, 1, 1), _a(1)), {"padding": 1},
           match=r"^conv_transpose2d: the output would be -1x-1 .*use less padding"))
_declare("conv2d_weight",
         E((_a(2, 1, 4, 4), _a(3, 1, 3, 3)), {"kernel_size": 2},
           match=r"^conv2d_weight: x must have shape \(N, C_in, H, W\) and grad_output .* with the same N"),
         E((_a(2, 1, 4, 4), _a(2, 1, 2, 2)), {"kernel_size": 2},
           match=r"^conv2d_weight: grad_output is 2x2 but a 2x2 convolution of the 4x4 input .* gives 3x3"),
         E((_a(2, 1, 4, 4), _a(2, 1, 3, 3)), {"kernel_size": 0}, match=r"^conv2d_weight: kernel_size must be positive"),
         E((_a(2, 1, 4, 4), _a(2, 1, 3, 3)), {"kernel_size": (1, 2, 3)}, error=TypeError,
           match=r"^conv2d_weight: kernel_size must be an int or a pair of ints"))
for _name in ("max_pool2d", "avg_pool2d"):
    _declare(_name,
             E((_a(4, 4),), {"kernel_size": 2}, match=rf"^{_name}: the input must have shape \(N, C, H, W\)"),
             E((_a(1, 1, 2, 2),), {"kernel_size": 3}, match=rf"^{_name}: the kernel 3x3 is larger than the padded "
                                                              rf"input 2x2"),
             E((_a(1, 1, 2, 2),), {"kernel_size": 0}, match=rf"^{_name}: kernel_size must be positive"),
             E((_a(1, 1, 2, 2),), {"kernel_size": 1.5}, error=TypeError,
               match=rf"^{_name}: kernel_size must be an int or a pair of ints"),
             E((_a(1, 1, 2, 2),), {"kernel_size": 1, "stride": 0}, match=rf"^{_name}: stride must be positive"))
_declare("flatten_dims",
         E((_a(2, 3),), {"start_dim": 3}, match=r"^flatten: start_dim=3 is out of range for shape \(2, 3\); use an int "
                                               r"in \[-2, 1\]"),
         E((_a(2, 3),), {"end_dim": -3}, match=r"^flatten: end_dim=-3 is out of range"),
         E((_a(2, 3, 4),), {"start_dim": 2, "end_dim": 1}, match=r"^flatten: start_dim 2 comes after end_dim 1"))

_declare("rot90",
         E((_a(2, 3),), {"axes": (0, 0)}, match=r"^rot90: axes must be two different axes, got \(0, 0\)"),
         E((_a(2, 3),), {"axes": (0, 2)}, match=r"^rot90: axis 2 is out of range"),
         E((_a(2, 3),), {"axes": (0,)}, match=r"^rot90: axes must name two axes"))
_declare("dsplit",
         E((_a(2, 3),), {"indices_or_sections": 1}, match=r"^dsplit: needs an input of at least 3 axes"),
         E((_a(1, 2, 3),), {"indices_or_sections": 2}, match=r"^dsplit: 3 elements along axis 2 do not split"))
_declare("linspace",
         E((0.0, 1.0), {"num": -1}, match=r"^linspace: num must be >= 0, got -1"),
         E((_a(2), _a(3)), {"num": 4}, match=r"^linspace: start and stop of shapes \(2,\) and \(3,\) do not broadcast"))
_declare("cross",
         E((_a(4), _a(4)), match=r"^cross: the vectors must both have 3 components \(or both 2\), got 4 and 4"),
         E((_a(3), _a(2)), match=r"^cross: the vectors must both have 3 components \(or both 2\), got 3 and 2"))
_declare("pinv", E((_a(3),), match=r"^pinv: needs a matrix or a stack of them"))
_declare("partition",
         E((_a(3),), {"kth": 5}, match=r"^partition: kth=5 along axis 0 of shape \(3,\)"),
         E((2.0,), {"kth": 0}, match=r"^partition: a scalar has no axis to partition along"))

# -- issue 19: the nn building blocks' functions (tinygrad_nn.nn.functional) and the op they added ---------
NO_BAD_INPUT.update({
    name: "defined for every real number (x Φ(x), or its tanh form); inf and NaN pass through as in PyTorch"
    for name in ("gelu", "gelu_tanh")})
_declare("layer_norm",
         E((_a(2, 5), _a(4), _a(4)), match=r"^layer_norm: normalized_shape \(4,\) must be the last axes of the input, "
                                           r"whose shape is \(2, 5\)"))
_declare("rms_norm",
         E((_a(2, 5), _a(4), _a(4)), match=r"^rms_norm: normalized_shape \(4,\) must be the last axes"))
_declare("scaled_dot_product_attention_causal",
         E((_a(2, 3), _a(2, 4), _a(2, 4)), match=r"^scaled_dot_product_attention: query \(\.\.\., L, E\) and key "
                                                r"\(\.\.\., S, E\) must share E, got shapes \(2, 3\) and \(2, 4\)"))
