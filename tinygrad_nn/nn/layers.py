"""The book's building blocks: a neuron, a fully connected layer, and the network of layers.

>>> from tinygrad_nn.nn import MLP
>>> from tinygrad_nn.data import load_digits_4x3
>>> net = MLP(12, [3, 2], seed=0)          # the book's 12-3-2 network, sigmoid units
>>> net(load_digits_4x3().inputs).shape    # one forward pass over all 64 images
(64, 2)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..creation import numpy_dtype
from ..engine import Value, holds_values, shape_of
from ..engine.apply import stacked
from ..ops import linear, matmul, relu, sigmoid, step, tanh, transpose
from . import functional
from .module import Module

ACTIVATIONS: dict[str, Callable | None] = {
    "sigmoid": sigmoid, "relu": relu, "tanh": tanh, "step": step, "identity": None, "linear": None,
}


def activation_fn(activation):
    """An activation given by name ("sigmoid", "relu", "tanh", "step", "identity"), None, or a callable.

    >>> from tinygrad_nn import Value
    >>> activation_fn("relu")(Value(-2.0)), activation_fn(None)
    (Value(0.0, grad=0.0), None)
    """
    if activation is None or callable(activation):
        return activation
    try:
        return ACTIVATIONS[activation]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {activation!r}; use one of {sorted(ACTIVATIONS)}, None, "
                         f"or a function of a Value") from None


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check_dtype(dtype, who=None):
    try:
        dtype = np.dtype(numpy_dtype(dtype))
    except TypeError:
        dtype = repr(dtype)
    if not isinstance(dtype, np.dtype) or dtype.kind != "f":
        raise TypeError(f"{who + ': ' if who else ''}dtype must be a float type (float64 or float32), got {dtype}")
    return dtype


def _size(n, what, who) -> int:
    # A size of 0 or -1 would build a layer that computes nothing (or crashes deep inside numpy); 2.0 or True
    # is more likely a slip than a size. Refuse them here, where the message can say which argument it is.
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{who}: {what} must be a whole number of units, got {type(n).__name__} {n!r}")
    if n < 1:
        raise ValueError(f"{who}: {what} must be at least 1, got {n}; every layer needs at least one input "
                         f"and one unit")
    return int(n)


def _as_input(x, nin, dtype, who, leading=False):
    """A sample (nin,) or a batch (N, nin) (with `leading`, any leading axes (..., nin), as PyTorch's Linear
    takes): a Value, a list of Values (stacked: gradients reach them), or a plain array (then a constant)."""
    if isinstance(x, (list, tuple)) and holds_values(x):
        try:
            x = stacked(x)  # micrograd's habit, a sample as a list of scalar Values: one tensor node
        except ValueError as e:
            raise ValueError(f"{who}: a list of Values must be rectangular, one sample ({nin} values) or a batch "
                             f"(N lists of {nin}): {e}") from None
    if not isinstance(x, Value):
        x = np.asarray(x, dtype=dtype)
    shape = x.shape
    if (len(shape) < 1 if leading else len(shape) not in (1, 2)) or shape[-1] != nin:
        more = f" or any leading axes (..., {nin})" if leading else ""
        raise ValueError(f"{who}: expected one sample of shape ({nin},) or a batch of shape (N, {nin}){more}, "
                         f"got shape {shape}")
    return x


def _init(rng, shape, nin, dtype):
    # PyTorch's default for linear layers: uniform in +-1/sqrt(fan_in), which keeps z = w.x + b of order 1.
    bound = 1.0 / np.sqrt(nin)
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


class Neuron(Module):
    """One unit: a = activation(w . x + b), with the bias b = -θ (θ the book's threshold).

    With activation="step" it is the book's firing neuron of section 1-2: it outputs 1 when w . x >= θ.

    >>> import numpy as np
    >>> n = Neuron(2, activation="step")
    >>> n.weight.data[:] = [1.0, 1.0]; n.threshold = 1.5      # an AND gate
    >>> [n(np.array(x)).item() for x in ([0, 0], [0, 1], [1, 0], [1, 1])]
    [0.0, 0.0, 0.0, 1.0]
    """

    def __init__(self, nin: int, activation="sigmoid", *, seed=None, dtype=np.float64):
        nin = _size(nin, "nin", "Neuron")
        dtype = _check_dtype(dtype, "Neuron")
        rng = _rng(seed)
        self.nin = nin
        self.weight = Value(_init(rng, (nin,), nin, dtype))
        self.bias = Value(float(_init(rng, (), nin, dtype)))
        self.activation = activation_fn(activation)
        self._activation_name = activation if isinstance(activation, str) or activation is None else "custom"

    @property
    def threshold(self) -> float:
        """θ = -b: the neuron fires when w . x reaches it."""
        return -self.bias.data

    @threshold.setter
    def threshold(self, theta: float):
        self.bias.data = -float(theta)

    def forward(self, x):
        x = _as_input(x, self.nin, self.weight.dtype, "Neuron")
        z = matmul(x, self.weight) + self.bias
        return z if self.activation is None else self.activation(z)

    def __repr__(self):
        return f"Neuron({self.nin}, activation={self._activation_name!r})"


class Layer(Module):
    """A fully connected layer: a = activation(x @ Wᵀ + b). Row j of `weight` holds unit j's weights
    (the book's w_ji), so `weight` has shape (nout, nin) and `bias` shape (nout,). The input may have any
    leading axes: (nin,), (N, nin), (N, T, nin)...

    Its activation is the book's sigmoid unless you say otherwise; `Linear(nin, nout)` is the same layer with
    none, as PyTorch's nn.Linear.

    >>> layer = Layer(12, 3, seed=0)
    >>> layer.weight.shape, layer.bias.shape
    ((3, 12), (3,))
    """

    def __init__(self, nin: int, nout: int, activation="sigmoid", *, seed=None, dtype=np.float64):
        nin, nout = _size(nin, "nin", "Layer"), _size(nout, "nout", "Layer")
        dtype = _check_dtype(dtype, type(self).__name__)
        rng = _rng(seed)
        self.nin, self.nout = nin, nout
        self.weight = Value(_init(rng, (nout, nin), nin, dtype))
        self.bias = Value(_init(rng, (nout,), nin, dtype))
        self.activation = activation_fn(activation)
        self._activation_name = activation if isinstance(activation, str) or activation is None else "custom"

    def forward(self, x):
        x = _as_input(x, self.nin, self.weight.dtype, type(self).__name__, leading=True)
        if self.bias is None:
            z = matmul(x, transpose(self.weight))
        else:
            z = linear(x, self.weight, self.bias)  # x @ Wᵀ + b, one node
        return z if self.activation is None else self.activation(z)

    def __repr__(self):
        return f"Layer({self.nin}, {self.nout}, activation={self._activation_name!r})"


class Linear(Layer):
    """PyTorch's nn.Linear(in_features, out_features, bias=True): y = x @ Wᵀ + b with no activation, weight
    (out, in) and bias (out,) drawn uniformly from ±1/sqrt(in_features) as PyTorch draws them, inputs of any
    leading shape (..., in_features).

    >>> import numpy as np
    >>> fc = Linear(4, 2, seed=0)
    >>> fc(np.ones((5, 7, 4))).shape, fc
    ((5, 7, 2), Linear(in_features=4, out_features=2, bias=True))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, seed=None, dtype=np.float64):
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"Linear: bias must be True or False, got {type(bias).__name__} {bias!r}")
        super().__init__(in_features, out_features, activation=None, seed=seed, dtype=dtype)
        if not bias:
            self.bias = None

    @property
    def in_features(self) -> int:
        return self.nin

    @property
    def out_features(self) -> int:
        return self.nout

    def __repr__(self):
        return f"Linear(in_features={self.nin}, out_features={self.nout}, bias={self.bias is not None})"


