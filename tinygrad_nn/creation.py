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


def _size(who, size, keyword=None):
    if keyword is not None:  # PyTorch's size= keyword: zeros(size=(2, 3))
        if size:
            raise TypeError(f"{who}: give the sizes as arguments or as size=, not both")
        size = (keyword,)
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise TypeError(f"{who}: sizes must be whole numbers >= 0, as {who}(2, 3) or {who}((2, 3)); got "
                            f"{shape!r}")
    return tuple(int(s) for s in shape)


def numpy_dtype(dtype):
    """numpy's dtype for `dtype`, a torch dtype (torch.float32, as translated code passes it) included."""
    if dtype is not None and type(dtype).__module__ == "torch":
        dtype = str(dtype).removeprefix("torch.")
    return dtype


def _float(who, dtype):
    dtype = numpy_dtype(dtype)
    try:
        dt = np.dtype(np.float64 if dtype is None else dtype)
    except TypeError:
        raise TypeError(f"{who}: dtype must be a float type (np.float64, np.float32, 'float32'), got "
                        f"{dtype!r}") from None
    if dt.kind != "f":
        raise TypeError(f"{who}: Values hold floats, so dtype must be a float type (float64, float32), got {dt}")
    return dt


def _holds_value(x) -> bool:
    return any(isinstance(i, Value) or (isinstance(i, (list, tuple)) and _holds_value(i)) for i in x)


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
    if isinstance(data, (list, tuple)) and _holds_value(data):
        raise TypeError("tensor: got a list holding Values; tensor() makes a constant from numbers, so it would cut "
                        "their graph: use stack([...]) to join Values into one (gradients reach them)")
    array = np.array(data, dtype=None if dtype is None else _float("tensor", dtype))
    return _value(array if array.dtype.kind == "f" else array.astype(np.float64), requires_grad)


def zeros(*sizes, size=None, dtype=None, requires_grad: bool = False) -> Value:
    """zeros(2, 3) or zeros((2, 3)): a Value of zeros (or size=(2, 3), PyTorch's keyword).

    >>> zeros(2, 3).shape, zeros((2, 3), dtype="float32").dtype, zeros(2).requires_grad
    ((2, 3), dtype('float32'), False)
    >>> w = zeros(3, requires_grad=True)        # a parameter: gradients are kept
    >>> (w * 2.0).sum().backward(); w.grad
    array([2., 2., 2.])
    """
    return _value(np.zeros(_size("zeros", sizes, size), _float("zeros", dtype)), requires_grad)


def ones(*sizes, size=None, dtype=None, requires_grad: bool = False) -> Value:
    """ones(2, 3) or ones((2, 3)): a Value of ones (or size=(2, 3), PyTorch's keyword).

    >>> ones(2, 2)
    Value([[1., 1.],
           [1., 1.]], requires_grad=False)
    """
    return _value(np.ones(_size("ones", sizes, size), _float("ones", dtype)), requires_grad)


