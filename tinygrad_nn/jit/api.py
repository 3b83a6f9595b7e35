"""`jit`: record a function once, replay it as straight-line numpy; a recording per argument signature.

>>> import numpy as np
>>> from tinygrad_nn import Value, jit
>>> w = Value(np.array([1.0, 2.0]))
>>> @jit
... def f(x):
...     return (w * x).sum()
>>> [float(f(np.array([3.0, 4.0])).data) for _ in range(3)]   # records, checks, then makes its program
[11.0, 11.0, 11.0]
>>> float(f(np.array([1.0, 1.0])).data)                        # same signature, new numbers
3.0
"""

from __future__ import annotations

import functools
import threading
import time
import warnings
from collections import OrderedDict

import numpy as np

from ..engine import Value, modes
from . import build, recorder
from .buffers import allocate, give_back
from .build import Builder, program_steps
from .codegen import drain
from .ir import Arg, Const, Instr, same_bound, same_const
from .verify import Verify

ndarray = np.ndarray
_clock = time.perf_counter


class JitError(RuntimeError):
    """What jit refuses: a function it cannot replay faithfully, or a replay that found the world changed.

    >>> import numpy as np
    >>> from tinygrad_nn import Value, jit
    >>> rng = np.random.default_rng(0)
    >>> f = jit(lambda x: (x * rng.random(2)).sum())   # new random numbers every call
    >>> try:
    ...     for _ in range(1000):   # the second call is checked against the first's recording
    ...         _ = f(Value(np.ones(2)))
    ... except JitError as e:
    ...     print("randomness" in str(e), f.replaying)
    True False
    """


class JitWarning(UserWarning):
    """A function (or one signature of it) runs eagerly from now on; the message says why.

    >>> import warnings
    >>> from tinygrad_nn import Value, jit
    >>> f = jit(lambda x: x * 2 if (x * 2).item() > 0 else x)   # .item() steers Python
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     f(Value(1.5)).item()
    3.0
    >>> caught[0].category.__name__
    'JitWarning'
    """


# -- arguments and results as flat lists ---------------------------------------------------------------


def _flatten(tree, leaves, statics):
    """The structure of tree as a hashable description; its dynamic leaves appended to `leaves`."""
    cls = tree.__class__
    if cls is Value or isinstance(tree, Value):
        leaves.append(tree)
        d = tree.data
        return ("V", d.__class__ is float, d.shape if d.__class__ is ndarray else (), d.dtype.str
                if d.__class__ is ndarray else "f", bool(tree.requires_grad))
    if cls is ndarray:
        leaves.append(tree)
        return ("A", tree.shape, tree.dtype.str)
    if cls is float or isinstance(tree, np.floating):
        leaves.append(float(tree))
        return ("f",)
    if cls is tuple or cls is list:
        return (cls.__name__, tuple(_flatten(x, leaves, statics) for x in tree))
    if cls is dict:
        keys = sorted(tree, key=repr)
        return ("dict", tuple(keys), tuple(_flatten(tree[k], leaves, statics) for k in keys))
    try:
        hash(tree)
    except TypeError:
        raise JitError(f"jit: cannot use an argument of type {type(tree).__name__} ({tree!r:.60}); arguments are "
                       f"Values, numpy arrays, numbers, and tuples, lists and dicts of them") from None
    statics.append(tree)
    return ("s", cls.__name__, tree)  # ints, bools, strings, None: part of the signature (as jax's static args)


def _unflatten(desc, it):
    tag = desc[0]
    if tag in ("V", "A", "f", "o"):
        return next(it)
    if tag == "tuple":
        return tuple(_unflatten(d, it) for d in desc[1])
    if tag == "list":
        return [_unflatten(d, it) for d in desc[1]]
    if tag == "dict":
        return {k: _unflatten(d, it) for k, d in zip(desc[1], desc[2])}
    return desc[2]


def _quick_key(args):
    """A signature for positional arguments that are all arrays, Values or floats (None for anything else);
    equal keys mean equal `_flatten` descriptions."""
    key = []
    for a in args:
        c = a.__class__
        if c is ndarray:
            key.append((a.shape, a.dtype))
        elif c is Value:
            d = a.data
            key.append((d.shape, d.dtype, a.requires_grad, 1) if d.__class__ is ndarray else (a.requires_grad, 2))
        elif c is float:
            key.append(3)
        else:
            return None
    return tuple(key)


