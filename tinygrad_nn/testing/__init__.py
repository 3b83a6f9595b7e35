"""Property checks for an op, as the built-in ones get them: run them on your own op from your own tests.

`check_op(info)` takes an `OpInfo` (see opinfo.py) and checks, on inputs drawn as the entry
says (its `domain`, `away_from`, `shapes`, `params` or `sample`):

- forward: float64 in, a float64 array out, equal to the entry's numpy reference;
- grad: the gradient against float64 central differences (`gradcheck`);
- float32: float32 in, float32 out and float32 gradients;
- scalar (if `info.scalar`): Python-float payloads give a float result and the gradients of 0-d tensors;
- gradgrad (if `info.gradgrad`): the gradient of the gradient against central differences;
- errors: each of `info.errors` raises its exception with a message that matches.

It needs numpy only (no pytest plugin, no Hypothesis): inputs come from a seeded numpy generator. The
package's own test suite runs the same checks on every registered op with Hypothesis drawing the inputs.

>>> import numpy as np
>>> from tinygrad_nn.ops import defop, sigmoid
>>> from tinygrad_nn.testing import OpInfo, check_op
>>> softplus = defop("softplus_testing_doc", forward=lambda x: np.logaddexp(0.0, x),
...                  vjp=lambda g, ans, x: (g * sigmoid(x),))
>>> check_op(OpInfo("softplus_testing_doc", softplus, lambda x: np.log1p(np.exp(x))))
['forward', 'grad', 'float32', 'scalar', 'gradgrad', 'errors']
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..engine import Value, gradients
from ..gradcheck import gradcheck, gradgradcheck
from ..ops import identity
from .opinfo import OPINFOS, ErrorCase, OpInfo, register_test
from .opinfos import EXACT, KINK_MARGIN, NO_BAD_INPUT  # the built-in entries, registered on import

MAX_SIDE = 4  # sizes of drawn axes: 1..MAX_SIDE
GRADGRAD_MAX_SIDE = 2  # second-order checks cost a backward pass per element of the gradient: keep them small


def allowed_intervals(domain, away_from, margin=KINK_MARGIN):
    """The domain minus a band of +-margin around every point of away_from, as a list of intervals."""
    lo, hi = domain
    out, start = [], lo
    for p in sorted(away_from):
        if p - margin > start:
            out.append((start, min(p - margin, hi)))
        start = max(start, p + margin)
    if hi > start:
        out.append((start, hi))
    assert out, f"domain {domain} has no room away from {away_from}"
    return out


def uniform_values(rng, info, shape):
    """The same values as `elements`, from a numpy generator (for the deterministic tests)."""
    intervals = allowed_intervals(info.domain, info.away_from)
    widths = np.array([b - a for a, b in intervals])
    which = rng.choice(len(intervals), size=shape, p=widths / widths.sum())
    lows = np.array([a for a, _ in intervals])[which]
    return np.asarray(lows + rng.uniform(0.0, 1.0, shape) * widths[which])


# The matmul operand pairs, by kind: (n, k, m, batch) -> (shape of a, shape of b).
MATMUL_KINDS = {
    "1d.1d": lambda n, k, m, b: ((k,), (k,)),
    "2d.1d": lambda n, k, m, b: ((n, k), (k,)),
    "1d.2d": lambda n, k, m, b: ((k,), (k, m)),
    "2d.2d": lambda n, k, m, b: ((n, k), (k, m)),
    "3d.3d": lambda n, k, m, b: ((b, n, k), (b, k, m)),
    "3d.2d": lambda n, k, m, b: ((b, n, k), (k, m)),  # the matrix broadcasts over the batch
    "1xnk.bxkm": lambda n, k, m, b: ((1, n, k), (b, k, m)),  # a batch of 1 broadcasts
    "2d.3d": lambda n, k, m, b: ((n, k), (b, k, m)),
    "3d.1d": lambda n, k, m, b: ((b, n, k), (k,)),
    "1d.3d": lambda n, k, m, b: ((k,), (b, k, m)),
}


def output_shape(info, shapes):
    """The shape `params` gets: the inputs' broadcast shape (for matmul, its result's)."""
    if info.shapes == "matmul":
        return np.matmul(*[np.zeros(s) for s in shapes]).shape
    return np.broadcast_shapes(*shapes)


def random_case(info, rng, max_side=MAX_SIDE):
    """(list of float64 arrays, params) for one check of an entry, from numpy generator `rng`."""
    if info.sample is not None:
        arrays, params = info.sample(rng)
        return [np.asarray(a, dtype=np.float64) for a in arrays], params
    if info.shapes == "matmul":
        kind = sorted(MATMUL_KINDS)[rng.integers(len(MATMUL_KINDS))]
        shapes = MATMUL_KINDS[kind](*(int(s) for s in rng.integers(1, max_side + 1, size=4)))
    else:
        ndim = int(rng.integers(info.min_ndim, 4))
        shape = tuple(int(s) for s in rng.integers(1, max_side + 1, size=ndim))
        shapes = [shape] * info.nargs
        if info.shapes == "broadcast" and info.nargs > 1:
            shapes = [_broadcastable_to(shape, info.min_ndim, rng) for _ in shapes]
    arrays = [uniform_values(rng, info, s) for s in shapes]
    options = info.params(output_shape(info, shapes))
    return arrays, options[rng.integers(len(options))]


def _broadcastable_to(shape, min_ndim, rng):
    """A shape that broadcasts to `shape`: some leading axes dropped, some sizes made 1."""
    drop = int(rng.integers(0, len(shape) - min_ndim + 1))
    return tuple(1 if rng.random() < 0.3 else s for s in shape[drop:])


def scalar_case(info, rng):
    """(values, params) for the scalar check: the values drawn by the entry's `sample` when it has one (its
    structure, such as no ties, holds for the first element of each input), else from its domain; the
    params from `info.params(())`."""
    if info.sample is not None:
        arrays, _ = info.sample(rng)
        values = [float(np.asarray(a, dtype=np.float64).flat[0]) for a in arrays]
    else:
        values = [float(v) for v in uniform_values(rng, info, (info.nargs,))]
    options = info.params(())
    return values, options[rng.integers(len(options))]


CANONICAL = {1: [(2, 3, 4), (3,), ()], 2: [((2, 1, 4), (3, 1)), ((), (2, 3)), ((3,), (3,))]}


def canonical_cases(info):
    """A fixed set of cases that tries every keyword dict of `params` (or a few samples)."""
    rng = np.random.default_rng(1234)
    if info.sample is not None:
        return [([np.asarray(a, dtype=np.float64) for a in arrays], params)
                for arrays, params in (info.sample(np.random.default_rng(seed)) for seed in range(6))]
    if info.shapes == "matmul":
        shape_sets = [kind(2, 3, 4, 2) for kind in MATMUL_KINDS.values()]
    elif info.shapes == "same" or info.nargs == 1:
        shape_sets = [[s] * info.nargs for s in CANONICAL[1] if len(s) >= info.min_ndim]
    else:
        shape_sets = [list(p) for p in CANONICAL.get(info.nargs, [])
                      if min(len(s) for s in p) >= info.min_ndim] or [[(2, 3)] * info.nargs]
    out = []
    for shapes in shape_sets:
        arrays = [uniform_values(rng, info, s) for s in shapes]
        out += [(arrays, params) for params in info.params(output_shape(info, shapes))]
    return out


def call(info, params):
    return lambda *xs: info.fn(*xs, **params)


def check_forward(info, arrays, params):
    """float64 in: the output is a float64 ndarray equal to the numpy reference (bit for bit if EXACT)."""
    before = [a.copy() for a in arrays]
    out = info.fn(*[Value(a) for a in arrays], **params)
    want = np.asarray(info.ref(*[a.copy() for a in arrays], **params), dtype=np.float64)
    assert isinstance(out, Value)
    assert out.data.__class__ is np.ndarray, f"tensor inputs gave a {type(out.data).__name__} payload"
    assert out.dtype == np.float64
    assert out.shape == want.shape
    if info.name in EXACT:
        np.testing.assert_array_equal(out.data, want)
    else:
        np.testing.assert_allclose(out.data, want, rtol=1e-12, atol=1e-12)
    for a, b in zip(arrays, before):  # no op writes into its inputs
        np.testing.assert_array_equal(a, b)


def check_grad(info, arrays, params):
    """The gradient matches float64 central differences; leaves get gradients of their own shape."""
    assert gradcheck(call(info, params), *arrays)
    xs = [Value(a) for a in arrays]
    out = info.fn(*xs, **params)
    out.backward(np.ones(out.shape))
    for x in xs:
        assert x.grad.__class__ is np.ndarray and x.grad.shape == x.shape and x.grad.dtype == np.float64


def check_scalar(info, values, params):
    """Python-float payloads: a Python-float result and gradients equal to those of 0-d tensors."""
    fs = [Value(float(v)) for v in values]
    ts = [Value(np.array(float(v))) for v in values]
    ys, yt = info.fn(*fs, **params), info.fn(*ts, **params)
    assert ys.data.__class__ is float, f"float inputs gave a {type(ys.data).__name__} payload"
    assert yt.data.__class__ is np.ndarray and yt.data.ndim == 0
    # math's and numpy's functions may differ in the last bit: a tolerance of a few ulps (1 - tanh(x)^2 and
    # the like amplify it), none for the entries whose forward is exact.
    close = np.testing.assert_array_equal if info.name in EXACT else partial(np.testing.assert_allclose, rtol=1e-12)
    close(ys.data, yt.data)
    ys.backward()
    yt.backward()
    for f, t in zip(fs, ts):
        assert f.grad.__class__ is float, f"a float leaf got a {type(f.grad).__name__} gradient"
        assert t.grad.__class__ is np.ndarray and t.grad.ndim == 0
        close(f.grad, t.grad)


def check_gradgrad(info, arrays, params):
    assert gradgradcheck(call(info, params), *arrays)


def check_float32(info, arrays, params):
    """float32 in: float32 out and float32 gradients, close to the float64 results at the same points."""
    x32 = [a.astype(np.float32) for a in arrays]
    x64 = [a.astype(np.float64) for a in x32]
    wrt = [identity(Value(a)) for a in x32]
    out = info.fn(*wrt, **params)
    assert out.dtype == np.float32, f"float32 inputs gave a {out.dtype} output"
    grads = gradients(out, wrt, grad=np.ones(out.shape, np.float32))
    wrt64 = [identity(Value(a)) for a in x64]
    out64 = info.fn(*wrt64, **params)
    grads64 = gradients(out64, wrt64, grad=np.ones(out64.shape))
    np.testing.assert_allclose(out.data, out64.data, rtol=1e-4, atol=1e-5)
    for g, g64 in zip(grads, grads64):
        if g is None:  # not reached at all: then not in float64 either
            assert g64 is None
            continue
        assert g.dtype == np.float32, f"float32 inputs gave a {g.dtype} gradient"
        np.testing.assert_allclose(g, g64, rtol=1e-4, atol=1e-4)


def check_errors(info):
    """Each bad input the entry declares raises its error, with a message that matches."""
    import re

    for case in info.errors:
        try:
            info.fn(*case.inputs, **case.params)
        except case.error as e:
            assert re.search(case.match, str(e)), f"{info.name}: {type(e).__name__} {str(e)!r} does not match " \
                                                  f"{case.match!r}"
        else:
            raise AssertionError(f"{info.name}: inputs {case.inputs!r} {case.params!r} raised no "
                                 f"{case.error.__name__}")


def check_op(info, examples=5, seed=0):
    """Run every check on `examples` random cases of `info` (and its canonical cases: every params dict once).
    Returns the names of the checks run; raises AssertionError (or GradcheckError) on the first failure.

    >>> import numpy as np
    >>> from tinygrad_nn import sqrt
    >>> check_op(OpInfo("sqrt_check_op_doc", sqrt, np.sqrt, domain=(0.1, 4.0)), examples=2)
    ['forward', 'grad', 'float32', 'scalar', 'gradgrad', 'errors']
    """
    rng = np.random.default_rng(seed)
    ran = ["forward", "grad", "float32"]
    for arrays, params in canonical_cases(info) + [random_case(info, rng) for _ in range(examples)]:
        check_forward(info, arrays, params)
        check_grad(info, arrays, params)
        check_float32(info, arrays, params)
    if info.scalar:
        ran.append("scalar")
        for _ in range(examples):
            check_scalar(info, *scalar_case(info, rng))
    if info.gradgrad:
        ran.append("gradgrad")
        for _ in range(max(1, examples // 2)):
            check_gradgrad(info, *random_case(info, rng, max_side=GRADGRAD_MAX_SIDE))
    ran.append("errors")
    check_errors(info)
    return ran
