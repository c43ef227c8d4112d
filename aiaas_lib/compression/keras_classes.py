"""Used by notebook 15 (through :mod:`aiaas_lib.compression`).

The Keras side of :mod:`aiaas_lib.compression`: :class:`PruningCallback` and :func:`prune_during_fit`
(notebook 15's pruning while fine-tuning), :class:`Distiller` and :func:`distill` (notebook 15's knowledge
distillation).

Plain classes in a module that imports Keras at the top, as :mod:`aiaas_lib.language.text_models` does. The maths
they use (masks, schedules, the KD loss) stays in :mod:`.prune` and :mod:`.kd`, which import no
Keras and do not import this module (the dependency runs one way), so ``import aiaas_lib.compression``
stays light; this module loads on first use of ``compression.PruningCallback``, ``compression.Distiller``,
``compression.prune_during_fit`` or ``compression.distill``.
"""
from __future__ import annotations

import math

import numpy as np

from aiaas_lib.compression.kd import _check, kd_loss
from aiaas_lib.compression.prune import (
    PolynomialSchedule, _apply, _check_sparsity, magnitude_mask, prunable_layers,
)
from aiaas_lib.env import import_tensorflow

tf = import_tensorflow()  # TensorFlow first, quietly
import keras  # noqa: E402

from aiaas_lib.validation import positive_int


class PruningCallback(keras.callbacks.Callback):
    """Keras callback that prunes during ``fit`` and keeps the masks: after every optimizer step it
    multiplies each prunable kernel by its mask (so weights the optimizer moved away from zero go
    back to zero), and at the schedule's update steps it recomputes the masks from the current
    magnitudes.

    Parameters
    ----------
    schedule : PolynomialSchedule or float
        A schedule, or a sparsity for one-shot pruning at the first step.

    Attributes
    ----------
    masks_ : dict
        layer name -> mask after the last update. ``history_`` holds ``(step, sparsity)`` per update.

    Examples
    --------
    >>> keras.utils.set_random_seed(0)
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, name="d")])
    >>> model.compile("sgd", "mse")
    >>> callback = PruningCallback(0.5)  # one-shot: half of each kernel's weights, kept at zero while training
    >>> _ = model.fit(np.ones((8, 4)), np.ones((8, 8)), epochs=2, batch_size=4, verbose=0, callbacks=[callback])
    >>> float((np.asarray(model.get_layer("d").kernel) == 0).mean()), callback.history_
    (0.5, [(0, 0.5)])
    """

    def __init__(self, schedule):
        super().__init__()
        if not isinstance(schedule, PolynomialSchedule):
            schedule = PolynomialSchedule(final=_check_sparsity(schedule))
        self.schedule = schedule
        self.masks_ = {}
        self.history_ = []
        self._step = 0

    def on_train_begin(self, logs=None):
        self._step = 0
        self._update(0)

    def _update(self, step):
        if self.schedule.updates_at(step):
            target = self.schedule(step)
            self.masks_ = {layer.name: magnitude_mask(np.asarray(layer.kernel), target)
                           for layer in prunable_layers(self.model)}
            self.history_.append((step, target))
        _apply(self.model, self.masks_)

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        self._update(self._step)


class Distiller(keras.Model):
    """Train ``student`` from a frozen ``teacher`` with :func:`kd_loss` (a custom ``train_step``).

    ``fit(x, y)`` takes the same data as the student; the teacher only runs forward
    (``training=False``). Calling the distiller calls the student; keep and save ``distiller.student``.
    ``evaluate`` reports the student's label cross-entropy and accuracy.

    Parameters
    ----------
    student, teacher : keras.Model
        Both output logits of the same number of classes.
    temperature : float
        :math:`T > 0`.
    alpha : float
        Weight of the label loss, in [0, 1].
    """

    def __init__(self, student, teacher, temperature: float = 4.0, alpha: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.temperature, self.alpha = _check(temperature, alpha)
        self.student, self.teacher = student, teacher
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]

    def call(self, x, training=False):
        return self.student(x, training=training)

    def train_step(self, data):
        x, y = data[0], data[1]
        teacher_logits = self.teacher(x, training=False)
        with tf.GradientTape() as tape:
            student_logits = self.student(x, training=True)
            loss = kd_loss(y, student_logits, teacher_logits, self.temperature, self.alpha)
        variables = self.student.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(y, student_logits)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data[0], data[1]
        logits = self.student(x, training=False)
        ce = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
        self.loss_tracker.update_state(ce)
        self.accuracy_tracker.update_state(y, logits)
        return {m.name: m.result() for m in self.metrics}