def _result_leaves(tree, out):
    """The result's structure, its leaves (Values, arrays, numbers, other objects) appended to out."""
    cls = tree.__class__
    if isinstance(tree, Value) or cls is ndarray or cls is float or isinstance(tree, np.generic):
        out.append(tree)
        return ("o",)
    if cls is tuple or cls is list:
        return (cls.__name__, tuple(_result_leaves(x, out) for x in tree))
    if cls is dict:
        return ("dict", tuple(tree), tuple(_result_leaves(v, out) for v in tree.values()))
    out.append(tree)
    return ("o",)


# -- one recording of one signature -------------------------------------------------------------------


class Program:
    """A compiled recording: the generated `replay` function, its source and how to rebuild the results."""

    def __init__(self, rec, arg_is_value, out_slots, out_kinds, desc, name, keep_recording=False, built=None):
        self.arg_is_value = arg_is_value
        self.out_slots = out_slots
        self.out_kinds = out_kinds
        self.desc = desc
        if built is None:  # all at once (build.py makes it a slice per call)
            built = drain(program_steps(_NO_DEADLINE, rec, arg_is_value, out_slots, name))
        self.source, globs, self.replay, self.parts, layout = built
        self.globals = globs
        allocate(layout, globs, self.replay.__globals__)  # now: not while the recordings filled memory
        self.lock = threading.Lock()  # buffers planned once are this program's: one replay at a time
        self.n_instructions = len(rec.instrs)
        self.rec = rec if keep_recording else None  # check=True compares against it
        self.one_value = desc == ("o",) and out_kinds == [("value", None)]
        self.tapped = None
        self.fast = None  # made when the program enters the quick cache (Jitted._advance)

    def __call__(self, leaves):
        with self.lock:
            outs = self.replay(*leaves)
        if self.one_value:  # a training step's loss: the common case, spelled out
            return Value._leaf(outs[0])
        return self.rebuild(outs)

    def rebuild(self, outs):
        return _unflatten(self.desc, iter(_rebuild(outs, self.out_kinds)))


def _rebuild(outs, kinds):
    res = []
    for x, (kind, obj) in zip(outs, kinds):
        if kind == "const":
            res.append(obj)
        elif kind == "value":
            res.append(Value._leaf(x))
        elif kind == "float":
            res.append(float(x))
        else:
            res.append(x)
    return res


class _NoDeadline:
    deadline = float("inf")


_NO_DEADLINE = _NoDeadline()


class _Entry:
    __slots__ = ("recs", "program", "eager", "reason", "builder", "making", "again", "made")

    def __init__(self):
        self.recs = []
        self.program = None
        self.builder = None  # the program being made, a slice per call (build.py)
        self.making = None  # what the finished program is made from: (recording, arg_is_value, outputs)
        self.eager = False
        self.reason = None
        self.again = False  # the second call could not be checked against the first recording: record it too
        self.made = None  # a program finished during a call, installed at the start of the next (api._make)


def _outputs(rec, result):
    """The slots of the result's leaves and how to rebuild each (a fresh Value, an array, a number, or a
    constant returned as it is)."""
    out = []
    desc = _result_leaves(result, out)
    slots, kinds = [], []
    for x in out:
        if isinstance(x, Value):
            if x._op is None and (x.requires_grad or any(x is a for a in rec.arg_objs)):
                slots.append(None)
                kinds.append(("const", x))  # a parameter or an argument: the object itself, as eager returns it
                continue
            s = rec.node_slot.get(id(x))
            if s is None and x.data.__class__ is ndarray:
                s = rec.arr_slot.get(id(x.data))
            if s is None:
                slots.append(None)
                kinds.append(("const", x))
            else:
                slots.append(s)
                kinds.append(("value", None))
        elif x.__class__ is ndarray or isinstance(x, np.generic):
            s = rec.arr_slot.get(id(x))
            slots.append(s)
            kinds.append(("array", None) if s is not None else ("const", x))
        else:
            slots.append(None)
            kinds.append(("const", x))
    for s in slots:
        if s is not None:
            rec.escaped.add(s)
    return desc, slots, kinds


