"""The op table: `Op`, a primitive (a forward beside its gradient rule), `OPS`, every op by name, and `defop`.

A rule has the signature ``vjp(g, ans, *inputs, **params) -> one gradient per input`` where `g` is the
gradient of the output, `ans` the output and `inputs` the op's inputs (or a tuple of rules, one per input,
when some inputs are often constants and their gradient is costly). Rules are written with the ops
themselves (``g * ans``, ``broadcast_to(g, shape)``...), so the same rule runs on bare numpy payloads in an
ordinary backward pass and on Values when ``backward(create_graph=True)`` asks for a differentiable one.
A rule never un-broadcasts: the engine sums each gradient to its input's shape, once, centrally
(backward.run_rules).

Add an op of your own in a few lines (see examples/custom_op.py):

>>> import numpy as np
>>> from tinygrad_nn import Value
>>> from tinygrad_nn.ops import defop, exp, log
>>> softplus = defop("softplus_doc", forward=lambda x: np.logaddexp(0.0, x),
...                  vjp=lambda g, ans, x: (g * (1 - exp(-ans)),))
>>> x = Value(0.0); softplus(x).backward(); x.grad
0.5
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from .apply import apply


class Op(str):
    """A primitive of the graph. Call it with Values (it records a node) or plain payloads (it does not).

    An Op is also the string of its name, so that code written for micrograd, which reads a node's `_op`
    as a label (its graph-drawing code, for one), keeps working.

    >>> from tinygrad_nn import Value, exp
    >>> exp, exp(0.0)                       # on a plain number it just computes
    (<op exp>, 1.0)
    >>> y = exp(Value(0.0)); y._op is exp, y._op == "exp"
    (True, True)
    """

    def __new__(cls, name: str, forward: Callable, vjp, hint: str = "", doc: str | None = None):
        op = super().__new__(cls, name)
        op.forward = forward
        if callable(vjp):
            op.vjp, op.vjps = vjp, None
        else:
            # One rule per input, as in HIPS autograd: the engine runs only the rules of the inputs that
            # need a gradient (the data batch into a layer needs none, and its rule is a whole matmul).
            op.vjps = tuple(vjp)
            op.vjp = lambda g, ans, *inputs, **params: tuple(r(g, ans, *inputs, **params) for r in op.vjps)
        op.hint = hint
        op.__doc__ = doc or forward.__doc__
        return op

    @property
    def name(self) -> str:
        return str.__str__(self)

    # PyTorch's names for the inputs (torch.matmul(input, other), torch.exp(input)), so that code written for it
    # runs: matmul(input=a, other=b), x.matmul(other=y). An op whose inputs PyTorch names otherwise gets its own
    # names (linear: input, weight, bias).
    input_names: tuple = ("input", "other")

    def __call__(self, *inputs, **params):
        if params and not params.keys().isdisjoint(self.input_names):
            inputs = _named_inputs(self, inputs, params)
        return apply(self, inputs, params)

    def __repr__(self):
        return f"<op {self.name}>"

    # An op is pickled (and copied) by name: the table holds the one op of each name.
    def __reduce__(self):
        return _op_named, (self.name,)

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self

    # Ops are compared and hashed by identity: two ops may not share a name, but a str would say equal.
    __eq__ = object.__eq__
    __hash__ = object.__hash__


def _named_inputs(op, inputs, params):
    """The inputs given by position, then those given by name (taken out of params), in the op's order."""
    inputs = list(inputs)
    names = op.input_names
    for name in names[:len(inputs)]:
        if name in params:
            raise TypeError(f"{op.name}: got two values for its input {name!r} (one by position, one by name)")
    for name in names[len(inputs):]:
        if name not in params:
            break
        inputs.append(params.pop(name))
    stray = [n for n in names if n in params]
    if stray:
        raise TypeError(f"{op.name}: input {stray[0]!r} given by name, but an input before it is missing; its inputs "
                        f"are {list(names)}")
    return inputs


OPS: dict[str, Op] = {}
"""Every registered op by name, the built-in ones and those made with `defop`.

>>> from tinygrad_nn import OPS, exp
>>> OPS["exp"] is exp
True
"""


def _op_named(name: str) -> Op:
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"unpickling: no op named {name!r} is registered; import the module that defines it "
                       f"(with defop) before loading") from None


# The ops tinygrad_nn defines itself, fixed when the package has imported (tinygrad_nn/__init__.py calls
# _seal_builtins): a name of these is never taken over, while a user's own op may be defined again. An op a
# module of the package registers later (on its own import) is known by where its forward is defined.
_BUILTIN_OPS: frozenset[str] = frozenset()


def _seal_builtins() -> None:
    global _BUILTIN_OPS
    _BUILTIN_OPS = frozenset(OPS)


def _replacing(caller: str, what: str, name: str, fn) -> None:
    """Allow registering `name` again, with a warning: a notebook cell that defines an op, run a second time (or
    two snippets that both define "softplus") replaces the earlier definition. A built-in op is refused; `fn`
    is the function registered under the name now (its module tells a late built-in op)."""
    fn = fn.forward if isinstance(fn, Op) else fn  # an Op's __module__ is its class's
    if name in _BUILTIN_OPS or (getattr(fn, "__module__", None) or "").startswith("tinygrad_nn."):
        raise ValueError(f"{caller}: {name!r} is a built-in op of tinygrad_nn and cannot be replaced; "
                         f"pick another name for yours")
    warnings.warn(f"{caller}: replacing the {what} named {name!r} registered earlier (a cell run again?); Values "
                  f"computed before keep the old definition", UserWarning, stacklevel=3)


def defop(name: str, forward: Callable, vjp, hint: str = "", doc: str | None = None) -> Op:
    """Register a primitive: `forward(*payloads, **params)` and `vjp(g, ans, *inputs, **params)`, which
    returns one gradient per input; or `vjp` as a tuple of such rules, one per input, each returning its
    input's gradient (then only the rules of inputs that need a gradient run).

    Inputs are positional (Values, numbers or arrays; they may receive gradients); static parameters
    such as an axis or a shape are keywords. `hint` is appended to error messages raised by the forward.

    >>> from tinygrad_nn import Value
    >>> cube = defop("cube_defop_doc", forward=lambda x: x ** 3, vjp=lambda g, ans, x: (3 * g * x ** 2,),
    ...              doc="x cubed")
    >>> x = Value(2.0); cube(x).backward(); x.grad
    12.0
    """
    if name in OPS:
        _replacing("defop", "op", name, OPS[name].forward)
    op = Op(name, forward, vjp, hint, doc)
    OPS[name] = op
    return op
