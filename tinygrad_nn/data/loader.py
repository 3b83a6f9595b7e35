"""PyTorch's data loading, without worker processes: a `Dataset` is anything with `__len__` and `__getitem__`,
`TensorDataset` pairs up arrays along their first axis, and `DataLoader` takes batches of samples from a dataset,
in order or shuffled by its own seeded generator, and collates them into arrays.

>>> import numpy as np
>>> from tinygrad_nn.data import DataLoader, TensorDataset
>>> ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.array([0, 1, 0, 1, 1]))
>>> for x, y in DataLoader(ds, batch_size=2):
...     print(x.tolist(), y.tolist())
[[0.0, 1.0], [2.0, 3.0]] [0, 1]
[[4.0, 5.0], [6.0, 7.0]] [0, 1]
[[8.0, 9.0]] [1]
>>> len(DataLoader(ds, batch_size=2, drop_last=True))
2
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np

from ..engine import Value

__all__ = ["DataLoader", "Dataset", "TensorDataset", "default_collate"]


class Dataset:
    """The base of a map-style data set, as torch.utils.data.Dataset: a subclass defines `__len__` and
    `__getitem__(i)` for i in range(len). DataLoader takes any object with both; deriving from this one is
    optional.

    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 5
    ...     def __getitem__(self, i):
    ...         return float(i), float(i * i)
    >>> [y.tolist() for _, y in DataLoader(Squares(), batch_size=2)]
    [[0.0, 1.0], [4.0, 9.0], [16.0]]
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index)")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__()")


class TensorDataset(Dataset):
    """Samples made of the i-th row of each array (numpy arrays, lists or Values, all of one length). A Value
    that requires a gradient keeps its graph: the batches made of it are Values, and gradients reach it.

    >>> import numpy as np
    >>> ds = TensorDataset(np.eye(3), np.array([2, 0, 1]))
    >>> len(ds), ds[1]
    (3, (array([0., 1., 0.]), np.int64(0)))
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one array")
        # A Value that requires a gradient stays a Value (its rows are taken by the getitem op and batched by
        # the stack op), so that the gradient reaches it; any other input is read as a plain array.
        arrays = [t if isinstance(t, Value) and t.requires_grad else t.data if isinstance(t, Value) else np.asarray(t)
                  for t in tensors]
        for i, a in enumerate(arrays):
            if len(a.shape if isinstance(a, Value) else np.shape(a)) == 0:
                raise ValueError(f"TensorDataset: array {i} is a scalar; every array needs a first axis of samples")
        lengths = [len(a) for a in arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: the arrays must have the same length along their first axis, got "
                             f"{lengths}")
        self.tensors = tuple(arrays)

    def __getitem__(self, index):
        return tuple(a[index] for a in self.tensors)

    def __len__(self):
        return len(self.tensors[0])


def default_collate(samples: list):
    """Stack a list of samples into a batch, field by field: numbers and arrays become one array with a new first
    axis, tuples and lists a tuple of batches, dicts a dict of batches, strings a list; Values are stacked with
    the `stack` op, so that gradients reach them.

    >>> import numpy as np
    >>> x, y = default_collate([(np.zeros(3), 1), (np.ones(3), 0)])       # two (features, label) samples
    >>> x.shape, y
    ((2, 3), array([1, 0]))
    >>> default_collate([{"id": 7, "name": "ada"}, {"id": 8, "name": "bo"}])
    {'id': array([7, 8]), 'name': ['ada', 'bo']}
    """
    first = samples[0]
    if isinstance(first, Value):
        from ..ops import stack

        return stack(samples)
    if isinstance(first, Mapping):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    if isinstance(first, tuple | list):
        if any(len(s) != len(first) for s in samples):
            raise ValueError(f"DataLoader: the samples have different numbers of fields ({len(first)} and "
                             f"{next(len(s) for s in samples if len(s) != len(first))}); give each sample the same "
                             f"fields, or pass a collate_fn")
        return tuple(default_collate(list(field)) for field in zip(*samples))
    if isinstance(first, str | bytes):
        return list(samples)
    try:
        return np.stack([np.asarray(s) for s in samples])
    except ValueError as e:
        raise ValueError(f"DataLoader: cannot stack the samples of a batch into one array ({e}); make them one "
                         f"shape (pad them), or pass a collate_fn that batches them your way") from None


class DataLoader:
    """Batches of `batch_size` samples of `dataset`, collated by `collate_fn` (default_collate).

    shuffle=True visits the samples in a new random order each epoch (each `for` over the loader), drawn from the
    loader's own numpy Generator, made from `seed` (or `generator`): the same seed gives the same epochs, and
    state_dict()/load_state_dict() save and restore where it is, so an interrupted run resumes with the same
    batches. drop_last=True leaves out a last batch smaller than batch_size. batch_size=None yields the samples
    one by one, uncollated. PyTorch's `num_workers` and `pin_memory` are taken so that its code runs as written:
    the batches are made in the calling process whatever num_workers says (the same batches, in the same order,
    as PyTorch's workers deliver them), and there is no device memory to pin.

    >>> import numpy as np
    >>> ds = TensorDataset(np.arange(5.0), np.arange(5) % 2)
    >>> loader = DataLoader(ds, batch_size=2, shuffle=True, seed=0)
    >>> epoch = [x.tolist() for x, _ in loader]
    >>> sorted(sum(epoch, []))                       # every sample once per epoch, in a shuffled order
    [0.0, 1.0, 2.0, 3.0, 4.0]
    >>> again = DataLoader(ds, batch_size=2, shuffle=True, seed=0)
    >>> [x.tolist() for x, _ in again] == epoch      # the same seed, the same batches
    True
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool = False, drop_last: bool = False,
                 collate_fn: Callable | None = None, *, seed=None, generator=None, num_workers: int = 0,
                 pin_memory: bool = False):
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: the dataset must have __len__ and __getitem__ (a Dataset, a "
                            f"TensorDataset, a list...), got {type(dataset).__name__}")
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer)
                                       or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive int (or None), got {batch_size!r}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int | np.integer) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a whole number >= 0, got {num_workers!r}")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: give seed or generator, not both")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(f"DataLoader: generator must be a numpy Generator, got {type(generator).__name__}")
        self.dataset, self.batch_size = dataset, None if batch_size is None else int(batch_size)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        self.generator = generator if generator is not None else np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator:
        n = len(self.dataset)
        order = self.generator.permutation(n) if self.shuffle else np.arange(n)
        if self.batch_size is None:
            for i in order:
                yield self.dataset[int(i)]
            return
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield self.collate_fn([self.dataset[int(i)] for i in order[start:start + self.batch_size]])

    def state_dict(self) -> dict:
        """Where the shuffling generator is: load it into a new loader to draw the same epochs from here on."""
        return {"generator": self.generator.bit_generator.state}

    def load_state_dict(self, state: Mapping):
        self.generator.bit_generator.state = state["generator"]

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")
