"""The images of a batch shared among threads, one per core (benchmark W7: a convolution layer).

numpy lets go of Python's global lock inside its copies, its arithmetic on arrays and its matrix products,
so Python threads working on different images of one batch run on different cores at once. The convolutions
(ops/conv.py) hand each thread a contiguous part of the batch and write into disjoint slices of one output.

How many threads: `set_num_threads(n)`, as in PyTorch; by default one per core the process may run on.
`set_num_threads(1)` keeps every convolution on the calling thread.

numpy's BLAS (OpenBLAS, MKL, BLIS) splits every product of more than about 260,000 multiply-adds over all
the cores itself. Next to threads of our own that is two threads per core, fighting: measured on two cores, the
filter gradient's products ran at 0.75-0.9x the speed on two of our threads that they had on one, and W7's
hidden-layer step took 24-30 ms with both kinds of thread against 17-22 ms with ours alone. So while the parts of a
convolution run, the BLAS is held to one thread, and its setting is put back when the last part ends. That
setting is the process's, not the thread's: a product that another thread of the program runs at that
moment also runs on one thread. A program that runs BLAS products of its own in other threads while it
trains, and wants them on every core, calls `set_num_threads(1)`: then no convolution touches the BLAS.
The BLAS is found and set through threadpoolctl; where it finds none it can set (Apple's Accelerate), the
work stays on the calling thread and that BLAS's own threads have the cores.

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

import numpy  # noqa: F401  (its BLAS is loaded, for threadpoolctl to find)

# Imported here, not when first needed: a fork while another thread is importing a module leaves that
# module's import lock held in the child for good, and the first convolution runs in any thread.
try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # a runtime dependency, but without it the convolutions simply stay on one thread
    ThreadpoolController = None

# Multiply-adds below which a job stays on one thread (a W7 step does about 1.4 billion; the book's
# chapter-5 network about 100 thousand).
PARALLEL_WORK = 20_000_000


def cores() -> int:
    """The cores this process may run on (taskset and cgroup CPU sets count; os.cpu_count() does not)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


_threads = None  # set_num_threads(n): n; None: one per core


def set_num_threads(n: int) -> None:
    """Let a convolution split its batch over at most `n` threads (as torch.set_num_threads). 1: every
    convolution runs on the calling thread and never changes numpy's BLAS settings. While the parts of a
    convolution run on several threads, numpy's BLAS is held to one thread (for the whole process) and
    put back afterwards (see the module's notes).

    >>> import tinygrad_nn
    >>> before = tinygrad_nn.get_num_threads()
    >>> tinygrad_nn.set_num_threads(1)
    >>> tinygrad_nn.get_num_threads()
    1
    >>> tinygrad_nn.set_num_threads(before)
    """
    global _threads
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a whole number >= 1, got {n!r}")
    _threads = n


def get_num_threads() -> int:
    """The threads a convolution may split its batch over: set_num_threads's number, else the cores.

    >>> before = get_num_threads()                  # one per core unless set_num_threads said otherwise
    >>> set_num_threads(3); get_num_threads()
    3
    >>> set_num_threads(before)
    """
    return cores() if _threads is None else _threads


def split(n: int, work: float) -> list[tuple[int, int]]:
    """Contiguous parts (i, j) of n items: one per thread when `work` (multiply-adds) is worth it, else one."""
    k = get_num_threads()
    k = min(n, k) if k > 1 and work >= PARALLEL_WORK and _blas() is not None else 1
    k = max(k, 1)
    return [(n * t // k, n * (t + 1) // k) for t in range(k)]


_pool = None
_pool_size = 0
_pool_lock = threading.Lock()


def _executor(workers):
    """The pool of threads, with at least `workers` of them (set_num_threads may ask for more than the cores)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < workers:
            _pool_size = max(workers, cores() - 1, 1)
            _pool = ThreadPoolExecutor(max_workers=_pool_size, thread_name_prefix="tinygrad_nn")
        return _pool


def _forget_pool():
    # A forked child has none of its parent's threads: it makes a pool of its own when it needs one, and
    # gets back the BLAS setting of a run_parts that the fork interrupted.
    global _pool, _pool_size, _pool_lock, _blas_lock, _blas_users
    _pool, _pool_size, _pool_lock = None, 0, threading.Lock()
    if _blas_users and _blas_libraries not in (None, _UNKNOWN):
        _restore_blas()
    _blas_lock, _blas_users = threading.Lock(), 0


# -- the BLAS's own threads ----------------------------------------------------------------------------

_UNKNOWN = object()
_blas_libraries = _UNKNOWN
_blas_lock = threading.Lock()
_blas_users = 0  # run_parts calls under way (in any thread): the first sets one thread, the last puts it back
_blas_saved = []  # the thread counts the first one found, one per library


def _blas():
    """threadpoolctl's controllers of the BLAS libraries loaded in this process, or None when threadpoolctl
    is missing or finds none it can set (then the convolutions stay on one thread)."""
    global _blas_libraries
    if _blas_libraries is _UNKNOWN:
        if ThreadpoolController is None:
            _blas_libraries = None
        else:
            _blas_libraries = ThreadpoolController().select(user_api="blas").lib_controllers or None
    return _blas_libraries


class _blas_on_one_thread:
    def __enter__(self):
        global _blas_users, _blas_saved
        with _blas_lock:
            if _blas_users == 0:
                _blas_saved = [lib.get_num_threads() for lib in _blas()]
                for lib in _blas():
                    lib.set_num_threads(1)
            _blas_users += 1

    def __exit__(self, *exc):
        global _blas_users
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _restore_blas()
        return False


def _restore_blas():
    for lib, n in zip(_blas(), _blas_saved):
        lib.set_num_threads(n)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def run_parts(fn, parts):
    """[fn(i, j) for (i, j) in parts], the first part on the calling thread and the others on the pool's
    threads at the same time. Every part has finished when it returns or raises (the first error is raised)."""
    if len(parts) == 1:
        return [fn(*parts[0])]
    with _blas_on_one_thread():
        pool = _executor(len(parts) - 1)
        futures = [pool.submit(fn, i, j) for i, j in parts[1:]]
        try:
            first = fn(*parts[0])
        finally:
            rest = [f.exception() for f in futures]  # wait for them all: they write into the caller's arrays
    for err in rest:
        if err is not None:
            raise err
    return [first] + [f.result() for f in futures]
