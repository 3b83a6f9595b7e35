"""`Module`: the base of everything with parameters. It finds its parameters and sub-modules by itself, in
its attributes and in any lists, tuples and dicts they hold (nested too), and names them as PyTorch does
(`blocks.0.weight`, `heads.left.bias`).

>>> import numpy as np
>>> from tinygrad_nn import Value
>>> from tinygrad_nn.nn import Module
>>> class Line(Module):
...     def __init__(self):
...         self.slope = Value(2.0)
...         self.offset = Value(np.zeros(1))
...     def forward(self, x):
...         return self.slope * x + self.offset
>>> [name for name, _ in Line().named_parameters()]
['slope', 'offset']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple

import numpy as np

from ..engine import Value, mark_changed


class IncompatibleKeys(NamedTuple):
    """What load_state_dict(strict=False) left out: names the state lacked, and names the model lacks."""

    missing_keys: list
    unexpected_keys: list


def _search(obj, name, memo):
    """(name, parameter) pairs found in `obj`: a Value, a Module, or a list, tuple or dict of them."""
    if isinstance(obj, Value):
        if obj.requires_grad and obj.is_leaf:
            yield name, obj
    elif isinstance(obj, Module):
        if id(obj) not in memo:  # a module held twice (or holding its parent) is walked once
            memo.add(id(obj))
            yield from obj._walk(name + ".", memo)
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            yield from _search(item, f"{name}.{i}", memo)
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from _search(item, f"{name}.{key}", memo)


def _modules_in(obj, name):
    """(name, module) for the modules in `obj` itself or in its (nested) lists, tuples and dicts; the
    modules' own sub-modules are theirs to list."""
    if isinstance(obj, Module):
        yield name, obj
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            yield from _modules_in(item, f"{name}.{i}")
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from _modules_in(item, f"{name}.{key}")


