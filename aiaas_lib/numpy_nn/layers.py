"""Used by notebooks 02, 03 and 04 (through :mod:`aiaas_lib.numpy_nn`); also imported by the CLI/service.

A dense layer and a multi-layer perceptron with a hand-written backward pass.

Forward: ``z = X W + b`` then ``a = f(z)``. Backward, given ``dL/da``:
``dL/dz = f'(z) ⊙ dL/da`` (a vector-Jacobian product for softmax), ``dL/dW = Xᵀ dL/dz``,
``dL/db = sum_n dL/dz``, and ``dL/dX = dL/dz Wᵀ`` is handed to the layer below.

How the output activation meets the loss. :meth:`MLP.backward` takes ``dL/dy_hat``, the gradient
w.r.t. the output *after* its activation, and goes through the activation's backward rule: that is
correct for any loss. :meth:`MLP.loss_and_grad` is the usual training shortcut: it pairs the output with
its natural loss (linear → MSE, sigmoid → binary cross-entropy, softmax → softmax cross-entropy),
computes that loss from the logits ``z`` (stable, as Keras does for a sigmoid/softmax output model) and
starts backpropagation from ``dL/dz = (y_hat - y) / n``, the delta rule, skipping the activation's
Jacobian altogether.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from aiaas_lib.validation import non_negative, positive_int

from aiaas_lib.numpy_nn import activations, losses

OUTPUTS = (None, "linear", "sigmoid", "softmax")


class Dense:
    """Fully connected layer ``a = activation(X W + b)``, with Keras' initialisation.

    Weights are Glorot-uniform (``keras.initializers.GlorotUniform``): drawn from ``U(-limit, limit)``
    with ``limit = sqrt(6 / (n_in + n_out))``; biases start at zero.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths; ``W`` has shape ``(n_in, n_out)`` like a Keras ``Dense`` kernel.
    activation : str or None
        A name in :data:`aiaas_lib.numpy_nn.activations.ACTIVATIONS`; None means linear.
    seed : int, numpy.random.Generator or None
        Seed for the weights (passed to ``numpy.random.default_rng``).

    Examples
    --------
    >>> layer = Dense(3, 2, activation="relu", seed=0)
    >>> layer.forward(np.ones((4, 3))).shape
    (4, 2)
    >>> layer.backward(np.ones((4, 2))).shape, layer.grads[0].shape
    ((4, 3), (3, 2))
    """

    def __init__(self, n_in: int, n_out: int, activation: str | None = None, seed=None):
        self.n_in, self.n_out = positive_int("n_in", n_in), positive_int("n_out", n_out)
        self.activation = activation
        self._f, self._f_grad = activations.get(activation)
        limit = np.sqrt(6.0 / (self.n_in + self.n_out))
        self.W = np.random.default_rng(seed).uniform(-limit, limit, size=(self.n_in, self.n_out))
        self.b = np.zeros(self.n_out)
        self.dW, self.db = np.zeros_like(self.W), np.zeros_like(self.b)
        self._X = self._z = None

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Return ``activation(X W + b)`` for ``X`` of shape ``(n, n_in)``; keep what backward needs."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_in:
            raise ValueError(f"X has shape {X.shape}; expected (n, {self.n_in})")
        self._X, self._z = X, X @ self.W + self.b
        return self._f(self._z)

    @property
    def logits(self) -> np.ndarray:
        """``z = X W + b`` from the last forward pass (before the activation)."""
        if self._z is None:
            raise RuntimeError("call forward(X) before reading logits")
        return self._z

    def backward(self, upstream: np.ndarray, wrt_logits: bool = False) -> np.ndarray:
        """Fill ``dW, db`` and return ``dL/dX``, given ``upstream = dL/da`` (``dL/dz`` if ``wrt_logits``)."""
        z = self.logits
        upstream = np.asarray(upstream, dtype=np.float64)
        if upstream.shape != z.shape:
            raise ValueError(f"gradient has shape {upstream.shape}; expected the output shape {z.shape}")
        dz = upstream if wrt_logits else self._f_grad(z, upstream)
        self.dW, self.db = self._X.T @ dz, dz.sum(axis=0)
        return dz @ self.W.T

    @property
    def params(self) -> list[np.ndarray]:
        """``[W, b]``: the arrays themselves, so updating them in place updates the layer."""
        return [self.W, self.b]

    @property
    def grads(self) -> list[np.ndarray]:
        """``[dW, db]`` from the last backward pass, in the order of :attr:`params`."""
        return [self.dW, self.db]


class MLP:
    """A stack of :class:`Dense` layers with optional L1/L2 weight penalties.

    Parameters
    ----------
    sizes : sequence of int
        ``[n_in, hidden_1, ..., n_out]``, at least two entries.
    activation : str
        Activation of every hidden layer.
    output : {None, "linear", "sigmoid", "softmax"}
        Activation of the last layer; it also chooses the loss of :meth:`loss_and_grad`.
    seed : int, numpy.random.Generator or None
        One generator, drawn from layer by layer, so the same seed gives the same network.
    l1, l2 : float
        Penalty ``l1 * sum|W| + l2 * sum W²`` over the weights (not the biases), like Keras'
        ``kernel_regularizer=keras.regularizers.L1L2(l1, l2)`` on every layer.

    Examples
    --------
    >>> model = MLP([3, 4, 1], activation="tanh", output="sigmoid", seed=0)
    >>> X, y = np.ones((5, 3)), np.ones((5, 1))
    >>> model.forward(X).shape
    (5, 1)
    >>> loss = model.loss_and_grad(X, y)          # forward, loss, backward (delta rule)
    >>> [g.shape for g in model.grads] == [p.shape for p in model.params]
    True
    >>> [p.shape for p in model.params]
    [(3, 4), (4,), (4, 1), (1,)]
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        output: str | None = None,
        seed=None,
        l1: float = 0.0,
        l2: float = 0.0,
    ):
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) < 2:
            raise ValueError(f"sizes={sizes!r} must list at least two layer widths, e.g. [n_in, n_out]")
        sizes = [positive_int(f"sizes[{i}]", s) for i, s in enumerate(sizes)]
        if output not in OUTPUTS:
            raise ValueError(f"Unknown output activation {output!r}; expected one of {list(OUTPUTS)}")
        activations.get(activation)
        self.sizes, self.activation, self.output = sizes, activation, output
        self.l1, self.l2 = non_negative("l1", l1), non_negative("l2", l2)
        rng = np.random.default_rng(seed)
        acts = [activation] * (len(sizes) - 2) + [output]
        self.layers = [Dense(a, b, act, seed=rng) for a, b, act in zip(sizes[:-1], sizes[1:], acts)]

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Return ``y_hat`` for ``X`` of shape ``(n, sizes[0])``."""
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backward(self, dL_dy_hat: np.ndarray, wrt_logits: bool = False) -> np.ndarray:
        """Backpropagate ``dL/dy_hat`` (or ``dL/dz`` of the last layer if ``wrt_logits``), fill
        :attr:`grads` (penalty gradients ``l1 sign(W) + 2 l2 W`` included) and return ``dL/dX``."""
        grad = dL_dy_hat
        for i, layer in enumerate(reversed(self.layers)):
            grad = layer.backward(grad, wrt_logits=wrt_logits and i == 0)
            if self.l1 or self.l2:
                layer.dW = layer.dW + self.l1 * np.sign(layer.W) + 2.0 * self.l2 * layer.W
        return grad

    def penalty(self) -> float:
        """``l1 * sum|W| + l2 * sum W²`` over all weight matrices.

        Examples
        --------
        >>> model = MLP([2, 1], l2=0.5, seed=0)
        >>> model.set_params([np.array([[1.0], [2.0]]), np.array([3.0])]).penalty()
        2.5
        """
        return float(sum(self.l1 * np.abs(L.W).sum() + self.l2 * np.square(L.W).sum() for L in self.layers))

    def loss_and_grad(self, X: np.ndarray, y: np.ndarray) -> float:
        """Forward ``X``, return the loss (plus :meth:`penalty`) and fill :attr:`grads`.

        The loss follows the output: MSE for a linear output, binary cross-entropy for sigmoid, softmax
        cross-entropy for softmax (``y``: integer labels ``(n,)`` or one-hot ``(n, k)``). The two
        cross-entropies are computed from the logits and backpropagation starts at the delta rule
        ``dL/dz = (y_hat - y) / n``.

        Examples
        --------
        >>> model = MLP([2, 3], output="softmax", seed=0)
        >>> X, y = np.zeros((2, 2)), np.array([0, 2])
        >>> round(model.loss_and_grad(X, y), 4)     # zero input, zero biases: uniform, log(3)
        1.0986
        >>> model.grads[1]                           # dL/db = mean of (y_hat - y)
        array([-0.16666667,  0.33333333, -0.16666667])
        """
        y_hat = self.forward(X)
        z = self.layers[-1].logits
        if self.output == "sigmoid":
            loss = losses.binary_cross_entropy(y, z, from_logits=True)
            delta = losses.binary_cross_entropy_grad(y, z, from_logits=True)
        elif self.output == "softmax":
            loss, delta = losses.softmax_cross_entropy(y, z), losses.softmax_cross_entropy_grad(y, z)
        else:
            loss, delta = losses.mse(y, y_hat), losses.mse_grad(y, y_hat)
        self.backward(delta, wrt_logits=True)
        return loss + self.penalty()

    @property
    def params(self) -> list[np.ndarray]:
        """``[W_1, b_1, W_2, b_2, ...]``, the arrays themselves (Keras' ``model.get_weights()`` order)."""
        return [p for layer in self.layers for p in layer.params]

    @property
    def grads(self) -> list[np.ndarray]:
        """Gradients from the last backward pass, in the order of :attr:`params`."""
        return [g for layer in self.layers for g in layer.grads]

    def set_params(self, arrays: Sequence[np.ndarray]) -> "MLP":
        """Copy ``arrays`` (e.g. a Keras ``model.get_weights()``) into the parameters, in place; return self.

        Raises
        ------
        ValueError
            If the number of arrays or any shape differs from :attr:`params`.
        """
        params = self.params
        if len(arrays) != len(params):
            raise ValueError(
                f"got {len(arrays)} arrays; this MLP has {len(params)} parameters (W, b per layer)"
            )
        for i, (p, a) in enumerate(zip(params, arrays)):
            a = np.asarray(a, dtype=np.float64)
            if a.shape != p.shape:
                raise ValueError(f"array {i} has shape {a.shape}; parameter {i} has shape {p.shape}")
            p[...] = a
        return self
