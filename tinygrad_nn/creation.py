"""Making tensors the way PyTorch does: `tensor`, `zeros`, `ones`, `full`, `eye`, `arange`, `rand`, `randn` (with
a seed or a numpy Generator), and the `*_like` forms (`linspace` is numpy's, an op: differentiable in Value ends).
As in PyTorch they make constants (requires_grad=False) unless asked: `zeros(3, requires_grad=True)` or
`.requires_grad_()` makes a parameter.
(`Value(x)` itself keeps micrograd's habit: a Value requires a gradient unless told otherwise.)

Values hold floats: the default dtype is float64 (this package's default; PyTorch's is float32), and
`arange(5)` is 0.0, 1.0, ... (use numpy's arange for integer indices).

>>> from tinygrad_nn import ones, randn, zeros
>>> zeros(2, 3).shape, ones((2,)).requires_grad
((2, 3), False)
>>> a, b = randn(3, seed=0), randn(3, seed=0)
>>> bool((a.data == b.data).all())                   # the same seed, the same numbers
True
"""

from __future__ import annotations

import numpy as np

from .engine import Value, shape_of

__all__ = ["arange", "eye", "full", "full_like", "manual_seed", "ones", "ones_like", "rand", "rand_like",
           "randn", "randn_like", "tensor", "zeros", "zeros_like"]


def _size(who, size):
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise TypeError(f"{who}: sizes must be whole numbers >= 0, as {who}(2, 3) or {who}((2, 3)); got "
                            f"{shape!r}")
    return tuple(int(s) for s in shape)


def _float(who, dtype):
    dt = np.dtype(np.float64 if dtype is None else dtype)
    if dt.kind != "f":
        raise TypeError(f"{who}: Values hold floats, so dtype must be a float type (float64, float32), got {dt}")
    return dt


def _value(array, requires_grad):
    return Value(array, requires_grad=requires_grad)


def tensor(data, dtype=None, requires_grad: bool = False) -> Value:
    """A Value holding a copy of `data` (numbers, nested lists, a numpy array), a constant unless requires_grad
    (PyTorch's torch.tensor). Integers become float64.

    >>> tensor([[1, 2], [3, 4]])
    Value([[1., 2.],
           [3., 4.]], requires_grad=False)
    """
    if isinstance(data, Value):
        raise TypeError("tensor: got a Value; use .detach() for a constant copy, or the Value itself")
    array = np.array(data, dtype=None if dtype is None else _float("tensor", dtype))
    return _value(array if array.dtype.kind == "f" else array.astype(np.float64), requires_grad)


