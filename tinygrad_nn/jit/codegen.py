"""From a recording to Python source: one straight line per instruction, no graph, no walk, no dispatch.

Every instruction that nothing needs is dropped first (a forward's inner computations, the gradient of an input
no rule reads...); effects (an optimizer's step) and deposits always stay. Then `emit.py` may turn a call into
numpy written with `out=` into a buffer planned once (`plan.py`); any other call stays a call of the very
function the eager run called, so that its bits cannot differ.
"""

from __future__ import annotations

import keyword
import math
import re

import numpy as np

from .buffers import allocate, plan
from .ir import Arg, KwSlot


def live_instructions(rec, outputs):
    """The instructions the results need, in order (dead code removed)."""
    return drain(live_instruction_steps(rec, outputs))


def drain(steps):
    """Run a resumable step (a generator, see `generate_steps`) to its end; its return value."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def live_instruction_steps(rec, outputs):
    used = set(s for s in outputs if s is not None)
    keep = []
    for k, ins in enumerate(reversed(rec.instrs)):
        if not k & 255:
            yield
        if ins.kind in ("effect", "deposit") or any(s in used for s in ins.outs if s is not None):
            keep.append(ins)
            for a in ins.args:
                if a.__class__ is int:
                    used.add(a)
            for v in ins.kwargs.values():
                if v.__class__ is KwSlot:
                    used.add(v.slot)
    keep.reverse()
    return keep, used


def _ident(name: str) -> str:
    name = re.sub(r"\W", "_", name)
    if not name or name[0].isdigit() or keyword.iskeyword(name):
        name = "_" + name
    return name


class Namer:
    """Names for the generated module's globals: functions by their own names, constants as c0, c1..."""

    def __init__(self):
        self.globals = {"np": np, "math": math}
        self.by_id = {}

    def name(self, obj, hint):
        key = id(obj)
        n = self.by_id.get(key)
        if n is not None:
            return n
        base = _ident(hint)
        n, k = base, 1
        while n in self.globals:
            n, k = f"{base}_{k}", k + 1
        self.globals[n] = obj
        self.by_id[key] = n
        return n

    def const(self, value):
        if value is None or value is True or value is False:
            return repr(value)
        if value.__class__ is float and value == value and value not in (float("inf"), float("-inf")):
            return repr(value)
        if value.__class__ is int:
            return repr(value)
        return self.name(value, "c")


_NUMBERED = ("v", "t", "δ", "x")


def display_names(rec):
    """A Python name per slot: v0, v1... (forward values), δ0, δ1... (gradients), t0... (other payloads), x0...
    (arguments), a parameter by its own name."""
    return drain(display_name_steps(rec))


def display_name_steps(rec):
    names, taken, counts = [], set(), {}
    grad_of = getattr(rec, "grad_of", {})

    def unique(n):
        base, k = n, 1
        while n in taken:
            n, k = f"{base}_{k}", k + 1
        taken.add(n)
        return n

    for i, n in enumerate(rec.names):
        if not i & 1023:
            yield
        if i in grad_of:
            names.append(None)  # named below, after the value it is the gradient of
            continue
        if n in _NUMBERED:
            k = counts.get(n, 0)
            counts[n] = k + 1
            n = f"{n}{k}"
        else:
            n = _ident(n)
        names.append(unique(n))
    for k, (i, of) in enumerate(grad_of.items()):
        if not k & 1023:
            yield
        names[i] = unique("δ" + (names[of] or "") if names[of] and not names[of].startswith("_") else
                          "δ" + (names[of] or "_"))
    return names


def leaf_hint(leaf) -> str:
    """The generated code's name for a leaf Value (a parameter): P_ and its name."""
    return "P_" + (leaf.name or "leaf")


def _fn_name(ins) -> str:
    name = getattr(ins.fn, "__name__", "f")
    if name.startswith("<") or name.startswith("_lambda"):
        what = ins.what
        if what.startswith("rule of "):
            rest = what[len("rule of "):].split(" (input ")
            name = rest[0] + "_rule" + (rest[1].rstrip(")") if len(rest) > 1 else "")
        else:
            name = what + "_forward"
    return name.lstrip("_") or "f"


