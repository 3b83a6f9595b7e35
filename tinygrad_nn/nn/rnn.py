"""Recurrent layers with PyTorch's names, gate orders, parameters and initialisation: the cells RNNCell,
LSTMCell and GRUCell (one time step) and the layers RNN, LSTM and GRU (a whole sequence, stacked layers),
over (T, N, C) sequences, (N, T, C) with batch_first=True, or (T, C) unbatched.

>>> import numpy as np
>>> from tinygrad_nn.nn import LSTM
>>> lstm = LSTM(3, 5, num_layers=2, seed=0)
>>> out, (h, c) = lstm(np.zeros((7, 4, 3)))      # 7 steps of a batch of 4
>>> out.shape, h.shape, c.shape
((7, 4, 5), (2, 4, 5), (2, 4, 5))
>>> [name for name, _ in lstm.named_parameters()][:4]
['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']
"""

from __future__ import annotations

import numpy as np

from ..engine import Value, shape_of
from ..ops import linear, matmul, relu, reshape, sigmoid, stack, tanh, transpose
from . import functional
from .layers import _check_dtype, _rng, _size
from .module import Module

_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def _affine(x, w, b):
    return matmul(x, transpose(w)) if b is None else linear(x, w, b)


def _step(mode, nonlinearity, gi, h, c, w_hh, b_hh):
    """One time step from the input's part of the gates `gi` (x W_ihᵀ + b_ih, computed for all steps at once)
    and the state h (and c): PyTorch's formulas and gate orders."""
    gh = _affine(h, w_hh, b_hh)
    if mode == "RNN":
        return (tanh if nonlinearity == "tanh" else relu)(gi + gh), None
    size = shape_of(h)[-1]
    part = lambda g, k: g[..., k * size:(k + 1) * size]  # noqa: E731
    if mode == "LSTM":  # gates i, f, g, o
        z = gi + gh
        i, f, g, o = sigmoid(part(z, 0)), sigmoid(part(z, 1)), tanh(part(z, 2)), sigmoid(part(z, 3))
        c = f * c + i * g
        return o * tanh(c), c
    # GRU: gates r, z, n; the reset gate multiplies W_hn h + b_hn, as in PyTorch (and cuDNN)
    r = sigmoid(part(gi, 0) + part(gh, 0))
    z = sigmoid(part(gi, 1) + part(gh, 1))
    n = tanh(part(gi, 2) + r * part(gh, 2))
    return (1.0 - z) * n + z * h, None


class _Recurrent(Module):
    mode = "RNN"

    def _make(self, input_size, hidden_size, bias, nonlinearity, seed, dtype, who):
        self.input_size = _size(input_size, "input_size", who)
        self.hidden_size = _size(hidden_size, "hidden_size", who)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"{who}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"{who}: bias must be True or False, got {bias!r}")
        self.nonlinearity, self.bias = nonlinearity, bool(bias)
        self._dtype = _check_dtype(dtype, who)
        self._rng = _rng(seed)

    def _param(self, *shape):
        # PyTorch draws every weight and bias of a recurrent layer from U(-1/sqrt(hidden), 1/sqrt(hidden)).
        bound = 1.0 / np.sqrt(self.hidden_size)
        return Value(self._rng.uniform(-bound, bound, size=shape).astype(self._dtype))

    def _zeros(self, shape):
        return Value(np.zeros(shape, self._dtype), requires_grad=False)


class _Cell(_Recurrent):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", *, seed=None, dtype=np.float64):
        who = type(self).__name__
        self._make(input_size, hidden_size, bias, nonlinearity, seed, dtype, who)
        g = _GATES[self.mode] * self.hidden_size
        self.weight_ih = self._param(g, self.input_size)
        self.weight_hh = self._param(g, self.hidden_size)
        self.bias_ih = self._param(g) if self.bias else None
        self.bias_hh = self._param(g) if self.bias else None

    def _check(self, x):
        s = shape_of(x)
        if len(s) not in (1, 2) or s[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: input must be (N, {self.input_size}) or ({self.input_size},), "
                             f"got shape {s}")
        return s[:-1] + (self.hidden_size,)

    def _state(self, x, states, names):
        """The given states (h, or h and c), checked against the input's batch, or zeros when None."""
        shape = self._check(x)
        if states is None:
            return [self._zeros(shape) for _ in names]
        for v, name in zip(states, names):
            if shape_of(v) != shape:
                raise ValueError(f"{type(self).__name__}: {name} must have shape {shape} (the input's batch, "
                                 f"hidden_size {self.hidden_size}) for an input of shape {shape_of(x)}, got "
                                 f"{shape_of(v)}")
        return list(states)

    def __repr__(self):
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"


