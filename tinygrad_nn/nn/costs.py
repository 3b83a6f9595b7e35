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


def _reduced(who, x, reduction):
    if reduction == "mean":
        return mean(x)
    if reduction == "sum":
        return sum(x)
    if reduction == "none":
        return x
    raise ValueError(f"{who}: reduction must be 'mean', 'sum' or 'none' (PyTorch's choices), got {reduction!r}")


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
    >>> MSELoss()(Value([1.0, 3.0]), [0.0, 0.0]).item(), MSELoss(reduction="sum")(Value([1.0, 3.0]), [0.0, 0.0]).item()
    (5.0, 10.0)
    """

    def __init__(self, reduction: str = "mean"):
        _reduced("MSELoss", 0.0, reduction)  # checks the name now rather than at the first call
        self.reduction = reduction

    def forward(self, a, t):
        return mse(a, t, self.reduction)

    def __repr__(self):
        return f"MSELoss(reduction={self.reduction!r})"


class CrossEntropyLoss(Module):
    """PyTorch's nn.CrossEntropyLoss() with its default mean reduction: loss_fn(logits, labels), labels as
    class indices or probability rows (see cross_entropy).

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> loss = CrossEntropyLoss()(Value(np.zeros((2, 4))), np.array([1, 3]))   # uniform over 4 classes
    >>> round(loss.item(), 6) == round(float(np.log(4)), 6)
    True
    """

    def forward(self, logits, labels):
        return cross_entropy(logits, labels)


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


def cross_entropy(logits, labels):
    """Softmax cross-entropy, averaged over the batch (PyTorch's CrossEntropyLoss), stable via log_softmax.

    `labels` are class indices of shape (N,) or one-hot / probability rows of shape (N, C).

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> round(cross_entropy(Value([[0.0, 0.0]]), np.array([1])).item(), 6)   # log 2
    0.693147
    """
    shape = shape_of(logits)
    if len(shape) not in (1, 2):
        raise ValueError(f"cross_entropy: logits must have shape (C,) or (N, C), got {shape}")
    labels = labels.data if isinstance(labels, Value) else np.asarray(labels)
    classes = shape[-1]
    if labels.dtype.kind in "iu" and labels.shape == shape[:-1]:
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            raise ValueError(f"cross_entropy: labels must lie in [0, {classes}), got values from {labels.min()} "
                             f"to {labels.max()}")
        onehot = np.eye(classes, dtype=logits.dtype)[labels]
    elif labels.shape == shape:
        onehot = labels.astype(logits.dtype)
    else:
        raise ValueError(f"cross_entropy: labels must be integers of shape {shape[:-1]} or one-hot rows of shape "
                         f"{shape}, got {labels.dtype} of shape {labels.shape}")
    n = shape[0] if len(shape) == 2 else 1
    # Multiplying by the one-hot rows picks each sample's log-probability without an index scatter.
    return -sum(log_softmax(logits, axis=-1) * onehot) / float(n)
