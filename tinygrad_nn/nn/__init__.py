"""Networks built on Value: modules with parameters, activations, and cost functions."""

from .costs import binary_cross_entropy, cross_entropy, mse, squared_error
from .layers import MLP, Identity, Layer, Neuron, ReLU, Sequential, Sigmoid, Step, Tanh, activation_fn
from .module import Module

# isort: split
# Containers of modules, as in PyTorch (issue 9).
from .module import ModuleDict, ModuleList
