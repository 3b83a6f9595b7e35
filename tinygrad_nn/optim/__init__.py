"""Optimizers: they update the parameters' arrays in place from their `.grad`, with PyTorch's formulas (SGD,
Adam, AdamW, RMSprop), parameter groups and state_dict; learning-rate schedules in `lr_scheduler`.

>>> import numpy as np
>>> from tinygrad_nn import Value
>>> from tinygrad_nn.optim import SGD
>>> w = Value(np.array([3.0]))
>>> opt = SGD([w], lr=0.1)
>>> for _ in range(2):
...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
>>> w.data        # 3 -> 3 - 0.1 * 6 = 2.4 -> 2.4 - 0.1 * 4.8 = 1.92
array([1.92])
"""

from . import lr_scheduler
from .optimizer import SGD, Adam, AdamW, Optimizer
from .rmsprop import RMSprop

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