# PyTorch's device names, which Module.to tells from dtypes.
_DEVICES = frozenset({"cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "ipu", "hpu", "mtia"})


class Module:
    """Base class: subclasses set parameters and sub-modules as attributes and define `forward`.

    >>> from tinygrad_nn.nn import MLP
    >>> net = MLP(2, [3, 1]).eval()          # train()/eval() set `training` on every module, as in PyTorch
    >>> net.training, [m.training for m in net.children()]
    (False, [False, False])
    """

    training = True  # train() and eval() set it on an instance and all its sub-modules

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(...)")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def _items(self):
        """(name, value) pairs where parameters and sub-modules are looked for: every attribute. Containers
        (ModuleList, ModuleDict, Sequential, MLP) name theirs by position or key instead."""
        return vars(self).items()

    # -- parameters ---------------------------------------------------------------------------------
    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """(name, parameter) for every Value leaf that requires a gradient, in attribute order; one that
        is shared by two sub-modules is listed once, under its first name. A parameter without a `name` of
        its own takes this one, so that drawings and error messages can say which it is."""
        seen = set()
        for name, p in self._walk(prefix, {id(self)}):
            if p not in seen:
                seen.add(p)
                if p.name is None:
                    p.name = name
                yield name, p

    def _walk(self, prefix, memo):
        for key, attr in self._items():
            yield from _search(attr, f"{prefix}{key}", memo)

    def parameters(self) -> list[Value]:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()

    # -- sub-modules --------------------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for the modules directly inside this one (in attributes, or in lists, tuples and
        dicts held by them), each once."""
        seen = {id(self)}
        for key, attr in self._items():
            for name, m in _modules_in(attr, str(key)):
                if id(m) not in seen:
                    seen.add(id(m))
                    yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "", memo=None) -> Iterator[tuple[str, Module]]:
        """(name, module) for this module (name `prefix`, '' by default) and every module inside it, depth
        first, each once, as in PyTorch.

        >>> from tinygrad_nn.nn import MLP
        >>> [name for name, _ in MLP(2, [3, 1]).named_modules()]
        ['', '0', '2']
        """
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def train(self, mode: bool = True) -> Module:
        """Set `training` on this module and all inside it (returns self). Dropout (and MultiheadAttention's
        and the recurrent layers' dropout) acts only in training; a module of yours may read `self.training`."""
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"train: mode must be True or False, got {type(mode).__name__} {mode!r}")
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self) -> Module:
        """train(False)."""
        return self.train(False)

    def apply(self, fn) -> Module:
        """Call fn(module) on every sub-module and then on this one (PyTorch's order), and return self: the way
        translated code initialises its weights.

        >>> import numpy as np
        >>> from tinygrad_nn.nn import Linear, Sequential
        >>> def init(m):
        ...     if isinstance(m, Linear):
        ...         m.weight.data[...] = 0.5
        >>> net = Sequential(Linear(2, 2), Linear(2, 1)).apply(init)
        >>> net[1].weight.data
        array([[0.5, 0.5]])
        """
        for child in self.children():  # each child's own sub-modules first, then the child: PyTorch's order
            child.apply(fn)
        fn(self)
        return self

    def to(self, *args, dtype=None, device=None) -> Module:
        """PyTorch's Module.to: `to(np.float32)` (or torch.float32, or "float32") converts every parameter's
        data in place (the parameters stay the same Values); `to("cpu")` is accepted and changes nothing, as
        everything here runs on the CPU. Returns self. Convert before making the optimizer, as in PyTorch.

        >>> import numpy as np
        >>> from tinygrad_nn.nn import Linear
        >>> net = Linear(3, 2).to("cpu").to(np.float32)
        >>> {p.dtype.name for p in net.parameters()}, net.double().weight.dtype.name
        ({'float32'}, 'float64')
        """
        from ..creation import numpy_dtype

        for a in args:  # to(device), to(dtype) or to(device, dtype), as PyTorch reads them
            if type(a).__name__ == "device" or (isinstance(a, str) and a.split(":")[0] in _DEVICES):
                device = a
            else:
                dtype = a
        if device is not None and str(device).split(":")[0] != "cpu":
            raise ValueError(f"to: tinygrad_nn runs on the CPU only (numpy), got device {str(device)!r}; use "
                             f"\"cpu\" (or drop the call)")
        if dtype is None:
            return self
        dt = np.dtype(numpy_dtype(dtype))
        if dt.kind != "f":
            raise TypeError(f"to: parameters hold floats, so dtype must be a float type (float64, float32), got {dt}")
        for p in self.parameters():
            if np.asarray(p.data).dtype != dt:
                p.data = np.asarray(p.data).astype(dt)
        return self

    def float(self) -> Module:
        """to(np.float32)."""
        return self.to(np.float32)

    def double(self) -> Module:
        """to(np.float64)."""
        return self.to(np.float64)

    # -- saving and loading -------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """name -> a copy of the parameter's payload as a numpy array (0-d for a scalar parameter)."""
        return {name: np.array(p.data) for name, p in self.named_parameters()}

    def load_state_dict(self, state, strict: bool = True) -> IncompatibleKeys:
        """Copy the arrays of `state` (a state_dict, or what tinygrad_nn.load returns) into the parameters, in
        place. Refused, with a message listing every problem: a name missing from the state or not in the
        model (unless strict=False), a wrong shape, a wrong dtype (convert it first, e.g. .astype(np.float32)),
        a value that is not a real number. Nothing is changed unless every check passes. Returns the names
        that were missing and unexpected, as PyTorch does.

        An array must have the parameter's dtype exactly; a Python number or list (which has no dtype of its
        own) is converted, and refused if a value does not fit (1e300 into float32)."""
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict: expected a dict of name -> array (model.state_dict() or "
                            f"tinygrad_nn.load(path)), got {type(state).__name__}")
        params = dict(self.named_parameters())
        missing = [n for n in params if n not in state]
        unexpected = [n for n in state if n not in params]
        problems = []
        if strict and missing:
            problems.append(f"missing {missing}")
        if strict and unexpected:
            problems.append(f"unexpected {unexpected}")
        # Every value is converted and checked before the first one is assigned: never a half-loaded model,
        # whatever fails (a shape, a dtype, a value too large for float32, under any np.errstate).
        updates = []
        for name, p in params.items():
            if name not in state:
                continue
            new = state[name]
            if isinstance(new, Value):
                new = new.data
            typed = isinstance(new, (np.ndarray, np.generic))
            try:
                new = np.asarray(new)
            except (ValueError, TypeError) as e:
                problems.append(f"{name} is not an array ({e})")
                continue
            if new.dtype.kind not in "fiub":
                problems.append(f"{name} holds {new.dtype}, not real numbers")
            elif new.shape != p.shape:
                problems.append(f"{name} has shape {p.shape} here but {new.shape} in the state")
            elif typed and new.dtype != p.dtype:
                problems.append(f"{name} is {p.dtype} here but {new.dtype} in the state (convert it with "
                                f".astype(np.{p.dtype.name}))")
            else:
                with np.errstate(over="ignore", invalid="ignore"):  # checked just below
                    converted = new.astype(p.dtype)
                if not np.array_equal(np.isfinite(converted), np.isfinite(new)):
                    problems.append(f"{name} holds values too large for {p.dtype} (up to "
                                    f"{np.max(np.abs(new[np.isfinite(new)])):.3g})")
                else:
                    updates.append((p, converted))
        if problems:
            names = strict and (missing or unexpected)
            hint = (" (the state must come from a model of the same architecture" +
                    ("; strict=False loads only the names that match)" if names else ")"))
            if any(" in the state (convert it with " in problem for problem in problems):
                hint += "; model.float() or model.double() converts a whole model (a PyTorch model saves float32)"
            raise ValueError(f"load_state_dict: cannot load into {self!r}: " + "; ".join(problems) + hint)
        for p, new in updates:
            if p.data.__class__ is float:
                p.data = float(new)
            else:
                p.data[...] = new  # in place: optimizers and views of the array see the loaded values
        mark_changed([p for p, _ in updates], "load_state_dict")
        return IncompatibleKeys(missing, unexpected)

    def __repr__(self):
        # As PyTorch prints a module: its sub-modules one per line, by name (a class of its own may say more).
        children = [f"  ({name}): " + repr(m).replace("\n", "\n  ") for name, m in self.named_children()]
        return f"{type(self).__name__}(" + ("\n" + "\n".join(children) + "\n" if children else "") + ")"

    def _repr_html_(self):
        """What Jupyter shows: the repr, then a table of the modules holding parameters, their shapes and
        counts, and the total (tinygrad_nn.viz.notebook)."""
        from ..viz.notebook import module_html

        return module_html(self)