def full(size, fill_value: float, dtype=None, requires_grad: bool = False) -> Value:
    """A Value of shape `size` filled with `fill_value`.

    >>> full((2, 3), 7.0).data.tolist(), full(2, -1.5).data.tolist()
    ([[7.0, 7.0, 7.0], [7.0, 7.0, 7.0]], [-1.5, -1.5])
    """
    return _value(np.full(_size("full", (size,)), fill_value, _float("full", dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Value:
    """The n x m identity matrix (m = n by default).

    >>> eye(2).data.tolist(), eye(2, 3).shape
    ([[1.0, 0.0], [0.0, 1.0]], (2, 3))
    """
    m = n if m is None else m
    for name, k in (("n", n), ("m", m)):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise TypeError(f"eye: {name} must be a whole number >= 0 (eye(3) or eye(2, 3)), got {k!r}")
    return _value(np.eye(n, m, dtype=_float("eye", dtype)), requires_grad)


def arange(start=0, end=None, step=1, dtype=None, requires_grad: bool = False) -> Value:
    """start, start + step, ... below end (arange(5) is 0.0 ... 4.0), as PyTorch's arange, in floats.

    >>> arange(5).data.tolist(), arange(1, 2, 0.25).data.tolist()
    ([0.0, 1.0, 2.0, 3.0, 4.0], [1.0, 1.25, 1.5, 1.75])
    """
    start, end = (0, start) if end is None else (start, end)
    for name, x in (("start", start), ("end", end), ("step", step)):
        if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or not np.isfinite(x):
            raise TypeError(f"arange: {name} must be a finite number, got {x!r}")
    if step == 0:
        raise ValueError("arange: step must not be zero (the numbers would never reach end)")
    return _value(np.arange(start, end, step, dtype=_float("arange", dtype)), requires_grad)


# The generator that rand and randn draw from when given neither a seed nor a generator.
_default = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the generator that rand, randn and their _like forms use when given no seed or generator (PyTorch's
    torch.manual_seed); returns it.

    >>> _ = manual_seed(0); a = randn(3)
    >>> _ = manual_seed(0); b = randn(3)
    >>> bool((a.data == b.data).all())          # reseeded: the same numbers again
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


def rand(*sizes, size=None, seed=None, generator=None, dtype=None, requires_grad: bool = False) -> Value:
    """Uniform numbers in [0, 1) of the given shape, from `seed`, from `generator`, or from manual_seed's.

    >>> import numpy as np
    >>> u = rand(1000, seed=0)
    >>> bool(((u.data >= 0) & (u.data < 1)).all()), round(float(u.data.mean()), 1)
    (True, 0.5)
    >>> g = np.random.default_rng(3)
    >>> rand(2, generator=g).data.tolist() != rand(2, generator=g).data.tolist()   # a generator moves on
    True
    """
    return _value(_rng("rand", seed, generator).random(_size("rand", sizes, size)).astype(_float("rand", dtype)),
                  requires_grad)


def randn(*sizes, size=None, seed=None, generator=None, dtype=None, requires_grad: bool = False) -> Value:
    """Standard normal numbers of the given shape, from `seed`, from `generator`, or from manual_seed's.

    >>> z = randn(100_000, seed=0)
    >>> abs(float(z.data.mean())) < 0.01, round(float(z.data.std()), 2)
    (True, 1.0)
    >>> randn(2, 3, seed=0, dtype="float32", requires_grad=True).dtype
    dtype('float32')
    """
    numbers = _rng("randn", seed, generator).standard_normal(_size("randn", sizes, size))
    return _value(numbers.astype(_float("randn", dtype)), requires_grad)


def _like(x, dtype):
    return shape_of(x), (dtype if dtype is not None else (x.dtype if isinstance(x, Value) else
                                                          np.asarray(x).dtype if np.asarray(x).dtype.kind == "f"
                                                          else None))


def zeros_like(x, dtype=None, requires_grad: bool = False) -> Value:
    """Zeros of x's shape (and dtype).

    >>> import numpy as np
    >>> z = zeros_like(np.ones((2, 3), np.float32))
    >>> z.shape, z.dtype
    ((2, 3), dtype('float32'))
    """
    shape, dt = _like(x, dtype)
    return zeros(shape, dtype=dt, requires_grad=requires_grad)


def ones_like(x, dtype=None, requires_grad: bool = False) -> Value:
    """Ones of x's shape (and dtype).

    >>> ones_like(zeros(2, 2)).data.tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    shape, dt = _like(x, dtype)
    return ones(shape, dtype=dt, requires_grad=requires_grad)


def full_like(x, fill_value: float, dtype=None, requires_grad: bool = False) -> Value:
    """`fill_value` in x's shape (and dtype).

    >>> full_like([[1, 2, 3]], 0.5).data.tolist()        # integers in, floats out
    [[0.5, 0.5, 0.5]]
    """
    shape, dt = _like(x, dtype)
    return full(shape, fill_value, dtype=dt, requires_grad=requires_grad)


def rand_like(x, seed=None, generator=None, dtype=None, requires_grad: bool = False) -> Value:
    """Uniform numbers in [0, 1) of x's shape (and dtype), drawn as rand draws them.

    >>> r = rand_like(zeros(2, 3, dtype="float32"), seed=0)
    >>> r.shape, r.dtype, bool((r.data < 1).all())
    ((2, 3), dtype('float32'), True)
    """
    shape, dt = _like(x, dtype)
    return rand(shape, seed=seed, generator=generator, dtype=dt, requires_grad=requires_grad)


def randn_like(x, seed=None, generator=None, dtype=None, requires_grad: bool = False) -> Value:
    """Standard normal numbers of x's shape (and dtype), drawn as randn draws them.

    >>> import numpy as np
    >>> randn_like(np.zeros((2, 2)), seed=0).data.tolist() == randn(2, 2, seed=0).data.tolist()
    True
    """
    shape, dt = _like(x, dtype)
    return randn(shape, seed=seed, generator=generator, dtype=dt, requires_grad=requires_grad)