def _first_difference(a, b):
    """Where two recordings of one signature part ways (None if they agree); resumable steps (a generator)."""
    for k, (x, y) in enumerate(zip(a.instrs, b.instrs)):
        if not k & 255:
            yield
        why = _instr_difference(x, y)
        if why:
            return f"at instruction {k} ({x.what}): {why}"
    if len(a.instrs) != len(b.instrs):
        k = min(len(a.instrs), len(b.instrs))
        more = (a if len(a.instrs) > k else b).instrs[k]
        return f"one call ran {len(a.instrs)} instructions and the other {len(b.instrs)} (from {more.what!r} on)"
    return None


def _instr_difference(x, y):
    if x.kind != y.kind or x.what != y.what or x.outs != y.outs or x.unpack != y.unpack:
        return f"the other call ran {y.what!r} here"
    if x.kind == "call" and x.fn is not y.fn:
        return "another function"
    if len(x.args) != len(y.args):
        return "another number of inputs"
    if x.kind == "deposit" and x.args[3].value != y.args[3].value:
        return ("the leaf's .grad was None at this backward in one call and held a gradient in the other; zero the "
                "gradients in the same way before every call (optimizer.zero_grad() inside the function is simplest)")
    for i, (p, q) in enumerate(zip(x.args, y.args)):
        if x.kind == "deposit" and i == 4:
            continue  # zero in one call and not the other: gradients accumulate over calls (see _merge)
        if p.__class__ is not q.__class__:
            return f"input {i} is computed in one call and a constant in the other"
        if p.__class__ is int and p != q:
            return f"input {i} comes from another computation"
        if p.__class__ is Arg and p.index != q.index:
            return f"input {i} is another argument"
        if p.__class__ is Const:
            if x.kind == "effect" and not same_bound(p.value, q.value):
                return "another object"
            if not (x.kind == "effect" or same_const(p.value, q.value) or same_bound(p.value, q.value)):
                return (f"input {i} is a constant made inside the function that differs between calls "
                        f"({_show(p.value)} vs {_show(q.value)})")
    if x.kind == "effect" and not same_bound(x.fn.value, y.fn.value):
        return "another object's method"
    if x.kind == "read" and x.args[0].value is not y.args[0].value:
        return "another leaf"
    if x.kwargs.keys() != y.kwargs.keys() or not all(same_const(x.kwargs[k], y.kwargs[k]) for k in x.kwargs):
        return "other parameters"
    return None


def _differ_message(name, why):
    return (f"jit: two calls of {name} with the same signature did different things, {why}. A recording replays "
            f"one fixed program: randomness (dropout, shuffling), plain numpy on the arguments, or Python control "
            f"flow that depends on values cannot be frozen. Pass such arrays as arguments, compute them with ops, "
            f"or run this function eagerly (this signature runs eagerly from now on)")


def _making(name, clock, first, second, arg_is_value, release):
    """The steps from two recordings to a program: compare them (JitError if they differ), then generate and
    compile (build.py); resumable, as the calls after the recordings run it a slice at a time. (A function of its
    own: the generator must not hold the jitted function or its cache, which hold it.)"""
    why = (yield from _first_difference(first, second)) or (None if first.out[0] == second.out[0] and all(
        a == b or same_const(a[1], b[1]) for a, b in zip(first.out[2], second.out[2])) else
        "the results differ in structure or in a constant")
    if why is not None:
        raise JitError(_differ_message(name, why))
    _merge(first, second)
    del first
    return (yield from program_steps(clock, second, arg_is_value, second.out[1], name, release))


def _merge(first, second):
    """What the compiled recording (the second) keeps of the first: a deposit guards that .grad is zero at
    replay only if it was zero in both calls (zeroed every call, by a hand jit cannot see); zero in the first
    call only means gradients accumulate from call to call. And which constant arrays were made afresh."""
    for x, y in zip(first.instrs, second.instrs):
        for p, q in zip(x.args, y.args):
            if q.__class__ is Const and q.value.__class__ is ndarray:
                # an array made afresh by each call (the backward seed, np.ones(3) in the function) is a value that
                # emit.py may fold; one array in both calls came from outside, and its owner may change it
                q.by_value = p.value is not q.value
        if y.kind == "deposit":
            y.args = y.args[:4] + (Const(bool(x.args[4].value and y.args[4].value)),)


def _show(x) -> str:
    if isinstance(x, ndarray):
        return f"an array of shape {x.shape}"
    return f"{x!r:.40}"


# -- the decorator --------------------------------------------------------------------------------------


