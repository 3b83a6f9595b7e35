"""tinygrad_nn: reverse-mode autodiff on numpy, one `Value` node for scalars and tensors.

>>> from tinygrad_nn import Value
>>> a, b = Value(2.0), Value(-3.0)
>>> c = (a * b + b ** 2).tanh()
>>> c.backward()
>>> round(a.grad, 6), round(b.grad, 6)
(-0.029598, -0.039464)
"""

from .anomaly import AnomalyError, detect_anomaly
from .engine import Value, enable_grad, gradients, is_grad_enabled, no_grad
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

# -- transforms (issue 9): Jacobians, Hessians, forward mode ------------------------------------------
# -- breadth, issue 9: shape, indexing and linear algebra --------------------------------------------------
from .ops import (  # noqa: E402
    array_split,
    astype,
    cholesky,
    det,
    diag,
    diagonal,
    dot,
    eigh,
    einsum,
    flip,
    hsplit,
    hstack,
    inner,
    inv,
    kron,
    moveaxis,
    outer,
    pad,
    ravel,
    repeat,
    roll,
    slogdet,
    solve,
    split,
    svd,
    swapaxes,
    tensordot,
    tile,
    trace,
    tril,
    triu,
    vsplit,
    vstack,
)
from .transforms import elementwise_grad, hessian, hvp, jacobian, jvp  # noqa: E402

# isort: split
# Saving and loading, as torch.save / torch.load (issue 11): .npz files, never pickle, written atomically.
from .serialization import load, save

# isort: split
# Breadth (issue 9): more elementwise functions, reductions and scans (numpy's names; np.sin(v) works too).
from .ops import (  # noqa: E402
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    argmax,
    argmin,
    argsort,
    ceil,
    cos,
    cosh,
    cumprod,
    cumsum,
    deg2rad,
    diff,
    exp2,
    expm1,
    floor,
    fmax,
    fmin,
    hypot,
    log1p,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    mod,
    nan_to_num,
    norm,
    prod,
    rad2deg,
    remainder,
    round,
    sign,
    sin,
    sinc,
    sinh,
    sort,
    square,
    std,
    tan,
    var,
)
