"""Convolution and pooling on images (N, C, H, W): the ops of the book's chapter 5.

A convolution layer slides a small filter over the image and takes, at each position, the inner product
of the filter with the patch under it (a cross-correlation, as in the book and in PyTorch: the filter is
not flipped). Written out for one output value,

    out[n, o, i, j] = b[o] + sum over c, p, q of  w[o, c, p, q] * x[n, c, i*sh + p, j*sw + q]

(x zero-padded first). The forward gathers the patches into a matrix of columns (im2col: a strided view of
the image, copied once) and computes their inner products with the filters as matrix products; it does so
a few images at a time, so that the columns stay in the processor's cache (see `_column_chunks`), and on a
machine of several cores each core's thread takes a part of the batch (see `tinygrad_nn/parallel.py`). With
stride 1 it gathers the patches of the filter's first row only: those of row p are the same columns p image
rows further on, so the output is a sum of kh products over shifted columns (see `_conv2d_forward`).

Three primitives, one bilinear form. With T(x, w, g) = <g, conv2d(x, w)>:

    conv2d(x, w)            = dT/dg     (the forward)
    conv_transpose2d(g, w)  = dT/dx     (the gradient with respect to the image)
    conv2d_weight(x, g)     = dT/dw     (the gradient with respect to the filters)

Each is linear in each of its two inputs, so the gradient rule of every one of them is made of the other
two: the family is closed under differentiation, and second (and higher) derivatives need no new code.

Pooling: `max_pool2d` is a primitive whose gradient sends each window's gradient to its (first) maximum
with `scatter_add`; `avg_pool2d` is composed, a convolution of every channel with a constant averaging
filter, so it needs no gradient code at all.

>>> import numpy as np
>>> from tinygrad_nn import Value
>>> x = Value(np.arange(16.0).reshape(1, 1, 4, 4))
>>> w = Value(np.array([[[[1.0, 0.0], [0.0, -1.0]]]]))      # top-left minus bottom-right
>>> conv2d(x, w).data[0, 0]
array([[-5., -5., -5.],
       [-5., -5., -5.],
       [-5., -5., -5.]])
>>> max_pool2d(x, 2).data[0, 0]
array([[ 5.,  7.],
       [13., 15.]])
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from ..engine import Value, data_of, shape_of
from ..parallel import run_parts, split
from .reductions import sum
from .registry import composite, defop, doctests
from .shape import reshape, scatter_add

# -- arguments: ints or pairs, checked once in the public functions -----------------------------------


def _pair(value, name, who, minimum):
    """An int or a pair of ints (height, width), each at least `minimum`, as a tuple of two ints."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    try:
        pair = tuple(pair)
    except TypeError:
        pair = (pair,)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{who}: {name} must be an int or a pair of ints (height, width), got {value!r}")
    if any(v < minimum for v in pair):
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{who}: {name} must be {kind}, got {value!r}; use {name}={max(minimum, 1)} or more")
    return int(pair[0]), int(pair[1])


def _image_shape(who, x):
    """The shape of a batch (N, C, H, W); an unbatched image (C, H, W) is allowed, as in PyTorch."""
    shape = shape_of(x)
    if len(shape) not in (3, 4):
        raise ValueError(f"{who}: the input must have shape (N, C, H, W), or (C, H, W) for one image, got shape "
                         f"{shape}; reshape it first, e.g. x.reshape(N, 1, H, W) for a batch of one-channel images")
    return shape


def _out_size(who, size, kernel, stride, padding):
    """Output height and width: floor((H + 2p - k) / s) + 1, as PyTorch (the last partial window is dropped)."""
    (H, W), (kh, kw), (sh, sw), (ph, pw) = size, kernel, stride, padding
    if kh > H + 2 * ph or kw > W + 2 * pw:
        raise ValueError(f"{who}: the kernel {kh}x{kw} is larger than the padded input {H + 2 * ph}x{W + 2 * pw} "
                         f"(input {H}x{W}, padding {padding}); use a smaller kernel or more padding")
    return (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1


# -- the patches ------------------------------------------------------------------------------------------


def _pad(x, padding):
    ph, pw = padding
    if not (ph or pw):
        return x
    N, C, H, W = x.shape
    out = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)  # np.pad is several times slower
    out[:, :, ph:ph + H, pw:pw + W] = x
    return out


