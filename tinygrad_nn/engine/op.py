"""The op table: `Op`, a primitive (a forward beside its gradient rule), `OPS`, every op by name, `defop`,
`composite` and `Facts` (what an op declares of itself).

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

import inspect
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from .apply import apply


@dataclass(frozen=True)
class Facts:
    """What is true of an op (or of a public function composed of ops) itself, declared where it is defined.

    The README's op table (`python -m tinygrad_nn.ops.catalog`) is made of these, and `Value`'s methods are
    the functions that name them in `methods`.

    inputs:  how many tensor inputs (Values, numbers or arrays, which may get gradients); "n" for a list of them
    scalars: whether Python-float payloads (scalar Values) work, as well as tensors
    order:   to which order it is differentiable: "any", a number, or 0 (no gradient)
    methods: the `Value` methods that call it (`x.exp()`), if any
    note:    why, when order is 0 ("integer result"); "internal" for a primitive that users seldom call

    >>> from tinygrad_nn import sum
    >>> sum.facts.inputs, sum.facts.scalars, sum.facts.order, sum.facts.methods
    (1, True, 'any', ('sum',))
    """

    inputs: int | str = 1
    scalars: bool = True
    order: int | str = "any"
    methods: tuple = ()
    note: str = ""


def _methods(method) -> tuple:
    return (method,) if isinstance(method, str) else tuple(method)


def _signature_counts(fn):
    """(number of leading positional parameters without a default, the names of the positional ones after
    them, whether it takes *args) of `fn`; read from its code object (cheap at import), else its signature."""
    code = getattr(fn, "__code__", None)
    if code is not None and inspect.isfunction(fn):
        names = code.co_varnames[:code.co_argcount]
        required = len(names) - len(fn.__defaults__ or ())
        return required, names, bool(code.co_flags & inspect.CO_VARARGS)
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature: inputs only
        return None, (), True
    names = tuple(p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    required = sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                   and p.default is p.empty)
    return required, names, any(p.kind is p.VAR_POSITIONAL for p in params)


class NoNode:
    """What an op's `prepare` returns for a call that makes no node: its result as it is (astype to integers
    gives plain numpy numbers, which carry no gradient)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class Op(str):
    """A primitive of the graph. Call it with Values (it records a node) or plain payloads (it does not).

    Its inputs come first and positionally; its static parameters (an axis, a shape) follow, by keyword or in
    the order of the forward's signature, as in numpy: `sum(x, 0)` is `sum(x, axis=0)`. An op whose public
    arguments are not simply its inputs and parameters (`concatenate` takes a list, `conv2d` a bias of None)
    declares a `prepare` that turns them into those.

    An Op is also the string of its name, so that code written for micrograd, which reads a node's `_op`
    as a label (its graph-drawing code, for one), keeps working.

    >>> from tinygrad_nn import Value, exp
    >>> exp, exp(0.0)                       # on a plain number it just computes
    (<op exp>, 1.0)
    >>> y = exp(Value(0.0)); y._op is exp, y._op == "exp"
    (True, True)
    """

    def __new__(cls, name: str, forward: Callable, vjp, hint: str = "", doc: str | None = None, *,
                prepare: Callable | None = None, facts: Facts | None = None):
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
        op.prepare = prepare
        op.__doc__ = doc or (prepare.__doc__ if prepare is not None else None) or forward.__doc__
        required, names, variadic = _signature_counts(forward)
        facts = facts or Facts()
        if facts.inputs == "n" or (variadic and facts.inputs is None):
            op.nin, op.param_names = sys.maxsize, ()
        else:
            op.nin = facts.inputs
            op.param_names = names[op.nin:]
        # The number of arguments of a call that goes straight to `apply`: its inputs, with no parameters and no
        # `prepare` to run (-1: none does). One attribute read decides it, for every call of `x.exp()` or `x - y`.
        op.plain_arity = op.nin if prepare is None and op.nin != sys.maxsize else -1
        op.facts = facts
        return op

    @property
    def name(self) -> str:
        return str.__str__(self)

    @property
    def __signature__(self):
        """The signature users call it by: the `prepare`'s if it has one, else the forward's."""
        return inspect.signature(self.prepare if self.prepare is not None else self.forward)

    # PyTorch's names for the inputs (torch.matmul(input, other), torch.exp(input)), so that code written for it
    # runs: matmul(input=a, other=b), x.matmul(other=y). An op whose inputs PyTorch names otherwise declares its
    # own names in defop (linear: input, weight, bias).
    input_names: tuple = ("input", "other")

    def __call__(self, *args, **params):
        if not params and len(args) == self.plain_arity:  # inputs alone, the common call: nothing to bind
            return apply(self, args, params)
        prepare = self.prepare
        if prepare is not None:  # (inline, not a method: x ** y comes this way)
            call = prepare(*args, **params)
            if call.__class__ is NoNode:
                return call.value
            out = apply(self, call[0], call[1])
            return out if len(call) == 2 or call[2] is None else call[2](out)
        if len(args) > self.nin:
            args, params = self._bind(args, params)
        elif params and not params.keys().isdisjoint(self.input_names):
            args = _named_inputs(self, args, params)
        return apply(self, args, params)

    def raw(self, *inputs, **params):
        """The op on its inputs and parameters exactly as its forward takes them, without `prepare`: what
        gradient rules call, whose arguments are already in that form."""
        return apply(self, inputs, params)

    def _bind(self, args, params):
        """Extra positional arguments, named by the forward's parameters after the inputs (x.sum(0, True))."""
        extra, names = args[self.nin:], self.param_names
        if len(extra) > len(names):
            takes = f"the parameters {', '.join(names)}" if names else "no parameters"
            raise TypeError(f"{self.name}: takes {self.nin} input{'s' if self.nin != 1 else ''} and {takes}, but got "
                            f"{len(args)} positional arguments; pass parameters by name ({self.name}(x, "
                            f"{names[0] if names else '...'}=...))")
        params = dict(params)
        for pname, value in zip(names, extra):
            if pname in params:
                raise TypeError(f"{self.name}: got {pname} twice, by position and as {pname}=...; give it once")
            params[pname] = value
        return args[:self.nin], params

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


