"""Networks built on Value: modules with parameters (the book's neuron, layer and network; chapter 5's
convolution and pooling; PyTorch's containers and building blocks: Linear, Embedding, LayerNorm, RMSNorm,
Dropout, MultiheadAttention, RNN/LSTM/GRU), activations, cost functions; `functional` holds the same blocks as
functions, `utils` gradient clipping."""

from . import functional, utils
from .attention import MultiheadAttention
from .conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from .costs import CrossEntropyLoss, MSELoss, binary_cross_entropy, cross_entropy, mse, squared_error
from .dropout import Dropout
from .embedding import Embedding
from .layers import (
    GELU,
    MLP,
    Identity,
    Layer,
    Linear,
    LogSoftmax,
    Neuron,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Step,
    Tanh,
    activation_fn,
)
from .module import Module, ModuleDict, ModuleList
from .norm import LayerNorm, RMSNorm
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
