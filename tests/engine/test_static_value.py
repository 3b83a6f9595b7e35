"""`Value` is the class you read: every method is declared in engine/node.py or in the mixins of engine/methods.py
that it inherits, under its own name, and nothing else in the package assigns attributes of `Value`."""

import ast
import inspect
import pathlib

import numpy as np

import tinygrad_nn
from tinygrad_nn import Value, fastpaths
from tinygrad_nn.engine import methods, node

ROOT = pathlib.Path(tinygrad_nn.__file__).parent
HOMES = {ROOT / "engine" / "node.py", ROOT / "engine" / "methods.py"}


def test_every_method_is_declared_in_the_class_or_a_mixin_under_its_name():
    homes = {node.__name__, methods.__name__}
    for name, attr in inspect.getmembers(Value):
        fn = attr.fget if isinstance(attr, property) else attr
        if not inspect.isfunction(fn) or fn.__module__ not in homes:
            continue
        owner = next(c for c in Value.__mro__ if name in vars(c))
        assert fn.__qualname__ == f"{owner.__name__}.{name}", (name, fn.__qualname__)
    for name in ("exp", "sum", "reshape", "T", "__sub__", "__array_ufunc__", "backward", "__add__"):
        defined_in = next(c for c in Value.__mro__ if name in vars(c))
        assert inspect.getmodule(defined_in) in (node, methods), name
    assert Value.exp.__doc__ and Value.sum.__doc__ and Value.backward.__doc__


def test_nothing_outside_the_class_files_assigns_attributes_of_value():
    offenders = []
    for path in ROOT.rglob("*.py"):
        if path in HOMES:
            continue
        for n in ast.walk(ast.parse(path.read_text())):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "setattr" and n.args \
                    and isinstance(n.args[0], ast.Name) and n.args[0].id == "Value":
                offenders.append(f"{path}:{n.lineno}")
            targets = n.targets if isinstance(n, ast.Assign) else [n.target] if isinstance(n, ast.AugAssign) else []
            for t in targets:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "Value":
                    offenders.append(f"{path}:{n.lineno}")
    assert not offenders


def test_switching_the_fast_paths_changes_no_method():
    before = {k: v for k, v in vars(Value).items()}
    fastpaths.disable()
    try:
        assert {k: v for k, v in vars(Value).items()} == before
        x = Value(2.0)
        assert (x * 3.0 + 1.0).data == 7.0
    finally:
        fastpaths.enable()
    assert {k: v for k, v in vars(Value).items()} == before


def test_methods_take_their_parameters_by_position_too():
    x = Value(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.sum(0).data, [3.0, 5.0, 7.0])
    np.testing.assert_array_equal(x.sum(1, True).data, [[3.0], [12.0]])
    assert x.reshape(3, 2).shape == x.reshape((3, 2)).shape == (3, 2)


def test_the_inline_scalar_nodes_are_built_as_node_builds_them():
    from tinygrad_nn.engine.node import _node

    a, b, k = Value(1.5), Value(2.5), Value(3.0, requires_grad=False)
    slots = [s for s in Value.__slots__ if s not in ("_id", "__weakref__")]
    for made, op, x, y in ((a * b, "mul", a, b), (a + b, "add", a, b)):
        ref = _node(made.data, made._op, x, y, None, None)
        assert made.op == op and [getattr(made, s) for s in slots] == [getattr(ref, s) for s in slots]
    const = k * 2.0
    ref = _node(const.data, None, None, None, None, None)
    assert [getattr(const, s) for s in slots] == [getattr(ref, s) for s in slots]
    s = (a * b + a * b) + a * b  # a running sum: one add_n node over the three terms
    ref = _node(s.data, s._op, None, None, s._more, None)
    ref._n = s._n
    assert s.op == "add_n" and [getattr(s, n) for n in slots] == [getattr(ref, n) for n in slots]
