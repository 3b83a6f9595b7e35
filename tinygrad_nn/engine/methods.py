"""The methods of `Value` that run ops, grouped as the ops are (tinygrad declares its tensor's methods in mixins
the same way): `x.exp()`, `x.sum(axis=0)`, `x.reshape(2, 3)`, `x - y`, `np.exp(x)`.

Each method is the function of `tinygrad_nn.ops` of the same name (numpy's names; PyTorch's spellings asin,
atan2... as well), called with the Value as its first input. Those functions import the engine, so they are reached
through `links.ops` (links.py says why). Left out on purpose, as either reading would be wrong for somebody:
`repeat` (numpy's ndarray.repeat is our repeat, PyTorch's Tensor.repeat is our tile), `split` (PyTorch's takes piece
sizes, numpy's a count), `svd` (PyTorch's Tensor.svd returns V) and `sort` (PyTorch's returns (values, indices),
numpy's sorts in place): call the functions for those.

>>> from tinygrad_nn import Value
>>> x = Value([[1.0, 2.0], [3.0, 4.0]])
>>> y = x.exp().sum(axis=0).reshape(1, 2)
>>> y.shape
(1, 2)
"""

from __future__ import annotations

from .links import ops


def _shape_args(args):
    # x.reshape(3, 4) and x.reshape((3, 4)) both work, as in numpy and PyTorch.
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)


