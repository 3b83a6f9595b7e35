"""What every worker shares: the timing loop and the memory probe.

Timing: a few warm-up steps, then steps timed one by one with ``time.perf_counter`` until both a minimum
count and a time budget are reached (or a maximum count). The result of step k is kept until step k+1
has been assigned, so freeing step k's graph (by reference counting) is charged to the timed region,
as it would be in a training loop. With ``gc_off`` the cyclic collector is disabled for the warm-up and
the timed loop (as ``timeit`` does) and the garbage it would have found is collected afterwards,
untimed.
"""

from __future__ import annotations

import gc
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def maxrss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (``getrusage(RUSAGE_SELF).ru_maxrss``)."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 / (1024.0 if sys.platform == "darwin" else 1.0)


@dataclass
class Case:
    """A benchmark case made by a workload's builder.

    step:    one step (forward, backward, update...); returns something that keeps its graph alive, or None
    loss_of: turns step's result into a float (the loss), for the cross-implementation check; or None
    info:    anything worth recording (sizes, node counts...)
    ready:   for a jitted step, whether its program is made: the warm-up goes on until it is (the calls before
             record, then run eagerly while the program is made), so that only replays are timed
    """

    step: Callable[[], Any]
    loss_of: Callable[[Any], float] | None = None
    info: dict = field(default_factory=dict)
    ready: Callable[[], bool] | None = None


def warm_up(case: Case, warmup: int, first: list | None = None):
    """Run the warm-up steps (at least one, and until `case.ready()`); the loss of the first step. `first` (a list)
    receives (wall, CPU) seconds of each of the first two steps: what a fresh process pays before its code is warm,
    which the jitted steps' recording calls are compared with (`run.py`, "calls that record")."""
    loss0 = None
    i = 0
    while i < max(warmup, 2 if first is not None else 1) or (case.ready is not None and not case.ready()
                                                            and i < 100_000):
        t0, c0 = time.perf_counter(), time.process_time()
        res = case.step()
        if first is not None and i < 2:
            first.append((time.perf_counter() - t0, time.process_time() - c0))
        if i == 0 and case.loss_of is not None:
            loss0 = case.loss_of(res)
        res = None
        i += 1
    return loss0


def measure(case: Case, *, warmup: int, min_steps: int, max_steps: int, budget: float, gc_off: bool = False) -> dict:
    step = case.step
    if gc_off:
        gc.disable()
    gc.collect()  # start every process's timed loop from the same clean heap state
    first = []
    loss0 = warm_up(case, warmup, first)
    res = None
    gc.collect()  # garbage of the warm-up (gc_off: what the collector was kept from) is not timed
    if gc_off:
        gc.disable()
    times = []
    clock = time.perf_counter
    begin = clock()
    while len(times) < max_steps:
        t0 = clock()
        res = step()  # the previous step's result is released here, inside the timed region
        t1 = clock()
        times.append(t1 - t0)
        if len(times) >= min_steps and t1 - begin >= budget:
            break
    last = case.loss_of(res) if (case.loss_of is not None and res is not None) else None
    res = None
    gc.enable()
    gc.collect()
    return {"times": times, "loss0": loss0, "loss_last": last, "first_steps_s": [f[0] for f in first],
            "first_steps_cpu_s": [f[1] for f in first]}


def quantile(xs, q: float) -> float:
    """Linear-interpolation quantile (numpy's default), without numpy."""
    s = sorted(xs)
    if not s:
        return float("nan")
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def median(xs) -> float:
    return quantile(xs, 0.5)
