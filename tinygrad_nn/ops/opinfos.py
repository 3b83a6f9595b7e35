"""The built-in OpInfos: how to property-test each user-facing function (see OpInfo in registry.py).

tests/ops/test_op_properties.py runs every entry of OPINFOS through the same checks: forward against the
numpy `ref`, gradient against finite differences, a Python-float payload against a 0-d tensor (scalar=True),
gradient of gradient (gradgrad=True) and float32 in, float32 out. Read an entry as:

- inputs are drawn in `domain` and kept at least KINK_MARGIN away from every point of `away_from` (kinks
  and poles: finite differences straddling a kink, or the huge slopes next to a pole, are not gradients);
- `params(shape)` gets the shape of the output of broadcasting the inputs (for one input, its shape) and
  lists the keyword dicts to try;
- `sample(rng)` replaces both when the inputs need a structure values drawn one by one do not have
  (no ties for max, differing sizes for concatenate).

The exact behaviour at kinks (relu'(0), max with ties, ...) is pinned down in tests/ops/test_op_kinks.py.
"""

from __future__ import annotations

import builtins

import numpy as np

from .elementwise import (
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
from .linalg import linear, matmul
from .reductions import log_softmax, logsumexp, max, mean, min, softmax, sum
from .registry import OpInfo, register_test
from .shape import broadcast_to, concatenate, expand_dims, flatten, reshape, squeeze, stack, transpose

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


# -- the table ----------------------------------------------------------------------------------------

# Arithmetic, written with the operators users write (the scalar fast paths of + and * included).
register_test(OpInfo("add", lambda a, b: a + b, np.add, nargs=2))
# n-ary sums: the op itself, and a running sum that the engine records as one add_n node.
register_test(OpInfo("add_n", add_n, lambda a, b, c: a + b + c, nargs=3))
register_test(OpInfo("running_sum", lambda a, b, c: builtins.sum((x * c for x in (a, b, a)), a + b),
                     lambda a, b, c: a + b + a * c + b * c + a * c, nargs=3))
register_test(OpInfo("sub", lambda a, b: a - b, np.subtract, nargs=2))
register_test(OpInfo("mul", lambda a, b: a * b, np.multiply, nargs=2))
register_test(OpInfo("div", lambda a, b: a / b, np.divide, nargs=2, away_from=(0.0,)))  # pole at b = 0
register_test(OpInfo("rdiv", lambda x: 2.0 / x, lambda x: 2.0 / x, away_from=(0.0,)))  # number / Value
register_test(OpInfo("neg", lambda x: -x, np.negative))
register_test(OpInfo("reciprocal", reciprocal, np.reciprocal, away_from=(0.0,)))  # pole at 0

# x ** k for a number k: integer powers take bases of either sign (negative ones keep off the pole at 0);
# fractional ones need a positive base, away from 0 where their higher derivatives blow up.
register_test(OpInfo("pow_2", lambda x: x ** 2, lambda x: x ** 2))
register_test(OpInfo("pow_3", lambda x: x ** 3, lambda x: x ** 3))
register_test(OpInfo("pow_-1", lambda x: x ** -1, lambda x: 1.0 / x, away_from=(0.0,)))
register_test(OpInfo("pow_-2", lambda x: x ** -2, lambda x: 1.0 / x ** 2, away_from=(0.0,)))
register_test(OpInfo("pow_0.5", lambda x: x ** 0.5, np.sqrt, domain=(0.1, 3.0)))
register_test(OpInfo("pow_1.7", lambda x: x ** 1.7, lambda x: x ** 1.7, domain=(0.1, 3.0)))
register_test(OpInfo("pow_0", lambda x: x ** 0, np.ones_like))  # flat: gradient 0, at base 0 too
# a ** b with a Value exponent: the base must be positive (log a is in the gradient).
register_test(OpInfo("pow", lambda a, b: a ** b, np.power, nargs=2, domain=(0.25, 2.5)))
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
                     params=lambda s: [{"lo": -0.5, "hi": 0.8}, {"lo": -0.5, "hi": None}, {"lo": None, "hi": 0.8}]))
# Ties of two inputs are kinks: the sample keeps the inputs apart wherever they broadcast against each other.
register_test(OpInfo("maximum", maximum, np.maximum, nargs=2, sample=_separated_pair))
register_test(OpInfo("minimum", minimum, np.minimum, nargs=2, sample=_separated_pair))
register_test(OpInfo("where", lambda a, b, cond: where(cond, a, b), lambda a, b, cond: np.where(cond, a, b), nargs=2,
                     params=lambda s: [{"cond": _mask(s)}, {"cond": True}, {"cond": np.zeros(s, bool)}]))