def _windows(x, kernel, stride, padding):
    """Every patch as a view, no copy: shape (N, C, Ho, Wo, kh, kw), [n, c, i, j] the patch at (i, j)."""
    sh, sw = stride
    return sliding_window_view(_pad(x, padding), kernel, axis=(2, 3))[:, :, ::sh, ::sw]


# The columns of a whole batch are kh*kw times the image (30 MB for 64 images of 16x28x28 and a 3x3 kernel):
# made all at once they go out to main memory and come back for the matrix product. Made a few images at a
# time (a Python loop over chunks of the batch, never over pixels), they stay in the processor's cache.
_CHUNK_BYTES = 1 << 19
# With the batch split over threads (parallel.py), chunks twice as large: each chunk's Python work holds the
# GIL, which the other thread then waits for, and fewer chunks mean fewer such waits. Measured on two cores:
# W7's image gradient 10-20% faster, its whole step about 4%; on one thread 512 KB stays the better size.
_THREAD_CHUNK_BYTES = 1 << 20


def _chunk_bytes(parts):
    return _CHUNK_BYTES if len(parts) == 1 else _THREAD_CHUNK_BYTES


def _column_chunks(x, kernel, stride, padding, dtype, chunk_bytes, ones=False, one_row=False):
    """The patches as columns (im2col), a few images at a time (about chunk_bytes of columns each): yields
    (i, j, cols, width) for images i:j, cols of shape (j - i, C*kh*kw, Ho*width), the patch at output
    position (r, c) in column r*width + c, in dtype. With `ones`, cols has one more row, all ones (a bias
    rides on it: see _conv2d_forward). Use each chunk's cols before asking for the next: they share one buffer.

    Stride 1 (the common case) copies the fastest way numpy can: whole runs of memory. The image rows are
    laid end to end, each `width` = max(W, Wo) long (W values, then zeros if the output is wider than the
    image), with the padding's zero rows above and below. The patches' values for one filter offset
    (p, q) at all positions are then one contiguous run of that buffer, so each row of cols is one straight
    slice. A window at the left or right edge reads past its row into the next or previous one, where the
    padding should have been; those entries of cols are set back to zero (a few per image row). With
    "same" padding (2 * padding = kernel - 1, e.g. a 3x3 kernel with padding 1) width = W = Wo: the
    columns are exactly the output positions, so the output and its gradient need no reshuffling at all.
    Otherwise, with less padding, width = W > Wo: the columns c >= Wo are junk (windows past the row's
    end); the callers drop them from the output, or meet them with zeros.

    `one_row` (stride 1 only): the patches of the kernel's first row only, C*kw rows, but over kh - 1 more
    rows of positions: (j - i, C*kw, (Ho + kh - 1)*width). Kernel row p's patches are the same values p
    image rows further on, columns p*width to p*width + Ho*width: a third of the copying, for a 3x3 kernel.

    Any other stride: width = Wo, and the windows are laid out (n, C, kh, kw, Ho, Wo) before the one copy,
    so that it reads the image along its rows.
    """
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    unit = stride == (1, 1)
    width = max(W, Wo) if unit else Wo
    rows, heights = (1, Ho + kh - 1) if one_row else (kh, Ho)  # kernel rows gathered, rows of positions
    K, L = C * rows * kw, heights * width
    size = max(1, min(N, chunk_bytes // ((K + ones) * L * np.dtype(dtype).itemsize)))  # (N may be 0)
    cols = np.empty((size, K + ones, L), dtype=dtype)
    if ones:
        cols[:, K] = 1.0  # set once: the chunks only ever write the rows above it
    flat = cols[:, :K].reshape(size, C, rows, kw, L)  # views of cols (splitting an axis never copies)
    patches = flat.reshape(size, C, rows, kw, heights, width)
    if unit:
        # Image row y's values start at (y + ph) * width + pw: the window at (r, c) reads offset (p, q)
        # at (r + p) * width + c + q, which is pixel (r + p - ph, c + q - pw) whenever that is in its row.
        # (the last window reads kw - 1 past the rows; the last row's values end pw past them)
        buf = np.zeros((size, C, (H + 2 * ph) * width + max(kw - 1, pw)), dtype=dtype)
        first = ph * width + pw
        images = buf[:, :, first:first + H * width].reshape(size, C, H, width)[..., :W]
        st = buf.strides
        windows = as_strided(buf, (size, C, rows, kw, L), (st[0], st[1], width * st[2], st[2], st[2]),
                             writeable=False)
        # Offset q of the window at column c reads image column c + q - pw; below W - width (left of the
        # row, past the zeros that end the row before) or at width and beyond (right of the row) it has
        # run into a neighbouring row's pixels, where the padding's zeros belong.
        wrapped = []
        for q in range(kw):
            left, right = min(Wo, W - width + pw - q), max(0, width + pw - q)
            wrapped += [patches[:, :, :, q, :, :left]] if left > 0 else []
            wrapped += [patches[:, :, :, q, :, right:Wo]] if right < Wo else []
    else:
        if one_row:
            raise ValueError("_column_chunks: one_row needs stride 1")
        if ph or pw:
            buf = np.zeros((size, C, H + 2 * ph, W + 2 * pw), dtype=dtype)
            images = buf[:, :, ph:ph + H, pw:pw + W]
    for i in range(0, N, size):
        j = min(N, i + size)
        m = j - i
        if unit:
            images[:m] = x[i:j]
            np.copyto(flat[:m], windows[:m])  # the one copy
            for zeros in wrapped:
                zeros[:m] = 0.0
        else:
            if ph or pw:
                images[:m] = x[i:j]
            v = sliding_window_view(buf[:m] if (ph or pw) else x[i:j], kernel, axis=(2, 3))[:, :, ::sh, ::sw]
            np.copyto(patches[:m], v.transpose(0, 1, 4, 5, 2, 3))  # the one copy
        yield i, j, cols[:m], width


def _chunks(n, bytes_per_image):
    size = max(1, _CHUNK_BYTES // max(1, bytes_per_image))
    return [(i, min(n, i + size)) for i in range(0, n, size)]


def _col2im(cols, out, kernel, stride):
    """The adjoint of im2col: columns (N, C, kh, kw, Ho, Wo) added back into the padded images `out` where
    their patches came from. A loop over the kh*kw filter positions (never over pixels)."""
    (kh, kw), (sh, sw) = kernel, stride
    Ho, Wo = cols.shape[4:]
    for p in range(kh):
        for q in range(kw):
            out[:, :, p:p + sh * (Ho - 1) + 1:sh, q:q + sw * (Wo - 1) + 1:sw] += cols[:, :, p, q]


# -- conv2d and its two adjoints --------------------------------------------------------------------------


# OpenBLAS (numpy's BLAS) multiplies small matrices, up to about a million multiply-adds, with kernels that
# read the operands where they are instead of first packing them into buffers of its own. One image's
# product for one kernel row in Conv2d(16, 32, 3, padding=1) on 28x28 images is 1.2 million: cut into 2
# products of 392 positions each, the layer's forward runs about 15% faster and its image gradient 20% (with
# a BLAS that has no such kernels, a few percent slower at most). Only small layers are cut: the pieces keep
# at least 64 positions. (Small products also run on the calling thread only; see docs/benchmarks.md, W7.)
_SMALL_PRODUCT = 1_000_000


def _pieces(positions, work_per_position):
    """Into how many equal pieces to cut `positions` so that each piece's product is small (see above)."""
    for pieces in range(max(1, -(-positions * work_per_position // _SMALL_PRODUCT)), positions // 64 + 1):
        if positions % pieces == 0 and positions // pieces * work_per_position <= _SMALL_PRODUCT:
            return pieces
    return 1


def _matmul_in_pieces(w, cols, out):
    """out = w @ cols: (O, K) @ (n, K, L) -> (n, O, L), as (O, K) @ (n, s, K, L/s) -> (n, s, O, L/s), that is
    n * s small products (see _pieces). cols and out may be views with any row stride."""
    n, K, L = cols.shape
    s = _pieces(L, w.shape[0] * K)
    np.matmul(w, cols.reshape(n, K, s, L // s).transpose(0, 2, 1, 3),
              out=out.reshape(n, -1, s, L // s).transpose(0, 2, 1, 3))


def _conv2d_forward(x, w, b, *, stride, padding):
    O, C, kh, kw = w.shape
    N, _, H, W = x.shape
    Ho, Wo = (H + 2 * padding[0] - kh) // stride[0] + 1, (W + 2 * padding[1] - kw) // stride[1] + 1
    dtype = np.result_type(x, w)
    out = np.empty((N, O, Ho, Wo), dtype=dtype)
    # Stride 1: the columns of the kernel's first row only, over kh - 1 more image rows (see _column_chunks);
    # the output is the sum of kh products, kernel row p's weights times the columns p rows further on.
    # A third of the copying for a 3x3 kernel, for two additions of the output (in cache).
    one_row = stride == (1, 1)
    groups = [w[:, :, p].reshape(O, C * kw) for p in range(kh)] if one_row else [w.reshape(O, C * kh * kw)]
    bias = b.__class__ is not float  # the float 0.0 stands for "no bias"
    if bias:  # the bias as one more column of the filters, met by the columns' row of ones: no extra pass
        groups[0] = np.concatenate([groups[0], b.reshape(O, 1)], axis=1).astype(dtype, copy=False)
    parts = split(N, N * w.size * Ho * Wo)  # (the multiply-adds decide whether threads are worth it)
    chunk = _chunk_bytes(parts)
    run_parts(lambda i, j: _conv2d_part(x[i:j], groups, bias, (kh, kw), stride, padding, one_row, out[i:j], chunk),
              parts)
    return out


def _conv2d_part(x, groups, bias, kernel, stride, padding, one_row, out, chunk_bytes):
    """The forward for the images x, into out (one thread's part of the batch)."""
    O, Ho, Wo = out.shape[1:]
    dtype = out.dtype
    partial = None
    for i, j, cols, width in _column_chunks(x, kernel, stride, padding, dtype, ones=bias, one_row=one_row,
                                            chunk_bytes=chunk_bytes):
        n, L = j - i, Ho * width
        if width == Wo:  # the columns are the output positions: the product is the output, in place
            y = out[i:j].reshape(n, O, L)
        else:  # junk columns past the row's end: dropped on the way out
            y = np.empty((n, O, L), dtype=dtype)
        for p, wp in enumerate(groups):
            if p == 1 and partial is None:
                partial = np.empty((n, O, L), dtype=dtype)  # the first chunk is the largest
            part = y if p == 0 else partial[:n]
            _matmul_in_pieces(wp, cols[:, :wp.shape[1], p * width:p * width + L], part)
            if p:
                y += part
        if width != Wo:
            out[i:j] = y.reshape(n, O, Ho, width)[..., :Wo]


def _conv_transpose2d_forward(g, w, *, stride, padding, size):
    N, O, Ho, Wo = g.shape
    _, C, kh, kw = w.shape
    (H, W), (ph, pw) = size, padding
    if stride == (1, 1) and ph < kh and pw < kw:
        # With stride 1 the transposed convolution is a convolution again: of g padded by k - 1 - p, with
        # each filter turned by 180 degrees and the in/out channel axes swapped. No scatter needed.
        flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
        return _conv2d_forward(g, flipped, 0.0, stride=(1, 1), padding=(kh - 1 - ph, kw - 1 - pw))
    K, L = C * kh * kw, Ho * Wo
    out = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=np.result_type(g, w))
    wT = w.reshape(O, K).T
    g2 = g.reshape(N, O, L)
    for i, j in _chunks(N, K * L * g.itemsize):
        cols = np.matmul(wT, g2[i:j])                      # (K, O) @ (n, O, L) -> (n, K, L)
        _col2im(cols.reshape(j - i, C, kh, kw, Ho, Wo), out[i:j], (kh, kw), stride)
    return out[:, :, ph:ph + H, pw:pw + W] if (ph or pw) else out


def _conv2d_weight_forward(x, g, *, kernel, stride, padding):
    N, O, Ho, Wo = g.shape
    C = x.shape[1]
    parts = split(N, N * O * C * kernel[0] * kernel[1] * Ho * Wo)
    chunk = _chunk_bytes(parts)
    parts = run_parts(lambda i, j: _conv2d_weight_part(x[i:j], g[i:j], kernel, stride, padding, chunk), parts)
    gw = parts[0]
    for more in parts[1:]:
        gw += more
    return gw.T.reshape((O, C) + tuple(kernel))


def _conv2d_weight_part(x, g, kernel, stride, padding, chunk_bytes):
    """The filter gradient from the images x and their output gradients g (one thread's part of the batch),
    as (C*kh*kw, O). (Gathering the kernel's first row only, as the forward does, and cutting the products
    small were both tried here: each made it slower, 6.7 and 6.0 ms against 5.5 for 32 images of W7.)"""
    O, Ho, Wo = g.shape[1:]
    K = x.shape[1] * kernel[0] * kernel[1]
    dtype = np.result_type(x, g)
    gw = np.zeros((K, O), dtype=dtype)
    g_wide = None
    for i, j, cols, width in _column_chunks(x, kernel, stride, padding, dtype, chunk_bytes=chunk_bytes):
        gi = g[i:j]
        if width != Wo:  # junk columns (see _column_chunks): g gets zeros there, which then add nothing
            if g_wide is None:
                g_wide = np.zeros((j - i, O, Ho, width), dtype=g.dtype)
            gi = g_wide[:j - i]
            gi[..., :Wo] = g[i:j]
        # the sum over images and positions of columns times g: (n, K, L) @ (n, L, O), summed over n
        gw += np.matmul(cols, gi.reshape(j - i, O, -1).transpose(0, 2, 1)).sum(axis=0)
    return gw


def _conv2d_args(x, weight, bias=None, stride=1, padding=0):
    """2-D convolution (cross-correlation, no flip), as PyTorch's `torch.nn.functional.conv2d`.

    x (N, C_in, H, W) or (C_in, H, W); weight (C_out, C_in, kh, kw); bias (C_out,) or None; stride and
    padding an int or a (height, width) pair (zero padding). Output (N, C_out, Ho, Wo) with
    Ho = (H + 2 * padding - kh) // stride + 1.

    >>> import numpy as np
    >>> from tinygrad_nn import conv2d
    >>> image = np.zeros((1, 1, 3, 3)); image[0, 0, :, 1] = 1.0              # a vertical bar
    >>> bar = np.array([[[[-1.0, 2.0, -1.0]] * 3]])                           # a vertical-bar detector
    >>> conv2d(image, bar, padding=(0, 1)).tolist()
    [[[[-3.0, 6.0, -3.0]]]]
    """
    stride = _pair(stride, "stride", "conv2d", 1)
    padding = _pair(padding, "padding", "conv2d", 0)
    xs, ws = _image_shape("conv2d", x), shape_of(weight)
    if len(ws) != 4:
        raise ValueError(f"conv2d: weight must have shape (C_out, C_in, kh, kw), got {ws}")
    if xs[-3] != ws[1]:
        raise ValueError(f"conv2d: the input has {xs[-3]} channels (shape {xs}) but the weight {ws} expects "
                         f"C_in = {ws[1]}; give the layer in_channels={xs[-3]} or fix the input's channel axis")
    if bias is not None and shape_of(bias) != ws[:1]:
        raise ValueError(f"conv2d: bias must have shape ({ws[0]},), one per output channel, got {shape_of(bias)}")
    Ho, Wo = _out_size("conv2d", xs[-2:], ws[2:], stride, padding)
    params = {"stride": stride, "padding": padding}
    if len(xs) == 3:  # one image: a batch of one, and back
        return ((reshape(x, shape=(1,) + xs), weight, 0.0 if bias is None else bias), params,
                lambda y: reshape(y, shape=(ws[0], Ho, Wo)))
    return (x, weight, 0.0 if bias is None else bias), params


def _conv_transpose2d_args(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Transposed convolution, as PyTorch's `torch.nn.functional.conv_transpose2d`: the gradient of conv2d
    with respect to its input, used as a layer of its own (it enlarges images).

    x (N, C_in, H, W); weight (C_in, C_out, kh, kw); output (N, C_out, Ho, Wo) with
    Ho = (H - 1) * stride - 2 * padding + kh + output_padding.

    >>> import numpy as np
    >>> from tinygrad_nn import conv_transpose2d
    >>> conv_transpose2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), stride=2).shape
    (1, 1, 4, 4)
    """
    stride = _pair(stride, "stride", "conv_transpose2d", 1)
    padding = _pair(padding, "padding", "conv_transpose2d", 0)
    output_padding = _pair(output_padding, "output_padding", "conv_transpose2d", 0)
    xs, ws = shape_of(x), shape_of(weight)
    if len(xs) != 4 or len(ws) != 4:
        raise ValueError(f"conv_transpose2d: x must have shape (N, C_in, H, W) and weight (C_in, C_out, kh, kw), "
                         f"got {xs} and {ws}")
    if xs[1] != ws[0]:
        raise ValueError(f"conv_transpose2d: the input has {xs[1]} channels (shape {xs}) but the weight {ws} "
                         f"expects {ws[0]} (its first axis)")
    if any(op >= s for op, s in zip(output_padding, stride)):
        raise ValueError(f"conv_transpose2d: output_padding {output_padding} must be smaller than the stride "
                         f"{stride}")
    size = tuple((h - 1) * s - 2 * p + k + op for h, s, p, k, op in zip(xs[2:], stride, padding, ws[2:],
                                                                          output_padding))
    if min(size) < 1 or any(k > n + 2 * p for k, n, p in zip(ws[2:], size, padding)):
        raise ValueError(f"conv_transpose2d: the output would be {size[0]}x{size[1]} for input {xs}, kernel "
                         f"{ws[2:]}, stride {stride}, padding {padding}; use less padding")
    if bias is not None and shape_of(bias) != ws[1:2]:
        raise ValueError(f"conv_transpose2d: bias must have shape ({ws[1]},), got {shape_of(bias)}")
    # The bias is added to the op's output (the op itself is conv2d's adjoint, which has none).
    finish = None if bias is None else (lambda out: out + reshape(bias, shape=(ws[1], 1, 1)))
    return (x, weight), {"stride": stride, "padding": padding, "size": size}, finish


def _conv2d_weight_args(x, grad_output, kernel_size, stride=1, padding=0):
    """The gradient of conv2d with respect to its weight (PyTorch's `torch.nn.grad.conv2d_weight`):
    for a convolution of x with a (C_out, C_in, kh, kw) filter whose output got the gradient
    `grad_output` (N, C_out, Ho, Wo).

    >>> import numpy as np
    >>> from tinygrad_nn import conv2d_weight
    >>> conv2d_weight(np.ones((2, 3, 5, 5)), np.ones((2, 4, 3, 3)), 3).shape
    (4, 3, 3, 3)
    """
    kernel = _pair(kernel_size, "kernel_size", "conv2d_weight", 1)
    stride = _pair(stride, "stride", "conv2d_weight", 1)
    padding = _pair(padding, "padding", "conv2d_weight", 0)
    xs, gs = shape_of(x), shape_of(grad_output)
    if len(xs) != 4 or len(gs) != 4 or xs[0] != gs[0]:
        raise ValueError(f"conv2d_weight: x must have shape (N, C_in, H, W) and grad_output (N, C_out, Ho, Wo) "
                         f"with the same N, got {xs} and {gs}")
    want = _out_size("conv2d_weight", xs[2:], kernel, stride, padding)
    if gs[2:] != want:
        raise ValueError(f"conv2d_weight: grad_output is {gs[2]}x{gs[3]} but a {kernel[0]}x{kernel[1]} convolution "
                         f"of the {xs[2]}x{xs[3]} input with stride {stride}, padding {padding} gives "
                         f"{want[0]}x{want[1]}")
    return (x, grad_output), {"kernel": kernel, "stride": stride, "padding": padding}


# Each rule gets (upstream gradient, output, inputs...) and calls the ops' raw form (no argument checks). `size`
# is the image's (H, W): with a stride, the output's size does not fix it (the last rows may have been
# skipped), so the transposed ops are told it.
#
# conv2d always takes three inputs, a bias included (the number 0.0 when there is none): with one rule per
# input, the engine then runs only the rules of inputs that need a gradient, so the image's rule (a whole
# transposed convolution) is skipped for the data batch into the first layer, and the bias's for 0.0.
conv2d = defop(
    "conv2d", _conv2d_forward,
    (lambda g, ans, x, w, b, *, stride, padding:
        conv_transpose2d.raw(g, w, stride=stride, padding=padding, size=shape_of(x)[2:]),
     lambda g, ans, x, w, b, *, stride, padding:
        conv2d_weight.raw(x, g, kernel=shape_of(w)[2:], stride=stride, padding=padding),
     # (over the batch first: whole images added at once, then each channel's positions; 20% faster, W7)
     lambda g, ans, x, w, b, *, stride, padding: sum(sum(g, axis=0), axis=(1, 2))),
    "x (N, C_in, H, W), weight (C_out, C_in, kh, kw), bias (C_out,)",
    prepare=_conv2d_args, inputs=3, scalars=False)

conv_transpose2d = defop(
    "conv_transpose2d", _conv_transpose2d_forward,
    (lambda u, ans, g, w, *, stride, padding, size: conv2d.raw(u, w, 0.0, stride=stride, padding=padding),
     lambda u, ans, g, w, *, stride, padding, size:
        conv2d_weight.raw(u, g, kernel=shape_of(w)[2:], stride=stride, padding=padding)),
    "x (N, C_in, H, W) and weight (C_in, C_out, kh, kw)",
    prepare=_conv_transpose2d_args, inputs=3, scalars=False)

conv2d_weight = defop(
    "conv2d_weight", _conv2d_weight_forward,
    (lambda v, ans, x, g, *, kernel, stride, padding:
        conv_transpose2d.raw(g, v, stride=stride, padding=padding, size=shape_of(x)[2:]),
     lambda v, ans, x, g, *, kernel, stride, padding: conv2d.raw(x, v, 0.0, stride=stride, padding=padding)),
    "x (N, C_in, H, W) and grad_output (N, C_out, Ho, Wo) of the convolution",
    prepare=_conv2d_weight_args, scalars=False)


# -- pooling ----------------------------------------------------------------------------------------------


def _max_pool_forward(x, *, kernel, stride):
    return _windows(x, kernel, stride, (0, 0)).max(axis=(4, 5))


def _first_argmax(x, kernel, stride):
    """Flat indices into x of each window's maximum; the first one (row-major in the window) on a tie, as
    PyTorch picks it. Computed from the payload: the indices are constants of the gradient."""
    v = _windows(x, kernel, stride, (0, 0))
    N, C, Ho, Wo, kh, kw = v.shape
    best = v.reshape(N, C, Ho, Wo, kh * kw).argmax(axis=-1)  # argmax returns the first maximum
    H, W = x.shape[2:]
    rows = np.arange(Ho).reshape(Ho, 1) * stride[0] + best // kw
    cols = np.arange(Wo) * stride[1] + best % kw
    planes = np.arange(N * C).reshape(N, C, 1, 1) * (H * W)
    return (planes + rows * W + cols).reshape(-1)


def _max_pool_vjp(g, ans, x, *, kernel, stride):
    xd = data_of(x)
    where = _first_argmax(xd, kernel, stride)
    # Windows that overlap (stride < kernel) may share a maximum: scatter_add adds up their gradients.
    flat = scatter_add(reshape(g, shape=(-1,)), index=where, shape=(xd.size,))
    return (reshape(flat, shape=xd.shape),)


def _pool_args(who, x, kernel_size, stride):
    kernel = _pair(kernel_size, "kernel_size", who, 1)
    stride = kernel if stride is None else _pair(stride, "stride", who, 1)
    xs = _image_shape(who, x)
    _out_size(who, xs[-2:], kernel, stride, (0, 0))
    return xs, kernel, stride


def _max_pool2d_args(x, kernel_size, stride=None):
    """The largest value of each kernel_size window (stride defaults to kernel_size: windows side by side),
    per image and channel, as PyTorch's `max_pool2d`. The gradient goes to the maximum of each window (on a
    tie, to the first one, row by row, as PyTorch).

    >>> import numpy as np
    >>> from tinygrad_nn import Value, max_pool2d
    >>> x = Value(np.array([[[[1.0, 3.0], [3.0, 2.0]]]]))
    >>> y = max_pool2d(x, 2); y.backward(np.ones(y.shape))
    >>> y.item(), x.grad.tolist()                       # the tie at 3.0: the first one gets it
    (3.0, [[[[0.0, 1.0], [0.0, 0.0]]]])
    """
    xs, kernel, stride = _pool_args("max_pool2d", x, kernel_size, stride)
    if len(xs) == 3:  # one image: a batch of one, and back
        return (reshape(x, shape=(1,) + xs),), {"kernel": kernel, "stride": stride}, \
            lambda y: reshape(y, shape=shape_of(y)[1:])
    return (x,), {"kernel": kernel, "stride": stride}


max_pool2d = defop("max_pool2d", _max_pool_forward, _max_pool_vjp, "x (N, C, H, W)", prepare=_max_pool2d_args,
                   inputs=1, scalars=False)


@composite(inputs=1, scalars=False)
def avg_pool2d(x, kernel_size, stride=None):
    """The mean of each kernel_size window (stride defaults to kernel_size), as PyTorch's `avg_pool2d`.

    Composed: every channel of every image is convolved with a constant kh x kw filter of 1/(kh kw), so
    the gradient rules are conv2d's.

    >>> import numpy as np
    >>> avg_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    xs, kernel, stride = _pool_args("avg_pool2d", x, kernel_size, stride)
    dtype = getattr(data_of(x), "dtype", None)
    if dtype is None or dtype.kind != "f":  # an array of ints: the means are floats
        dtype = np.dtype(np.float64)
        x = x if isinstance(x, Value) else np.asarray(x, dtype=dtype)
    mean_filter = np.full((1, 1) + kernel, 1.0 / (kernel[0] * kernel[1]), dtype=dtype)
    *lead, H, W = xs
    y = conv2d.raw(reshape(x, shape=(-1, 1, H, W)), mean_filter, 0.0, stride=stride, padding=(0, 0))
    return reshape(y, shape=tuple(lead) + shape_of(y)[2:])


# The docstrings of the ops above run as doctests too (doctest finds functions by itself, not ops).
__test__ = doctests(__name__)
