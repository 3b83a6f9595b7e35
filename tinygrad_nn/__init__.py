"""tinygrad_nn: reverse-mode autodiff on numpy, one `Value` node for scalars and tensors.

The public face: the node and its modes (engine/), every op (tinygrad_nn.ops, numpy's names), PyTorch's tensor
constructors (creation.py), the function transforms (transforms.py), gradient checks, anomaly detection, saving
and loading, and the threads a convolution may use (set_num_threads). The networks are in
tinygrad_nn.nn, the optimizers in tinygrad_nn.optim, the book's data in tinygrad_nn.data.

>>> from tinygrad_nn import Value
>>> a, b = Value(2.0), Value(-3.0)
>>> c = (a * b + b ** 2).tanh()
>>> c.backward()
>>> round(a.grad, 6), round(b.grad, 6)
(-0.029598, -0.039464)
"""

from . import jit  # noqa: F401  (the decorator: tinygrad_nn.jit(step); see docs/jit.md)
from .anomaly import AnomalyError, detect_anomaly
from .creation import *  # noqa: F403  (tensor, zeros, ones, full, arange, linspace, rand, randn, ...)
from .creation import __all__ as _creation
from .engine import Value, enable_grad, fastpaths, gradients, is_grad_enabled, no_grad
from .engine.op import _seal_builtins
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .ops import *  # noqa: F403  (every op: tinygrad_nn.ops.__all__)
from .ops import __all__ as _ops
from .parallel import get_num_threads, set_num_threads
from .serialization import load, save
from .transforms import elementwise_grad, grad, hessian, hvp, jacobian, jvp, value_and_grad

_seal_builtins()  # from here on, defop may define a user's op again (with a warning), never a built-in one

__version__ = "0.1.0"

__all__ = [
    "AnomalyError", "GradcheckError", "Value", "detect_anomaly", "elementwise_grad", "enable_grad", "grad",
    "get_num_threads", "gradcheck", "gradgradcheck", "gradients", "hessian", "hvp", "is_grad_enabled", "jacobian",
    "jit", "jvp", "load", "no_grad", "save", "set_num_threads", "value_and_grad", *_creation, *_ops,
]
