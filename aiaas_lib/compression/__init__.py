"""Used by notebook 15.

Model compression: int8 quantization, magnitude pruning, knowledge distillation, and honest measurement.

One concept per module; the public names are re-exported here. Importing this package imports only
NumPy: TensorFlow and Keras load inside the functions that need them. The Keras side — the subclasses
``PruningCallback`` and ``Distiller`` and the two training drivers :func:`prune_during_fit` and
:func:`distill` that use them — lives in :mod:`.keras_classes` (which imports Keras at the top); this
package imports that module on first access to any of those four names.

=====================  ====================================================================================
module                 what
=====================  ====================================================================================
:mod:`.quantize`       :func:`affine_params`, :func:`symmetric_scale`, :func:`quantize`, :func:`dequantize`
                       (the int8 maths), :func:`keras_int8` (Keras 3's ``model.quantize``),
                       :func:`tflite_tensor_params` (what a ``.tflite`` file stores); the TFLite conversion
                       is :func:`aiaas_lib.packaging.export.export_tflite`
:mod:`.prune`          :func:`magnitude_mask`, :func:`prune`, :class:`PolynomialSchedule`,
                       :func:`sparsity`, :func:`layer_sparsity`
:mod:`.kd`             :func:`soft_targets`, :func:`kd_loss` (knowledge distillation's maths)
:mod:`.keras_classes`  ``PruningCallback`` (keeps the pruning masks during ``fit``) and
                       :func:`prune_during_fit`; ``Distiller`` (a KD ``train_step``) and :func:`distill`
:mod:`.measure`        :func:`file_size`, :func:`gzip_size`, :func:`save_for_serving`, :func:`median_ms`,
                       :func:`keras_latencies` (also behind :func:`aiaas_lib.packaging.export.compare_formats`)
:mod:`.compare`        :class:`Candidate`, :func:`keras_candidate`, :func:`tflite_candidate`,
                       :func:`compare` (the one table)
=====================  ====================================================================================

Examples
--------
>>> from aiaas_lib import compression
>>> compression.magnitude_mask([0.5, -0.1, 0.2, 0.0], 0.5).tolist()
[True, False, True, False]
"""
from aiaas_lib.compression.kd import kd_loss, soft_targets  # noqa: F401
from aiaas_lib.compression.compare import Candidate, compare, keras_candidate, tflite_candidate  # noqa: F401
from aiaas_lib.compression.measure import (  # noqa: F401
    CALL_PATHS, file_size, gzip_size, keras_call_paths, keras_latencies, median_ms, save_for_serving,
)
from aiaas_lib.compression.prune import (  # noqa: F401
    PolynomialSchedule, layer_sparsity, magnitude_mask, n_pruned, prunable_layers, prune, sparsity,
)
from aiaas_lib.compression.quantize import (  # noqa: F401
    INT_RANGES, affine_params, dequantize, keras_int8, quantize, symmetric_scale, tflite_tensor_params,
)


def __getattr__(name: str):
    """``PruningCallback``, ``Distiller``, ``prune_during_fit`` and ``distill`` come from :mod:`.keras_classes`,
    imported on first access so that importing this package does not import TensorFlow."""
    if name in ("PruningCallback", "Distiller", "prune_during_fit", "distill"):
        from aiaas_lib.compression import keras_classes

        return getattr(keras_classes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
