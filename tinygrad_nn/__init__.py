"""tinygrad_nn: reverse-mode autodiff on numpy, one `Value` node for scalars and tensors.

>>> from tinygrad_nn import Value
>>> a, b = Value(2.0), Value(-3.0)
>>> c = (a * b + b ** 2).tanh()
>>> c.backward()
>>> round(a.grad, 6), round(b.grad, 6)
(-0.029598, -0.039464)
"""

from .engine import Value, gradients, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .ops import (
    OpInfo,
    abs,
    broadcast_to,
    clip,
    concatenate,
    defop,
    exp,
    expand_dims,
    flatten,
    linear,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    register_test,
    relu,
    reshape,
    sigmoid,
    softmax,
    sqrt,
    squeeze,
    stack,
    step,
    sum,
    tanh,
    transpose,
    where,
)
from .transforms import grad, value_and_grad

__version__ = "0.1.0"

# -- chapter 5: convolution and pooling --------------------------------------------------------------------
from .ops import avg_pool2d, conv2d, conv_transpose2d, max_pool2d  # noqa: E402