class RNNCell(_Cell):
    """h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu): forward(x, h=None) returns h'.

    >>> import numpy as np
    >>> cell = RNNCell(3, 5, seed=0)
    >>> h = None
    >>> for x in np.ones((4, 2, 3)):            # 4 steps of a batch of 2, one at a time
    ...     h = cell(x, h)
    >>> h.shape, cell(np.ones(3)).shape         # a single sample (3,) gives (5,)
    ((2, 5), (5,))
    >>> bool((abs(h.data) < 1).all())           # tanh keeps the state in (-1, 1)
    True
    """

    def forward(self, x, h=None):
        (h,) = self._state(x, None if h is None else (h,), ("h",))
        return _step("RNN", self.nonlinearity, _affine(x, self.weight_ih, self.bias_ih), h, None, self.weight_hh,
                     self.bias_hh)[0]


class LSTMCell(_Cell):
    """PyTorch's LSTMCell: forward(x, (h, c)=None) returns (h', c'); gates i, f, g, o in the weights' rows.

    >>> import numpy as np
    >>> cell = LSTMCell(3, 5, seed=0)
    >>> h, c = cell(np.ones((2, 3)))            # the state starts at zeros
    >>> h, c = cell(np.ones((2, 3)), (h, c))    # and is passed back in
    >>> h.shape, c.shape, cell.weight_ih.shape  # four gates stacked: 4 * 5 rows
    ((2, 5), (2, 5), (20, 3))
    """

    mode = "LSTM"

    def forward(self, x, hc=None):
        if hc is not None and (not isinstance(hc, (tuple, list)) or len(hc) != 2):
            raise TypeError(f"LSTMCell: the state must be a pair (h, c), got {type(hc).__name__}")
        h, c = self._state(x, hc, ("h", "c"))
        return _step("LSTM", None, _affine(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh)


class GRUCell(_Cell):
    """PyTorch's GRUCell: forward(x, h=None) returns h'; gates r, z, n in the weights' rows.

    >>> import numpy as np
    >>> cell = GRUCell(3, 5, seed=0)
    >>> h = cell(np.ones((2, 3)))
    >>> cell(np.ones((2, 3)), h).shape, cell.weight_hh.shape     # three gates stacked: 3 * 5 rows
    ((2, 5), (15, 5))
    """

    mode = "GRU"

    def forward(self, x, h=None):
        (h,) = self._state(x, None if h is None else (h,), ("h",))
        return _step("GRU", None, _affine(x, self.weight_ih, self.bias_ih), h, None, self.weight_hh,
                     self.bias_hh)[0]


class _Layers(_Recurrent):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, nonlinearity="tanh", *, seed=None, dtype=np.float64):
        who = type(self).__name__
        self._make(input_size, hidden_size, bias, nonlinearity, seed, dtype, who)
        self.num_layers = _size(num_layers, "num_layers", who)
        if bidirectional:
            raise ValueError(f"{who}: bidirectional=True is not supported; run a second {who} over the reversed "
                             f"sequence (x[::-1]) and concatenate the outputs")
        if isinstance(dropout, bool) or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{who}: dropout must be a probability in [0, 1], got {dropout!r}")
        self.batch_first, self.dropout = bool(batch_first), float(dropout)
        g = _GATES[self.mode] * self.hidden_size
        for k in range(self.num_layers):  # PyTorch's names and order: weight_ih_l0, weight_hh_l0, bias_ih_l0...
            setattr(self, f"weight_ih_l{k}", self._param(g, self.input_size if k == 0 else self.hidden_size))
            setattr(self, f"weight_hh_l{k}", self._param(g, self.hidden_size))
            if self.bias:
                setattr(self, f"bias_ih_l{k}", self._param(g))
                setattr(self, f"bias_hh_l{k}", self._param(g))

    def _weights(self, k):
        get = lambda name: getattr(self, f"{name}_l{k}", None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _run(self, x, h0, c0):
        who = type(self).__name__
        s = shape_of(x)
        if len(s) not in (2, 3) or s[-1] != self.input_size:
            order = "(N, T, C)" if self.batch_first else "(T, N, C)"
            raise ValueError(f"{who}: input must be {order} or (T, C) with C = {self.input_size}, got shape {s}")
        batched = len(s) == 3
        if s[1 if batched and self.batch_first else 0] == 0:
            raise ValueError(f"{who}: the sequence is empty (input shape {s}); give at least one time step, as "
                             f"PyTorch requires")
        if not isinstance(x, Value):
            x = Value(np.asarray(x, self._dtype), requires_grad=False)
        if not batched:
            x = reshape(x, shape=(s[0], 1, s[1]))
        elif self.batch_first:
            x = transpose(x, axes=(1, 0, 2))
        steps, n = shape_of(x)[:2]
        state = (self.num_layers, n, self.hidden_size)

        def initial(v, name):
            if v is None:
                return [self._zeros((n, self.hidden_size))] * self.num_layers
            want = state if batched else (self.num_layers, self.hidden_size)
            if shape_of(v) != want:
                raise ValueError(f"{who}: {name} must have shape {want}, got {shape_of(v)}")
            v = v if batched else reshape(v, shape=state)
            return [v[k] for k in range(self.num_layers)]

        hs, cs = initial(h0, "h_0"), initial(c0, "c_0")
        last_h, last_c = [], []
        for k in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._weights(k)
            gi = _affine(x, w_ih, b_ih)  # the input's part of the gates, for every step in one matmul
            h, c, outs = hs[k], cs[k], []
            for t in range(steps):
                h, c = _step(self.mode, self.nonlinearity, gi[t], h, c, w_hh, b_hh)
                outs.append(h)
            last_h.append(h)
            last_c.append(c)
            x = stack(outs, axis=0)
            if self.dropout and k < self.num_layers - 1:
                x = functional.dropout(x, self.dropout, self.training, self._rng)
        out = x if batched and not self.batch_first else transpose(x, axes=(1, 0, 2)) if batched else x[:, 0]
        h_n, c_n = stack(last_h, axis=0), (stack(last_c, axis=0) if self.mode == "LSTM" else None)
        if not batched:
            h_n = h_n[:, 0]
            c_n = None if c_n is None else c_n[:, 0]
        return out, h_n, c_n

    def __repr__(self):
        extra = f", num_layers={self.num_layers}" if self.num_layers != 1 else ""
        extra += ", batch_first=True" if self.batch_first else ""
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size}{extra})"


