"""The buffers a program writes with `out=`: planned while it is made, allocated when it is installed, shared by
liveness.

emit.py names a `Buffer` (a shape and a dtype, no memory) for every value it writes into a buffer planned once:
a slot's value (`buf_v3`), a temporary (`tmp`), a result nobody reads (`scrap`). Nothing is allocated while the
program is made, when the recording's values still fill memory; `allocate` gives the names arrays when the
program is installed (api.py), after the recording is released.

Two buffers of one shape and dtype share one array when their lives do not overlap: a buffer lives from the line
that first writes it to the last line that names it, and a line that reads one buffer and writes another keeps
them apart (an output never aliases an input of its own line, nor of its own instruction, whose lines come one
after the other). The program's source is unchanged: its names stay one per value (`step.trace()` reads as
before), only some of them are bound to the same array. A buffer is shared only when nothing can hold on to its
memory past its last line: every line naming it is a top-level numpy line (`np.f(..., out=b)`,
`x = np.matmul(b.T, y)`, `b[...] = ...`, which give fresh arrays or write in place), never a call kept as a call
(which may return a view of its input), a guarded line, or the result; and its first line overwrites it whole
(`out=b` or `b[...] =`), so that what it held before is never read. Any other buffer keeps an array of its own.

>>> import numpy as np
>>> lines = ["np.exp(x0, out=b1)", "np.negative(b1, out=b2)", "np.log(b2, out=b3)", "y = np.add(b3, 1.0)"]
>>> ns = {n: Buffer((2,), np.dtype(np.float64)) for n in ("b1", "b2", "b3")}
>>> layout = plan(lines, "(y,)", ns)
>>> [names for _, _, names in layout]   # b1 is dead when b3 is written; b2 lives across both lines
[['b1', 'b3'], ['b2']]
>>> allocate(layout, ns)
>>> ns["b1"] is ns["b3"], ns["b1"] is ns["b2"]
(True, False)
"""

from __future__ import annotations

import re

import numpy as np


class Buffer:
    """A buffer to allocate when the program is installed: its shape and dtype (see the module's docstring)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)

    def __repr__(self):
        return f"Buffer({self.shape}, {self.dtype})"


_NAME = re.compile(r"(?<![\w.'\"])[^\W\d]\w*")
# Top-level lines whose reads end with the line: a numpy call (writing out=, or returning a fresh array), or a
# write into a buffer. Calls kept as calls, aliases and arithmetic on names do not match.
_NUMPY_LINE = re.compile(r"^(?:np\.|[^\W\d]\w* = np\.|[^\W\d]\w*\[\.\.\.\] = )")


def _overwrites(code, name, names) -> bool:
    """Whether `code` writes all of `name` without reading it (its only mention, among the line's `names`, is the
    target)."""
    if names.count(name) != 1 or "where=" in code:
        return False
    return code.startswith(name + "[...] = ") or (code.startswith("np.") and code.endswith(f"out={name})"))


def plan(lines, result, namespace):
    """[(shape, dtype, names)]: the buffers of `namespace` named in the program, grouped so that each group can be
    one array (see the module's docstring). A buffer named nowhere is left out."""
    steps = plan_steps(lines, result, namespace)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def plan_steps(lines, result, namespace):
    """`plan` as resumable steps (a generator returning the layout): a program is made a slice per call
    (build.py), and the chain of 100 ops has 429 lines to read."""
    buffers = {n for n, v in namespace.items() if v.__class__ is Buffer}
    if not buffers:
        return []
    first, last, shareable = {}, {}, {}
    for k, line in enumerate(lines):
        if not k & 127:
            yield
        code = line.partition("  # ")[0]
        names = _NAME.findall(code)
        named = {n for n in names if n in buffers}
        if not named:
            continue
        plain = _NUMPY_LINE.match(code) is not None
        for n in named:
            if n not in first:
                first[n] = k
                shareable[n] = plain and _overwrites(code, n, names)
            elif not plain:
                shareable[n] = False
            last[n] = k
    yield
    for n in _NAME.findall(result):
        if n in shareable:
            shareable[n] = False
    groups = []  # [shape, dtype, names, the last line of the latest name, shareable]
    free: dict = {}  # (shape, dtype) -> groups whose latest name is dead by the line being looked at
    for n in sorted(first, key=first.get):
        spec = namespace[n]
        key = (spec.shape, spec.dtype)
        if shareable[n]:
            for g in free.get(key, ()):
                if g[3] < first[n]:
                    g[2].append(n)
                    g[3] = last[n]
                    break
            else:
                free.setdefault(key, []).append([spec.shape, spec.dtype, [n], last[n]])
                groups.append(free[key][-1])
        else:
            groups.append([spec.shape, spec.dtype, [n], float("inf")])
    return [(shape, dtype, names) for shape, dtype, names, _ in groups]


def allocate(layout, *namespaces):
    """An array per group of `layout`, bound to each of its names in each namespace."""
    for shape, dtype, names in layout:
        array = np.empty(shape, dtype)
        for ns in namespaces:
            for n in names:
                ns[n] = array


def give_back():
    """Return to the operating system the heap memory that is free (glibc's `malloc_trim`; nothing elsewhere).
    Called by the calls that make a program: its trials and the values it computes again come and go among
    objects that stay (the program's source, its names), and glibc keeps the pages they leave, so the process's
    resident memory would grow with the making past what eager's steps need (W3: 0.7 MB of 6 MB). It costs
    0.1-0.8 ms a call, so only recordings that let go of a megabyte or more of arrays call it."""
    if _trim[0] is None:
        _trim[0] = _find_trim()
    if _trim[0]:
        _trim[0](0)


def _find_trim():
    import ctypes  # (numpy has imported it already)
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL(None).malloc_trim  # the C library the interpreter runs on
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return False


_trim = [None]
