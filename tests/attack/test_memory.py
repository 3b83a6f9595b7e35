"""Memory: a large graph builds, back-propagates and is freed, and repeated steps do not grow memory.

Size: the scalar test builds a million nodes a step, as the issue asks (about 2 s a step on the 2-core CI
machine, half to build, half to back-propagate; three steps). The tensor test, slowed by tracemalloc, builds
3,125 nodes of 100 elements a step. TINYGRAD_NN_MEMORY_NODES sets the scalar size (and the tensor one from it,
divided by 320) for a quicker or a larger run.

Memory is counted without psutil: sys.getallocatedblocks() (the interpreter's live memory blocks, where a
scalar graph lives: Values, floats, tuples) for scalars, and tracemalloc (which numpy reports its arrays
to) for tensors. Python's cyclic garbage collector is paused (the no_gc fixture): the graph must be freed
by reference counting alone, the moment the step returns, since a finished graph holds no cycles.
"""

from __future__ import annotations

import gc
import os
import sys
import tracemalloc
import weakref

import numpy as np
import pytest

from tinygrad_nn import Value

MEMORY_NODES = int(os.environ.get("TINYGRAD_NN_MEMORY_NODES", 1_000_000))
MARGIN_BLOCKS = 1_000


def scalar_step(n, w, b):
    """Build a chain of n scalar nodes (y <- y * w + b), back-propagate; return a weak reference to the
    output and the number of live blocks while the graph existed."""
    y = w
    for _ in range(n // 2):
        y = y * w + b
    with_graph = sys.getallocatedblocks()
    y.backward()
    return weakref.ref(y), with_graph


def test_a_large_scalar_graph_is_freed_and_steps_do_not_grow_memory(no_gc):
    w, b = Value(0.999), Value(0.001)
    before = sys.getallocatedblocks()
    after, grads = [], []
    for _ in range(3):
        ref, with_graph = scalar_step(MEMORY_NODES, w, b)
        assert ref() is None, "the graph outlived its step: something still refers to it"
        assert with_graph - before >= MEMORY_NODES, "the graph was not there to measure"
        after.append(sys.getallocatedblocks())
        grads.append(w.grad)
    assert after[2] - after[0] <= MARGIN_BLOCKS, f"live blocks after steps 1, 2, 3: {after}"
    # The gradient of each step is the same, and .grad accumulated it three times.
    assert grads[1] == pytest.approx(2 * grads[0], rel=1e-14) and grads[2] == pytest.approx(3 * grads[0], rel=1e-14)
    gc.collect()
    assert sys.getallocatedblocks() - after[2] <= MARGIN_BLOCKS  # nothing was waiting for the collector


def tensor_step(n, x, c):
    y = x
    for _ in range(n // 3):
        y = (y * x + c).tanh()
    with_graph = tracemalloc.get_traced_memory()[0]
    y.sum().backward()
    return weakref.ref(y), with_graph


def test_a_tensor_graph_is_freed_and_steps_do_not_grow_memory(no_gc):
    n, size = MEMORY_NODES // 320, 100  # 3,125 nodes of 100 float64 each: 2.5 MB of payloads alone
    x, c = Value(np.full(size, 0.5)), Value(np.full(size, 0.1))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        after = []
        for _ in range(3):
            ref, with_graph = tensor_step(n, x, c)
            assert ref() is None, "the graph outlived its step: something still refers to it"
            assert with_graph - before >= n * size * 8, "the graph was not there to measure"
            after.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert after[2] - after[0] <= 64 * 1024, f"traced bytes after steps 1, 2, 3: {after}"
    assert x.grad.shape == (size,) and np.all(np.isfinite(x.grad))
