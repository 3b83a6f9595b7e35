"""Split aligned arrays into mini-batches for stochastic or mini-batch gradient descent."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["minibatches"]


def minibatches(
    *arrays,
    batch_size: int,
    shuffle: bool = False,
    seed: int | np.random.Generator | None = None,
    drop_last: bool = False,
) -> Iterator:
    """Yield aligned mini-batches (slices along axis 0) of one or more arrays.

    With exactly one array each batch is that array's slice itself; with two or more arrays each batch
    is a tuple of slices, one per array, in the order given. All arrays must have the same length along
    axis 0. With ``shuffle=True`` the rows are visited in the order of one permutation drawn from
    ``numpy.random.default_rng(seed)``: the same int seed gives the same batches, and passing one
    Generator for a whole training run gives a new order each epoch. ``seed`` is ignored without
    shuffle. ``drop_last=True`` skips a final batch smaller than ``batch_size``.

    Unshuffled batches are numpy views into the inputs (no copy); shuffled ones are copies.
    Bad arguments raise ValueError at the call, before the first batch is taken.

    >>> X = np.arange(10).reshape(5, 2)
    >>> y = np.array([0, 1, 0, 1, 1])
    >>> for xb, yb in minibatches(X, y, batch_size=2):
    ...     print(xb.tolist(), yb.tolist())
    [[0, 1], [2, 3]] [0, 1]
    [[4, 5], [6, 7]] [0, 1]
    [[8, 9]] [1]
    >>> [b.tolist() for b in minibatches(y, batch_size=2, drop_last=True)]
    [[0, 1], [0, 1]]
    >>> sorted(int(i) for b in minibatches(np.arange(5), batch_size=2, shuffle=True, seed=0) for i in b)
    [0, 1, 2, 3, 4]
    """
    if not arrays:
        raise ValueError("minibatches needs at least one array")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    arrays = tuple(np.asarray(a) for a in arrays)
    for position, a in enumerate(arrays):
        if a.ndim == 0:
            raise ValueError(f"array {position} is a scalar; every array needs an axis 0 to batch along")
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"all arrays must have the same length along axis 0, got lengths {lengths}")
    order = np.random.default_rng(seed).permutation(lengths[0]) if shuffle else None
    # A nested generator so the checks above run at the call, not lazily at the first next().
    return _batches(arrays, lengths[0], int(batch_size), order, drop_last)


def _batches(arrays, n, batch_size, order, drop_last):
    stop_at = n - n % batch_size if drop_last else n
    for start in range(0, stop_at, batch_size):
        if order is None:
            batch = tuple(a[start : start + batch_size] for a in arrays)
        else:
            idx = order[start : start + batch_size]
            batch = tuple(a[idx] for a in arrays)
        yield batch[0] if len(batch) == 1 else batch