class RNN(_Layers):
    """Elman RNN layers, PyTorch's nn.RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh',
    bias=True, batch_first=False, dropout=0.0): forward(x, h_0=None) returns (output, h_n).

    >>> import numpy as np
    >>> rnn = RNN(3, 5, num_layers=2, batch_first=True, seed=0)
    >>> out, h_n = rnn(np.ones((4, 7, 3)))      # a batch of 4 sequences of 7 steps
    >>> out.shape, h_n.shape                    # every step of the top layer; the last step of each layer
    ((4, 7, 5), (2, 4, 5))
    >>> bool((out.data[:, -1] == h_n.data[-1]).all())
    True
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, *, seed=None, dtype=np.float64):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         nonlinearity, seed=seed, dtype=dtype)

    def forward(self, x, h_0=None):
        out, h, _ = self._run(x, h_0, None)
        return out, h


class LSTM(_Layers):
    """LSTM layers, PyTorch's nn.LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0): forward(x, (h_0, c_0)=None) returns (output, (h_n, c_n)).

    >>> import numpy as np
    >>> lstm = LSTM(3, 5, seed=0)
    >>> x = np.random.default_rng(0).normal(size=(6, 3))       # unbatched: 6 steps of 3 features
    >>> out, (h, c) = lstm(x)
    >>> out.shape, h.shape, c.shape
    ((6, 5), (1, 5), (1, 5))
    >>> _, state = lstm(x[:3])                                 # the first 3 steps, then carry the state on
    >>> out2, _ = lstm(x[3:], state)
    >>> bool(np.allclose(out2.data, out.data[3:]))
    True
    """

    mode = "LSTM"

    def forward(self, x, hx=None):
        h0, c0 = (None, None) if hx is None else hx
        out, h, c = self._run(x, h0, c0)
        return out, (h, c)


class GRU(_Layers):
    """GRU layers, PyTorch's nn.GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0): forward(x, h_0=None) returns (output, h_n).

    >>> import numpy as np
    >>> gru = GRU(3, 5, seed=0)
    >>> out, h_n = gru(np.ones((7, 4, 3)))      # (T, N, C): 7 steps of a batch of 4
    >>> out.shape, h_n.shape
    ((7, 4, 5), (1, 4, 5))
    >>> [name for name, _ in gru.named_parameters()]
    ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']
    """

    mode = "GRU"

    def forward(self, x, h_0=None):
        out, h, _ = self._run(x, h_0, None)
        return out, h
