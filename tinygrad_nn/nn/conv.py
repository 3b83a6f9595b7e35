"""Layers for images (N, C, H, W): convolution, pooling, and flattening into a fully connected layer.

The book's chapter 5 network, in PyTorch's vocabulary: 3 filters of 3x3 slide over a 6x6 image, a sigmoid
on each of the 3 feature maps (4x4), 2x2 max pooling (3 maps of 2x2), and 3 sigmoid output units fully
connected to those 12 values.

>>> import numpy as np
>>> from tinygrad_nn.nn import Conv2d, Flatten, Layer, MaxPool2d, Sequential, Sigmoid
>>> net = Sequential(Conv2d(1, 3, 3, seed=0), Sigmoid(), MaxPool2d(2), Flatten(),
...                  Layer(12, 3, activation="sigmoid", seed=1))
>>> net(np.zeros((96, 1, 6, 6))).shape
(96, 3)
"""

from __future__ import annotations

import numpy as np

from ..engine import Value
from ..ops import avg_pool2d, conv2d, flatten, max_pool2d
from ..ops.conv import _pair
from .layers import _check_dtype, _rng
from .module import Module


class Conv2d(Module):
    """A convolution layer: `out = conv2d(x, weight, bias, stride, padding)`, as PyTorch's `nn.Conv2d`.

    `weight` has shape (out_channels, in_channels, kh, kw): filter o is weight[o], one kh x kw picture per
    input channel; `bias` has shape (out_channels,), one per filter (the book's b = -θ). Both start uniform
    in ±1/sqrt(fan_in), fan_in = in_channels * kh * kw (PyTorch's default).

    >>> conv = Conv2d(1, 3, 3, seed=0)
    >>> conv.weight.shape, conv.bias.shape
    ((3, 1, 3, 3), (3,))
    >>> conv(np.zeros((2, 1, 6, 6))).shape
    (2, 3, 4, 4)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, *, seed=None,
                 dtype=np.float64):
        for name, n in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
                raise ValueError(f"Conv2d: {name} must be a positive int, got {n!r}")
        dtype = _check_dtype(dtype, type(self).__name__)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = _pair(stride, "stride", "Conv2d", 1)
        self.padding = _pair(padding, "padding", "Conv2d", 0)
        rng = _rng(seed)
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / np.sqrt(fan_in)
        shape = (self.out_channels, self.in_channels) + self.kernel_size
        self.weight = Value(rng.uniform(-bound, bound, size=shape).astype(dtype))
        self.bias = Value(rng.uniform(-bound, bound, size=(self.out_channels,)).astype(dtype))

    def forward(self, x):
        if not isinstance(x, Value):
            x = np.asarray(x, dtype=self.weight.dtype)  # images as plain arrays: a constant input
        return conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)

    def __repr__(self):
        extra = "".join(f", {k}={v}" for k, v, default in (("stride", self.stride, (1, 1)),
                                                           ("padding", self.padding, (0, 0))) if v != default)
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}{extra})")


class _Pool2d(Module):
    _fn = None

    def __init__(self, kernel_size, stride=None):
        name = type(self).__name__
        self.kernel_size = _pair(kernel_size, "kernel_size", name, 1)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", name, 1)

    def forward(self, x):
        if not isinstance(x, Value):
            x = np.asarray(x)
            x = x if x.dtype.kind == "f" else x.astype(np.float64)  # float32 stays float32
        return type(self)._fn(x, self.kernel_size, self.stride)

    def __repr__(self):
        stride = "" if self.stride == self.kernel_size else f", stride={self.stride}"
        return f"{type(self).__name__}(kernel_size={self.kernel_size}{stride})"


class MaxPool2d(_Pool2d):
    """The maximum of each window (stride defaults to kernel_size: windows side by side), as PyTorch's
    `nn.MaxPool2d`. Its gradient goes to each window's maximum (the first one on a tie).

    >>> MaxPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4))[0, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """

    _fn = staticmethod(max_pool2d)


class AvgPool2d(_Pool2d):
    """The mean of each window (stride defaults to kernel_size), as PyTorch's `nn.AvgPool2d`.

    >>> AvgPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4))[0, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """

    _fn = staticmethod(avg_pool2d)


class Flatten(Module):
    """Axes start_dim..end_dim merged into one, as PyTorch's `nn.Flatten`: by default every axis but the
    batch's, so (N, C, H, W) feature maps become (N, C*H*W) rows for a fully connected `Layer`, in channel,
    row, column order.

    >>> Flatten()(np.zeros((96, 3, 2, 2))).shape
    (96, 12)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return flatten(x, self.start_dim, self.end_dim)

    def __repr__(self):
        return f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim})"
