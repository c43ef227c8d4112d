"""Used by notebooks 02, 03 and 04; also imported by the CLI/service.

The from-scratch math of a neural network in NumPy: losses, activations, layers with backprop,
gradient checking, optimizers and learning-rate schedules.

Vectorised over the batch (no Python loop over samples), float64 throughout, and checked against
``keras.losses``, ``tf.GradientTape`` and ``keras.optimizers`` in the tests. Importing it imports
NumPy only.

==================  ==========================================================================
module              concept
==================  ==========================================================================
``losses``          MSE, binary and softmax cross-entropy and their gradients (Keras reduction)
``activations``     relu, sigmoid, tanh, softmax and their backward rules; ``get(name)``
``layers``          ``Dense`` and ``MLP``: forward, backward, L1/L2 penalty, ``loss_and_grad``
``gradcheck``       central differences and the relative error
``optimizers``      SGD, Adagrad, RMSprop, Adam as in ``keras.optimizers``; ``get(name)``
``schedules``       ExponentialDecay, PiecewiseConstantDecay, CosineDecay as in Keras
``batching``        ``minibatches``: shuffled index batches, the same for every model
==================  ==========================================================================

Examples
--------
>>> import numpy as np
>>> from aiaas_lib import numpy_nn as nn
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(64, 2)); y = (X[:, :1] * X[:, 1:] > 0).astype(float)   # XOR-like
>>> model = nn.MLP([2, 16, 1], activation="tanh", output="sigmoid", seed=0)
>>> opt = nn.Adam(learning_rate=0.05)
>>> first = model.loss_and_grad(X, y)
>>> for _ in range(200):
...     loss = model.loss_and_grad(X, y)
...     opt.step(model.params, model.grads)
>>> loss < first / 3
True
"""
from aiaas_lib.numpy_nn import activations, batching, gradcheck, layers, losses, optimizers, schedules
from aiaas_lib.numpy_nn.batching import minibatches
from aiaas_lib.numpy_nn.activations import relu, sigmoid, softmax, tanh
from aiaas_lib.numpy_nn.gradcheck import numerical_gradient, relative_error
from aiaas_lib.numpy_nn.layers import MLP, Dense
from aiaas_lib.numpy_nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    mse,
    mse_grad,
    softmax_cross_entropy,
    softmax_cross_entropy_grad,
)
from aiaas_lib.numpy_nn.optimizers import SGD, Adagrad, Adam, Optimizer, RMSprop
from aiaas_lib.numpy_nn.schedules import CosineDecay, ExponentialDecay, PiecewiseConstantDecay

__all__ = [
    "activations", "batching", "gradcheck", "layers", "losses", "optimizers", "schedules",
    "relu", "sigmoid", "softmax", "tanh",
    "minibatches", "numerical_gradient", "relative_error",
    "Dense", "MLP",
    "mse", "mse_grad", "binary_cross_entropy", "binary_cross_entropy_grad",
    "softmax_cross_entropy", "softmax_cross_entropy_grad",
    "Optimizer", "SGD", "Adagrad", "RMSprop", "Adam",
    "ExponentialDecay", "PiecewiseConstantDecay", "CosineDecay",
]