_SAME = object()


class MLP(Module):
    """Fully connected layers in a row. `MLP(12, [3, 2])` is the book's network: 12 inputs, 3 hidden
    units, 2 outputs, sigmoid everywhere.

    Unlike micrograd's MLP, whose last layer is linear, the output layer here uses `activation` too (the
    book's network squashes its outputs as well): for logits, as a classifier with cross_entropy wants,
    say `output_activation=None`. `MLP(64, [32, 10], activation="relu")` would put a relu on the logits.

    >>> MLP(2, [16, 16, 1], activation="relu", output_activation=None)
    MLP(2 -> 16 -> 16 -> 1, activation='relu', output_activation=None)

    Its parameters are named as in the torch.nn.Sequential of Linear layers and activations that computes
    the same function, so the state_dicts of the two load into each other (docs/saving.md):

    >>> list(MLP(12, [3, 2]).state_dict())     # Sequential(Linear(12, 3), Sigmoid(), Linear(3, 2), Sigmoid())
    ['0.weight', '0.bias', '2.weight', '2.bias']
    """

    def __init__(self, nin: int, nouts, activation="sigmoid", output_activation=_SAME, *, seed=None,
                 dtype=np.float64):
        nin = _size(nin, "nin", "MLP")
        if not isinstance(nouts, (list, tuple)):
            raise TypeError(f"MLP: nouts must be a list of layer sizes, got {type(nouts).__name__} {nouts!r}; "
                            f"e.g. MLP(2, [16]) for one layer of 16 units, MLP(2, [16, 16, 1]) for three layers")
        if not nouts:
            raise ValueError("MLP: nouts must list at least one layer size, e.g. MLP(2, [16, 1])")
        nouts = [_size(n, f"nouts[{i}]", "MLP") for i, n in enumerate(nouts)]
        rng = _rng(seed)  # one generator for all layers: the whole network follows from the seed
        last = activation if output_activation is _SAME else output_activation
        sizes = [nin] + nouts
        self.layers = [Layer(sizes[i], sizes[i + 1], activation if i < len(nouts) - 1 else last, seed=rng, dtype=dtype)
                       for i in range(len(nouts))]
        self._desc = (sizes, activation, last)

    def _items(self):
        # Named as the torch.nn.Sequential of the same network names them: Linear, activation, Linear, ... so
        # MLP(12, [3, 2]) has 0.weight, 0.bias, 2.weight, 2.bias, and torch.nn.Sequential(Linear(12, 3),
        # Sigmoid(), Linear(3, 2), Sigmoid()) loads its state_dict as it is (a layer without activation
        # takes one position, not two).
        position = 0
        for layer in self.layers:
            yield str(position), layer
            position += 1 if layer.activation is None else 2

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def __repr__(self):
        sizes, act, last = self._desc
        name = lambda a: a if isinstance(a, str) or a is None else "custom"
        return (f"MLP({' -> '.join(map(str, sizes))}, activation={name(act)!r}, "
                f"output_activation={name(last)!r})")


