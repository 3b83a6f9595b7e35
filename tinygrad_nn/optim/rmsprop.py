"""RMSprop, as PyTorch's torch.optim.RMSprop computes it."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _check_flag, _check_weight_decay, _number, _real


class RMSprop(Optimizer):
    """Divide the gradient by a running root mean square of its recent values (Hinton's lecture 6e), PyTorch's
    formulas and defaults (lr=0.01, alpha=0.99, eps=1e-8):

        g = grad + weight_decay * p
        v = alpha v + (1 - alpha) g²
        centered:  a = alpha a + (1 - alpha) g,  denom = sqrt(v - a²) + eps;   else denom = sqrt(v) + eps
        momentum:  b = momentum b + g / denom,  p = p - lr b;                  else p = p - lr g / denom

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> w = Value(np.array([1.0]))
    >>> opt = RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward(); opt.step()
    >>> w.data.round(4)                    # 1 - 0.01 * 2 / sqrt(0.01 * 4): a step of lr / sqrt(1 - alpha)
    array([0.9])
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    _STATE_KEYS = frozenset({"step", "square_avg", "momentum_buffer", "grad_avg"})
    _STATE_ARRAYS = frozenset({"square_avg", "momentum_buffer", "grad_avg"})

    def _check(self, s, who, where="", explicit=None):
        s = super()._check(s, who, where)
        w = who + where
        s["alpha"] = _number(s["alpha"], "alpha", w, lambda v: 0.0 <= v <= 1.0, "in [0, 1] (the usual choice is 0.99)")
        s["eps"] = _number(s["eps"], "eps", w, lambda v: np.isfinite(v) and v >= 0, "a finite number >= 0")
        s["weight_decay"] = _check_weight_decay(s["weight_decay"], w)
        s["momentum"] = _number(s["momentum"], "momentum", w, lambda v: 0.0 <= v < 1.0, "in [0, 1)")
        _check_flag(s, "centered", w)
        _check_flag(s, "maximize", w)
        return s

    def _state_of(self, p, buffers, who):
        out = super()._state_of(p, buffers, who)
        step = out.get("step")
        if isinstance(step, (np.ndarray, np.generic)) and np.ndim(step) == 0:
            step = step.item()
        if "square_avg" not in out or not _real(step) or step != int(step) or step < 1:
            raise ValueError(f"{who}: RMSprop needs square_avg and a whole step >= 1, got {sorted(out)}")
        out["step"] = int(step)
        return out

    def _step_group(self, group, changed):
        lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
        momentum, centered = group["momentum"], group["centered"]
        for p, g in self._gradients(group, changed):
            if wd:
                g = g + wd * p.data
            state = self.state.get(p)
            if state is None:
                zero = 0.0 if g.__class__ is float else np.zeros_like(g)
                state = self.state[p] = {"step": 0, "square_avg": zero}
                if momentum:
                    state["momentum_buffer"] = zero
                if centered:
                    state["grad_avg"] = zero
            state["step"] += 1
            v = state["square_avg"] = alpha * state["square_avg"] + (1.0 - alpha) * (g * g)
            if centered:
                a = state["grad_avg"] = state["grad_avg"] + (g - state["grad_avg"]) * (1.0 - alpha)
                denom = np.sqrt(v - a * a) + eps
            else:
                denom = np.sqrt(v) + eps
            if momentum:
                b = state["momentum_buffer"] = momentum * state.get("momentum_buffer", 0.0 * g) + g / denom
                self._apply(p, lr * b)
            else:
                self._apply(p, lr * g / denom)
