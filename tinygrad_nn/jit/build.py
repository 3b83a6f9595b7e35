"""Making a recording's program a slice at a time, so that no call pays for all of it.

Generating a program and compiling it cost far more than the step it replays: CPython's `compile()` alone takes
about 12 µs a line, where an eager op takes 1-5 µs, and the emitter checks every numpy line on values it computes
again. So jit does that work in slices: each call of a signature whose program is still being made works on the
making, where it left off, for what is left of `BUDGET` times the quickest eager run seen (at least `MIN_SLICE`
times it), then runs the function eagerly (as it would without jit, bit for bit); the first such call only runs
the function, to time it, and the call whose slice finishes the program replays it. The steps are a generator
(`codegen.generate_steps`, `emit.plan_and_emit` yield every few dozen microseconds of work).

A program too long to compile within one slice is compiled in parts: functions over consecutive top-level
statements, each taking the local names it reads from earlier parts and returning those that later parts read,
called in order by a short `replay`. The parts run the very lines of the whole program (`step.trace()` prints
them as the one function they make up), so a replay computes the same bits; a part call costs a fraction of a
microsecond.

>>> import numpy as np
>>> from tinygrad_nn import Value, jit
>>> w = Value(np.array([1.0, 2.0]))
>>> f = jit(lambda x: (w * x).sum())
>>> calls = 0
>>> while not f.replaying:   # record, check, then make the program (eagerly) a slice per call
...     assert f(np.array([3.0, 4.0])).item() == 11.0
...     calls += 1
>>> calls > 2, f(np.array([3.0, 4.0])).item()   # the next call replays
(True, 11.0)
"""

from __future__ import annotations

import functools
import re
import threading
import time

from .buffers import plan_steps
from .codegen import assemble, generate_steps
from .emit import plan_and_emit
from .speed import fast_source

#: a call that makes a program may take this many times the quickest eager run seen meanwhile (its own eager run
#: included: the making gets what is left, and at least MIN_SLICE times the eager run: a call preempted by the
#: machine would otherwise leave the making crumbs, and compile the program in many small parts)
BUDGET = 2.2
MIN_SLICE = 0.6
#: False: make the whole program in the second call instead (one slow call; tests/jit uses it so
#: that the third call replays)
SLICED = True
_compile_cost = [0.25e-6]  # seconds per character of compile(): the median of the last compiles measured
_compile_seen: list = []
_clock = time.perf_counter


class Clock:
    """When the current slice ends (`time.perf_counter()` seconds); the steps read it to size what they compile."""

    __slots__ = ("deadline", "budget")

    def __init__(self):
        self.deadline = 0.0
        self.budget = 0.0  # the length of the current slice


class Builder:
    """A program being made: `steps` (a generator given a `clock`, not the builder: no reference cycle keeps an
    abandoned recording alive); `advance(seconds)` works on it that long (at least one step) and returns the
    finished result, or None while there is more to do."""

    def __init__(self, steps=None):
        self.steps = steps
        self.clock = Clock()
        self.lock = threading.Lock()  # a generator runs in one thread at a time; other threads run eagerly
        self.eager = float("inf")  # the quickest eager run seen while making: what a slice is measured against
        self.given_back = 0.0  # what the last call's buffers.give_back took (api._make: within the budget)

    def advance(self, seconds):
        """Work for `seconds` (at least one step); the finished result, or None."""
        self.clock.deadline = _clock() + seconds
        self.clock.budget = seconds
        steps = self.steps
        while True:
            try:
                next(steps)
            except StopIteration as done:
                return done.value
            if _clock() >= self.clock.deadline:
                return None


def program_steps(clock, rec, arg_is_value, out_slots, name, release=False):
    """Generate and compile: returns (source, globals, replay function, number of parts, buffer layout); the
    buffers are allocated when the program is installed (`buffers.allocate`). release=True: the recording's
    values go as the making passes them (emit.plan_and_emit): nothing generates from it again."""
    emitters = functools.partial(plan_and_emit, release=release, clock=clock)
    params, lines, result, globs = yield from generate_steps(rec, arg_is_value, out_slots, emitters=emitters)
    source = assemble(params, lines, result)
    yield
    layout = yield from plan_steps(lines, result, globs)
    replay, parts = yield from compile_steps(clock, params, lines, result, globs, name)
    return source, globs, replay, parts, layout


