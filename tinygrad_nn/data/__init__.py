"""Data for the examples and tests: the book's own data sets, two moons, a list of names for the character
models, mini-batching, and PyTorch's Dataset / TensorDataset / DataLoader.

The image sets, the section 4-4 starting parameters and the regression pairs come from
《深度学习的数学》 by 涌井良幸 and 涌井贞美 (人民邮电出版社, 2019, ISBN 978-7-115-50934-5; Japanese
original 「ディープラーニングがわかる数学入門」), taken from the publisher's companion workbooks. They ship
inside the package, so nothing here needs a network connection.

>>> from tinygrad_nn.data import load_digits_4x3, minibatches
>>> data = load_digits_4x3()
>>> sum(1 for _ in minibatches(data.inputs, data.targets, batch_size=16))
4
"""

from .batches import minibatches
from .book import (
    TEST_IMAGE_GAP_ZERO,
    BookImages,
    Regression,
    load_backprop_params,
    load_digits_4x3,
    load_digits_6x6,
    load_regression,
    parse_image,
    render_image,
    render_side_by_side,
)
from .loader import DataLoader, Dataset, TensorDataset, default_collate
from .moons import two_moons
from .names import load_names

__all__ = [
    "BookImages",
    "DataLoader",
    "Dataset",
    "Regression",
    "TEST_IMAGE_GAP_ZERO",
    "TensorDataset",
    "default_collate",
    "load_backprop_params",
    "load_digits_4x3",
    "load_digits_6x6",
    "load_names",
    "load_regression",
    "minibatches",
    "parse_image",
    "render_image",
    "render_side_by_side",
    "two_moons",
]
