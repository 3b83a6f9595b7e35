"""The optimizers' common part (`Optimizer`: parameter groups, settings, zero_grad, state_dict) and the
gradient-descent family: SGD, Adam and AdamW, each with PyTorch's formulas, updating the parameters' arrays in
place from their `.grad`.

Parameter groups, as in PyTorch: a list of dicts, each with its "params" and any settings of its own; the
others come from the keyword arguments. `opt.param_groups` holds them (the schedules of lr_scheduler change "lr" there).

>>> import numpy as np
>>> from tinygrad_nn import Value
>>> a, b = Value(np.ones(2)), Value(np.ones(2))
>>> opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
>>> [(g["lr"], g["momentum"]) for g in opt.param_groups]
[(0.1, 0.9), (0.5, 0.9)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..engine import Value, mark_changed
from ..engine import modes as _modes


def _real(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def _number(value, name, who, ok, expect):
    """`value` as a float, or a clear error: TypeError for a non-number, ValueError when `ok` says no."""
    if not _real(value):
        raise TypeError(f"{who}: {name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not ok(value):  # NaN fails every test written as `lo <= x < hi`
        raise ValueError(f"{who}: {name} must be {expect}, got {value!r}")
    return value


def _check_lr(lr, who, zero_ok=False):
    # A schedule may bring the rate to 0 (the end of a cosine, the start of a warm-up), so a saved state may hold
    # lr 0; an optimizer made with lr 0 would never learn, which is more likely a slip.
    if zero_ok:
        return _number(lr, "lr", who, lambda v: math.isfinite(v) and v >= 0,
                       "a positive finite number (or 0, where a schedule brought it)")
    return _number(lr, "lr", who, lambda v: math.isfinite(v) and v > 0, "a positive finite number")


def _check_flag(settings, name, who):
    """A True/False setting (nesterov, amsgrad, maximize), normalised to a bool."""
    if not isinstance(settings[name], (bool, np.bool_)):
        raise TypeError(f"{who}: {name} must be True or False, got {settings[name]!r}")
    settings[name] = bool(settings[name])


def _check_weight_decay(wd, who):
    return _number(wd, "weight_decay", who, lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0")


def _param_list(params, who, where="", groups_allowed=False):
    """The list of Values in `params`, or (groups_allowed) the list of its parameter-group dicts."""
    from ..nn.module import Module

    if isinstance(params, Module):
        raise TypeError(f"{who}: got the model itself{where}; pass model.parameters()")
    if isinstance(params, Value):
        raise TypeError(f"{who}: got one Value{where}; pass a list of parameters, e.g. [w]")
    if isinstance(params, (set, frozenset)):  # as PyTorch: a set's order differs from run to run
        raise TypeError(f"{who}: parameters{where} must be an ordered list, not a set: their order numbers them in "
                        f"state_dict(); pass model.parameters() or a list")
    if isinstance(params, (dict, str)) or not hasattr(params, "__iter__"):
        raise TypeError(f"{who}: parameters{where} must be a list of Values, got {type(params).__name__}")
    params = list(params)
    if groups_allowed and params and all(isinstance(p, dict) for p in params):
        return params
    for p in params:
        if not isinstance(p, Value):
            hint = "; do not mix parameter-group dicts and Values in one list" if isinstance(p, dict) else ""
            raise TypeError(f"{who}: parameters must be Values, got {type(p).__name__}{where}{hint}")
    return params


def _describe(p) -> str:
    return f"shape {p.shape}" + (f", name {p.name!r}" if p.name else "")


class Optimizer:
    """The common part: parameter groups, their settings, zero_grad. A subclass checks its settings in
    `_check` and updates one group's parameters in `_step_group`.

    >>> from tinygrad_nn import Value
    >>> w, b = Value([1.0, 2.0]), Value(0.5)
    >>> optimizer = SGD([{"params": [w]}, {"params": [b], "lr": 0.01}], lr=0.1)   # two parameter groups
    >>> isinstance(optimizer, Optimizer), [group["lr"] for group in optimizer.param_groups]
    (True, [0.1, 0.01])
    """

    def __init__(self, params, defaults: dict):
        who = type(self).__name__
        self._what_steps = f"{who}.step()"  # what stale-graph errors say changed the parameters
        self.defaults = self._check(dict(defaults), who)
        if isinstance(params, (dict, str)):
            raise TypeError(f"{who}: expected a list of parameters or a list of dicts (parameter groups), got "
                            f"{type(params).__name__}; pass model.parameters()")
        items = _param_list(params, who, groups_allowed=True)
        if not items:
            raise ValueError(f"{who}: got no parameters; pass model.parameters()")
        groups = items if isinstance(items[0], dict) else [{"params": items}]
        self.param_groups: list[dict] = []
        self.state: dict[Value, dict] = {}  # per parameter: momentum buffers, Adam's moments and step count
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict):
        """Add a dict with "params" (a list of Values) and any settings that differ from the defaults."""
        who = type(self).__name__
        where = f" (parameter group {len(self.param_groups)})"
        if not isinstance(group, dict):
            raise TypeError(f"{who}: a parameter group must be a dict with 'params', got {type(group).__name__}"
                            f"{where}; do not mix dicts and Values in one list")
        if "params" not in group:
            raise KeyError(f"{who}: a parameter group needs a 'params' entry{where}")
        unknown = sorted(set(group) - set(self.defaults) - {"params", "name"})
        if unknown:
            raise KeyError(f"{who}: unknown setting(s) {unknown}{where}; the settings are "
                           f"{sorted(self.defaults)}")
        params = _param_list(group["params"] if not isinstance(group["params"], Value) else [group["params"]],
                             who, where)
        if not params:
            raise ValueError(f"{who}: parameter group {len(self.param_groups)} has no parameters")
        seen = set()
        for p in params:
            if p in seen:  # it would be stepped twice per step; PyTorch refuses it too
                raise ValueError(f"{who}: a parameter appears more than once in the list ({_describe(p)}); "
                                 f"list each parameter once")
            seen.add(p)
        for other in self.param_groups:
            for p in other["params"]:
                if p in seen:
                    raise ValueError(f"{who}: a parameter ({_describe(p)}) appears in more than one parameter "
                                     f"group; give each parameter one group")
        explicit = set(group) - {"params"}
        group = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}, "params": params}
        self.param_groups.append(self._check(group, who, where, explicit))

    def _check(self, settings: dict, who: str, where: str = "", explicit=None) -> dict:
        """Check (and normalise) the settings of the defaults, or of a group (`where` says which; `explicit`
        names the settings the group gave itself)."""
        settings["lr"] = _check_lr(settings["lr"], who + where, zero_ok=self._loading)
        return settings

    _loading = False  # while load_state_dict checks a saved state's settings
    _initial_lrs = None  # each group's lr before the first learning-rate schedule changed it (lr_scheduler.py)

    @property
    def params(self) -> list[Value]:
        """All parameters, group after group."""
        return [p for g in self.param_groups for p in g["params"]]

    @property
    def lr(self) -> float:
        """The learning rate when every group has the same one (else look in param_groups)."""
        rates = {g["lr"] for g in self.param_groups}
        if len(rates) != 1:
            raise AttributeError(f"{type(self).__name__}: the parameter groups have different learning rates "
                                 f"{sorted(rates)}; read them in optimizer.param_groups")
        return rates.pop()

    @lr.setter
    def lr(self, value):
        value = _check_lr(value, type(self).__name__)
        for g in self.param_groups:
            g["lr"] = value

    def zero_grad(self, set_to_none=True):
        """Forget the gradients. As in PyTorch, .grad becomes None (the next backward then stores its
        gradient without adding it to zeros); set_to_none=False fills the arrays with zeros instead."""
        if _modes.recorder is not None and _modes.recorder.effect(self.zero_grad, set_to_none):
            return  # recorded by tinygrad_nn.jit, which ran it
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif isinstance(p.grad, np.ndarray):
                    p.grad.fill(0.0)
                else:
                    p.zero_grad()

    def step(self):
        if _modes.recorder is not None and _modes.recorder.effect(self.step):
            return  # recorded by tinygrad_nn.jit, which ran it
        changed = []
        for group in self.param_groups:
            self._step_group(group, changed)
        # A graph built before this step and back-propagated after it would mix old and new weights: the
        # engine refuses it (engine/stale.py).
        mark_changed(changed, self._what_steps)

    # -- saving and resuming ------------------------------------------------------------------------
    # What a subclass keeps per parameter in self.state, and which of it are arrays shaped like the parameter.
    _STATE_KEYS: frozenset = frozenset()
    _STATE_ARRAYS: frozenset = frozenset()

    def state_dict(self) -> dict:
        """The optimizer's state in PyTorch's layout, as copies: {"state": {i: {...}}, "param_groups":
        [{settings, "params": [i, ...]}]}, with the parameters numbered in order across the groups. Save it with
        tinygrad_nn.save beside the model's state_dict to resume training exactly.

        >>> import numpy as np
        >>> from tinygrad_nn import Value
        >>> w = Value(np.ones(2))
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> (w * w).sum().backward(); opt.step()
        >>> opt.state_dict()["state"]
        {0: {'momentum_buffer': array([2., 2.])}}
        """
        index = {p: i for i, p in enumerate(self.params)}
        groups = [{**{k: v for k, v in g.items() if k != "params"}, "params": [index[p] for p in g["params"]]}
                  for g in self.param_groups]
        state = {index[p]: {k: np.array(v, copy=True) if isinstance(v, np.ndarray) else v for k, v in st.items()}
                 for p, st in self.state.items() if p in index}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore what state_dict() returned (also after tinygrad_nn.save and load): the settings of each group
        and each parameter's buffers, copied. Everything is checked first (the number of groups and of
        parameters in each, buffer shapes and dtypes), and nothing changes if anything does not fit."""
        who = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"state", "param_groups"}:
            got = (f"keys {sorted(map(str, state_dict))}" if isinstance(state_dict, Mapping)
                   else type(state_dict).__name__)
            raise ValueError(f"{who}: expected the dict that optimizer.state_dict() returns (keys 'state' and "
                             f"'param_groups'), got {got}")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or len(saved_groups) != len(self.param_groups):
            n = len(saved_groups) if isinstance(saved_groups, (list, tuple)) else "no list of"
            raise ValueError(f"{who}: the state has {n} parameter groups, this optimizer {len(self.param_groups)}")
        new_groups, param_of = [], {}
        self._loading = True
        try:
            self._check_groups(saved_groups, new_groups, param_of, who)
        finally:
            del self._loading
        if not isinstance(saved_state, Mapping):
            raise ValueError(f"{who}: 'state' must be a dict of parameter number -> buffers")
        new_state = {}
        for idx, buffers in saved_state.items():
            p = param_of.get(idx)
            if p is None:
                raise ValueError(f"{who}: the state has buffers for parameter {idx!r}, which no group lists")
            new_state[p] = self._state_of(p, buffers, f"{who}: parameter {idx} ({_describe(p)})")
        for mine, new in zip(self.param_groups, new_groups):  # all checked: now change things
            mine.clear()
            mine.update(new)
        self.state = new_state

    def _check_groups(self, saved_groups, new_groups, param_of, who):
        for i, (saved, mine) in enumerate(zip(saved_groups, self.param_groups)):
            where = f" (parameter group {i})"
            ids = saved.get("params") if isinstance(saved, Mapping) else None
            if not isinstance(ids, (list, tuple)) or len(ids) != len(mine["params"]):
                raise ValueError(f"{who}: parameter group {i} holds {len(mine['params'])} parameters here but "
                                 f"{len(ids) if isinstance(ids, (list, tuple)) else 'no list of'} in the state")
            for idx, p in zip(ids, mine["params"]):
                param_of[idx] = p
            settings = {k: v for k, v in saved.items() if k != "params"}
            if set(settings) - {"name"} != set(self.defaults):
                raise ValueError(f"{who}: the state's settings {sorted(settings)} are not those of "
                                 f"{type(self).__name__} {sorted(self.defaults)}{where}; it comes from another "
                                 f"optimizer")
            new_groups.append(self._check({**settings, "params": mine["params"]}, who, where))

    def _state_of(self, p, buffers, who):
        if not isinstance(buffers, Mapping) or not set(buffers) <= self._STATE_KEYS:
            raise ValueError(f"{who}: expected buffers named from {sorted(self._STATE_KEYS)}, got "
                             f"{sorted(buffers) if isinstance(buffers, Mapping) else type(buffers).__name__}")
        out = {}
        for key, value in buffers.items():
            if key not in self._STATE_ARRAYS or value is None:
                out[key] = value
                continue
            arr = np.asarray(value)
            if arr.shape != p.shape or arr.dtype != p.dtype:
                raise ValueError(f"{who}: {key} is {arr.dtype} of shape {arr.shape}; the parameter is {p.dtype} of "
                                 f"shape {p.shape}")
            # A scalar parameter keeps Python-float buffers (as its steps make them); a tensor gets its own copy.
            out[key] = float(arr) if p.data.__class__ is float else np.array(arr, copy=True)
        return out

    def _step_group(self, group, changed: list):
        """Update the parameters of one group that have a gradient, and append each to `changed`."""
        raise NotImplementedError

    @staticmethod
    def _grad(p):
        g = p.grad
        if isinstance(g, Value):  # after backward(create_graph=True)
            g = g.data
        return g

    def _gradients(self, group, changed):
        """(p, g) for each parameter of `group` that has a gradient, appended to `changed`; g is negated under
        maximize (ascent: the negated gradient, before decay and momentum, as in PyTorch)."""
        for p in group["params"]:
            g = self._grad(p)
            if g is None:
                continue
            changed.append(p)
            yield p, (-g if group["maximize"] else g)

    @staticmethod
    def _apply(p, delta):
        if p.data.__class__ is float:
            p.data = p.data - float(delta)
        else:
            p.data -= delta  # in place: the model, the optimizer and any view of the array stay in step