def generate(rec, arg_is_value, outputs, emitters=None, tap=False):
    """Source of `def replay(A0, A1, ...)` returning the output slots' payloads, and its globals."""
    params, lines, result, globs = drain(generate_steps(rec, arg_is_value, outputs, emitters, tap))
    allocate(plan(lines, result, globs), globs)
    return assemble(params, lines, result), globs


def assemble(params, lines, result, name="replay"):
    """The source of one function: `def name(params):`, the lines, `return result`."""
    src = [f"def {name}({', '.join(params)}):"]
    src += ["    " + line for line in lines]
    src.append(f"    return {result}")
    return "\n".join(src) + "\n"


def generate_steps(rec, arg_is_value, outputs, emitters=None, tap=False):
    """`generate` as resumable steps: a generator that yields every few hundred microseconds of work (jit spreads
    a program's making over calls, see build.py) and returns (parameters, body lines, result expression, globals).
    `emitters` is a generator function like emit.plan_and_emit."""
    instrs, used = yield from live_instruction_steps(rec, outputs)
    namer = Namer()
    slot_names = dict(enumerate((yield from display_name_steps(rec))))

    # The function's parameters: an array or number argument under its slot's name (x0, x1...), a Value as A0...
    params = [f"A{i}" for i in range(len(arg_is_value))]
    for k, ins in enumerate(instrs):
        if not k & 1023:
            yield
        if ins.kind == "arg" and not arg_is_value[ins.args[0].index]:
            params[ins.args[0].index] = slot_names[ins.outs[0]]

    def ref(a):
        if a.__class__ is int:
            return slot_names[a]
        if a.__class__ is Arg:
            return params[a.index]
        return namer.const(a.value)

    lines = []
    plan = (yield from emitters(rec, instrs, used, namer, slot_names)) if emitters is not None else {}
    for k, ins in enumerate(instrs):
        if not k & 7:
            yield
        special = plan.get(id(ins))
        if special is not None:
            body = special
        elif ins.kind == "arg":
            i = ins.args[0].index
            if not arg_is_value[i]:
                continue  # the parameter itself
            body = [f"{slot_names[ins.outs[0]]} = A{i}.data"]
        elif ins.kind == "read":
            body = [f"{slot_names[ins.outs[0]]} = {namer.name(ins.args[0].value, leaf_hint(ins.args[0].value))}.data"]
        elif ins.kind == "call":
            fname = namer.name(ins.fn, _fn_name(ins))
            args = [ref(a) for a in ins.args]
            args += [f"{key}={slot_names[v.slot] if v.__class__ is KwSlot else namer.const(v)}"
                     for key, v in ins.kwargs.items()]
            call = f"{fname}({', '.join(args)})"
            if ins.unpack:
                targets = [slot_names[s] if s is not None and s in used else "_" for s in ins.outs]
                body = [f"{', '.join(targets)}{',' if len(targets) == 1 else ''} = {call}"]
            else:
                body = [f"{slot_names[ins.outs[0]]} = {call}"]
        elif ins.kind == "effect":
            fname = namer.name(ins.fn.value, ins.what.replace(".", "_"))
            body = [f"{fname}({', '.join(ref(a) for a in ins.args)})"]
        elif ins.kind == "deposit":
            fname = namer.name(ins.fn, "deposit")
            body = [f"{fname}({', '.join(ref(a) for a in ins.args)})"]
        else:  # pragma: no cover - the recorder makes no other kind
            raise AssertionError(ins.kind)
        if body:  # empty: a constant computed when the program was made (emit.py)
            body[-1] += f"  # {ins.what}" if ins.what else ""
            lines.extend(body)
        if tap:
            for s in ins.outs:
                if s is not None and s in used:
                    lines.append(f"TAP({s}, {slot_names[s]})")
    result = ", ".join(slot_names[s] if s is not None else "None" for s in outputs)
    yield
    lines, result = yield from _propagate_aliases(lines, result)
    lines = yield from _inline_scalars(lines, result)
    return params, lines, f"({result}{',' if len(outputs) == 1 else ''})", namer.globals