def prune_during_fit(model, x, y, sparsity: float, epochs: int = 2, batch_size: int = 128,
                     schedule: str = "polynomial", validation_data=None) -> PruningCallback:
    """Fine-tune a compiled ``model`` on ``(x, y)`` while pruning it to ``sparsity`` (in place).

    ``schedule="polynomial"`` ramps the sparsity from 0 over the first half of the steps (cubic,
    :class:`PolynomialSchedule`) and then trains with fixed masks; ``"oneshot"`` prunes at the first step.

    Returns
    -------
    PruningCallback
        The callback (its ``masks_`` and ``history_``). ``PruningCallback`` (above) is the Keras callback used inside: pass it to your own ``fit`` with a sparsity or a
        :class:`PolynomialSchedule`.

    Examples
    --------
    >>> tf = import_tensorflow(); import keras  # TensorFlow first, quietly (aiaas_lib.env)
    >>> keras.utils.set_random_seed(0)
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10), keras.layers.Dense(1)])
    >>> model.compile("adam", "mse")
    >>> cb = prune_during_fit(model, np.random.rand(64, 4), np.random.rand(64, 1), 0.9, epochs=2, batch_size=8)
    >>> from aiaas_lib.compression import sparsity
    >>> sparsity(model), cb.history_[-1]
    (0.9, (8, 0.9))
    """
    _check_sparsity(sparsity)
    if schedule not in ("polynomial", "oneshot"):
        raise ValueError(f"schedule={schedule!r}; expected 'polynomial' or 'oneshot'")
    epochs = positive_int("epochs", epochs)
    if getattr(model, "optimizer", None) is None:
        raise ValueError("compile the model first (optimizer and loss): pruning fine-tunes it")
    steps = int(epochs) * math.ceil(len(x) / int(batch_size))
    end = steps // 2 if schedule == "polynomial" else 0
    callback = PruningCallback(PolynomialSchedule(final=sparsity, begin=0, end=end, frequency=max(1, end // 10)))
    model.fit(x, y, epochs=int(epochs), batch_size=int(batch_size), verbose=0, callbacks=[callback],
              validation_data=validation_data)
    return callback


def distill(teacher, student, x, y, temperature: float = 4.0, alpha: float = 0.1, epochs: int = 3,
            batch_size: int = 128, learning_rate: float = 1e-3, validation_data=None):
    """Train ``student`` (in place) to imitate ``teacher`` on ``(x, y)`` with :class:`Distiller`.

    Returns
    -------
    keras.callbacks.History
        Of the distiller's ``fit`` (``loss`` is the KD loss; ``val_*`` the student's label loss and accuracy).

    Examples
    --------
    >>> tf = import_tensorflow(); import keras  # TensorFlow first, quietly (aiaas_lib.env)
    >>> keras.utils.set_random_seed(0)
    >>> teacher = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> student = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> history = distill(teacher, student, np.random.rand(32, 4), np.arange(32) % 3, epochs=2, batch_size=16)
    >>> sorted(history.history)
    ['accuracy', 'loss']
    """
    temperature, alpha = _check(temperature, alpha)
    epochs = positive_int("epochs", epochs)
    distiller = Distiller(student, teacher, temperature=temperature, alpha=alpha)
    distiller.compile(optimizer=keras.optimizers.Adam(learning_rate))
    return distiller.fit(np.asarray(x, "float32"), np.asarray(y), epochs=int(epochs), batch_size=int(batch_size),
                         verbose=0, validation_data=validation_data)


__all__ = ["PruningCallback", "Distiller", "prune_during_fit", "distill"]