# matmul: the test draws 1-D . 1-D, 2-D . 1-D, 1-D . 2-D, 2-D . 2-D and batched operands (broadcast batch too).
register_test(OpInfo("matmul", matmul, np.matmul, nargs=2, shapes="matmul", scalar=False))
register_test(OpInfo("linear", linear, lambda x, w, b: x @ w.T + b, nargs=3, scalar=False, sample=_linear_sample))

# Reductions. max and min get inputs without ties (tied maxima share the gradient: a kink).
register_test(OpInfo("sum", sum, np.sum, params=_reduce_params))
register_test(OpInfo("mean", mean, np.mean, params=_reduce_params))
register_test(OpInfo("max", max, np.max, params=_reduce_params, sample=_reduce_sample))
register_test(OpInfo("min", min, np.min, params=_reduce_params, sample=_reduce_sample))
register_test(OpInfo("logsumexp", logsumexp, _np_logsumexp, domain=(-5.0, 5.0), params=_reduce_params))
register_test(OpInfo("softmax", softmax, _np_softmax, domain=(-5.0, 5.0), min_ndim=1, params=_softmax_params,
                     scalar=False))
register_test(OpInfo("log_softmax", log_softmax, _np_log_softmax, domain=(-5.0, 5.0), min_ndim=1,
                     params=_softmax_params, scalar=False))

# Shape functions: they move values around (exactly), so their gradients move them back.
register_test(OpInfo("reshape", lambda x, shape: reshape(x, shape=shape), np.reshape, params=_reshape_params,
                     scalar=False))
register_test(OpInfo("transpose", lambda x, axes: transpose(x, axes=axes), np.transpose, params=_transpose_params,
                     scalar=False))
register_test(OpInfo("getitem", lambda x, index: x[index], lambda x, index: x[index], min_ndim=1,
                     params=_getitem_params, scalar=False))
register_test(OpInfo("broadcast_to", lambda x, shape: broadcast_to(x, shape=shape), np.broadcast_to,
                     params=_broadcast_to_params, scalar=False))
register_test(OpInfo("concatenate", lambda *xs, axis: concatenate(xs, axis=axis),
                     lambda *xs, axis: np.concatenate(xs, axis=axis), nargs=3, scalar=False, sample=_concat_sample))
register_test(OpInfo("stack", lambda *xs, axis: stack(xs, axis=axis), lambda *xs, axis: np.stack(xs, axis=axis),
                     nargs=3, shapes="same", params=_new_axis_params, scalar=False))
register_test(OpInfo("expand_dims", expand_dims, np.expand_dims, params=_new_axis_params, scalar=False))
register_test(OpInfo("squeeze", squeeze, np.squeeze, params=_squeeze_params, scalar=False))
register_test(OpInfo("flatten", flatten, np.ravel, scalar=False))


# -- chapter 5: convolution, pooling (conv.py) and flatten's dims ------------------------------------------
# (max and sum here are the ops: the builtins are builtins.max and builtins.sum)
# The samplers draw the batch, channels, kernel, stride and padding (ints or pairs), and an image large
# enough for the padded kernel; the references are plain loops over the output positions, independent of
# the ops' im2col and matrix products.

from .conv import avg_pool2d, conv2d, conv2d_weight, conv_transpose2d, max_pool2d  # noqa: E402


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
register_test(OpInfo("conv2d", conv2d, _np_conv2d, nargs=3, scalar=False, sample=_conv_sample))
register_test(OpInfo("conv_transpose2d", conv_transpose2d, _np_conv_transpose2d, nargs=3, scalar=False,
                     sample=_conv_transpose_sample))
register_test(OpInfo("conv2d_weight", conv2d_weight, _np_conv2d_weight, nargs=2, scalar=False,
                     sample=_conv_weight_sample))
register_test(OpInfo("max_pool2d", max_pool2d, _np_pool(np.max), scalar=False,
                     sample=lambda rng: _pool_sample(rng, distinct=True)))
register_test(OpInfo("avg_pool2d", avg_pool2d, _np_pool(np.mean), scalar=False,
                     sample=lambda rng: _pool_sample(rng, distinct=False)))
register_test(OpInfo("flatten_dims", flatten, _np_flatten, params=_flatten_params, scalar=False))
EXACT.add("flatten_dims")
