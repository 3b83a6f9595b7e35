"""Cost functions. The book's is the squared error, summed: over the training data it is C_T.

>>> import numpy as np
>>> from tinygrad_nn import Value
>>> squared_error(Value([0.8, 0.1]), np.array([1.0, 0.0]))   # 1/2 * ((1 - .8)**2 + (0 - .1)**2)
Value(array(0.025))
"""

from __future__ import annotations

import math

import numpy as np

from ..engine import Value, data_of, shape_of
from ..jit.recorder import recorded
from ..ops import log, log_softmax, mean, sum, where
from .module import Module


def _same_shape(who, a, t):
    # Broadcasting a target against the output would silently give a wrong cost: insist on equal shapes.
    if shape_of(a) != shape_of(t):
        raise ValueError(f"{who}: output has shape {shape_of(a)} but target has shape {shape_of(t)}; they must be "
                         f"equal (e.g. one-hot targets of shape (N, units) for outputs of shape (N, units))")


def _target(t, like):
    if isinstance(t, Value):
        return t
    return np.asarray(t, dtype=like.dtype if isinstance(like, Value) else np.float64)


def squared_error(a, t):
    """The book's cost: 1/2 * sum (t - a)^2 over every output unit and every sample (C, or C_T for a batch).

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> a = Value(np.array([[0.8, 0.3], [0.4, 0.9]]))      # two samples' outputs
    >>> C_T = squared_error(a, np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> round(C_T.item(), 6)                              # 1/2 (0.04 + 0.09 + 0.16 + 0.01)
    0.15
    >>> C_T.backward(); a.grad                            # a - t
    array([[-0.2,  0.3],
           [ 0.4, -0.1]])
    """
    t = _target(t, a)
    _same_shape("squared_error", a, t)
    # (a - t)^2 is (t - a)^2 to the last bit, and with the Value on the left no numpy dispatch is involved
    # (an array on the left goes through numpy's __array_ufunc__ protocol first: benchmark W2).
    return sum((a - t) ** 2) * 0.5


