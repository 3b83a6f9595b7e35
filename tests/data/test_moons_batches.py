import numpy as np
import pytest

from tinygrad_nn.data import minibatches, two_moons


def test_two_moons_shapes_dtypes_and_labels():
    X, y = two_moons(n=101, noise=0.1, seed=0)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    assert y.tolist() == [0] * 50 + [1] * 51


def test_two_moons_noise_free_geometry():
    X, y = two_moons(n=200, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert upper[:, 1].min() >= 0.0 and lower[:, 1].max() <= 0.5


def test_two_moons_is_deterministic():
    X1, y1 = two_moons(n=50, noise=0.2, seed=7)
    X2, y2 = two_moons(n=50, noise=0.2, seed=7)
    assert X1.tobytes() == X2.tobytes() and y1.tobytes() == y2.tobytes()
    assert not np.array_equal(X1, two_moons(n=50, noise=0.2, seed=8)[0])


def test_two_moons_accepts_a_generator():
    X_int, _ = two_moons(n=20, seed=5)
    X_gen, _ = two_moons(n=20, seed=np.random.default_rng(5))
    assert X_int.tobytes() == X_gen.tobytes()
    rng = np.random.default_rng(5)
    assert not np.array_equal(two_moons(n=20, seed=rng)[0], two_moons(n=20, seed=rng)[0])


@pytest.mark.parametrize(
    "kwargs",
    [{"n": 1}, {"n": 0}, {"n": -5}, {"n": 10.0}, {"n": True}, {"noise": -0.1}, {"noise": float("nan")}],
)
def test_two_moons_rejects_bad_arguments(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        two_moons(**kwargs)


def _rows_seen(batches):
    return np.concatenate(list(batches)).tolist()


@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 11])
@pytest.mark.parametrize("shuffle", [False, True])
def test_minibatches_visit_every_row_once(batch_size, shuffle):
    seen = _rows_seen(minibatches(np.arange(10), batch_size=batch_size, shuffle=shuffle, seed=1))
    assert sorted(seen) == list(range(10))
    if not shuffle:
        assert seen == list(range(10))


def test_minibatches_keep_arrays_aligned():
    X = np.arange(20).reshape(10, 2)
    y = np.arange(10) * 10
    w = [float(i) for i in range(10)]
    for xb, yb, wb in minibatches(X, y, w, batch_size=3, shuffle=True, seed=0):
        assert len(xb) == len(yb) == len(wb)
        np.testing.assert_array_equal(xb[:, 0] // 2 * 10, yb)
        np.testing.assert_array_equal(wb * 10, yb)


def test_minibatches_single_array_yields_the_batch_itself():
    batches = list(minibatches(np.arange(5), batch_size=2))
    assert all(isinstance(b, np.ndarray) for b in batches)
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    pairs = list(minibatches(np.arange(5), np.arange(5), batch_size=5))
    assert len(pairs) == 1 and isinstance(pairs[0], tuple) and len(pairs[0]) == 2


def test_minibatches_drop_last():
    sizes = [len(b) for b in minibatches(np.arange(10), batch_size=4, drop_last=True)]
    assert sizes == [4, 4]
    sizes = [len(b) for b in minibatches(np.arange(8), batch_size=4, drop_last=True)]
    assert sizes == [4, 4]
    assert list(minibatches(np.arange(3), batch_size=4, drop_last=True)) == []


def test_minibatches_seeding():
    def order(seed):
        return _rows_seen(minibatches(np.arange(30), batch_size=7, shuffle=True, seed=seed))

    assert order(3) == order(3)
    assert order(3) != order(4)
    assert order(3) == order(np.random.default_rng(3))
    rng = np.random.default_rng(3)
    assert order(rng) != order(rng)


def test_minibatches_length_mismatch_names_lengths():
    with pytest.raises(ValueError, match=r"\[5, 4\]"):
        minibatches(np.zeros(5), np.zeros((4, 2)), batch_size=2)


@pytest.mark.parametrize("batch_size", [0, -1, 2.0, True, None])
def test_minibatches_rejects_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        minibatches(np.zeros(5), batch_size=batch_size)


def test_minibatches_rejects_no_arrays_and_scalars():
    with pytest.raises(ValueError, match="at least one"):
        minibatches(batch_size=2)
    with pytest.raises(ValueError, match="scalar"):
        minibatches(np.float64(3.0), batch_size=2)