def defop(name: str, forward: Callable, vjp, hint: str = "", doc: str | None = None, *, prepare: Callable | None = None,
          inputs: int | str | None = None, scalars: bool = True, order: int | str = "any", method=(),
          note: str = "", input_names: tuple | None = None) -> Op:
    """Register a primitive: `forward(*payloads, **params)` and `vjp(g, ans, *inputs, **params)`, which
    returns one gradient per input; or `vjp` as a tuple of such rules, one per input, each returning its
    input's gradient (then only the rules of inputs that need a gradient run).

    Inputs are positional (Values, numbers or arrays; they may receive gradients); static parameters such as
    an axis or a shape follow them, by keyword or by position. `hint` is appended to error messages raised by
    the forward.

    The op's facts (see `Facts`): `inputs` (counted from the forward's parameters without a default unless
    given: give it when a parameter without a default is static, as reshape's shape), `scalars`, `order`,
    `method` (a name or names of `Value` methods that call it) and `note`. `input_names` are the inputs' names
    when given by keyword (PyTorch's, "input" and "other", by default).

    `prepare(*args, **kwargs)`, when the op's public arguments are not its inputs and parameters as the
    forward takes them, returns `(inputs, params)` or `(inputs, params, finish)`, where `finish(out)` makes
    what the caller gets of the op's output (a tuple of pieces, say), or `NoNode(result)` for a call that
    makes no node at all. Its signature and docstring are the op's. Gradient rules call
    `op.raw(*inputs, **params)`, which skips it.

    >>> from tinygrad_nn import Value
    >>> cube = defop("cube_defop_doc", forward=lambda x: x ** 3, vjp=lambda g, ans, x: (3 * g * x ** 2,),
    ...              doc="x cubed")
    >>> x = Value(2.0); cube(x).backward(); x.grad
    12.0
    """
    if name in OPS:
        _replacing("defop", "op", name, OPS[name].forward)
    if inputs is None:
        required, _, variadic = _signature_counts(forward)
        inputs = "n" if variadic or required is None else required
    op = Op(name, forward, vjp, hint, doc, prepare=prepare,
            facts=Facts(inputs, scalars, order, _methods(method), note))
    if input_names is not None:
        op.input_names = tuple(input_names)
    OPS[name] = op
    return op


def composite(fn: Callable | None = None, *, inputs: int | str | None = None, scalars: bool = True,
              order: int | str = "any", method=(), note: str = ""):
    """Declare the facts (see `Facts`) of a public function composed of ops, as defop does for an op:

    >>> from tinygrad_nn.ops import composite, exp, log
    >>> @composite(scalars=True)
    ... def softplus(x):
    ...     return log(1.0 + exp(x))
    >>> softplus.facts.inputs, softplus.facts.order
    (1, 'any')

    `inputs` defaults to "n" for a function of `*args` or of a list named `values` or `operands`, else to the
    number of its positional parameters without a default.
    """

    def declare(f):
        n = inputs
        if n is None:
            required, names, variadic = _signature_counts(f)
            n = "n" if variadic or names[:1] in (("values",), ("operands",)) else required
        f.facts = Facts(n, scalars, order, _methods(method), note)
        return f

    return declare if fn is None else declare(fn)


def doctests(module_name: str) -> dict:
    """The docstrings of the ops defined in a module, for its `__test__` (doctest collects functions and
    classes by itself, but an Op is neither)."""
    return {op.name: op.__doc__ for op in OPS.values()
            if getattr(op.prepare or op.forward, "__module__", None) == module_name and ">>>" in (op.__doc__ or "")}