def zeros(*size, dtype=None, requires_grad: bool = False) -> Value:
    """zeros(2, 3) or zeros((2, 3)): a Value of zeros.

    >>> zeros(2, 3).shape, zeros((2, 3)).data.sum()
    ((2, 3), np.float64(0.0))
    """
    return _value(np.zeros(_size("zeros", size), _float("zeros", dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False) -> Value:
    """ones(2, 3) or ones((2, 3)): a Value of ones.

    >>> ones(3).data
    array([1., 1., 1.])
    """
    return _value(np.ones(_size("ones", size), _float("ones", dtype)), requires_grad)


def full(size, fill_value: float, dtype=None, requires_grad: bool = False) -> Value:
    """A Value of shape `size` filled with `fill_value`.

    >>> full((2,), 0.5).data
    array([0.5, 0.5])
    """
    return _value(np.full(_size("full", (size,)), fill_value, _float("full", dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Value:
    """The n x m identity matrix (m = n by default).

    >>> eye(2).data
    array([[1., 0.],
           [0., 1.]])
    """
    return _value(np.eye(n, m, dtype=_float("eye", dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Value:
    """start, start + step, ... below end (arange(5) is 0.0 ... 4.0), as PyTorch's arange, in floats.

    >>> arange(5).data, arange(1, 2, 0.25).data
    (array([0., 1., 2., 3., 4.]), array([1.  , 1.25, 1.5 , 1.75]))
    """
    start, end = (0, start) if end is None else (start, end)
    return _value(np.arange(start, end, step, dtype=_float("arange", dtype)), requires_grad)


# The generator that rand and randn draw from when given neither a seed nor a generator.
_default = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the generator that rand, randn and their _like forms use when given no seed or generator (PyTorch's
    torch.manual_seed); returns it.

    >>> _ = manual_seed(0); first = rand(3).data
    >>> _ = manual_seed(0); bool((rand(3).data == first).all())
    True
    """
    global _default
    _default = np.random.default_rng(seed)
    return _default


def _rng(who, seed, generator):
    if seed is not None and generator is not None:
        raise ValueError(f"{who}: give seed or generator, not both")
    if generator is not None:
        if not isinstance(generator, np.random.Generator):
            raise TypeError(f"{who}: generator must be a numpy Generator (np.random.default_rng(0)), got "
                            f"{type(generator).__name__}")
        return generator
    return _default if seed is None else np.random.default_rng(seed)


def rand(*size, seed=None, generator=None, dtype=None, requires_grad: bool = False) -> Value:
    """Uniform numbers in [0, 1) of the given shape, from `seed`, from `generator`, or from manual_seed's.

    >>> x = rand(2, 3, seed=0)
    >>> x.shape, bool((x.data >= 0).all() and (x.data < 1).all()), bool((rand(2, 3, seed=0).data == x.data).all())
    ((2, 3), True, True)
    """
    return _value(_rng("rand", seed, generator).random(_size("rand", size)).astype(_float("rand", dtype)),
                  requires_grad)


def randn(*size, seed=None, generator=None, dtype=None, requires_grad: bool = False) -> Value:
    """Standard normal numbers of the given shape, from `seed`, from `generator`, or from manual_seed's.

    >>> w = randn(3, 4, seed=0, requires_grad=True)
    >>> w.shape, w.requires_grad
    ((3, 4), True)
    """
    return _value(_rng("randn", seed, generator).standard_normal(_size("randn", size)).astype(_float("randn", dtype)),
                  requires_grad)


def _like(x, dtype):
    return shape_of(x), (dtype if dtype is not None else (x.dtype if isinstance(x, Value) else
                                                          np.asarray(x).dtype if np.asarray(x).dtype.kind == "f"
                                                          else None))


def zeros_like(x, dtype=None, requires_grad: bool = False) -> Value:
    """Zeros of x's shape (and dtype).

    >>> import numpy as np
    >>> zeros_like(np.ones((2, 2), dtype=np.float32)).data.dtype
    dtype('float32')
    """
    shape, dt = _like(x, dtype)
    return zeros(shape, dtype=dt, requires_grad=requires_grad)


def ones_like(x, dtype=None, requires_grad: bool = False) -> Value:
    """Ones of x's shape (and dtype).

    >>> ones_like(zeros(2)).data
    array([1., 1.])
    """
    shape, dt = _like(x, dtype)
    return ones(shape, dtype=dt, requires_grad=requires_grad)


def full_like(x, fill_value: float, dtype=None, requires_grad: bool = False) -> Value:
    """`fill_value` in x's shape (and dtype).

    >>> full_like([1.0, 2.0, 3.0], 7.0).data
    array([7., 7., 7.])
    """
    shape, dt = _like(x, dtype)
    return full(shape, fill_value, dtype=dt, requires_grad=requires_grad)


def rand_like(x, seed=None, generator=None, dtype=None, requires_grad: bool = False) -> Value:
    """Uniform numbers in [0, 1) of x's shape (and dtype), drawn as rand draws them.

    >>> rand_like(zeros(2, 2), seed=0).shape
    (2, 2)
    """
    shape, dt = _like(x, dtype)
    return rand(shape, seed=seed, generator=generator, dtype=dt, requires_grad=requires_grad)


def randn_like(x, seed=None, generator=None, dtype=None, requires_grad: bool = False) -> Value:
    """Standard normal numbers of x's shape (and dtype), drawn as randn draws them.

    >>> import numpy as np
    >>> randn_like(np.zeros(3, dtype=np.float32), seed=1).data.dtype
    dtype('float32')
    """
    shape, dt = _like(x, dtype)
    return randn(shape, seed=seed, generator=generator, dtype=dt, requires_grad=requires_grad)