class SGD(Optimizer):
    """Gradient descent, as PyTorch's torch.optim.SGD computes it:

        g = grad + weight_decay * p                   (L2 added to the gradient)
        b = g at the first step, then momentum * b + (1 - dampening) * g
        g = g + momentum * b if nesterov else b       (when momentum > 0)
        p = p - lr * g

    >>> from tinygrad_nn import Value
    >>> w = Value(3.0)
    >>> optimizer = SGD([w], lr=0.1)
    >>> for _ in range(2):
    ...     optimizer.zero_grad()
    ...     (w * w).backward()            # the gradient is 2w
    ...     optimizer.step()
    >>> round(w.data, 6)                  # 3 -> 2.4 -> 1.92
    1.92
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))
        self._buffers = {}  # plain SGD's lr * g goes into a buffer kept between steps: no allocation per step

    _STATE_KEYS = _STATE_ARRAYS = frozenset({"momentum_buffer"})

    def _check(self, s, who, where="", explicit=None):
        s = super()._check(s, who, where)
        w = who + where
        s["momentum"] = _number(s["momentum"], "momentum", w, lambda v: 0.0 <= v < 1.0, "in [0, 1)")
        s["dampening"] = _number(s["dampening"], "dampening", w, lambda v: 0.0 <= v <= 1.0, "in [0, 1]")
        s["weight_decay"] = _check_weight_decay(s["weight_decay"], w)
        _check_flag(s, "nesterov", w)
        _check_flag(s, "maximize", w)
        # As in PyTorch, a group that inherits nesterov=True but sets momentum 0 is plain SGD; a group that asks
        # for Nesterov itself must make sense.
        checked = explicit is None or "nesterov" in explicit
        if checked and s["nesterov"] and (s["momentum"] <= 0 or s["dampening"] != 0):
            raise ValueError(f"{w}: Nesterov momentum needs a momentum > 0 and zero dampening, got momentum "
                             f"{s['momentum']} and dampening {s['dampening']}")
        return s

    def _step_group(self, group, changed):
        lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
        buffers = self._buffers
        for p in group["params"]:
            g = p.grad
            if g is None:  # no gradient reached this parameter
                continue
            changed.append(p)
            if g.__class__ is np.ndarray and not wd and not momentum and not group["maximize"]:
                # Plain SGD on a tensor, the common case (benchmarks W2 and W3 time it): lr * g into a buffer
                # kept between steps, then one in-place subtraction. No allocation, no extra call.
                buf = buffers.get(p)
                if buf is None or buf.shape != g.shape or (buf.dtype is not g.dtype and buf.dtype != g.dtype):
                    buf = buffers[p] = np.empty_like(g)
                p.data -= np.multiply(g, lr, out=buf)
                continue
            g = self._grad(p)
            if group["maximize"]:  # ascend: the negated gradient, before decay and momentum, as in PyTorch
                g = -g
            if wd:
                g = g + wd * p.data  # a new array: the parameter's .grad stays what backward gave
            if momentum:
                g = self._momentum(p, g, momentum, group["dampening"], group["nesterov"])
            self._apply(p, lr * g)

    def _momentum(self, p, g, momentum, dampening, nesterov):
        state = self.state.setdefault(p, {})
        b = state.get("momentum_buffer")
        if b is None:
            # A copy: g may be the parameter's own .grad array, which zero_grad(set_to_none=False) clears in place.
            b = np.array(g, copy=True) if g.__class__ is not float else g
        elif b.__class__ is float:
            b = momentum * b + (1.0 - dampening) * g
        else:
            b *= momentum  # the buffer is ours alone: updated in place, as PyTorch does
            b += g if dampening == 0 else (1.0 - dampening) * g
        state["momentum_buffer"] = b
        return g + momentum * b if nesterov else b


class Adam(Optimizer):
    """Adam (Kingma & Ba), as PyTorch's torch.optim.Adam computes it, per parameter with its own step count t:

        g = grad + weight_decay * p                   (L2 added to the gradient, not AdamW's decoupled decay)
        m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g²
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    amsgrad=True puts the largest v so far in place of v; maximize=True ascends (g = -grad first).

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> w = Value(np.array([1.0, -2.0]))
    >>> optimizer = Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); optimizer.step()
    >>> w.data                            # Adam's first step moves each weight by about lr, against its gradient
    array([ 0.9, -1.9])
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    _STATE_KEYS = frozenset({"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"})  # the last with amsgrad only
    _STATE_ARRAYS = frozenset({"exp_avg", "exp_avg_sq", "max_exp_avg_sq"})

    def _state_of(self, p, buffers, who):
        out = super()._state_of(p, buffers, who)
        if set(out) - {"max_exp_avg_sq"} != {"step", "exp_avg", "exp_avg_sq"}:
            raise ValueError(f"{who}: Adam needs ['exp_avg', 'exp_avg_sq', 'step'] (and max_exp_avg_sq with amsgrad), "
                             f"got {sorted(out)}")
        step = out["step"]
        if isinstance(step, (np.ndarray, np.generic)) and np.ndim(step) == 0:
            step = step.item()
        if not _real(step) or step != int(step) or step < 1:
            raise ValueError(f"{who}: step must be a whole number >= 1, got {step!r}")
        out["step"] = int(step)
        return out

    def _check(self, s, who, where="", explicit=None):
        s = super()._check(s, who, where)
        w = who + where
        betas = s["betas"]
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2 and all(map(_real, betas))):
            raise TypeError(f"{w}: betas must be a pair of numbers (beta1, beta2), got {betas!r}")
        if not all(0.0 <= b < 1.0 for b in betas):  # NaN fails this too
            raise ValueError(f"{w}: betas must both lie in [0, 1), got {betas!r}; the usual choice is (0.9, 0.999)")
        s["betas"] = (float(betas[0]), float(betas[1]))
        s["eps"] = _number(s["eps"], "eps", w, lambda v: math.isfinite(v) and v >= 0,
                           "a finite number >= 0 (the usual choice is 1e-8)")
        s["weight_decay"] = _check_weight_decay(s["weight_decay"], w)
        _check_flag(s, "amsgrad", w)
        _check_flag(s, "maximize", w)
        return s

    _decoupled = False  # AdamW: weight decay shrinks the parameter itself instead of entering the gradient

    def _step_group(self, group, changed):
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        for p, g in self._gradients(group, changed):
            if wd and self._decoupled:
                if p.data.__class__ is float:
                    p.data = p.data * (1.0 - lr * wd)
                else:
                    p.data *= 1.0 - lr * wd
            elif wd:
                g = g + wd * p.data
            state = self.state.get(p)
            if state is None:
                zero = 0.0 if g.__class__ is float else np.zeros_like(g)
                state = self.state[p] = {"step": 0, "exp_avg": zero, "exp_avg_sq": zero}
            state["step"] = t = state["step"] + 1
            m = state["exp_avg"] = b1 * state["exp_avg"] + (1.0 - b1) * g
            v = state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1.0 - b2) * (g * g)
            if group["amsgrad"]:  # the largest second moment so far, as PyTorch's AMSGrad keeps it
                v = state["max_exp_avg_sq"] = np.maximum(state.get("max_exp_avg_sq", v), v)
            step_size = lr / (1.0 - b1 ** t)
            denom = np.sqrt(v) / math.sqrt(1.0 - b2 ** t) + eps
            self._apply(p, step_size * m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as PyTorch's torch.optim.AdamW computes it: first
    p = p (1 - lr weight_decay), then Adam's step with the plain gradient. The default weight_decay is 0.01, as
    there.

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> w = Value(np.array([1.0]))
    >>> opt = AdamW([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w.data.round(6)                     # 1 * (1 - 0.1 * 0.01) - 0.1 * (sign of the gradient)
    array([0.899])
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize)
