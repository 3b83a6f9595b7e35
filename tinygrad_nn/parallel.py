"""The images of a batch shared among threads, one per core (benchmark W7: a convolution layer).

numpy lets go of Python's global lock inside its copies, its arithmetic on arrays and its matrix products,
so Python threads working on different images of one batch run on different cores at once. The convolutions
(ops/conv.py) hand each thread a contiguous part of the batch and write into disjoint slices of one output.

OpenBLAS, numpy's BLAS, splits every product of more than about 260,000 multiply-adds over all the cores
itself. Next to threads of our own that is two threads per core, fighting: measured on two cores, the
filter gradient's products ran at 0.75-0.9x the speed on two of our threads that they had on one. So while
the parts run, OpenBLAS is told to use one thread (through its C function openblas_set_num_threads, as
threadpoolctl does), and its setting is put back afterwards. Where numpy's BLAS is not an OpenBLAS this
module can find (MKL, Apple's Accelerate), the work stays on the calling thread: that BLAS's own threads then
have the cores.

Small jobs stay on the calling thread: handing work to another thread costs tens of microseconds, more than
the book's 6x6 network spends on a whole convolution.

>>> import numpy as np
>>> out = np.zeros(8)
>>> def fill(i, j):
...     out[i:j] = np.arange(i, j)
>>> _ = run_parts(fill, split(8, work=10**9))
>>> out.tolist()
[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

# Multiply-adds below which a job stays on one thread (a W7 step does about 1.4 billion; the book's
# chapter-5 network about 100 thousand).
PARALLEL_WORK = 20_000_000


def cores() -> int:
    """The cores this process may run on (taskset and cgroup CPU sets count; os.cpu_count() does not)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def split(n: int, work: float) -> list[tuple[int, int]]:
    """Contiguous parts (i, j) of n items: one per core when `work` (multiply-adds) is worth it, else one."""
    k = min(n, cores()) if work >= PARALLEL_WORK and _blas() is not None else 1
    k = max(k, 1)
    return [(n * t // k, n * (t + 1) // k) for t in range(k)]


_pool = None
_pool_lock = threading.Lock()


def _executor():
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(1, cores() - 1), thread_name_prefix="tinygrad_nn")
        return _pool


def _forget_pool():
    # A forked child has none of its parent's threads: it makes a pool of its own when it needs one, and
    # gets back the OpenBLAS setting of a run_parts that the fork interrupted.
    global _pool, _pool_lock, _blas_lock, _blas_users
    _pool, _pool_lock = None, threading.Lock()
    if _blas_users and _blas_functions not in (None, _UNKNOWN):
        _blas_functions[1](_blas_saved)
    _blas_lock, _blas_users = threading.Lock(), 0


# -- OpenBLAS's own threads -------------------------------------------------------------------------------

_UNKNOWN = object()
_blas_functions = _UNKNOWN
_blas_lock = threading.Lock()
_blas_users = 0  # run_parts calls under way (in any thread): the first sets one thread, the last puts it back
_blas_saved = 1


def _find_openblas():
    """(get_num_threads, set_num_threads) of the OpenBLAS numpy has loaded, or None. The library is found
    among the process's mapped files (Linux), under the names OpenBLAS builds use: plain, or with numpy's
    wheels' "scipy_" prefix and "64_" suffix."""
    import ctypes

    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = dict.fromkeys(line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line)
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_", "64_"), ("", ""), ("", "64_"), ("scipy_", "")):
            get = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
            set_ = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                get.restype, get.argtypes = ctypes.c_int, []
                set_.restype, set_.argtypes = None, [ctypes.c_int]
                return get, set_
    return None


def _blas():
    global _blas_functions
    if _blas_functions is _UNKNOWN:
        _blas_functions = _find_openblas()
    return _blas_functions


class _blas_on_one_thread:
    def __enter__(self):
        global _blas_users, _blas_saved
        get, set_ = _blas()
        with _blas_lock:
            if _blas_users == 0:
                _blas_saved = get()
                set_(1)
            _blas_users += 1

    def __exit__(self, *exc):
        global _blas_users
        get, set_ = _blas()
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                set_(_blas_saved)
        return False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def run_parts(fn, parts):
    """[fn(i, j) for (i, j) in parts], the first part on the calling thread and the others on the pool's
    threads at the same time. Every part has finished when it returns or raises (the first error is raised)."""
    if len(parts) == 1:
        return [fn(*parts[0])]
    with _blas_on_one_thread():
        futures = [_executor().submit(fn, i, j) for i, j in parts[1:]]
        try:
            first = fn(*parts[0])
        finally:
            rest = [f.exception() for f in futures]  # wait for them all: they write into the caller's arrays
    for err in rest:
        if err is not None:
            raise err
    return [first] + [f.result() for f in futures]
