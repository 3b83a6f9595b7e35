"""The README's table of ops, made from the ops' own declarations (so it never goes stale: a test compares them).

    python -m tinygrad_nn.ops.catalog              # print the table
    python -m tinygrad_nn.ops.catalog --write README.md

One row per public function of `tinygrad_nn.ops`: its family (the file it lives in), how many tensor inputs
it takes, to what order it is differentiable, and whether it takes Python-float (scalar) payloads: the facts
each op declares in `defop` (and each function composed of ops in `composite`). The property tests check
those facts against the function's OpInfo (tests/ops/test_catalog.py).
"""

from __future__ import annotations

import sys

from . import Op
from . import __all__ as PUBLIC

BEGIN, END = "<!-- op table: begin (python -m tinygrad_nn.ops.catalog --write README.md) -->", "<!-- op table: end -->"
_REGISTRY = {"Facts", "OPS", "Op", "composite", "defop"}


def _order(facts) -> str:
    if facts.order == 0:
        return f"none ({facts.note})" if facts.note else "none"
    return f"{facts.order} ({facts.note})" if facts.note else str(facts.order)


def rows():
    """(name, family, inputs, order, scalars) for every public function."""
    module = sys.modules[__package__]
    out = []
    for name in sorted(set(PUBLIC) - _REGISTRY):
        fn = getattr(module, name)
        facts = getattr(fn, "facts", None)
        if facts is None:
            raise LookupError(f"catalog: {name} declares no facts; define it with defop, or decorate it with "
                              f"@composite(...) (see tinygrad_nn/ops/registry.py)")
        family = (fn.prepare or fn.forward if isinstance(fn, Op) else fn).__module__.rpartition(".")[2]
        out.append((name, family, str(facts.inputs), _order(facts), "yes" if facts.scalars else "no"))
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