_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(who, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{who}: reduction must be 'mean', 'sum' or 'none' (PyTorch's choices), got {reduction!r}")


def _reduced(who, x, reduction):
    _check_reduction(who, reduction)
    if reduction == "mean":
        return mean(x)
    return sum(x) if reduction == "sum" else x


def mse(a, t, reduction: str = "mean"):
    """Mean squared error over all elements (PyTorch's mse_loss); reduction="sum" adds the squares up instead,
    "none" returns them one by one.

    >>> from tinygrad_nn import Value
    >>> mse(Value([1.0, 3.0]), [0.0, 0.0]), mse(Value([1.0, 3.0]), [0.0, 0.0], reduction="sum")
    (Value(array(5.)), Value(array(10.)))
    """
    t = _target(t, a)
    _same_shape("mse", a, t)
    return _reduced("mse", (a - t) ** 2, reduction)


class MSELoss(Module):
    """PyTorch's nn.MSELoss(reduction="mean"): loss_fn(output, target).

    >>> from tinygrad_nn import Value
    >>> loss_fn = MSELoss()
    >>> loss = loss_fn(Value([1.0, 3.0]), [0.0, 0.0])       # (1 + 9) / 2
    >>> loss, MSELoss(reduction="sum")(Value([1.0, 3.0]), [0.0, 0.0])
    (Value(array(5.)), Value(array(10.)))
    """

    def __init__(self, reduction: str = "mean"):
        _check_reduction("MSELoss", reduction)  # now rather than at the first call
        self.reduction = reduction

    def forward(self, a, t):
        return mse(a, t, self.reduction)

    def __repr__(self):
        return f"MSELoss(reduction={self.reduction!r})"


class CrossEntropyLoss(Module):
    """PyTorch's nn.CrossEntropyLoss(weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    loss_fn(logits, labels), labels as class indices or probability rows (see cross_entropy).

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> logits = Value([[0.0, 0.0], [3.0, 0.0]])
    >>> loss = CrossEntropyLoss()(logits, np.array([1, 0]))     # (log 2 + log(1 + e^-3)) / 2
    >>> round(loss.item(), 6)
    0.370867
    >>> loss.backward(); logits.grad.round(4)                   # (softmax - one-hot) / N
    array([[ 0.25  , -0.25  ],
           [-0.0237,  0.0237]])
    """

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0):
        _check_reduction("CrossEntropyLoss", reduction)  # now rather than at the first call
        self.weight = None if weight is None else np.asarray(data_of(weight))  # a constant, not a parameter
        self.ignore_index, self.reduction, self.label_smoothing = ignore_index, reduction, label_smoothing

    def forward(self, logits, labels):
        return cross_entropy(logits, labels, self.weight, self.ignore_index, self.reduction, self.label_smoothing)

    def __repr__(self):
        return f"CrossEntropyLoss(reduction={self.reduction!r})"


def _log_floor(dtype) -> float:
    # PyTorch clamps each log at -100, so p = 0 or 1 costs 100, not inf. We clip p at e^-100 before the log
    # instead (log(0) would raise under np.errstate), but never below the dtype's smallest normal number:
    # the log's gradient is 1/p, and 1 / e^-100 overflows float32 (to inf, and inf * 0 = NaN at the clip).
    # A Python float, so that a float32 model stays float32 (np.exp(-100.0) would promote it to float64).
    return max(math.exp(-100.0), float(np.finfo(dtype).tiny))


def binary_cross_entropy(p, t):
    """-mean(t log p + (1 - t) log(1 - p)) for probabilities p (e.g. sigmoid outputs) in [0, 1].

    The logs are clipped at -100, as PyTorch does, so p = 0 or 1 gives a large but finite cost (float32:
    at -87.3, the log of its smallest normal number, where the gradient 1/p is still finite).

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> round(binary_cross_entropy(Value([0.5, 0.5]), np.array([1.0, 0.0])).item(), 6)   # log 2
    0.693147
    """
    t = _target(t, p)
    _same_shape("binary_cross_entropy", p, t)
    d = np.asarray(p.data if isinstance(p, Value) else p)
    if not np.all((d >= 0.0) & (d <= 1.0)):  # NaN fails this test too, as in PyTorch
        bad = d[~((d >= 0.0) & (d <= 1.0))]
        raise ValueError(f"binary_cross_entropy: probabilities must lie in [0, 1], got {bad.size} value(s) outside "
                         f"it (e.g. {bad.flat[0]!r}); pass probabilities such as sigmoid(z), or use cross_entropy "
                         f"on logits")
    lo = _log_floor(d.dtype if d.dtype.kind == "f" else np.float64)
    return -mean(t * _floored_log(p, lo) + (1 - t) * _floored_log(1 - p, lo))


def _floored_log(p, lo):
    """log(max(p, lo)), with finite gradients of every order. Where p < lo the value is log(lo) and the slope 0;
    the log is taken at 1 there instead of at p, so that no second derivative -1/p^2 overflows to inf (and
    inf * 0 makes NaN) where the floor cuts in, float32 included."""
    keep = np.greater_equal(data_of(p), lo)
    return where(keep, log(where(keep, p, 1.0)), math.log(lo))


# Computed from the labels, so marked for jit: a jitted step computes them again from each call's labels.
@recorded
def _index_coefficients(labels, classes, dtype, per_class, ignore_index, label_smoothing, axis):
    """One constant array of coefficients per (sample, class), negated: the label's weight, smoothed towards
    every class's, and zero for an ignored label; multiplying picks each log-probability without a scatter.
    per_class is None when every class weighs 1."""
    counted = labels != ignore_index
    every = counted.all()
    used = labels if every else labels[counted]
    if used.size and (used.min() < 0 or used.max() >= classes):
        raise ValueError(f"cross_entropy: labels must lie in [0, {classes}) (or be ignore_index="
                         f"{ignore_index}), got values from {used.min()} to {used.max()}")
    onehot = np.eye(classes, dtype=dtype)[labels if every else np.where(counted, labels, 0)]
    if axis != onehot.ndim - 1:
        onehot = np.moveaxis(onehot, -1, axis)
    # A factor that is 1 everywhere is left out: multiplying by 1.0 changes no bit. Plain labels (the common
    # case) cost one table lookup (benchmark W3).
    coef = onehot if label_smoothing == 0 else onehot * (1.0 - label_smoothing) + label_smoothing / classes
    if per_class is not None:
        coef = coef * per_class
    if not every:
        coef = coef * np.expand_dims(counted, axis).astype(dtype)
    return -coef  # negated: the loss is minus the picked ones


@recorded
def _row_coefficients(labels, dtype, per_class, label_smoothing, classes):
    """The same for probability rows: each row smoothed and weighted, negated."""
    coef = labels.astype(dtype) * (1.0 - label_smoothing) + label_smoothing / classes
    return -(coef if per_class is None else coef * per_class)


@recorded
def _index_total(labels, w, ignore_index, dtype, classes):
    """The weight of the labels counted (the mean's divisor), in the logits' float width; w is None when every
    class weighs 1."""
    counted = labels != ignore_index
    n = np.count_nonzero(counted)
    if w is None and n <= 2 ** 24 and dtype.itemsize >= 4:  # the count: what summing n ones gives, exactly
        return np.asarray(n, dtype=dtype)
    if w is None:
        w = np.ones(classes, dtype)
    return np.asarray(w[np.where(counted, labels, 0)][counted].sum(), dtype=w.dtype)


def cross_entropy(logits, labels, weight=None, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0):
    """Softmax cross-entropy, PyTorch's F.cross_entropy with its arguments and defaults, stable via log_softmax.

    `logits` are (N, C), (C,) or (N, C, d1, ...) (the classes on axis 1, as in PyTorch); `labels` are class
    indices of the shape without the class axis, or probability (one-hot) rows of the logits' own shape.
    `weight` (C,) weighs each class; labels equal to `ignore_index` count for nothing (index labels only);
    `label_smoothing` mixes each target with the uniform distribution over the C classes. reduction="mean"
    divides the sum by the weight of the labels counted (their number, unweighted; the samples, for
    probability rows), "sum" adds up, "none" gives one loss per sample (the labels' shape).

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> round(cross_entropy(Value([[0.0, 0.0]]), np.array([1])).item(), 6)   # log 2
    0.693147
    >>> logits = Value(np.zeros((2, 3, 4)))                       # (N, C, T): 3 classes at 4 positions
    >>> cross_entropy(logits, np.array([[0, 1, 2, -100]] * 2), reduction="none").data.round(4)
    array([[1.0986, 1.0986, 1.0986, 0.    ],
           [1.0986, 1.0986, 1.0986, 0.    ]])
    """
    shape = shape_of(logits)
    if not shape:
        raise ValueError("cross_entropy: logits must have shape (C,), (N, C) or (N, C, d1, ...), got a scalar")
    _check_reduction("cross_entropy", reduction)  # before any work
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) \
            or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    axis = 1 if len(shape) >= 2 else 0
    classes = shape[axis]
    dtype = logits.dtype if isinstance(logits, Value) else np.asarray(logits).dtype
    dtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
    w = per_class = None  # every class weighs 1
    if weight is not None:
        w = np.asarray(data_of(weight), dtype)
        if w.shape != (classes,):
            raise ValueError(f"cross_entropy: weight must have one entry per class, shape ({classes},), got "
                             f"{w.shape}")
        per_class = w.reshape((classes,) + (1,) * (len(shape) - axis - 1))  # broadcasts along the class axis
    labels = np.asarray(data_of(labels))
    sample_shape = shape[:axis] + shape[axis + 1:]
    if labels.dtype.kind in "iu" and labels.shape == sample_shape:
        minus_coef = _index_coefficients(labels, classes, dtype, per_class, ignore_index, label_smoothing, axis)
        total = _index_total(labels, w, ignore_index, dtype, classes)
    elif labels.shape == shape:
        minus_coef = _row_coefficients(labels, dtype, per_class, label_smoothing, classes)
        total = float(np.prod(sample_shape))
    else:
        raise ValueError(f"cross_entropy: labels must be integers of shape {sample_shape} (class indices) or "
                         f"probability rows of shape {shape}, got {labels.dtype} of shape {labels.shape}")
    losses = sum(log_softmax(logits, axis=axis) * minus_coef, axis=axis)  # (an ignored label's loss is +0.0)
    if reduction == "none":
        return losses
    return sum(losses) if reduction == "sum" else sum(losses) / total
