"""The README's table of ops, made from the op table itself (so it never goes stale: a test compares them).

    python -m tinygrad_nn.ops.catalog              # print the table
    python -m tinygrad_nn.ops.catalog --write README.md

One row per public function of `tinygrad_nn.ops`: its family (the file it lives in), how many tensor inputs
it takes, to what order it is differentiable, and whether it takes Python-float (scalar) payloads. The last
two come from the function's OpInfo, the entry the property tests check it by.
"""

from __future__ import annotations

import inspect
import sys

from . import OPINFOS, Op
from . import __all__ as PUBLIC

BEGIN, END = "<!-- op table: begin (python -m tinygrad_nn.ops.catalog --write README.md) -->", "<!-- op table: end -->"
_REGISTRY = {"ErrorCase", "OPS", "Op", "OpInfo", "defop", "register_test"}
# Functions with no gradient at all, and why (they have no OpInfo: the property tests need a gradient).
NO_GRADIENT = {"argmax": "integer result", "argmin": "integer result", "argsort": "integer result"}
# Primitives that are no user-facing function: tested by tests/ops/test_op_properties.py one by one.
INTERNAL = {"identity", "sum_to", "scatter_add"}


def _infos(name):
    """The OpInfos that check `name`: the one of that name, or else its variants (`pow_2`, `eigh_values`)."""
    if name in OPINFOS:
        return [OPINFOS[name]]
    return [info for key, info in OPINFOS.items() if key.startswith(name + "_")]


def _arity(fn, infos):
    """How many tensor inputs: n for a function of a list (or *args) of them, else the OpInfo's count (the
    signature also lists static parameters such as a shape)."""
    target = fn.forward if isinstance(fn, Op) else fn
    params = list(inspect.signature(target).parameters.values())
    if any(p.kind is p.VAR_POSITIONAL or p.name in ("values", "operands") for p in params):
        return "n"
    if infos:
        return str(infos[0].nargs)
    return str(sum(1 for p in params if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD))


def rows():
    """(name, family, inputs, order, scalars) for every public function."""
    module = sys.modules[__package__]
    out = []
    for name in sorted(set(PUBLIC) - _REGISTRY):
        fn = getattr(module, name)
        family = (fn.forward if isinstance(fn, Op) else fn).__module__.rpartition(".")[2]
        infos = _infos(name)
        if name in NO_GRADIENT:
            order, scalars = f"none ({NO_GRADIENT[name]})", "yes"
        elif name in INTERNAL:
            order, scalars = "any (internal)", "yes"
        elif not infos:
            raise LookupError(f"catalog: {name} has no OpInfo; register_test it (tinygrad_nn/ops/opinfos.py)")
        else:
            order = "any" if all(i.gradgrad for i in infos) else "1"
            scalars = "yes" if any(i.scalar for i in infos) else "no"
        out.append((name, family, _arity(fn, infos), order, scalars))
    return out


def markdown() -> str:
    lines = [BEGIN, "", "| op | family | inputs | differentiable to order | scalar payloads |",
             "| --- | --- | --- | --- | --- |"]
    lines += [f"| `{name}` | {family} | {inputs} | {order} | {scalars} |" for name, family, inputs, order, scalars
              in rows()]
    return "\n".join(lines + ["", END])


def write(path):
    """Replace the table between the markers in the file at `path` (written atomically)."""
    import os

    from .._files import temp_file_beside

    with open(path, encoding="utf-8") as f:
        text = f.read()
    start, stop = text.find(BEGIN), text.find(END)
    if start < 0 or stop < start:
        raise ValueError(f"catalog: {path} has no op table markers; put the lines\n{BEGIN}\n{END}\nwhere it goes")
    tmp = temp_file_beside(path)
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text[:start] + markdown() + text[stop + len(END):])
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write"] and len(sys.argv) == 3:
        write(sys.argv[2])
    else:
        print(markdown())