class Jitted:
    """A function run through jit (see `jit`): call it as the function; `trace()` prints its program.

    >>> import numpy as np
    >>> from tinygrad_nn import Value, jit
    >>> w = Value(np.array([2.0]))
    >>> f = jit(lambda x: (w * x).sum())
    >>> [f(np.array([3.0])).item() for _ in range(3)], f.signatures
    ([6.0, 6.0, 6.0], 1)
    >>> while not f.replaying:   # one call records, one is checked, the next few make the program
    ...     _ = f(np.array([3.0]))
    >>> "np.multiply" in f.trace(file=open("/dev/null", "w"))
    True
    """

    def __init__(self, fn, check=False, strict=False, max_signatures=8):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.check = check
        self.strict = strict
        self.max_signatures = max_signatures
        self._cache: OrderedDict = OrderedDict()
        self._quick: OrderedDict = OrderedDict()  # _quick_key(args) -> a compiled entry
        self._lock = threading.Lock()
        self._warned = set()
        self._last = None
        self._fast = None  # fast(args): _last's replay if args match its signature, else _MISS

    def __get__(self, obj, objtype=None):  # as a method: bind like a function
        if obj is None:
            return self
        return functools.partial(self.__call__, obj)

    def __call__(self, *args, **kwargs):
        if modes.recorder is not None and recorder.recording_in_this_thread():
            return self.fn(*args, **kwargs)  # inside another jitted function's recording: be part of it
        if not kwargs:  # arrays, Values and numbers only (a training step's usual arguments): a short key
            fast = self._fast  # the latest signature replayed, its check written out (_fast_entry)
            if fast is not None:
                out = fast(args)
                if out is not _MISS:
                    return out
            key = _quick_key(args)
            if key is not None:
                program = self._quick.get(key)
                if program is not None:
                    self._last = program
                    self._fast = program.fast
                    with program.lock:
                        outs = program.replay(*args)
                    return Value._leaf(outs[0]) if program.one_value else program.rebuild(outs)
        leaves, statics = [], []
        desc = _flatten((args, kwargs), leaves, statics)
        with self._lock:
            entry = self._cache.get(desc)
            if entry is None:
                entry = self._cache[desc] = _Entry()
                while len(self._cache) > self.max_signatures:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(desc)
        if entry.eager:
            return self.fn(*args, **kwargs)
        program = entry.program
        if program is None:
            if entry.builder is not None:
                return self._make(entry, args, kwargs, leaves)
            return self._record(entry, desc, leaves, None if kwargs else args)
        self._last = program
        self._fast = None
        if self.check:
            from .check import checked_call

            return checked_call(self, entry, desc, leaves)
        return program(leaves)

    def _record(self, entry, desc, leaves, quick_args=None):
        # The first recording is the one compiled. When its call ends it lets go of the arrays its ops made
        # (Recording.shed): the making computes them again from the values at hand, and checks its lines on those
        # (benchmark W3's peak RSS: no second copy of the step's values while the next calls run). The second
        # call is checked against it (_verify); only when the check cannot follow a call does a second recording
        # run, to be compared with it.
        if len(entry.recs) == 1 and not entry.again:
            return self._verify(entry, desc, leaves, quick_args)
        rec = recorder.Recording(snapshot=False if entry.recs else "lazy")
        recorder.start(rec)
        try:
            call_args = _bind_args(rec, desc, leaves)
            args, kwargs = call_args
            result = self.fn(*args, **kwargs)
            if rec.dead is None:
                rec.verify_watched()
                rec.freeze(rec.mutable_arrays() + [x for x in leaves if x.__class__ is ndarray])
                rec.seal()
                rec.watch = {}  # its last check is done: the copies of the watched leaves go before the making
            out_desc, out_slots, out_kinds = _outputs(rec, result) if rec.dead is None else (None, None, None)
        finally:
            recorder.stop()
        if rec.dead is not None:
            self._go_eager(entry, rec.dead)
            return result
        rec.out = (out_desc, out_slots, out_kinds)
        if not entry.recs:
            rec.drop_graph()  # the program is made from its instructions and values; the check needs no more
            if not self.check:  # (check=True generates from the recording again, and compares with its values)
                rec.shed()
            entry.recs.append(rec)
            return result
        first = entry.recs[0]  # the second recording is compared with the first, which is compiled
        entry.recs = []
        rec.release()
        name = getattr(self.fn, "__name__", "fn")
        release = not self.check  # check=True generates from the recording again
        self._start_making(entry, first, leaves, quick_args,
                           lambda clock, arg_is_value: _making(name, clock, rec, first, arg_is_value, release))
        return result

    def _verify(self, entry, desc, leaves, quick_args):
        """The second call: run eagerly while checked against the first recording (verify.py). If it did the same,
        the program is made from the first recording; if the check could not follow it, the next call records
        again; a difference raises JitError (and the signature runs eagerly from now on)."""
        first = entry.recs[0]
        check = Verify(first)
        recorder.start(check)
        try:
            check.bind(leaves)
            args, kwargs = _unflatten(desc, iter(leaves))
            result = self.fn(*args, **kwargs)
            if check.dead is None:
                check.finish(_outputs(check, result))
        finally:
            recorder.stop()
        name = getattr(self.fn, "__name__", "fn")
        if check.differs is not None:
            entry.recs, entry.eager = [], True
            first.release()
            raise JitError(_differ_message(name, check.differs))
        if check.dead is not None:
            entry.again = True
            return result
        check.merge()
        entry.recs = []
        release = not self.check  # check=True generates from the recording again
        self._start_making(entry, first, leaves, quick_args, lambda clock, arg_is_value: program_steps(
            clock, first, arg_is_value, first.out[1], name, release))
        return result

    def _start_making(self, entry, rec, leaves, quick_args, steps):
        """The program of `rec` is made by the next calls, a slice each (build.py), or now (`build.SLICED` off)."""
        arg_is_value = [isinstance(x, Value) for x in leaves]
        builder = Builder()
        builder.steps = steps(builder.clock, arg_is_value)
        out_desc, out_slots, out_kinds = rec.out
        entry.making = (rec, arg_is_value, out_slots, out_kinds, out_desc)
        entry.builder = builder  # the next calls run eagerly and make the program a slice at a time
        if not build.SLICED:
            with builder.lock:
                self._advance(entry, builder, float("inf"), quick_args)

    def _make(self, entry, args, kwargs, leaves):
        """A call while this signature's program is being made: the making goes on for what is left of
        `build.BUDGET` times the quickest eager run seen, and the function runs eagerly. The slice runs where the
        least of the step's memory is alive, so that the two never hold their arrays at once: right after the
        function's zero_grad drops the gradients, when it does (`Recording.quiet_point`); else before the
        function runs, and the call replays if that slice finished the program (W3: a slice after the function
        ran would add its arrays to the 0.8 MB graph the result holds and the gradients). The first such call
        only runs the function, to learn how long it takes."""
        recorder.hold_gc()
        making = entry.making
        try:
            builder = entry.builder
            quick = None if kwargs else args
            if entry.made is not None and builder is not None:  # finished in the last call's zero_grad
                if self._install_made(entry, builder, quick):
                    return entry.program(leaves)
                return self.fn(*args, **kwargs)
            if builder is None or builder.eager == float("inf"):
                t0 = _clock()
                result = self.fn(*args, **kwargs)
                if builder is not None:
                    builder.eager = min(builder.eager, _clock() - t0)
                return result
            seconds = max((build.BUDGET - 1.0) * builder.eager - builder.given_back, build.MIN_SLICE * builder.eager)
            if making is not None and making[0].quiet_point:
                return self._make_at_quiet_point(entry, builder, seconds, args, kwargs)
            self._slice(entry, builder, seconds)
            if entry.made is not None and self._install_made(entry, builder, quick):
                return entry.program(leaves)  # made: its buffers are allocated, and replace the eager run's
            t0 = _clock()
            result = self.fn(*args, **kwargs)
            builder.eager = min(builder.eager, _clock() - t0)
            return result
        finally:
            recorder.release_gc()
            if making is not None and making[0].shed_arrays:
                t0 = _clock()
                give_back()  # (a megabyte or more of arrays came and went: buffers.give_back)
                if entry.builder is not None:
                    entry.builder.given_back = _clock() - t0  # (inside the call's budget: the next slice is shorter)

    def _make_at_quiet_point(self, entry, builder, seconds, args, kwargs):
        """The function runs eagerly, and the slice right after its zero_grad (recorder.pause_at_quiet_point);
        what goes wrong in the slice is raised when the function has returned, and a finished program is
        installed at the start of the next call (its buffers allocated while no eager graph is alive, and that
        call replays). A call that does not reach a zero_grad makes its slice after the function."""
        spent, caught = [0.0], []

        def at_quiet_point():
            t0 = _clock()
            try:
                self._slice(entry, builder, seconds)
            except BaseException as e:  # noqa: BLE001 - raised after the function, which is eager's own run
                caught.append(e)
            spent[0] = _clock() - t0

        recorder.pause_at_quiet_point(at_quiet_point)
        t0 = _clock()
        try:
            result = self.fn(*args, **kwargs)
        finally:
            ran = recorder.unpause()
        builder.eager = min(builder.eager, _clock() - t0 - spent[0])
        if caught:
            raise caught[0]
        if not ran:
            self._slice(entry, builder, seconds)
        return result

    def _slice(self, entry, builder, seconds):
        """Work on the making for `seconds`, unless another thread is at it. A program it finishes waits in
        `entry.made` (even if the function then raises), for the start of a call to install."""
        if entry.builder is not builder or not builder.lock.acquire(blocking=False):
            return  # finished meanwhile, or another thread is making it
        try:
            if entry.builder is builder and entry.made is None:
                entry.made = self._work(entry, builder, seconds)
        finally:
            builder.lock.release()

    def _install_made(self, entry, builder, args) -> bool:
        """Install the program a slice finished (`entry.made`), once, whichever thread gets there; whether this
        call can replay it."""
        with builder.lock:
            built, entry.made = entry.made, None
            if built is not None:
                self._install(entry, built, args)
        return entry.program is not None and not self.check

    def _advance(self, entry, builder, seconds, args):
        """Work on the program that long; when it is made, install it (for `args`' quick key, if given)."""
        built = self._work(entry, builder, seconds)
        if built is not None:
            self._install(entry, built, args)

    def _work(self, entry, builder, seconds):
        try:
            return builder.advance(seconds)
        except JitError:
            entry.builder, entry.making, entry.eager = None, None, True  # the recordings differ: eagerly from now on
            raise
        except BaseException:
            entry.builder, entry.making = None, None  # record again at the next call
            raise

    def _install(self, entry, built, args):
        rec, arg_is_value, out_slots, out_kinds, out_desc = entry.making
        if not self.check:
            rec.release()  # before the program's buffers are allocated
        program = Program(rec, arg_is_value, out_slots, out_kinds, out_desc, None,
                          keep_recording=self.check, built=built)
        entry.program, entry.builder, entry.making = program, None, None
        self._last = program
        self._fast = None
        key = _quick_key(args) if args is not None and not self.check else None
        if key is not None:
            program.fast = _fast_entry(program, key)
            with self._lock:
                self._quick[key] = program
                while len(self._quick) > self.max_signatures:
                    self._quick.popitem(last=False)

    def _go_eager(self, entry, reason):
        entry.eager = True
        entry.reason = reason
        for rec in entry.recs:  # what a first recording waiting for its check keeps goes now
            rec.release()
        entry.recs = []
        msg = f"jit: {self.__name__} runs eagerly for these arguments: {reason}"
        if self.strict:
            raise JitError(msg)
        if reason not in self._warned:
            self._warned.add(reason)
            warnings.warn(msg, JitWarning, stacklevel=4)

    # -- reading what was made -----------------------------------------------------------------------
    def trace(self, file=None):
        """Print the straight-line program of the latest signature replayed (or recorded), and return it."""
        program = self._last
        if program is None:
            raise JitError(f"jit: {self.__name__} has no program yet; call it until it replays (the first call "
                           f"records, the second is checked, the next few make the program: `.replaying` says "
                           f"when) before asking for its trace")
        print(program.source, end="", file=file)
        return program.source

    @property
    def signatures(self) -> int:
        return len(self._cache)

    @property
    def replaying(self) -> bool:
        """Whether some signature has its program made, so that its calls replay (before that, a signature's
        calls record, then run eagerly while its program is made: build.py)."""
        return any(e.program is not None for e in list(self._cache.values()))


