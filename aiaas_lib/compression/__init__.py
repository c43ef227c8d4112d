"""Model compression: int8 quantization, magnitude pruning, knowledge distillation, and honest measurement.

One concept per module; the public names are re-exported here. Importing this package imports only
NumPy: TensorFlow and Keras load inside the functions that need them (``PruningCallback`` and
``Distiller``, Keras subclasses, are defined on first access).

=================  ========================================================================================
module             what
=================  ========================================================================================
:mod:`.quantize`   :func:`affine_params`, :func:`symmetric_scale`, :func:`quantize`, :func:`dequantize`
                   (the int8 maths), :func:`keras_int8` (Keras 3's ``model.quantize``),
                   :func:`tflite_tensor_params` (what a ``.tflite`` file stores); the TFLite conversion is
                   :func:`aiaas_lib.export.export_tflite`
:mod:`.prune`      :func:`magnitude_mask`, :func:`prune`, :class:`PolynomialSchedule`,
                   ``PruningCallback``, :func:`prune_during_fit`, :func:`sparsity`, :func:`layer_sparsity`
:mod:`.distill`    :func:`soft_targets`, :func:`kd_loss`, ``Distiller``, :func:`distill`
:mod:`.measure`    :func:`file_size`, :func:`gzip_size`, :func:`save_for_serving`, :func:`median_ms`,
                   :func:`keras_latencies`, :class:`Candidate`, :func:`keras_candidate`,
                   :func:`tflite_candidate`, :func:`compare` (the one table)
=================  ========================================================================================

Examples
--------
>>> from aiaas_lib import compression
>>> compression.magnitude_mask([0.5, -0.1, 0.2, 0.0], 0.5).tolist()
[True, False, True, False]
"""
from aiaas_lib.compression.distill import distill, kd_loss, soft_targets  # noqa: F401
from aiaas_lib.compression.measure import (  # noqa: F401
    CALL_PATHS, Candidate, compare, file_size, gzip_size, keras_call_paths, keras_candidate, keras_latencies,
    median_ms, save_for_serving, tflite_candidate,
)
from aiaas_lib.compression.prune import (  # noqa: F401
    PolynomialSchedule, layer_sparsity, magnitude_mask, n_pruned, prunable_layers, prune, prune_during_fit,
    sparsity,
)
from aiaas_lib.compression.quantize import (  # noqa: F401
    INT_RANGES, affine_params, dequantize, keras_int8, quantize, symmetric_scale, tflite_tensor_params,
)


def __getattr__(name: str):
    """``PruningCallback`` and ``Distiller`` subclass Keras classes: made on first access."""
    if name == "PruningCallback":
        from aiaas_lib.compression.prune import _pruning_callback_class

        return _pruning_callback_class()
    if name == "Distiller":
        from aiaas_lib.compression.distill import _distiller_class

        return _distiller_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
