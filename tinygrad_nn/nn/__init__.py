"""Networks built on Value: modules with parameters (the book's neuron, layer and network; chapter 5's
convolution and pooling; PyTorch's containers), activations, and cost functions."""

from .conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from .costs import binary_cross_entropy, cross_entropy, mse, squared_error
from .layers import MLP, Identity, Layer, Neuron, ReLU, Sequential, Sigmoid, Step, Tanh, activation_fn
from .module import Module, ModuleDict, ModuleList
