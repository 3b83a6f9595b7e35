"""DataLoader over a Dataset, a plain list or a TensorDataset (issue 19): batch sizes, drop_last, collation of
tuples, dicts and Values, seeded shuffling that differs epoch to epoch and resumes from state_dict, and the
refusals. torch's DataLoader, where installed, batches the same unshuffled data the same way."""

import numpy as np
import pytest

from tinygrad_nn import Value
from tinygrad_nn.data import DataLoader, Dataset, TensorDataset


class Squares(Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"x": np.array([i, i * i], dtype=np.float64), "label": i % 2, "name": f"n{i}"}


def test_batches_cover_the_data_once_with_and_without_drop_last():
    ds = TensorDataset(np.arange(14.0).reshape(7, 2), np.arange(7))
    batches = list(DataLoader(ds, batch_size=3))
    assert [len(y) for _, y in batches] == [3, 3, 1] and len(DataLoader(ds, batch_size=3)) == 3
    np.testing.assert_array_equal(np.concatenate([x for x, _ in batches]), ds.tensors[0])
    dropped = list(DataLoader(ds, batch_size=3, drop_last=True))
    assert [len(y) for _, y in dropped] == [3, 3] and len(DataLoader(ds, batch_size=3, drop_last=True)) == 2


def test_collates_dicts_numbers_and_strings():
    (batch,) = list(DataLoader(Squares(), batch_size=7))
    assert batch["x"].shape == (7, 2) and batch["label"].tolist() == [0, 1, 0, 1, 0, 1, 0]
    assert batch["name"] == [f"n{i}" for i in range(7)]
    assert [s for s in DataLoader([5, 6, 7], batch_size=None)] == [5, 6, 7]  # a list is a dataset too


def test_shuffle_is_seeded_new_each_epoch_and_resumable():
    ds = TensorDataset(np.arange(20))
    loader = DataLoader(ds, batch_size=5, shuffle=True, seed=0)
    first, second = [np.concatenate([b for (b,) in loader]) for _ in range(2)]
    assert sorted(first) == list(range(20)) and not np.array_equal(first, second)
    again = DataLoader(ds, batch_size=5, shuffle=True, seed=0)
    np.testing.assert_array_equal(np.concatenate([b for (b,) in again]), first)
    state = again.state_dict()
    resumed = DataLoader(ds, batch_size=5, shuffle=True, seed=123)
    resumed.load_state_dict(state)
    np.testing.assert_array_equal(np.concatenate([b for (b,) in resumed]), second)


def test_values_are_stacked_so_gradients_reach_them():
    vs = [Value(np.array([1.0, 2.0])), Value(np.array([3.0, 4.0]))]
    (batch,) = list(DataLoader(vs, batch_size=2))
    (batch * batch).sum().backward()
    np.testing.assert_array_equal(vs[1].grad, [6.0, 8.0])


def test_refusals():
    with pytest.raises(TypeError, match="DataLoader: the dataset must have __len__ and __getitem__"):
        DataLoader(iter([1, 2]))
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive int"):
        DataLoader([1], batch_size=0)
    with pytest.raises(ValueError, match=r"TensorDataset: the arrays must have the same length .* \[3, 2\]"):
        TensorDataset(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="DataLoader: cannot stack the samples of a batch"):
        list(DataLoader([np.ones(2), np.ones(3)], batch_size=2))


def test_same_batches_as_torch():
    torch = pytest.importorskip("torch")
    x, y = np.random.default_rng(0).normal(size=(10, 3)), np.arange(10)
    ours = list(DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True))
    theirs = list(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x),
                                                                             torch.from_numpy(y)),
                                              batch_size=4, drop_last=True))
    assert len(ours) == len(theirs)
    for (a, b), (ta, tb) in zip(ours, theirs):
        np.testing.assert_array_equal(a, ta.numpy())
        np.testing.assert_array_equal(b, tb.numpy())
