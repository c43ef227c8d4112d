"""Used by notebook 15 (through :mod:`aiaas_lib.compression`).

The Keras subclasses of :mod:`aiaas_lib.compression`: :class:`PruningCallback` (notebook 15's pruning while
fine-tuning) and :class:`Distiller` (notebook 15's knowledge distillation).

Plain classes in a module that imports Keras at the top, as :mod:`aiaas_lib.text_models` does. The maths
they use (masks, schedules, the KD loss) stays in :mod:`.prune` and :mod:`.distill`, which import no
Keras, so ``import aiaas_lib.compression`` stays light; this module loads on first use of
``compression.PruningCallback``, ``compression.Distiller``, :func:`~.prune.prune_during_fit` or
:func:`~.distill.distill`.
"""
from __future__ import annotations

import numpy as np

from aiaas_lib.compression.distill import _check, kd_loss
from aiaas_lib.compression.prune import (
    PolynomialSchedule, _apply, _check_sparsity, magnitude_mask, prunable_layers,
)
from aiaas_lib.env import import_tensorflow

tf = import_tensorflow()  # TensorFlow first, quietly
import keras  # noqa: E402


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


__all__ = ["PruningCallback", "Distiller"]
