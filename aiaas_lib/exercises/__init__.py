"""Feedback for the notebooks' exercises (notebooks 00-17): one module per notebook, in course order.

A notebook imports its checkers from its own module, e.g.
``from aiaas_lib.exercises.nb04_optimizers import check_nesterov_step``. Every ``check_*`` function is
wrapped by :func:`aiaas_lib.exercises.feedback.exercise`: it prints one clear line (``✓`` and what was
right, or ``✗`` and a hint), returns True or False and never raises on a wrong answer. Worked solutions
are in ``notebooks/solutions/`` (CI runs them).

- ``nb00_setup``
- ``nb01_ai_as_a_service``
- ``nb02_losses_and_gradients``
- ``nb03_backpropagation``
- ``nb04_optimizers``
- ``nb05_keras_tabular``
- ``nb06_training_on_a_gpu``
- ``nb07_computer_vision``
- ``nb08_nlp``
- ``nb09_explaining_with_shap``
- ``nb10_explaining_with_lime``
- ``nb11_packaging_models``
- ``nb12_serving_models``
- ``nb13_language_model_service``
- ``nb14_monitoring_and_updating``
- ``nb15_compression``
- ``nb16_privacy_and_security``
- ``nb17_scaling_out``
"""
