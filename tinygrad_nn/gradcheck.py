"""Gradient checks by float64 central differences, for the tests and for users' own ops.

>>> import numpy as np
>>> from tinygrad_nn import gradcheck, gradgradcheck
>>> gradcheck(lambda x: (x.exp() * x).sum(), np.array([0.5, -1.0]))
True
>>> gradgradcheck(lambda x: x.tanh(), 0.3)
True
"""

from __future__ import annotations

import numpy as np

from .engine import Value, data_of, gradients, to_payload
from .ops import concatenate, flatten, identity

# Up to this many input elements in all, the whole Jacobian is compared; above it, random directions.
FULL_JACOBIAN_MAX = 64


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its numerical estimate (or a sanity check failed).

    >>> import numpy as np
    >>> from tinygrad_nn import GradcheckError, gradcheck
    >>> from tinygrad_nn.ops import cos, defop
    >>> off_by_two = defop("gradcheckerror_doc", forward=np.sin, vjp=lambda g, ans, x: (2 * g * cos(x),))
    >>> try:
    ...     gradcheck(off_by_two, np.array([0.5]))
    ... except GradcheckError as error:
    ...     print(str(error)[:47])
    gradcheck: d output[0] / d input 0[0]: analytic
    """


def _leaves(inputs):
    out = []
    for x in inputs:
        d = to_payload(data_of(x), "gradcheck")
        d = float(d) if d.__class__ is float else np.array(d, dtype=np.float64)
        out.append(d)
    return out


def _run(f, payloads):
    leaves = [Value._leaf(d if d.__class__ is float else d.copy(), requires_grad=True) for d in payloads]
    wrt = [identity(v) for v in leaves]
    out = f(*wrt)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    return wrt, out


def _as_array(x):
    return np.array(x, dtype=np.float64) if x.__class__ is float else np.asarray(x, dtype=np.float64)


def _eval(f, payloads):
    with_graph = _run(f, payloads)[1]
    return _as_array(with_graph.data)


def _vjp(f, payloads, v):
    wrt, out = _run(f, payloads)
    v = float(np.reshape(v, ())) if out.data.__class__ is float else np.asarray(v, dtype=out.dtype).reshape(out.shape)
    grads = gradients(out, wrt, grad=v)
    return [np.zeros(np.shape(p)) if g is None else _as_array(g).reshape(np.shape(p)) for g, p in zip(grads, payloads)]


def _perturbed(payloads, i, delta):
    moved = [p if p.__class__ is float else p.copy() for p in payloads]
    if moved[i].__class__ is float:
        moved[i] = moved[i] + float(delta)
    else:
        moved[i] = moved[i] + delta
    return moved


def _where(flat_index, shape):
    return str(list(int(i) for i in np.unravel_index(flat_index, shape))) if shape else ""


def _close(a, n, atol, rtol):
    return abs(a - n) <= atol + rtol * abs(n)


def gradcheck(f, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Compare the engine's gradients of f with float64 central differences.

    f takes Values and returns a Value of any shape. For up to FULL_JACOBIAN_MAX input elements the whole
    Jacobian is compared entry by entry; above it, random projections vᵀJu. Also checks that a zero
    upstream gradient gives zero gradients and that backward gives the same answer twice.
    Returns True, or raises GradcheckError naming the input, the index and both values.

    >>> import numpy as np
    >>> from tinygrad_nn import gradcheck
    >>> gradcheck(lambda x, w: (x @ w).tanh().sum(), np.ones((2, 3)), np.array([0.1, -0.2, 0.3]))
    True
    """
    payloads = _leaves(inputs)
    out0 = _eval(f, payloads)
    rng = np.random.default_rng(seed)
    sizes = [np.size(p) for p in payloads]

    if sum(sizes) <= FULL_JACOBIAN_MAX:
        # The whole Jacobian: a column per input element from differences, a row per output from backward.
        rows = []
        for k in range(out0.size):
            e = np.zeros(out0.size)
            e[k] = 1.0
            rows.append(_vjp(f, payloads, e))
        for i, p in enumerate(payloads):
            for j in range(np.size(p)):
                d = np.zeros(np.shape(p))
                d.flat[j] = eps
                column = (_eval(f, _perturbed(payloads, i, d)) - _eval(f, _perturbed(payloads, i, -d))) / (2 * eps)
                for k in range(out0.size):
                    ana, num = float(rows[k][i].flat[j]), float(column.flat[k])
                    if not _close(ana, num, atol, rtol):
                        raise GradcheckError(
                            f"gradcheck: d output{_where(k, out0.shape)} / d input {i}{_where(j, np.shape(p))}: "
                            f"analytic {ana!r}, numerical {num!r} (atol={atol}, rtol={rtol})")
    else:
        for _ in range(3):
            v = rng.standard_normal(out0.shape)
            us = [rng.standard_normal(np.shape(p)) for p in payloads]
            grads = _vjp(f, payloads, v)
            ana = sum(float(np.sum(g * u)) for g, u in zip(grads, us))
            plus = [p + eps * u for p, u in zip(payloads, us)]
            minus = [p - eps * u for p, u in zip(payloads, us)]
            plus = [float(a) if p.__class__ is float else a for a, p in zip(plus, payloads)]
            minus = [float(a) if p.__class__ is float else a for a, p in zip(minus, payloads)]
            num = float(np.sum(v * (_eval(f, plus) - _eval(f, minus)))) / (2 * eps)
            if not _close(ana, num, atol * max(1, out0.size) ** 0.5, rtol):
                raise GradcheckError(f"gradcheck: random projection vᵀJu over inputs of sizes {sizes}: "
                                     f"analytic {ana!r}, numerical {num!r} (atol={atol}, rtol={rtol})")

    zero = _vjp(f, payloads, np.zeros(out0.shape))
    for i, g in enumerate(zero):
        if np.any(g != 0):
            raise GradcheckError(f"gradcheck: a zero upstream gradient gave a non-zero gradient for input {i}: {g!r}")
    v = rng.standard_normal(out0.shape)
    first, second = _vjp(f, payloads, v), _vjp(f, payloads, v)
    for i, (a, b) in enumerate(zip(first, second)):
        if not np.array_equal(a, b):
            raise GradcheckError(f"gradcheck: backward is not repeatable for input {i}: {a!r} then {b!r}")
    return True


def gradgradcheck(f, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """gradcheck of the gradient itself: the vector-Jacobian product of f, recorded with
    create_graph=True, is differentiated again and compared with central differences.

    >>> import numpy as np
    >>> from tinygrad_nn import gradgradcheck
    >>> gradgradcheck(lambda x: x.sigmoid() * x, np.array([-1.0, 0.5, 2.0]))
    True
    """
    payloads = _leaves(inputs)
    out0 = _eval(f, payloads)
    v = np.random.default_rng(seed + 1).standard_normal(out0.shape)

    def vjp_of_f(*xs):
        wrt = [identity(x) for x in xs]
        out = f(*wrt)
        vv = float(np.reshape(v, ())) if out.data.__class__ is float else v.astype(out.dtype)
        grads = gradients(out, wrt, grad=vv, create_graph=True)
        parts = [flatten(g if isinstance(g, Value) else Value._leaf(np.zeros(x.shape)))
                 for g, x in zip(grads, xs)]
        return parts[0] if len(parts) == 1 else concatenate(parts)

    return gradcheck(vjp_of_f, *payloads, eps=eps, atol=atol, rtol=rtol, seed=seed)