_ALIAS = re.compile(r"^([^\W\d]\w*) = ([^\W\d]\w*)(?:  #.*)?$")
_NAME = re.compile(r"[^\W\d]\w*")


def _propagate_aliases(lines, result):
    """Drop the lines that only give a value a second name (`δ5 = δv4`: a rule that passes its gradient on) and
    use the first name where the second was: one line less per add, sub or linear in a scalar graph."""
    alias = {}

    def rename(code):
        return _NAME.sub(lambda m: alias.get(m.group(), m.group()), code)

    out = []
    for k, line in enumerate(lines):
        if not k & 31:
            yield
        m = _ALIAS.match(line)
        if m is not None and m.group(1) != "_":
            alias[m.group(1)] = alias.get(m.group(2), m.group(2))
            continue
        if alias:
            code, sep, comment = line.partition("  # ")
            line = rename(code) + sep + comment
        out.append(line)
    return out, rename(result) if alias else result


# A line of arithmetic on Python floats: names, numbers, + - * /, comparisons, not, a conditional expression,
# math.tanh, parentheses. Nothing it reads can change while the function runs (locals and constants).
_DEF = re.compile(r"^([^\W\d]\w*) = (.+)$")
_TOKEN = re.compile(r"\s*(math\.tanh|[^\W\d]\w*|\d+\.\d*(?:e[-+]?\d+)?|\d+|<=|>=|==|[-+*/()<>])")
_WORDS = frozenset({"if", "else", "not"})


def _is_arithmetic(expr) -> bool:
    pos = 0
    for m in _TOKEN.finditer(expr):
        if m.start() != pos:
            return False
        pos = m.end()
        tok = m.group(1)
        if tok[0].isalpha() and "." not in tok and keyword.iskeyword(tok) and tok not in _WORDS:
            return False
    return pos == len(expr.rstrip())


def _inline_scalars(lines, result):
    """Fold a value used once into the line that uses it, when both lines are arithmetic on floats
    (`t = g * b` and `d = 0.0 + t` become `d = 0.0 + (g * b)`): the same operations in the same order, one line
    of Python less. Values named in the result, and long expressions, stay where they are."""
    uses = {}
    parsed = []
    for k, line in enumerate(lines):
        if not k & 15:
            yield
        code, sep, comment = line.partition("  # ")
        for name in _NAME.findall(code):
            uses[name] = uses.get(name, 0) + 1
        m = _DEF.match(code) if " = " in code and not code.startswith(" ") else None
        ok = m is not None and _is_arithmetic(m.group(2))
        parsed.append((code, sep, comment, m.group(1) if ok else None, m.group(2) if ok else None))
    for name in _NAME.findall(result):
        uses[name] = uses.get(name, 0) + 2
    pending = {}
    out = []
    for k, (code, sep, comment, target, expr) in enumerate(parsed):
        if not k & 15:
            yield
        if target is None:
            for name in _NAME.findall(code):  # a use outside arithmetic: define it here, just before
                if name in pending:
                    out.append(f"{name} = {pending.pop(name)}")
            out.append(code + sep + comment)
            continue
        expr = _NAME.sub(lambda m: f"({pending.pop(m.group())})" if m.group() in pending else m.group(), expr)
        if uses.get(target) == 2 and len(expr) < 160:  # its definition and one use: carry it to the use
            pending[target] = expr
            continue
        out.append(f"{target} = {expr}{sep}{comment}")
    assert not pending, "a value folded into nothing"
    return out


def compile_program(src, globs, name):
    code = compile(src, f"<jit {name}>", "exec")
    ns = dict(globs)
    exec(code, ns)  # noqa: S102 - the source is generated here, from the recording
    return ns["replay"]
