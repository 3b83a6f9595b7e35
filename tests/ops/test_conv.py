"""conv2d, conv_transpose2d, conv2d_weight, max_pool2d, avg_pool2d and flatten(start_dim, end_dim).

The OpInfo entries (tinygrad_nn/testing/opinfos.py) already check forward, gradient, second order and float32
on sampled shapes. Here:
- a plain-Python reference (loops over every index, scalar arithmetic) for the forward AND the gradients
  of small cases, independent of numpy's windows and matrix products;
- Hypothesis-drawn shapes, strides and paddings against finite differences (first and second order);
- ties in max pooling (the gradient goes to the first maximum, as PyTorch), overlapping windows;
- the error messages; and, where torch is installed, PyTorch's own results.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_nn import Value, gradcheck, gradgradcheck, gradients
from tinygrad_nn.ops import (
    avg_pool2d,
    conv2d,
    conv2d_weight,
    conv_transpose2d,
    flatten,
    identity,
    max_pool2d,
)
from tinygrad_nn.ops import sum as vsum

# -- the plain-Python reference: every index spelled out ------------------------------------------------


def loop_conv2d(x, w, b, stride, padding):
    """out[n][o][i][j] = b[o] + sum over c, p, q of w[o][c][p][q] * xpad[n][c][i*s + p][j*s + q]."""
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    (sh, sw), (ph, pw) = stride, padding
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1

    def xpad(n, c, r, s):
        r, s = r - ph, s - pw
        return float(x[n, c, r, s]) if 0 <= r < H and 0 <= s < W else 0.0

    out = np.zeros((N, O, Ho, Wo))
    for n, o, i, j in itertools.product(range(N), range(O), range(Ho), range(Wo)):
        total = 0.0 if b is None else float(b[o])
        for c, p, q in itertools.product(range(C), range(kh), range(kw)):
            total += float(w[o, c, p, q]) * xpad(n, c, i * sh + p, j * sw + q)
        out[n, o, i, j] = total
    return out


def loop_conv2d_grads(x, w, g, stride, padding):
    """d<g, conv2d(x, w, b)>/dx, /dw and /db by the chain rule, one term at a time."""
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    (sh, sw), (ph, pw) = stride, padding
    Ho, Wo = g.shape[2:]
    gx, gw, gb = np.zeros(x.shape), np.zeros(w.shape), np.zeros(O)
    for n, o, i, j in itertools.product(range(N), range(O), range(Ho), range(Wo)):
        gb[o] += g[n, o, i, j]
        for c, p, q in itertools.product(range(C), range(kh), range(kw)):
            r, s = i * sh + p - ph, j * sw + q - pw
            if 0 <= r < H and 0 <= s < W:  # a padding zero has no gradient to receive and adds nothing
                gx[n, c, r, s] += g[n, o, i, j] * w[o, c, p, q]
                gw[o, c, p, q] += g[n, o, i, j] * x[n, c, r, s]
    return gx, gw, gb


def loop_pool(x, kernel, stride, kind):
    """(output, gradient of its sum) of max or mean pooling; max: the first maximum in row-major order."""
    N, C, H, W = x.shape
    (kh, kw), (sh, sw) = kernel, stride
    Ho, Wo = (H - kh) // sh + 1, (W - kw) // sw + 1
    out, grad = np.zeros((N, C, Ho, Wo)), np.zeros(x.shape)
    for n, c, i, j in itertools.product(range(N), range(C), range(Ho), range(Wo)):
        cells = [(i * sh + p, j * sw + q) for p in range(kh) for q in range(kw)]
        if kind == "max":
            best = cells[0]
            for cell in cells[1:]:
                if x[n, c][cell] > x[n, c][best]:  # strictly larger: a tie keeps the first
                    best = cell
            out[n, c, i, j] = x[n, c][best]
            grad[n, c][best] += 1.0
        else:
            out[n, c, i, j] = sum(float(x[n, c][cell]) for cell in cells) / len(cells)
            for cell in cells:
                grad[n, c][cell] += 1.0 / len(cells)
    return out, grad


SMALL_CASES = [  # (N, C, O, H, W, kh, kw, stride, padding)
    (1, 1, 1, 6, 6, 3, 3, (1, 1), (0, 0)),   # the book's layer: one image, one filter
    (2, 1, 3, 6, 6, 3, 3, (1, 1), (0, 0)),   # the book's three filters
    (2, 2, 3, 5, 4, 2, 3, (2, 1), (1, 0)),   # stride and padding differ by axis
    (1, 3, 2, 7, 7, 3, 3, (2, 2), (1, 1)),   # stride 2 skips the last row and column
    (1, 2, 2, 3, 3, 1, 1, (1, 1), (2, 2)),   # 1x1 kernel: the padding's border is all bias
    (1, 1, 2, 2, 2, 3, 3, (1, 1), (1, 1)),   # a kernel larger than the image, fitting the padded one
]


@pytest.mark.parametrize("case", SMALL_CASES)
def test_conv2d_matches_plain_loops(case):
    N, C, O, H, W, kh, kw, stride, padding = case
    rng = np.random.default_rng(sum(case[:7]))
    x, w, b = rng.normal(size=(N, C, H, W)), rng.normal(size=(O, C, kh, kw)), rng.normal(size=O)
    xv, wv, bv = Value(x), Value(w), Value(b)
    out = conv2d(xv, wv, bv, stride=stride, padding=padding)
    np.testing.assert_allclose(out.data, loop_conv2d(x, w, b, stride, padding), rtol=1e-12, atol=1e-12)
    g = rng.normal(size=out.shape)
    out.backward(g)
    for got, want in zip((xv.grad, wv.grad, bv.grad), loop_conv2d_grads(x, w, g, stride, padding)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


CHUNKED_CASES = [  # (H, W, kh, kw, stride, padding): the stride-1 layouts of conv.py's _column_chunks
    (5, 6, 3, 3, (1, 1), (1, 1)),   # "same" padding: the columns are exactly the output positions
    (5, 6, 3, 3, (1, 1), (0, 0)),   # less padding: junk columns past each row's end
    (5, 6, 3, 2, (1, 1), (2, 2)),   # more padding: zeros after each row, windows wrap on both sides
    (4, 3, 1, 3, (1, 1), (0, 1)),   # padding on one axis only
    (3, 3, 2, 3, (1, 1), (1, 0)),   # an even kernel: wraps on one side only
    (6, 5, 3, 3, (2, 1), (1, 1)),   # any other stride: the strided windows
]


@pytest.mark.parametrize("chunk_bytes", [1, 10_000])
@pytest.mark.parametrize("case", CHUNKED_CASES)
def test_conv_in_small_chunks_with_non_contiguous_inputs_matches_plain_loops(case, chunk_bytes, monkeypatch):
    # The columns are made a few images at a time, in one buffer reused from chunk to chunk (the zeros of
    # the padding and the row of ones for the bias are written once). Chunks of one image, and of two or
    # three (the last one short), check that nothing of one image leaks into the next. Each image's product
    # is cut into pieces of positions (only large images are, normally: here all). Inputs transposed in
    # memory on purpose.
    from tinygrad_nn.ops import conv as conv_module

    monkeypatch.setattr(conv_module, "_CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(conv_module, "_pieces", lambda positions, work: 3 if positions % 3 == 0 else 2 - positions % 2)
    H, W, kh, kw, stride, padding = case
    rng = np.random.default_rng(H * W + kh * kw)
    x = np.ascontiguousarray(rng.normal(size=(W, H, 2, 3)).T)          # (3, 2, H, W), Fortran order
    w, b = rng.normal(size=(2, 2, kh, kw)), rng.normal(size=2)
    xv, wv, bv = Value(x), Value(w), Value(b)
    out = conv2d(xv, wv, bv, stride=stride, padding=padding)
    np.testing.assert_allclose(out.data, loop_conv2d(x, w, b, stride, padding), rtol=1e-12, atol=1e-12)
    g = rng.normal(size=out.shape[::-1]).T                             # a transposed view
    out.backward(g)
    for got, want in zip((xv.grad, wv.grad, bv.grad), loop_conv2d_grads(x, w, g, stride, padding)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_conv_transpose2d_and_conv2d_weight_are_the_loop_gradients():
    # The two adjoints, called directly, are the image and weight gradients of the loops above.
    N, C, O, H, W, kh, kw, stride, padding = SMALL_CASES[3]
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(N, C, H, W)), rng.normal(size=(O, C, kh, kw))
    g = rng.normal(size=loop_conv2d(x, w, None, stride, padding).shape)
    gx, gw, _ = loop_conv2d_grads(x, w, g, stride, padding)
    # 7x7, stride 2, padding 1, kernel 3 gives 4x4; (4 - 1) * 2 - 2 + 3 = 7: no output_padding needed
    np.testing.assert_allclose(conv_transpose2d(g, w, stride=stride, padding=padding), gx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv2d_weight(x, g, (kh, kw), stride=stride, padding=padding), gw,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("kernel,stride", [((2, 2), (2, 2)), ((3, 2), (1, 2)), ((2, 2), (1, 1)), ((1, 3), (2, 1))])
def test_pooling_matches_plain_loops(kind, kernel, stride):
    x = np.random.default_rng(5).normal(size=(2, 2, 5, 6))
    xv = Value(x)
    op = max_pool2d if kind == "max" else avg_pool2d
    out = op(xv, kernel, stride)
    want, want_grad = loop_pool(x, kernel, stride, kind)
    np.testing.assert_allclose(out.data, want, rtol=1e-12, atol=1e-15)
    vsum(out).backward()
    np.testing.assert_allclose(xv.grad, want_grad, rtol=1e-12, atol=1e-15)


# -- ties and overlaps in max pooling ----------------------------------------------------------------------


def test_max_pool_tie_goes_to_the_first_maximum():
    x = Value(np.array([[[[1.0, 4.0, 2.0, 2.0],
                          [4.0, 4.0, 2.0, 2.0]]]]))
    y = max_pool2d(x, 2)
    np.testing.assert_array_equal(y.data, [[[[4.0, 2.0]]]])
    y.backward(np.array([[[[10.0, 20.0]]]]))
    # Three 4s tie in the first window, four 2s in the second: row-major first wins each time.
    np.testing.assert_array_equal(x.grad, [[[[0.0, 10.0, 20.0, 0.0],
                                             [0.0, 0.0, 0.0, 0.0]]]])


def test_max_pool_overlapping_windows_add_up_at_a_shared_maximum():
    x = Value(np.array([[[[0.0, 9.0, 0.0],
                          [0.0, 0.0, 0.0]]]]))
    y = max_pool2d(x, 2, stride=1)  # two windows, both with the 9 as their maximum
    np.testing.assert_array_equal(y.data, [[[[9.0, 9.0]]]])
    y.backward(np.array([[[[1.0, 2.0]]]]))
    np.testing.assert_array_equal(x.grad, [[[[0.0, 3.0, 0.0], [0.0, 0.0, 0.0]]]])


def test_max_pool_constant_image_sends_each_gradient_to_the_window_corner():
    x = Value(np.ones((1, 1, 4, 4)))
    vsum(max_pool2d(x, 2)).backward()
    want = np.zeros((4, 4))
    want[::2, ::2] = 1.0
    np.testing.assert_array_equal(x.grad[0, 0], want)


# -- Hypothesis: shapes, strides and paddings against finite differences --------------------------------


@st.composite
def conv_cases(draw, max_batch=2, max_channels=2):
    n = draw(st.integers(1, max_batch))
    c_in, c_out = draw(st.integers(1, max_channels)), draw(st.integers(1, max_channels))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    h = draw(st.integers(max(1, kh - 2 * padding[0]), kh + 3))
    w = draw(st.integers(max(1, kw - 2 * padding[1]), kw + 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, (n, c_in, h, w))
    weight = rng.uniform(-2, 2, (c_out, c_in, kh, kw))
    bias = rng.uniform(-2, 2, c_out)
    return x, weight, bias, stride, padding


# The OpInfo entries draw convolutions too (tests/ops/test_op_properties.py): half as many examples here.
@settings(max_examples=max(3, settings().max_examples // 2))
@given(conv_cases())
def test_conv2d_gradients_match_finite_differences(case):
    x, w, b, stride, padding = case
    assert gradcheck(lambda x, w, b: conv2d(x, w, b, stride=stride, padding=padding), x, w, b)


@settings(max_examples=max(3, settings().max_examples // 3))  # second order: a backward per direction
@given(conv_cases(max_batch=1))
def test_conv2d_second_order_matches_finite_differences(case):
    x, w, b, stride, padding = case
    # Squared, so that the second derivatives are not all zero (conv2d alone is bilinear).
    assert gradgradcheck(lambda x, w, b: conv2d(x, w, b, stride=stride, padding=padding) ** 2, x, w, b)


@st.composite
def pool_cases(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    h, w = kh + draw(st.integers(0, 3)), kw + draw(st.integers(0, 3))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # A shuffled grid, 0.2 apart: no ties, so max pooling is differentiable at every drawn point.
    x = (rng.permutation(n * c * h * w) * 0.2 - 1.0 + rng.uniform(-0.05, 0.05, n * c * h * w)).reshape(n, c, h, w)
    return x, (kh, kw), stride


@settings(max_examples=max(3, settings().max_examples // 2))
@given(pool_cases())
def test_pool_gradients_match_finite_differences(case):
    x, kernel, stride = case
    assert gradcheck(lambda x: max_pool2d(x, kernel, stride) ** 2, x)
    assert gradcheck(lambda x: avg_pool2d(x, kernel, stride) ** 2, x)


def test_second_order_graph_is_made_of_the_three_convolutions():
    """The gradients of conv2d, recorded with create_graph, are conv_transpose2d and conv2d_weight nodes,
    and their own gradients are conv2d again: the family is closed under differentiation."""
    rng = np.random.default_rng(0)
    x, w = identity(Value(rng.normal(size=(1, 2, 4, 4)))), identity(Value(rng.normal(size=(3, 2, 2, 2))))
    out = conv2d(x, w, stride=1, padding=1)
    gx, gw = gradients(vsum(out ** 2), [x, w], create_graph=True)
    assert gx._op.name == "conv_transpose2d" and gw._op.name == "conv2d_weight"
    ggx, ggw = gradients(vsum(gx * gx) + vsum(gw), [x, w])
    assert ggx.shape == x.shape and ggw.shape == w.shape


def test_data_batch_needs_no_image_gradient():
    # A plain array (the images into the first layer) is a constant: only the weight and bias get gradients.
    w, b = Value(np.ones((2, 1, 3, 3))), Value(np.zeros(2))
    conv2d(np.ones((4, 1, 6, 6)), w, b).sum().backward()
    np.testing.assert_array_equal(w.grad, np.full((2, 1, 3, 3), 4 * 16.0))
    np.testing.assert_array_equal(b.grad, [64.0, 64.0])


# -- dtypes and forms of the arguments ---------------------------------------------------------------------


def test_float32_stays_float32_through_forward_and_backward():
    rng = np.random.default_rng(1)
    x = Value(rng.normal(size=(2, 3, 8, 8)).astype(np.float32))
    w = Value(rng.normal(size=(4, 3, 3, 3)).astype(np.float32))
    b = Value(np.zeros(4, np.float32))
    y = max_pool2d(conv2d(x, w, b, stride=1, padding=1), 2) + avg_pool2d(conv2d(x, w, b, padding=1), 2)
    assert y.dtype == np.float32
    vsum(y).backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_int_and_pair_arguments_agree_and_unbatched_images_work():
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(1, 2, 6, 5)), rng.normal(size=(3, 2, 3, 3))
    np.testing.assert_array_equal(conv2d(x, w, stride=2, padding=1), conv2d(x, w, stride=(2, 2), padding=(1, 1)))
    np.testing.assert_array_equal(conv2d(x[0], w, stride=2, padding=1), conv2d(x, w, stride=2, padding=1)[0])
    np.testing.assert_array_equal(max_pool2d(x[0], 2), max_pool2d(x, (2, 2), stride=(2, 2))[0])
    np.testing.assert_array_equal(avg_pool2d(x[0], 2), avg_pool2d(x, 2)[0])
    xv = Value(x[0])
    conv2d(xv, w).sum().backward()
    assert xv.grad.shape == (2, 6, 5)


# -- errors: the op, the shapes and the fix ------------------------------------------------------------------


@pytest.mark.parametrize("call,words", [
    (lambda: conv2d(np.ones((6, 6)), np.ones((1, 1, 3, 3))), ["conv2d", "(6, 6)", "(N, C, H, W)", "reshape"]),
    (lambda: conv2d(np.ones((1, 2, 6, 6)), np.ones((3, 1, 3, 3))), ["conv2d", "2 channels", "(3, 1, 3, 3)",
                                                                    "in_channels=2"]),
    (lambda: conv2d(np.ones((1, 1, 6, 6)), np.ones((3, 3, 3))), ["conv2d", "(C_out, C_in, kh, kw)", "(3, 3, 3)"]),
    (lambda: conv2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3))), ["conv2d", "3x3", "larger", "2x2", "padding"]),
    (lambda: conv2d(np.ones((1, 1, 6, 6)), np.ones((1, 1, 3, 3)), stride=0), ["conv2d", "stride", "positive"]),
    (lambda: conv2d(np.ones((1, 1, 6, 6)), np.ones((1, 1, 3, 3)), padding=-1), ["conv2d", "padding",
                                                                               "non-negative"]),
    (lambda: conv2d(np.ones((1, 1, 6, 6)), np.ones((2, 1, 3, 3)), np.ones(3)), ["conv2d", "bias", "(2,)", "(3,)"]),
    (lambda: max_pool2d(np.ones((1, 1, 3, 3)), 4), ["max_pool2d", "4x4", "larger", "3x3"]),
    (lambda: max_pool2d(np.ones((1, 1, 4, 4)), 2, stride=(1, 0)), ["max_pool2d", "stride", "positive"]),
    (lambda: avg_pool2d(np.ones(4), 2), ["avg_pool2d", "(4,)", "(N, C, H, W)"]),
    (lambda: conv_transpose2d(np.ones((1, 2, 3, 3)), np.ones((3, 1, 3, 3))), ["conv_transpose2d", "2 channels"]),
    (lambda: conv_transpose2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)), stride=2, output_padding=2),
     ["conv_transpose2d", "output_padding", "smaller than the stride"]),
    (lambda: conv2d_weight(np.ones((1, 1, 6, 6)), np.ones((1, 1, 3, 3)), 3), ["conv2d_weight", "3x3", "4x4"]),
])
def test_bad_arguments_say_what_and_how(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_non_int_stride_is_a_type_error():
    with pytest.raises(TypeError, match="conv2d: stride must be an int or a pair"):
        conv2d(np.ones((1, 1, 6, 6)), np.ones((1, 1, 3, 3)), stride=1.5)
    with pytest.raises(TypeError, match="max_pool2d: kernel_size"):
        max_pool2d(np.ones((1, 1, 6, 6)), (2, 2, 2))


# -- flatten(start_dim, end_dim) -----------------------------------------------------------------------------


def test_flatten_dims_as_pytorch():
    x = Value(np.arange(120.0).reshape(2, 3, 4, 5))
    assert flatten(x).shape == (120,)
    assert flatten(x, 1).shape == x.flatten(1).shape == (2, 60)
    assert flatten(x, 1, 2).shape == (2, 12, 5)
    assert flatten(x, -2).shape == (2, 3, 20)
    assert flatten(x, 0, -2).shape == (24, 5)
    assert flatten(x, 2, 2).shape == (2, 3, 4, 5)
    np.testing.assert_array_equal(flatten(x, 1).data, x.data.reshape(2, 60))  # row-major: channel, row, column
    assert flatten(Value(3.0)).shape == (1,) and flatten(Value(np.array(3.0)), -1).shape == (1,)
    y = Value(np.ones((2, 3, 4)))
    vsum(flatten(y, 1) * np.arange(12.0)).backward()
    np.testing.assert_array_equal(y.grad, np.broadcast_to(np.arange(12.0).reshape(3, 4), (2, 3, 4)))


def test_flatten_bad_dims():
    x = np.ones((2, 3, 4))
    with pytest.raises(ValueError, match=r"flatten: start_dim=3 is out of range for an input of shape \(2, 3, 4\) "
                                         r"\(3 axes\)"):
        flatten(x, 3)
    with pytest.raises(ValueError, match="flatten: start_dim 2 comes after end_dim 1"):
        flatten(x, 2, 1)


# -- PyTorch, where installed ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stride,padding,dtype", [(1, 0, np.float64), (2, 1, np.float64), ((1, 2), (2, 0), np.float64),
                                                  (1, 1, np.float32)])
def test_conv2d_matches_torch(stride, padding, dtype):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(4)
    x, w, b = (rng.normal(size=s).astype(dtype) for s in [(3, 2, 9, 8), (4, 2, 3, 2), (4,)])
    xv, wv, bv = Value(x), Value(w), Value(b)
    out = conv2d(xv, wv, bv, stride=stride, padding=padding)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ot = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out.data, ot.detach().numpy(), **tol)
    g = rng.normal(size=out.shape).astype(dtype)
    out.backward(g)
    ot.backward(torch.tensor(g))
    for mine, theirs in ((xv, xt), (wv, wt), (bv, bt)):
        assert mine.grad.dtype == dtype
        np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), **tol)


@pytest.mark.parametrize("stride,padding,output_padding", [(1, 0, 0), (2, 1, 1), ((2, 3), (0, 1), (1, 2))])
def test_conv_transpose2d_matches_torch(stride, padding, output_padding):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x, w, b = rng.normal(size=(2, 3, 4, 3)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=2)
    xv, wv = Value(x), Value(w)
    out = conv_transpose2d(xv, wv, b, stride=stride, padding=padding, output_padding=output_padding)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ot = torch.nn.functional.conv_transpose2d(xt, wt, torch.tensor(b), stride=stride, padding=padding,
                                              output_padding=output_padding)
    np.testing.assert_allclose(out.data, ot.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.normal(size=out.shape)
    out.backward(g)
    ot.backward(torch.tensor(g))
    np.testing.assert_allclose(xv.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(wv.grad, wt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel,stride", [(2, None), (3, 1), ((2, 3), (1, 2))])
def test_pooling_matches_torch_ties_included(kernel, stride):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = np.random.default_rng(7).integers(0, 3, size=(2, 3, 6, 7)).astype(np.float64)  # many ties
    g = np.random.default_rng(8).normal(size=max_pool2d(x, kernel, stride).shape)
    for ours, theirs in ((max_pool2d, F.max_pool2d), (avg_pool2d, F.avg_pool2d)):
        xv, xt = Value(x), torch.tensor(x, requires_grad=True)
        out, ot = ours(xv, kernel, stride), theirs(xt, kernel, stride)
        np.testing.assert_allclose(out.data, ot.detach().numpy(), rtol=1e-12, atol=1e-15)
        out.backward(g)
        ot.backward(torch.tensor(g))
        np.testing.assert_allclose(xv.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_conv2d_second_derivative_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    x, w = rng.normal(size=(2, 2, 5, 5)), rng.normal(size=(3, 2, 3, 3))
    xv, wv = identity(Value(x)), identity(Value(w))
    gx, gw = gradients(vsum(conv2d(xv, wv, stride=2, padding=1) ** 2), [xv, wv], create_graph=True)
    ours = gradients(vsum(gx ** 2) + vsum(gw ** 2), [xv, wv])
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    gxt, gwt = torch.autograd.grad((torch.nn.functional.conv2d(xt, wt, stride=2, padding=1) ** 2).sum(), [xt, wt],
                                   create_graph=True)
    theirs = torch.autograd.grad((gxt ** 2).sum() + (gwt ** 2).sum(), [xt, wt])
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a, t.numpy(), rtol=1e-10, atol=1e-10)
