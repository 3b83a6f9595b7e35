"""Learning-rate schedules, PyTorch's torch.optim.lr_scheduler: StepLR, MultiStepLR, ExponentialLR,
CosineAnnealingLR, LambdaLR, LinearLR (a linear warm-up) and SequentialLR (one schedule after another). Call
`scheduler.step()` once per epoch (or per step, as you count), after `optimizer.step()`; it writes each group's
"lr".

Each rate is computed from the epoch count alone (PyTorch's closed forms), so a schedule resumed from its
`state_dict()` goes on exactly as an uninterrupted one.

>>> import numpy as np
>>> from tinygrad_nn import Value
>>> from tinygrad_nn.optim import SGD
>>> opt = SGD([Value(np.zeros(1))], lr=1.0)
>>> warmup = LinearLR(opt, start_factor=0.25, total_iters=3)
>>> rates = []
>>> for epoch in range(5):
...     rates.append(opt.param_groups[0]["lr"]); opt.step(); warmup.step()
>>> rates
[0.25, 0.5, 0.75, 1.0, 1.0]
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping

from .optimizer import Optimizer, _number

__all__ = ["CosineAnnealingLR", "ExponentialLR", "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR", "SequentialLR",
           "StepLR"]


class LRScheduler:
    """The common part: the base rates (each group's lr when the schedule starts), the epoch count, step(),
    get_last_lr(), state_dict(). A subclass gives the closed form `_factor_or_lr(base_lr, epoch, group)`."""

    def __init__(self, optimizer, last_epoch: int = -1):
        who = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{who}: expected an optimizer (SGD, Adam, ...), got {type(optimizer).__name__}")
        if last_epoch != -1:
            raise ValueError(f"{who}: last_epoch must be -1 (a fresh schedule); to resume one, make it fresh and "
                             f"call load_state_dict(saved.state_dict())")
        self.optimizer = optimizer
        # The rates the optimizer had before any schedule touched them (PyTorch keeps them as each group's
        # "initial_lr"): a second schedule of the same optimizer, as SequentialLR chains them, starts from those,
        # not from where the first one has put the rates.
        initial = getattr(optimizer, "_initial_lrs", None)
        if initial is None or len(initial) != len(optimizer.param_groups):
            initial = optimizer._initial_lrs = [g["lr"] for g in optimizer.param_groups]
        self.base_lrs = list(initial)
        self.last_epoch = -1
        self.step()

    def _lr(self, base_lr: float, epoch: int, group: int) -> float:
        raise NotImplementedError

    def step(self):
        """Move to the next epoch and set every group's lr."""
        self.last_epoch += 1
        self._apply()

    def _apply(self):
        rates = []
        for i, (group, base) in enumerate(zip(self.optimizer.param_groups, self.base_lrs)):
            lr = self._lr(base, self.last_epoch, i)
            if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr >= 0):
                raise ValueError(f"{type(self).__name__}: the schedule gave lr {lr!r} at epoch {self.last_epoch} "
                                 f"(parameter group {i}); a learning rate must be a finite number >= 0")
            group["lr"] = float(lr)
            rates.append(float(lr))
        self._last_lr = rates

    def get_last_lr(self) -> list[float]:
        """The rates the last step() set, one per parameter group."""
        return list(self._last_lr)

    _SAVED: tuple = ()  # the settings of a subclass that state_dict() keeps

    def state_dict(self) -> dict:
        """Plain data (numbers and lists): the epoch count, the base rates and the settings; save it with
        tinygrad_nn.save beside the optimizer's state_dict."""
        out = {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs), "_last_lr": list(self._last_lr)}
        out.update({k: getattr(self, k) for k in self._SAVED})
        return out

    def load_state_dict(self, state_dict: Mapping):
        """Go on from a saved state: the epoch count, base rates and settings; the optimizer's groups get the
        rates of that epoch."""
        who = f"{type(self).__name__}.load_state_dict"
        want = {"last_epoch", "base_lrs", "_last_lr", *self._SAVED}
        if not isinstance(state_dict, Mapping) or set(state_dict) != want:
            got = sorted(state_dict) if isinstance(state_dict, Mapping) else type(state_dict).__name__
            raise ValueError(f"{who}: expected the dict that {type(self).__name__}.state_dict() returns (keys "
                             f"{sorted(want)}), got {got}")
        if len(state_dict["base_lrs"]) != len(self.optimizer.param_groups):
            raise ValueError(f"{who}: the state has {len(state_dict['base_lrs'])} parameter groups, the optimizer "
                             f"{len(self.optimizer.param_groups)}")
        for k in self._SAVED:
            setattr(self, k, state_dict[k])
        self.base_lrs = [float(b) for b in state_dict["base_lrs"]]
        self.last_epoch = int(state_dict["last_epoch"])
        self._apply()

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.get_last_lr()})"


def _positive_int(value, name, who):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{who}: {name} must be a whole number >= 1, got {value!r}")
    return value


