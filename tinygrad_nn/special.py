"""scipy.special's functions on Values, differentiable to any order (the ops live in tinygrad_nn/ops/special.py).

>>> from tinygrad_nn import grad
>>> from tinygrad_nn.special import gammaln
>>> round(grad(grad(gammaln))(3.0), 12)                  # polygamma(1, 3) = pi^2/6 - 1 - 1/4
0.394934066848
"""


from .ops.special import (  # noqa: F401  (this module is their public home)
    __all__,
    digamma,
    erf,
    erfc,
    expit,
    gammaln,
    log_ndtr,
    logit,
    ndtr,
    polygamma,
    xlogy,
)
