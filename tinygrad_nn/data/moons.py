"""A synthetic two-class data set: two interleaving half circles, made with numpy alone."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

__all__ = ["two_moons"]


def two_moons(
    n: int = 100, noise: float = 0.1, seed: int | np.random.Generator | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Make ``n`` points on two interleaving half circles, like scikit-learn's ``make_moons``.

    The upper moon gets ``n // 2`` points with label 0, the lower moon the other ``n - n // 2`` with
    label 1, and each coordinate then gets Gaussian noise of standard deviation ``noise``. Unlike
    ``make_moons`` the rows are not shuffled: all label-0 points come first (shuffle with
    ``minibatches(..., shuffle=True)``). ``seed`` is anything ``numpy.random.default_rng`` accepts; the
    same int seed always gives bit-identical arrays, while a passed Generator is advanced.

    Returns ``(X, y)``: X float64 of shape (n, 2), y int64 of shape (n,).

    >>> X, y = two_moons(n=7, noise=0.0)
    >>> X.shape, y.tolist()
    ((7, 2), [0, 0, 0, 1, 1, 1, 1])
    >>> X[0].tolist(), X[3].tolist()  # where the upper and the lower moon start
    ([1.0, 0.0], [0.0, 0.5])
    >>> bool((two_moons(seed=3)[0] == two_moons(seed=3)[0]).all())
    True
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an int >= 2 (at least one point per moon), got {n!r}")
    if isinstance(noise, bool) or not isinstance(noise, Real) or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0 (the noise standard deviation), got {noise!r}")
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    angle_out = np.linspace(0.0, np.pi, n_out)
    angle_in = np.linspace(0.0, np.pi, n_in)
    X = np.column_stack(
        [
            np.concatenate([np.cos(angle_out), 1.0 - np.cos(angle_in)]),
            np.concatenate([np.sin(angle_out), 1.0 - np.sin(angle_in) - 0.5]),
        ]
    )
    y = np.concatenate([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    # Drawn even when noise == 0 so that a shared Generator advances the same way whatever the noise.
    X += rng.normal(scale=float(noise), size=X.shape)
    return X, y