class StepLR(LRScheduler):
    """lr = base_lr · gamma^(epoch // step_size): decay by gamma every step_size epochs."""

    _SAVED = ("step_size", "gamma")

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        self.step_size = _positive_int(step_size, "step_size", "StepLR")
        self.gamma = _number(gamma, "gamma", "StepLR", lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0")
        super().__init__(optimizer, last_epoch)

    def _lr(self, base_lr, epoch, group):
        return base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """lr = base_lr · gamma^(the number of milestones <= epoch): decay by gamma at each milestone epoch.

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> from tinygrad_nn.optim import SGD
    >>> opt = SGD([Value(np.zeros(1))], lr=1.0)
    >>> sched = MultiStepLR(opt, milestones=[2, 4], gamma=0.5)
    >>> rates = []
    >>> for epoch in range(6):
    ...     rates.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> rates
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """

    _SAVED = ("milestones", "gamma")

    def __init__(self, optimizer, milestones: list, gamma: float = 0.1, last_epoch: int = -1):
        if not isinstance(milestones, (list, tuple)) or not all(
                isinstance(m, int) and not isinstance(m, bool) and m >= 0 for m in milestones):
            raise ValueError(f"MultiStepLR: milestones must be a list of epochs (whole numbers >= 0), got "
                             f"{milestones!r}")
        self.milestones = sorted(milestones)
        self.gamma = _number(gamma, "gamma", "MultiStepLR", lambda v: math.isfinite(v) and v >= 0,
                             "a finite number >= 0")
        super().__init__(optimizer, last_epoch)

    def _lr(self, base_lr, epoch, group):
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    """lr = base_lr · gamma^epoch: decay by gamma every epoch.

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> from tinygrad_nn.optim import SGD
    >>> opt = SGD([Value(np.zeros(1))], lr=1.0)
    >>> sched = ExponentialLR(opt, gamma=0.5)
    >>> opt.step(); sched.step(); opt.step(); sched.step()
    >>> sched.get_last_lr()
    [0.25]
    """

    _SAVED = ("gamma",)

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = _number(gamma, "gamma", "ExponentialLR", lambda v: math.isfinite(v) and v >= 0,
                             "a finite number >= 0")
        super().__init__(optimizer, last_epoch)

    def _lr(self, base_lr, epoch, group):
        return base_lr * self.gamma ** epoch


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(π epoch / T_max)) / 2: from base_lr down to eta_min over T_max
    epochs (and, as in PyTorch's closed form, back up after it)."""

    _SAVED = ("T_max", "eta_min")

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        self.T_max = _positive_int(T_max, "T_max", "CosineAnnealingLR")
        self.eta_min = _number(eta_min, "eta_min", "CosineAnnealingLR", lambda v: math.isfinite(v) and v >= 0,
                               "a finite number >= 0")
        super().__init__(optimizer, last_epoch)

    def _lr(self, base_lr, epoch, group):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class LambdaLR(LRScheduler):
    """lr = base_lr · lr_lambda(epoch), with one function for all groups or a list of one per group. The functions
    are not saved in state_dict() (they are code): make the schedule with the same ones before loading."""

    def __init__(self, optimizer, lr_lambda: Callable | list, last_epoch: int = -1):
        n = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        fns = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(fns) != n or not all(callable(f) for f in fns):
            raise TypeError(f"LambdaLR: lr_lambda must be a function of the epoch, or a list of {n} of them (one per "
                            f"parameter group)")
        self.lr_lambdas = fns
        super().__init__(optimizer, last_epoch)

    def _lr(self, base_lr, epoch, group):
        return base_lr * self.lr_lambdas[group](epoch)


class LinearLR(LRScheduler):
    """A linear warm-up (or decay): the factor goes from start_factor to end_factor over total_iters epochs, then
    stays: lr = base_lr (start + (end - start) min(epoch, total_iters) / total_iters). PyTorch's defaults."""

    _SAVED = ("start_factor", "end_factor", "total_iters")

    def __init__(self, optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5,
                 last_epoch: int = -1):
        self.start_factor = _number(start_factor, "start_factor", "LinearLR", lambda v: 0 < v <= 1, "in (0, 1]")
        self.end_factor = _number(end_factor, "end_factor", "LinearLR", lambda v: 0 <= v <= 1, "in [0, 1]")
        self.total_iters = _positive_int(total_iters, "total_iters", "LinearLR")
        super().__init__(optimizer, last_epoch)

    def _lr(self, base_lr, epoch, group):
        t = min(epoch, self.total_iters)
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * t / self.total_iters)


class SequentialLR(LRScheduler):
    """The schedules one after another: schedulers[i] runs from milestones[i - 1] on, counting its epochs from 0
    there (warm-up then cosine: SequentialLR(opt, [LinearLR(...), CosineAnnealingLR(...)], milestones=[100]))."""

    def __init__(self, optimizer, schedulers: list, milestones: list, last_epoch: int = -1):
        if not schedulers or len(milestones) != len(schedulers) - 1 or list(milestones) != sorted(milestones):
            raise ValueError(f"SequentialLR: expected n schedulers and n - 1 increasing milestones, got "
                             f"{len(schedulers)} and {list(milestones)}")
        for s in schedulers:
            if not isinstance(s, LRScheduler) or s.optimizer is not optimizer:
                raise ValueError("SequentialLR: every scheduler must be one of this optimizer's")
        self._schedulers, self.milestones = list(schedulers), [int(m) for m in milestones]
        super().__init__(optimizer, last_epoch)

    _SAVED = ("milestones",)

    def _lr(self, base_lr, epoch, group):
        i = sum(epoch >= m for m in self.milestones)
        start = self.milestones[i - 1] if i else 0
        s = self._schedulers[i]
        return s._lr(s.base_lrs[group], epoch - start, group)

    def state_dict(self) -> dict:
        out = super().state_dict()
        out["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return out

    def load_state_dict(self, state_dict: Mapping):
        state_dict = dict(state_dict)
        inner = state_dict.pop("_schedulers", None)
        if not isinstance(inner, list) or len(inner) != len(self._schedulers):
            raise ValueError(f"SequentialLR.load_state_dict: expected the states of {len(self._schedulers)} "
                             f"schedulers")
        for s, st in zip(self._schedulers, inner):
            s.load_state_dict(st)
        super().load_state_dict(state_dict)
