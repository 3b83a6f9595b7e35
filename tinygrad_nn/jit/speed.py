"""How a generated program is compiled for speed: the same calls, spelled the way numpy runs them fastest.

`step.trace()` shows the program as written (`np.add(a, b, out=buf)`: readable, the way numpy's documentation
writes it). The function that replays is compiled (build.py) from that source after two rewrites of the lines
emit.py writes, neither of which changes which function runs on which operands:

- `np.add(a, b, out=buf)` becomes `np_add(a, b, buf)`: numpy parses a positional `out` faster than a keyword,
  and `np_add` is one global lookup where `np.add` is a global and an attribute (`np.maximum` and `np.minimum`
  keep `out=`, since numpy 2.4 deprecates a positional one for them); `np.matmul(a, b)` becomes
  `np_matmul(a, b)`;
- `np.add.reduce(a, axis=0, keepdims=False, out=buf)` becomes `np_add_reduce(a, 0, None, buf, False)` (the
  positional order of `ufunc.reduce`: array, axis, dtype, out, keepdims).

On the book's 12-3-2 step (benchmark W2: about 45 numpy calls on arrays of 64 x 3 and smaller, where a call's
overhead is its cost) they take the replay from about 41 µs to about 37.5 µs, against 35 µs for the numpy step
written by hand (`python -m benchmarks --workloads 2`); on W3's large arrays they change nothing measurable.
They are regular expressions over lines of known shape, not a syntax tree: compiling the program stays as cheap
as compiling its source (a tree costs milliseconds, a fifth of W2's recording).

>>> import numpy as np
>>> src = "def replay(x):\\n    np.multiply(x, 2.0, out=buf)\\n    return (buf,)\\n"
>>> print(fast_source(src, {"np": np}))
def replay(x):
    np_multiply(x, 2.0, buf)
    return (buf,)
<BLANKLINE>
"""

from __future__ import annotations

import re

import numpy as np

# numpy 2.4 deprecates a positional out for these (a third operand reads as "more inputs"): they keep `out=`
_KEYWORD_OUT = frozenset({"maximum", "minimum"})
_OPERAND = r"-?[\w.]+"  # a name, an attribute (x.T, P.grad) or a number: what emit.py passes to a ufunc
_UFUNC_CALL = re.compile(rf"\bnp\.(\w+)\(((?:{_OPERAND}, )*{_OPERAND})(?:, out=(\w+))?\)")
_REDUCE_CALL = re.compile(rf"\bnp\.(\w+)\.reduce\(({_OPERAND}), axis=(None|-?\d+|\((?:-?\d+, ?)*-?\d*,?\))"
                          r"(?:, keepdims=(True|False))?(?:, out=(\w+))?\)")


def fast_source(source, ns):
    """The source with the calls above rewritten; the ufuncs they name are added to `ns`."""
    if "np." not in source:
        return source

    def ufunc_call(m):
        name, args, out = m.groups()
        ufunc = getattr(np, name, None)
        if not isinstance(ufunc, np.ufunc) or args.count(", ") + 1 != ufunc.nin or (out and name in _KEYWORD_OUT):
            return m.group()
        bound = _bind(ns, ufunc, f"np_{name}")
        return m.group() if bound is None else f"{bound}({args}, {out})" if out else f"{bound}({args})"

    def reduce_call(m):
        name, array, axis, keepdims, out = m.groups()
        ufunc = getattr(np, name, None)
        if not isinstance(ufunc, np.ufunc):
            return m.group()
        reduce = _REDUCES.get(name)
        if reduce is None:
            reduce = _REDUCES[name] = ufunc.reduce  # one bound method: `ufunc.reduce` makes a new one each time
        bound = _bind(ns, reduce, f"np_{name}_reduce")
        if bound is None:
            return m.group()
        return f"{bound}({array}, {axis}, None, {out or 'None'}, {keepdims or 'False'})"

    lines = source.split("\n")
    for k, line in enumerate(lines):
        if "np." in line:
            line = _UFUNC_CALL.sub(ufunc_call, line)
            lines[k] = _REDUCE_CALL.sub(reduce_call, line) if ".reduce(" in line else line
    return "\n".join(lines)


_REDUCES: dict = {}


def _bind(ns, obj, name):
    ns.setdefault(name, obj)
    return name if ns[name] is obj else None