def _compile(src, ns, name):
    t0 = _clock()
    src = fast_source(src, ns)  # the same calls, spelled as numpy runs them fastest (speed.py)
    exec(compile(src, f"<jit {name}>", "exec"), ns)  # noqa: S102 - the source is generated from the recording
    if len(src) > 500:  # less its fixed cost (~15 µs); a median, as a compile the machine preempted takes far longer
        _compile_seen.append(max((_clock() - t0 - 15e-6) / len(src), 0.05e-6))
        del _compile_seen[:-9]
        _compile_cost[0] = sorted(_compile_seen)[len(_compile_seen) // 2]


def compile_steps(clock, params, lines, result, globs, name):
    """The replay function, compiled whole if it fits in what is left of this slice, else in parts."""
    ns = dict(globs)
    size = [len(line) + 5 for line in lines]
    whole = sum(size) * _compile_cost[0]
    if whole > clock.deadline - _clock() and whole <= clock.budget:
        yield  # fits in a whole slice: the next one (one function replays faster than parts)
    if not lines or whole <= clock.deadline - _clock():
        _compile(assemble(params, lines, result), ns, name)
        return ns["replay"], 1
    starts = _statements(lines)
    stmt = [sum(size[a:b]) for a, b in zip(starts, starts[1:] + [len(lines)])]  # characters per statement
    defined, last_use = yield from _names(lines, result)
    known = dict.fromkeys(params)  # local names bound so far, in order: the parameters, then what parts return
    driver = []
    k = i = 0
    resumed = False
    while i < len(starts):
        room = clock.deadline - _clock()
        if room < max(stmt[i] * _compile_cost[0], clock.budget / 2) and not resumed:
            yield  # less than half a slice left: a part of a whole slice next time (few parts replay faster)
            resumed = True
            continue
        resumed = False
        want = room / _compile_cost[0]  # characters that compile in the time left
        j, got = i + 1, stmt[i]
        while j < len(starts) and got + stmt[j] <= want:
            got += stmt[j]
            j += 1
        a, b = starts[i], starts[j] if j < len(starts) else len(lines)
        body = lines[a:b]
        used = set()
        for line in body:
            used.update(_NAME.findall(line.partition("  # ")[0]))
        if b == len(lines):
            used.update(_NAME.findall(result))
        inputs = [n for n in known if n in used]
        if b == len(lines):
            driver.append(f"return _jit_part{k}({', '.join(inputs)})")
            src = assemble(inputs, body, result, name=f"_jit_part{k}")
        else:
            outputs = [n for n in dict.fromkeys(d for line in range(a, b) for d in defined.get(line, ()))
                       if last_use.get(n, -1) >= b]
            known.update(dict.fromkeys(outputs))
            call = f"_jit_part{k}({', '.join(inputs)})"
            driver.append(f"{', '.join(outputs)}, = {call}" if outputs else call)
            src = assemble(inputs, body, f"({', '.join(outputs)}{',' if len(outputs) == 1 else ''})",
                           name=f"_jit_part{k}")
        _compile(src, ns, name)
        k += 1
        i = j
    src = f"def replay({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in driver)
    if clock.deadline < _clock() + len(src) * _compile_cost[0]:
        yield
    _compile(src, ns, name)
    return ns["replay"], k


_NAME = re.compile(r"(?<![\w.'\"])[^\W\d]\w*")
_TARGETS = re.compile(r"^([^\W\d]\w*(?:, [^\W\d]\w*)*),? = ")


def _statements(lines):
    """The indices of the lines that begin a top-level statement (not indented, not an `else:`)."""
    return [k for k, line in enumerate(lines) if not line.startswith((" ", "else:", "elif "))]


def _names(lines, result):
    """{line: names a top-level assignment there binds} and {name: the last line that reads it} (len(lines) for
    the result). Only top-level assignments count as bindings a later part may read: they always run. Resumable."""
    defined, last_use = {}, {}
    for k, line in enumerate(lines):
        if not k & 255:
            yield
        code = line.partition("  # ")[0]
        m = _TARGETS.match(code)
        if m is not None:
            defined[k] = [n for n in m.group(1).split(", ") if n != "_"]
            code = code[m.end():]
        for n in _NAME.findall(code):
            last_use[n] = k
    for n in _NAME.findall(result):
        last_use[n] = len(lines)
    return defined, last_use
