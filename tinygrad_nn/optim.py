"""Optimizers: they update the parameters' arrays in place from their `.grad`.

>>> import numpy as np
>>> from tinygrad_nn import Value
>>> from tinygrad_nn.optim import SGD
>>> w = Value(np.array([3.0]))
>>> opt = SGD([w], lr=0.1)
>>> for _ in range(2):
...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
>>> w.data        # 3 -> 3 - 0.1 * 6 = 2.4 -> 2.4 - 0.1 * 4.8 = 1.92
array([1.92])
"""

from __future__ import annotations

import numpy as np

from .engine import Value


def _params(params, who):
    from .nn.module import Module

    if isinstance(params, Module):
        raise TypeError(f"{who}: got the model itself; pass model.parameters()")
    if isinstance(params, Value):
        raise TypeError(f"{who}: got one Value; pass a list of parameters, e.g. [w]")
    params = list(params)
    if not params:
        raise ValueError(f"{who}: got no parameters; pass model.parameters()")
    seen = set()
    for p in params:
        if not isinstance(p, Value):
            raise TypeError(f"{who}: parameters must be Values, got {type(p).__name__}")
        if p in seen:  # it would be stepped twice per step; PyTorch refuses it too
            raise ValueError(f"{who}: a parameter appears more than once in the list (shape {p.shape}"
                             f"{', name ' + repr(p.name) if p.name else ''}); list each parameter once")
        seen.add(p)
    return params


def _real(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def _check_lr(lr, who):
    if not _real(lr):
        raise TypeError(f"{who}: lr must be a number, got {type(lr).__name__} {lr!r}")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"{who}: lr must be a positive finite number, got {lr!r}")
    return float(lr)


class Optimizer:
    def __init__(self, params, lr):
        who = type(self).__name__
        self.lr = _check_lr(lr, who)
        self.params = _params(params, who)

    def zero_grad(self, set_to_none=True):
        """Forget the gradients. As in PyTorch, .grad becomes None (the next backward then stores its
        gradient without adding it to zeros); set_to_none=False fills the arrays with zeros instead."""
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif isinstance(p.grad, np.ndarray):
                p.grad.fill(0.0)
            else:
                p.zero_grad()

    def step(self):
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:  # no gradient reached this parameter
                continue
            if isinstance(g, Value):  # after backward(create_graph=True)
                g = g.data
            delta = self._delta(i, g)
            if p.data.__class__ is float:
                p.data = p.data - float(delta)
            else:
                p.data -= delta


class SGD(Optimizer):
    """Gradient descent, with optional momentum (PyTorch's form: v = μ v + g; p -= lr v)."""

    def __init__(self, params, lr, momentum=0.0):
        super().__init__(params, lr)
        if not _real(momentum):
            raise TypeError(f"SGD: momentum must be a number, got {type(momentum).__name__} {momentum!r}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum!r}")
        self.momentum = momentum
        self._velocity = [None] * len(self.params)
        self._scratch = [None] * len(self.params)

    def _delta(self, i, g):
        if self.momentum:
            v = self._velocity[i]
            # A copy: g is the parameter's own .grad array, which zero_grad may clear in place.
            v = np.array(g, copy=True) if v is None else self.momentum * v + g
            self._velocity[i] = v
            g = v
        if g.__class__ is not np.ndarray:
            return self.lr * g
        buf = self._scratch[i]
        if buf is None:  # a parameter's gradient keeps its shape and dtype from step to step
            buf = self._scratch[i] = np.empty_like(g)
        return np.multiply(g, self.lr, out=buf)  # into a buffer kept between steps: no allocation per step


class Adam(Optimizer):
    """Adam (Kingma & Ba), with bias correction, as PyTorch computes it."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, lr)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2 and all(map(_real, betas))):
            raise TypeError(f"Adam: betas must be a pair of numbers (beta1, beta2), got {betas!r}")
        b1, b2 = map(float, betas)
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):  # NaN fails this too
            raise ValueError(f"Adam: betas must both lie in [0, 1), got {betas!r}; the usual choice is (0.9, 0.999)")
        if not _real(eps):
            raise TypeError(f"Adam: eps must be a number, got {type(eps).__name__} {eps!r}")
        if not (np.isfinite(eps) and eps >= 0):
            raise ValueError(f"Adam: eps must be a finite number >= 0, got {eps!r}; the usual choice is 1e-8")
        self.betas, self.eps = (b1, b2), float(eps)
        self._m = [0.0] * len(self.params)
        self._v = [0.0] * len(self.params)
        self._t = 0

    def step(self):
        self._t += 1
        super().step()

    def _delta(self, i, g):
        b1, b2 = self.betas
        self._m[i] = b1 * self._m[i] + (1 - b1) * g
        self._v[i] = b2 * self._v[i] + (1 - b2) * (g * g)
        m_hat = self._m[i] / (1 - b1 ** self._t)
        v_hat = self._v[i] / (1 - b2 ** self._t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