_MISS = object()


def _fast_entry(program, key):
    """fast(args): the program's replay of positional arguments whose `_quick_key` is `key`, or _MISS for any
    others; the check written out for this signature (`x0.__class__ is ndarray and x0.shape == S0 and
    x0.dtype == D0 and ...`), which costs a third of building and hashing the key (W2: 1.6 µs of a 41 µs call).
    Speed: see speed.py for the rest of what makes a replay fast."""
    ns = {"ndarray": ndarray, "Value": Value, "MISS": _MISS, "replay": program.replay, "lock": program.lock,
          "leaf": Value._leaf, "rebuild": program.rebuild}
    names, conds = [], []
    for i, k in enumerate(key):
        x = f"x{i}"
        names.append(x)
        if k == 3:  # a float
            conds.append(f"{x}.__class__ is float")
        elif len(k) == 2 and k[0].__class__ is not tuple:  # a Value around a float: (requires_grad, 2)
            ns[f"R{i}"] = k[0]
            conds.append(f"{x}.__class__ is Value and {x}.data.__class__ is not ndarray and {x}.requires_grad == R{i}")
        elif len(k) == 2:  # an array
            ns[f"S{i}"], ns[f"D{i}"] = k
            conds.append(f"{x}.__class__ is ndarray and {x}.shape == S{i} and {x}.dtype == D{i}")
        else:  # a Value around an array
            ns[f"S{i}"], ns[f"D{i}"], ns[f"R{i}"] = k[:3]
            conds.append(f"{x}.__class__ is Value and {x}.data.__class__ is ndarray and {x}.data.shape == S{i} "
                         f"and {x}.data.dtype == D{i} and {x}.requires_grad == R{i}")
    unpack = f"        {', '.join(names)}, = args\n" if names else ""
    done = "leaf(outs[0])" if program.one_value else "rebuild(outs)"
    src = (f"def fast(args):\n    if len(args) == {len(key)}:\n{unpack}"
           f"        if {' and '.join(conds) or 'True'}:\n"
           f"            with lock:\n                outs = replay({', '.join(names)})\n"
           f"            return {done}\n    return MISS\n")
    exec(compile(src, "<jit fast entry>", "exec"), ns)  # noqa: S102 - written here, from the key
    return ns["fast"]