class ModuleList(Module):
    """A list of modules, registered: their parameters are named by position (`0.weight`, `1.bias`), as in
    PyTorch's nn.ModuleList. It has no forward: iterate over it.

    >>> from tinygrad_nn.nn import Layer, ModuleList
    >>> blocks = ModuleList([Layer(2, 2), Layer(2, 1)])
    >>> blocks.append(Layer(1, 1))
    ModuleList(Layer(2, 2, activation='sigmoid'), Layer(2, 1, activation='sigmoid'), Layer(1, 1, activation='sigmoid'))
    >>> [name for name, _ in blocks.named_parameters()][:3]
    ['0.weight', '0.bias', '1.weight']
    """

    def __init__(self, modules: Iterable[Module] = ()):
        self._modules = []
        self.extend(modules)

    def _items(self):
        return ((str(i), m) for i, m in enumerate(self._modules))

    @staticmethod
    def _module(m):
        if not isinstance(m, Module):
            raise TypeError(f"ModuleList: items must be Modules, got {type(m).__name__}; wrap a function in a "
                            f"Module, or keep it in a plain list")
        return m

    def append(self, module: Module) -> ModuleList:
        self._modules.append(self._module(module))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if isinstance(modules, Module) and not isinstance(modules, ModuleList):
            raise TypeError("ModuleList.extend: expected an iterable of Modules, got one Module; use append")
        self._modules.extend([self._module(m) for m in modules])
        return self

    def insert(self, index: int, module: Module):
        self._modules.insert(index, self._module(module))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(self._modules[index])
        return self._modules[index]

    def __setitem__(self, index: int, module: Module):
        self._modules[index] = self._module(module)

    def __delitem__(self, index):
        del self._modules[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward: iterate over it (for m in modules: x = m(x)), "
                                  "or use Sequential")

    def __repr__(self):
        return f"{type(self).__name__}(" + ", ".join(map(repr, self._modules)) + ")"


class ModuleDict(Module):
    """Modules by name, registered: their parameters are named by key (`encoder.weight`), as in PyTorch's
    nn.ModuleDict. Keys are strings without dots (a dot would make names ambiguous); order is kept.

    >>> from tinygrad_nn.nn import Layer, ModuleDict
    >>> heads = ModuleDict({"left": Layer(2, 1), "right": Layer(2, 1)})
    >>> [name for name, _ in heads.named_parameters()]
    ['left.weight', 'left.bias', 'right.weight', 'right.bias']
    """

    def __init__(self, modules=None):
        self._modules = {}
        if modules is not None:
            self.update(modules)

    def _items(self):
        return self._modules.items()

    def __setitem__(self, key: str, module: Module):
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict: keys must be non-empty strings without '.', got {key!r}")
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: values must be Modules, got {type(module).__name__} for key {key!r}")
        self._modules[key] = module

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __delitem__(self, key: str):
        del self._modules[key]

    def __contains__(self, key) -> bool:
        return key in self._modules

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key: str) -> Module:
        return self._modules.pop(key)

    def update(self, modules):
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward: pick a module by key (heads['left'](x))")

    def __repr__(self):
        return f"{type(self).__name__}(" + ", ".join(f"{k}: {m!r}" for k, m in self._modules.items()) + ")"
