"""The batch shared among threads (tinygrad_nn/parallel.py): parts cover the batch once, every part has
finished before run_parts returns or raises, a convolution gives the same result on one thread or many, and
set_num_threads(1) keeps every convolution on one thread without touching the BLAS."""

import threading
import time

import numpy as np
import pytest

from tinygrad_nn import Value, parallel
from tinygrad_nn.ops import conv2d


@pytest.fixture(autouse=True)
def automatic_threads():
    """Every test here starts with no set_num_threads in force (one thread per core, as patched), whatever
    an earlier test or doc example left, and leaves it as it found it."""
    before = parallel._threads
    parallel._threads = None
    yield
    parallel._threads = before


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64])
@pytest.mark.parametrize("cores", [1, 2, 3, 8])
def test_parts_cover_the_batch_once_in_order(monkeypatch, n, cores):
    monkeypatch.setattr(parallel, "cores", lambda: cores)
    parts = parallel.split(n, work=10**12)
    assert len(parts) == min(n, cores)
    assert parts[0][0] == 0 and parts[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
    assert all(j > i for i, j in parts)


def test_small_work_stays_on_one_thread(monkeypatch):
    monkeypatch.setattr(parallel, "cores", lambda: 8)
    assert parallel.split(64, work=parallel.PARALLEL_WORK - 1) == [(0, 64)]


def test_parts_run_on_other_threads_at_once(monkeypatch):
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    seen = {}
    both = threading.Barrier(2, timeout=10)

    def work(i, j):
        seen[i] = threading.current_thread().name
        both.wait()  # deadlocks (times out) unless the two parts run at the same time
        return j - i

    assert parallel.run_parts(work, parallel.split(4, work=10**12)) == [2, 2]
    assert seen[0] == threading.current_thread().name and seen[2] != seen[0]


def test_an_error_is_raised_after_every_part_has_finished(monkeypatch):
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    finished = []

    def work(i, j):
        if i == 0:
            raise ValueError("part 0 failed")
        time.sleep(0.05)
        finished.append(i)

    with pytest.raises(ValueError, match="part 0 failed"):
        parallel.run_parts(work, parallel.split(2, work=10**12))
    assert finished == [1]

    def late_error(i, j):
        if i:
            raise KeyError("the other part")

    with pytest.raises(KeyError, match="the other part"):
        parallel.run_parts(late_error, parallel.split(2, work=10**12))


@pytest.mark.parametrize("padding,stride", [(1, 1), (0, 1), (1, 2)])
@pytest.mark.parametrize("cores", [2, 3])
def test_a_convolution_on_threads_matches_one_thread(monkeypatch, padding, stride, cores):
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((5, 3, 9, 8)).astype(np.float32)
    w0 = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b0 = rng.standard_normal(4).astype(np.float32)
    g = rng.standard_normal(conv2d(x0, w0, b0, stride=stride, padding=padding).shape).astype(np.float32)

    def run():
        x, w, b = Value(x0), Value(w0), Value(b0)
        y = conv2d(x, w, b, stride=stride, padding=padding)
        y.backward(g)
        return y.data, x.grad, w.grad, b.grad

    monkeypatch.setattr(parallel, "cores", lambda: 1)
    one = run()
    monkeypatch.setattr(parallel, "cores", lambda: cores)
    monkeypatch.setattr(parallel, "PARALLEL_WORK", 0)
    many = run()
    # The forward and the image gradient split the images: the same bits. The filter gradient adds the
    # parts' sums in another order.
    np.testing.assert_array_equal(many[0], one[0])
    np.testing.assert_array_equal(many[1], one[1])
    np.testing.assert_allclose(many[2], one[2], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(many[3], one[3])


def _blas_threads():
    """numpy's BLAS thread counts as threadpoolctl reads them, independently of parallel.py."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]


def test_openblas_runs_on_one_thread_inside_the_parts_and_gets_its_setting_back(monkeypatch):
    if parallel._blas() is None:
        pytest.skip("numpy's BLAS here is not one threadpoolctl can set")
    get = lambda: max(_blas_threads())
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    before = get()
    inside = parallel.run_parts(lambda i, j: get(), parallel.split(2, work=10**12))
    assert inside[0] == 1 and get() == before


def test_without_a_reachable_openblas_the_work_stays_on_one_thread(monkeypatch):
    # (MKL or Accelerate would run their own threads next to ours)
    monkeypatch.setattr(parallel, "cores", lambda: 4)
    monkeypatch.setattr(parallel, "_blas", lambda: None)
    assert parallel.split(64, work=10**12) == [(0, 64)]


def test_set_num_threads_bounds_the_parts(monkeypatch):
    import tinygrad_nn

    monkeypatch.setattr(parallel, "cores", lambda: 2)
    assert tinygrad_nn.get_num_threads() == 2 and len(parallel.split(64, work=10**12)) == 2
    tinygrad_nn.set_num_threads(3)
    assert tinygrad_nn.get_num_threads() == 3 and len(parallel.split(64, work=10**12)) == 3
    seen, three = set(), threading.Barrier(3, timeout=10)

    def work(i, j):  # three parts at once on two cores: the pool grows to the threads asked for
        seen.add(threading.current_thread().name)
        three.wait()
        return j - i

    assert parallel.run_parts(work, parallel.split(6, work=10**12)) == [2, 2, 2] and len(seen) == 3
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="set_num_threads: n must be a whole number >= 1"):
            tinygrad_nn.set_num_threads(bad)


def test_one_thread_leaves_the_blas_alone(monkeypatch):
    # set_num_threads(1): no convolution splits its batch, none changes the BLAS, while another thread's
    # products run (it reads the BLAS setting all along).
    import tinygrad_nn

    if parallel._blas() is None:
        pytest.skip("numpy's BLAS here is not one threadpoolctl can set")
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    monkeypatch.setattr(parallel, "PARALLEL_WORK", 0)
    before = _blas_threads()
    tinygrad_nn.set_num_threads(1)
    assert parallel.split(64, work=10**12) == [(0, 64)]
    calls = []
    real = parallel._blas_on_one_thread.__enter__
    monkeypatch.setattr(parallel._blas_on_one_thread, "__enter__", lambda self: calls.append(1) or real(self))
    x = Value(np.ones((8, 3, 9, 9), np.float32))
    conv2d(x, Value(np.ones((4, 3, 3, 3), np.float32)), padding=1).sum().backward()
    assert calls == [] and _blas_threads() == before
    tinygrad_nn.set_num_threads(2)
    conv2d(x, Value(np.ones((4, 3, 3, 3), np.float32)), padding=1).sum().backward()
    assert calls and _blas_threads() == before  # held to one thread inside, put back after