def _bind_args(rec, desc, leaves):
    """Register the flat arguments with the recording; the (args, kwargs) to call the function with."""
    for i, x in enumerate(leaves):
        rec.arg_objs.append(x)
        if isinstance(x, Value):
            s = rec.new_slot(x.data, x.name or "x", track_float=True)
            rec.node_slot[id(x)] = s
            rec.keep.append(x)
        else:
            s = rec.new_slot(x, "x", track_float=True)
        rec.emit(Instr("arg", args=(Arg(i),), outs=(s,), what=f"argument {i}"))
    return _unflatten(desc, iter(leaves))


def jit(fn=None, *, check=False, strict=False, max_signatures=8):
    """Record `fn` (forward, backward, zero_grad, an optimizer's step) and replay it as straight-line numpy.

    The first call with a given signature (the shapes and dtypes of the array arguments, the structure of the
    arguments, the values of int/str/bool arguments) runs eagerly while recording; the second runs eagerly while
    checked against the recording (jit/verify.py); the next few run eagerly too while the program is made from
    the recording (generated, compiled: a slice per call, each call taking about `jit.build.BUDGET` times an
    eager run, its own included); then calls replay the program. If the second call did something else than the
    first, JitError (and the signature runs eagerly). Parameters' `.data`
    and `.grad` end as eager leaves them.

    check=True: every replay is followed by an eager run from the same state, and the first value that differs
    raises JitError naming the op. strict=True: raise instead of falling back to eager (with a JitWarning) when
    the function does something a recording cannot hold (an .item() that steers Python, printing a Value,
    backward(create_graph=True), a hand-written write to .data or .grad).

    >>> import numpy as np
    >>> from tinygrad_nn import Value, jit
    >>> from tinygrad_nn.optim import SGD
    >>> w = Value(np.array([1.0, -1.0]))
    >>> opt = SGD([w], lr=0.05)
    >>> @jit
    ... def step(x):
    ...     opt.zero_grad()
    ...     loss = ((w * x).sum() - 1.0) ** 2
    ...     loss.backward()
    ...     opt.step()
    ...     return loss
    >>> [round(step(np.array([1.0, 2.0])).item(), 4) for _ in range(4)]   # record, check, then the program
    [4.0, 1.0, 0.25, 0.0625]
    """
    if fn is None:
        return lambda f: Jitted(f, check=check, strict=strict, max_signatures=max_signatures)
    return Jitted(fn, check=check, strict=strict, max_signatures=max_signatures)
