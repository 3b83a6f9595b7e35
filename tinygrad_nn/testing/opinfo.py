"""The test registry: how to property-test a function (`OpInfo`) and the bad inputs it must refuse (`ErrorCase`).

Every entry of OPINFOS is checked by tests/ops/test_op_properties.py (forward against the numpy reference,
gradient against finite differences, scalar payload against a 0-d tensor, gradient of gradient) and its
`errors` by tests/ops/test_op_errors.py, as PyTorch's OpInfo and minitorch's MathTest do. `check_op` runs the
same checks on a user's own op. The built-in entries are in opinfos.py, the op's ErrorCases beside each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..engine.op import _replacing


@dataclass
class ErrorCase:
    """A bad input an op must refuse: calling ``fn(*inputs, **params)`` raises `error` with a message that
    matches the regular expression `match` (which should name the op and the fix).

    >>> import numpy as np
    >>> from tinygrad_nn import matmul
    >>> from tinygrad_nn.testing import check_errors
    >>> case = ErrorCase((np.ones((2, 3)), np.ones((2, 3))), error=ValueError, match="matmul: inner sizes differ")
    >>> check_errors(OpInfo("matmul_errorcase_doc", matmul, np.matmul, nargs=2, errors=[case]))
    """

    inputs: tuple
    params: dict = field(default_factory=dict)
    error: type = ValueError
    match: str = ""


@dataclass
class OpInfo:
    """How to test one differentiable function.

    name:      unique label (the tests are named after it)
    fn:        the function on Values: ``fn(*inputs, **params)``
    ref:       numpy reference for the forward: ``ref(*arrays, **params)``
    nargs:     number of tensor inputs
    domain:    (low, high) for the inputs' values
    away_from: points the inputs keep a distance from (kinks and poles), e.g. (0.0,) for abs
    shapes:    "broadcast" (elementwise, inputs may broadcast), "same" (equal shapes), "matmul" (matrices)
    min_ndim:  smallest rank to draw (e.g. 1 for ops that need an axis)
    params:    ``params(shape) -> list of keyword dicts`` to try (axes and the like)
    scalar:    the function accepts Python-float payloads (checked against a 0-d tensor)
    gradgrad:  the gradient is itself differentiable (checked with gradgradcheck)
    sample:    optional ``sample(rng) -> (list of arrays, params)`` replacing the shape logic
    errors:    bad inputs the function must refuse (a list of `ErrorCase`: wrong shapes, axes, dtypes, domains)

    >>> import numpy as np
    >>> from tinygrad_nn import log
    >>> from tinygrad_nn.testing import check_op
    >>> check_op(OpInfo("log_opinfo_doc", log, np.log, domain=(0.5, 3.0)))
    ['forward', 'grad', 'float32', 'scalar', 'gradgrad', 'errors']
    """

    name: str
    fn: Callable
    ref: Callable
    nargs: int = 1
    domain: tuple = (-2.0, 2.0)
    away_from: tuple = ()
    shapes: str = "broadcast"
    min_ndim: int = 0
    params: Callable[[tuple], list] = field(default=lambda shape: [{}])
    scalar: bool = True
    gradgrad: bool = True
    sample: Callable[[Any], tuple] | None = None
    errors: list = field(default_factory=list)


OPINFOS: dict[str, OpInfo] = {}


def register_test(info: OpInfo) -> OpInfo:
    """Add a function to the property-tested set; returns the OpInfo.

    >>> import numpy as np
    >>> from tinygrad_nn import tanh
    >>> info = register_test(OpInfo("tanh_register_doc", tanh, np.tanh))
    >>> OPINFOS["tanh_register_doc"] is info       # the property tests in tests/ops now check it too
    True
    >>> del OPINFOS["tanh_register_doc"]           # (this example leaves the set as it found it)
    """
    if info.name in OPINFOS:  # a notebook cell run again replaces a user's entry, with a warning
        _replacing("register_test", "OpInfo", info.name, OPINFOS[info.name].fn)
    OPINFOS[info.name] = info
    return info