class OperatorMethods:
    """Python's operators besides + and * (which the node itself defines, for its scalar fast path)."""

    __slots__ = ()  # Value keeps its own slots: no __dict__ per node

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        # PyTorch computes number / tensor as reciprocal(tensor) * number; doing the same keeps values and gradients
        # bit-identical to it.
        return ops.reciprocal(self) * other

    def __pow__(self, other):
        return ops.pow(self, other)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __abs__(self):
        return ops.abs(self)

    def __mod__(self, other):
        # a % b with numpy's and PyTorch's gradients (d/da = 1, d/db = -floor(a / b)).
        return ops.remainder(self, other)

    def __rmod__(self, other):
        return ops.remainder(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __getitem__(self, index):
        return ops.getitem(self, index)


class ElementwiseMethods:
    """The elementwise functions (tinygrad_nn/ops/elementwise.py)."""

    __slots__ = ()  # Value keeps its own slots: no __dict__ per node

    def pow(self, other):
        """self ** other, elementwise (the exponent may be a number, an array or a Value)."""
        return ops.pow(self, other)

    def exp(self):
        """e ** x, elementwise."""
        return ops.exp(self)

    def log(self):
        """The natural logarithm, elementwise."""
        return ops.log(self)

    def sqrt(self):
        """The square root, elementwise."""
        return ops.sqrt(self)

    def abs(self):
        """|x|, elementwise."""
        return ops.abs(self)

    def tanh(self):
        """The hyperbolic tangent, elementwise."""
        return ops.tanh(self)

    def sigmoid(self):
        """The book's activation a(z) = 1 / (1 + exp(-z)), stable for any z."""
        return ops.sigmoid(self)

    def relu(self):
        """max(x, 0), elementwise."""
        return ops.relu(self)

    def step(self):
        """The book's unit step: 1 where z >= 0, else 0. Its gradient is 0 everywhere."""
        return ops.step(self)

    def maximum(self, other):
        """The larger of x and other, elementwise; on a tie the gradient is shared."""
        return ops.maximum(self, other)

    def minimum(self, other):
        """The smaller of x and other, elementwise; on a tie the gradient is shared."""
        return ops.minimum(self, other)

    def clip(self, lo=None, hi=None):
        """x limited to [lo, hi] (either bound may be None); the gradient passes where lo <= x <= hi."""
        return ops.clip(self, lo=lo, hi=hi)

    def sin(self):
        """The sine, elementwise."""
        return ops.sin(self)

    def cos(self):
        """The cosine, elementwise."""
        return ops.cos(self)

    def tan(self):
        """The tangent, elementwise."""
        return ops.tan(self)

    def arcsin(self):
        """The inverse sine, in [-pi/2, pi/2]; NaN outside [-1, 1]. The slope is infinite at +-1."""
        return ops.arcsin(self)

    def arccos(self):
        """The inverse cosine, in [0, pi]; NaN outside [-1, 1]. The slope is infinite at +-1."""
        return ops.arccos(self)

    def arctan(self):
        """The inverse tangent, elementwise."""
        return ops.arctan(self)

    def arctan2(self, other):
        """The angle of the point (b, a) (numpy's arctan2(y, x)), in [-pi, pi]."""
        return ops.arctan2(self, other)

    def asin(self):
        """Another name of arcsin, as PyTorch spells it."""
        return self.arcsin()

    def acos(self):
        """Another name of arccos, as PyTorch spells it."""
        return self.arccos()

    def atan(self):
        """Another name of arctan, as PyTorch spells it."""
        return self.arctan()

    def atan2(self, other):
        """Another name of arctan2, as PyTorch spells it."""
        return self.arctan2(other)

    def sinh(self):
        """The hyperbolic sine, elementwise."""
        return ops.sinh(self)

    def cosh(self):
        """The hyperbolic cosine, elementwise."""
        return ops.cosh(self)

    def arcsinh(self):
        """The inverse hyperbolic sine, elementwise."""
        return ops.arcsinh(self)

    def arccosh(self):
        """The inverse hyperbolic cosine; NaN below 1. The slope is infinite at 1."""
        return ops.arccosh(self)

    def arctanh(self):
        """The inverse hyperbolic tangent; +-inf at +-1 and NaN beyond."""
        return ops.arctanh(self)

    def asinh(self):
        """Another name of arcsinh, as PyTorch spells it."""
        return self.arcsinh()

    def acosh(self):
        """Another name of arccosh, as PyTorch spells it."""
        return self.arccosh()

    def atanh(self):
        """Another name of arctanh, as PyTorch spells it."""
        return self.arctanh()

    def log1p(self):
        """log(1 + x), accurate for tiny x; -inf at -1 and NaN below."""
        return ops.log1p(self)

    def expm1(self):
        """exp(x) - 1, accurate for tiny x."""
        return ops.expm1(self)

    def log2(self):
        """The base-2 logarithm, elementwise."""
        return ops.log2(self)

    def log10(self):
        """The base-10 logarithm, elementwise."""
        return ops.log10(self)

    def exp2(self):
        """2 ** x, elementwise."""
        return ops.exp2(self)

    def square(self):
        """x * x, as x ** 2 (the same node, so its gradient rule is pow's)."""
        return ops.square(self)

    def hypot(self, other):
        """sqrt(a**2 + b**2) without overflow or underflow. Its gradient at the origin is NaN (PyTorch)."""
        return ops.hypot(self, other)

    def logaddexp(self, other):
        """log(exp(a) + exp(b)), computed without overflow."""
        return ops.logaddexp(self, other)

    def logaddexp2(self, other):
        """log2(2**a + 2**b), computed without overflow."""
        return ops.logaddexp2(self, other)

    def sinc(self):
        """The normalised sinc, sin(pi x) / (pi x), with sinc(0) = 1 (numpy's sinc)."""
        return ops.sinc(self)

    def sign(self):
        """-1, 0 or 1 by the sign of x (nan stays nan). The gradient is 0 everywhere (PyTorch)."""
        return ops.sign(self)

    def floor(self):
        """The largest integer <= x, as a float. The gradient is 0 everywhere (PyTorch)."""
        return ops.floor(self)

    def ceil(self):
        """The smallest integer >= x, as a float. The gradient is 0 everywhere (PyTorch)."""
        return ops.ceil(self)

    def round(self, decimals=0):
        """x rounded to `decimals` decimal places, halves to even (numpy's rule). The gradient is 0 everywhere."""
        return ops.round(self, decimals=decimals)

    def fmax(self, other):
        """The larger of a and b, ignoring nan (numpy's fmax): a nan loses to a number."""
        return ops.fmax(self, other)

    def fmin(self, other):
        """The smaller of a and b, ignoring nan (numpy's fmin). On a tie the gradient goes to a."""
        return ops.fmin(self, other)

    def remainder(self, other):
        """a % b with the sign of b (numpy's remainder, Python's %, PyTorch's remainder)."""
        return ops.remainder(self, other)

    def deg2rad(self):
        """Degrees to radians: x * (pi / 180) (a `mul` node)."""
        return ops.deg2rad(self)

    def rad2deg(self):
        """Radians to degrees: x * (180 / pi) (a `mul` node)."""
        return ops.rad2deg(self)

    def nan_to_num(self, copy=True, nan=0.0, posinf=None, neginf=None):
        """x with nan, inf and -inf replaced by finite numbers, as numpy's nan_to_num."""
        return ops.nan_to_num(self, copy=copy, nan=nan, posinf=posinf, neginf=neginf)


class ReductionMethods:
    """Reductions and scans (tinygrad_nn/ops/reductions.py)."""

    __slots__ = ()  # Value keeps its own slots: no __dict__ per node

    def sum(self, axis=None, keepdims=False):
        """Sum over `axis` (all axes by default)."""
        return ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        """Mean over `axis` (all axes by default): the sum divided by the count."""
        return ops.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        """Maximum over `axis` (all axes by default); ties share the gradient evenly."""
        return ops.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        """Minimum over `axis`: -max(-x); ties share the gradient evenly."""
        return ops.min(self, axis=axis, keepdims=keepdims)

    def logsumexp(self, axis=None, keepdims=False):
        """log(sum(exp(x), axis)), computed without overflow."""
        return ops.logsumexp(self, axis=axis, keepdims=keepdims)

    def softmax(self, axis=-1):
        """exp(log_softmax(x)): probabilities along `axis`, stable for any logits."""
        return ops.softmax(self, axis=axis)

    def log_softmax(self, axis=-1):
        """log(softmax(x)) = x - logsumexp(x), computed stably (one node)."""
        return ops.log_softmax(self, axis=axis)

    def prod(self, axis=None, keepdims=False):
        """Product over `axis` (all axes by default)."""
        return ops.prod(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, ddof=0, keepdims=False, *, correction=None):
        """Variance over `axis`."""
        return ops.var(self, axis=axis, ddof=ddof, keepdims=keepdims, correction=correction)

    def std(self, axis=None, ddof=0, keepdims=False, *, correction=None):
        """Standard deviation over `axis`."""
        return ops.std(self, axis=axis, ddof=ddof, keepdims=keepdims, correction=correction)

    def cumsum(self, axis=None):
        """Running sums along `axis` (of the flattened input when axis is None, as numpy)."""
        return ops.cumsum(self, axis=axis)

    def cumprod(self, axis=None):
        """Running products along `axis` (of the flattened input when axis is None, as numpy)."""
        return ops.cumprod(self, axis=axis)

    def norm(self, ord=None, axis=None, keepdims=False):
        """The norm of x, as numpy.linalg.norm."""
        return ops.norm(self, ord=ord, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        """Index of the largest element (of the flattened input, or along `axis`)."""
        return ops.argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        """Index of the smallest element (numpy integers, no gradient); ties give the first index."""
        return ops.argmin(self, axis=axis, keepdims=keepdims)

    def argsort(self, axis=-1, kind=None, stable=None):
        """The indices that sort x along `axis` (numpy integers, no gradient)."""
        return ops.argsort(self, axis=axis, kind=kind, stable=stable)

    def diff(self, n=1, axis=-1, prepend=None, append=None):
        """The n-th difference along `axis`."""
        return ops.diff(self, n=n, axis=axis, prepend=prepend, append=append)


class ShapeMethods:
    """Shapes, axes and indexing (tinygrad_nn/ops/shape.py)."""

    __slots__ = ()  # Value keeps its own slots: no __dict__ per node

    def reshape(self, *shape):
        """The same elements in a new shape: x.reshape(3, 4) or x.reshape((3, 4)), as in numpy and PyTorch."""
        return ops.reshape(self, shape=_shape_args(shape))

    def transpose(self, *axes):
        """The axes permuted (reversed by default): x.transpose(), x.transpose(1, 0) or x.transpose((1, 0))."""
        return ops.transpose(self, axes=_shape_args(axes) or None)

    @property
    def T(self):
        """The axes reversed, as numpy's and PyTorch's `.T`."""
        return ops.transpose(self)

    def broadcast_to(self, *shape):
        """The values repeated along new or size-1 axes to `shape`: x.broadcast_to(2, 3) or x.broadcast_to((2, 3))."""
        return ops.broadcast_to(self, shape=_shape_args(shape))

    def flip(self, *axis, **kw):
        """The order reversed along `axis` (all axes by default): x.flip(), x.flip(0), x.flip(0, 1), x.flip((0, 1))
        or x.flip(axis=0), as numpy's and PyTorch's spellings."""
        return ops.flip(self, kw.pop("axis", _shape_args(axis) or None), **kw)

    def view(self, *shape):
        """PyTorch's view: the same numbers in another shape (reshape; nothing here is ever non-contiguous)."""
        return ops.reshape(self, shape=_shape_args(shape))

    def unsqueeze(self, dim):
        """PyTorch's unsqueeze: a new axis of size 1 at `dim` (numpy's expand_dims)."""
        return ops.expand_dims(self, dim)

    @property
    def mT(self):
        """The last two axes swapped (PyTorch's .mT: a batch of matrices, each transposed)."""
        return ops.swapaxes(self, -1, -2)

    def tile(self, *reps):
        """x repeated `reps` times along each axis: x.tile(2, 1) or x.tile((2, 1)), as numpy's tile."""
        return ops.tile(self, _shape_args(reps))

    def flatten(self, start_dim=0, end_dim=-1):
        """Axes start_dim to end_dim (inclusive) merged into one, row-major, as PyTorch's `flatten`."""
        return ops.flatten(self, start_dim=start_dim, end_dim=end_dim)

    def squeeze(self, axis=None):
        """Drop axes of size 1 (all of them, or those in `axis`)."""
        return ops.squeeze(self, axis=axis)

    def expand_dims(self, axis):
        """A new axis of size 1 at `axis` (a reshape)."""
        return ops.expand_dims(self, axis)

    def roll(self, shift, axis=None):
        """Shift the elements along `axis` cyclically, as numpy's roll (axis None: over the flattened input)."""
        return ops.roll(self, shift, axis=axis)

    def tril(self, k=0):
        """The lower triangle of the last two axes (on and below diagonal k); the rest zero. As numpy's tril."""
        return ops.tril(self, k=k)

    def triu(self, k=0):
        """The upper triangle of the last two axes (on and above diagonal k); the rest zero. As numpy's triu."""
        return ops.triu(self, k=k)

    def diag(self, k=0):
        """numpy's diag: a 1-D input becomes a matrix with it on diagonal k; a 2-D input gives its diagonal k."""
        return ops.diag(self, k=k)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        """The diagonal `offset` of the matrices in axes (axis1, axis2), as a new last axis (numpy's diagonal)."""
        return ops.diagonal(self, offset=offset, axis1=axis1, axis2=axis2)

    def trace(self, offset=0, axis1=0, axis2=1):
        """The sum of the diagonal `offset` of the matrices in axes (axis1, axis2), as numpy's trace."""
        return ops.trace(self, offset=offset, axis1=axis1, axis2=axis2)

    def ravel(self):
        """All elements in one axis, row-major (numpy's ravel: a 0-d input gives one element)."""
        return ops.ravel(self)

    def swapaxes(self, axis1, axis2):
        """Exchange two axes (a transpose)."""
        return ops.swapaxes(self, axis1, axis2)

    def moveaxis(self, source, destination):
        """Move axes to new positions, the others keeping their order (numpy's moveaxis; a transpose)."""
        return ops.moveaxis(self, source, destination)

    def astype(self, dtype):
        """The values in another float dtype (a copy), numpy's astype; the gradient returns in x's dtype."""
        return ops.astype(self, dtype)


class LinalgMethods:
    """Products and matrix functions (tinygrad_nn/ops/linalg.py)."""

    __slots__ = ()  # Value keeps its own slots: no __dict__ per node

    def matmul(self, other):
        """The matrix product self @ other (numpy's matmul: stacks of matrices broadcast)."""
        return ops.matmul(self, other)

    def dot(self, other):
        """numpy's dot."""
        return ops.dot(self, other)

    def inner(self, other):
        """numpy's inner: the sum of products over the last axes of a and b (a product when one is a scalar)."""
        return ops.inner(self, other)

    def outer(self, other):
        """numpy's outer: every element of a (flattened) times every element of b (flattened)."""
        return ops.outer(self, other)

    def kron(self, other):
        """numpy's kron, the Kronecker product: blocks a[i, j] * b (the shorter shape gets leading ones)."""
        return ops.kron(self, other)

    def det(self):
        """numpy's linalg.det: the determinant of a square matrix, or of each matrix of a stack."""
        return ops.det(self)

    def slogdet(self):
        """numpy's linalg.slogdet: (sign, log|det a|)."""
        return ops.slogdet(self)

    def inverse(self):
        """numpy's linalg.inv: the inverse of a square matrix, or of each matrix of a stack."""
        return ops.inv(self)

    def cholesky(self):
        """numpy's linalg.cholesky."""
        return ops.cholesky(self)


class NumpyProtocol:
    """numpy's protocols (tinygrad_nn/ops/numpy_api.py): np.exp(v), np.sum(v, axis=0), array + v ... run the ops;
    np.asarray(v) is the payload."""

    __slots__ = ()  # Value keeps its own slots: no __dict__ per node

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return ops.numpy_api.array_ufunc(self, ufunc, method, *inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return ops.numpy_api.array_function(self, func, types, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        return ops.numpy_api.array(self, dtype, copy)