class Sequential(Module):
    """Modules (or functions of a Value) applied in order. Parameters are named by the module's position, as
    in PyTorch's nn.Sequential, so the two share their state_dict keys.

    >>> net = Sequential(Layer(4, 8, activation=None, seed=0), ReLU(), Layer(8, 1, activation=None, seed=1))
    >>> [name for name, _ in net.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
    >>> net[0], len(net)
    (Layer(4, 8, activation=None), 3)
    """

    def __init__(self, *layers):
        self.layers = list(layers)

    def _items(self):
        return ((str(i), layer) for i, layer in enumerate(self.layers))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def append(self, layer) -> Sequential:
        self.layers.append(layer)
        return self

    def __repr__(self):
        return "Sequential(" + ", ".join(map(repr, self.layers)) + ")"


class _Activation(Module):
    fn: Callable

    def forward(self, x):
        return type(self).fn(x)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Sigmoid(_Activation):
    fn = staticmethod(sigmoid)


class ReLU(_Activation):
    """max(0, x), PyTorch's nn.ReLU; `inplace` is taken for PyTorch's code and changes nothing (no op here
    overwrites its input).

    >>> from tinygrad_nn import Value
    >>> ReLU(inplace=True)(Value([-1.0, 2.0])).data
    array([0., 2.])
    """

    fn = staticmethod(relu)

    def __init__(self, inplace: bool = False):
        if not isinstance(inplace, (bool, np.bool_)):
            raise TypeError(f"ReLU: inplace must be True or False, got {inplace!r}")
        self.inplace = bool(inplace)


class Tanh(_Activation):
    fn = staticmethod(tanh)


class Step(_Activation):
    fn = staticmethod(step)


class Identity(_Activation):
    fn = staticmethod(lambda x: x)


class GELU(Module):
    """x Φ(x), PyTorch's nn.GELU (Φ is tinygrad_nn.special.ndtr: scipy's where installed, else Python's math,
    element by element); approximate="tanh" for GPT-2's tanh formula. Both export to ONNX.

    >>> from tinygrad_nn import Value
    >>> x = Value([-1.0, 0.0, 1.0])
    >>> GELU()(x).data.round(4), GELU(approximate="tanh")(x).data.round(4)
    (array([-0.1587,  0.    ,  0.8413]), array([-0.1588,  0.    ,  0.8412]))
    """

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return functional.gelu(x, self.approximate)

    def __repr__(self):
        return "GELU()" if self.approximate == "none" else f"GELU(approximate={self.approximate!r})"


class Softmax(Module):
    """softmax along `dim`, PyTorch's nn.Softmax. dim=None is taken for a 1-D or 2-D input only, where it is
    the last axis as in PyTorch; for other inputs PyTorch's implicit (deprecated) choice is axis 0 or 1, not the
    last, so say which axis with dim=.

    >>> from tinygrad_nn import Value
    >>> Softmax(dim=-1)(Value([[0.0, 0.0]])).data
    array([[0.5, 0.5]])
    """

    def __init__(self, dim: int | None = None):
        self.dim = dim

    def _dim(self, x):
        if self.dim is not None:
            return self.dim
        ndim = len(shape_of(x))
        if ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__}: dim=None is ambiguous for a {ndim}-D input (PyTorch would "
                             f"take axis {0 if ndim in (0, 3) else 1}, not the last); give dim=, e.g. "
                             f"{type(self).__name__}(dim=-1)")
        return -1

    def forward(self, x):
        return functional.softmax(x, self._dim(x))

    def __repr__(self):
        return f"{type(self).__name__}(dim={self.dim})"


class LogSoftmax(Softmax):
    """log(softmax) along `dim`, PyTorch's nn.LogSoftmax: log-probabilities, computed without overflow.

    >>> import numpy as np
    >>> from tinygrad_nn import Value
    >>> logp = LogSoftmax(dim=-1)(Value([[0.0, 0.0], [1000.0, 0.0]]))
    >>> logp.data.round(4)                                   # log(1/2), and no overflow at 1000
    array([[-6.931e-01, -6.931e-01],
           [ 0.000e+00, -1.000e+03]])
    >>> np.exp(logp.data).sum(axis=-1)
    array([1., 1.])
    """

    def forward(self, x):
        return functional.log_softmax(x, self._dim(x))
