"""Networks built on Value: modules with parameters, activations, and cost functions."""

from .costs import binary_cross_entropy, cross_entropy, mse, squared_error
from .layers import MLP, Identity, Layer, Neuron, ReLU, Sequential, Sigmoid, Step, Tanh, activation_fn
from .module import Module

# -- chapter 5: convolution and pooling layers ---------------------------------------------------------------
# isort: split
from .conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
