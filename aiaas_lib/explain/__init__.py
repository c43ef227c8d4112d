"""Used by notebooks 09 and 10; also imported by the CLI/service.

Explaining models: Shapley values and LIME from scratch, wrappers over shap and lime, and checks.

One concept per module; everything is re-exported here, so ``from aiaas_lib import explain;
explain.exact_shapley(...)`` works. Importing this package imports only NumPy: shap, lime, TensorFlow
and matplotlib load inside the functions that need them.

=====================  =====================================================================================
module                 what
=====================  =====================================================================================
:mod:`.shapley`        :func:`exact_shapley` — exact interventional Shapley values over all coalitions
:mod:`.lime_scratch`   :func:`lime_tabular` — LIME (continuous features) from scratch, equal to lime's
:mod:`.shap_wrappers`  :func:`shap_explainer` (tree / deep / gradient / permutation / kernel / exact),
                       :class:`Attribution`, :func:`fast_predict`
:mod:`.keras_tabular`  per-raw-column attributions of Keras tabular models: :func:`tabular_parts`,
                       :func:`column_groups`, :func:`group_attributions`, :func:`explain_keras_tabular`,
                       :func:`explain_rows` (what the service's explain endpoint uses)
:mod:`.lime_wrappers`  :func:`lime_tabular_lib`, :func:`lime_text`, :func:`lime_image`
:mod:`.metrics`        :func:`additivity_error`, :func:`rank_agreement`
:mod:`.plots`          :func:`plot_attributions`
=====================  =====================================================================================

Examples
--------
>>> import numpy as np
>>> from aiaas_lib import explain
>>> values, base = explain.exact_shapley(lambda rows: rows.sum(axis=1), np.array([1.0, 2.0]), np.zeros((5, 2)))
>>> values.tolist(), base
([1.0, 2.0], 0.0)
"""
from aiaas_lib.explain.keras_tabular import (  # noqa: F401
    ColumnCodec, TabularExplainer, cached_explainer, column_groups, explain_keras_tabular, explain_rows,
    group_attributions, tabular_function, tabular_parts,
)
from aiaas_lib.explain.lime_scratch import LimeExplanation, lime_tabular, weighted_r2, weighted_ridge  # noqa: F401
from aiaas_lib.explain.lime_wrappers import lime_image, lime_tabular_lib, lime_text, slic_segments  # noqa: F401
from aiaas_lib.explain.metrics import Agreement, additivity_error, rank_agreement  # noqa: F401
from aiaas_lib.explain.plots import plot_attributions  # noqa: F401
from aiaas_lib.explain.shap_wrappers import (  # noqa: F401
    Attribution, ShapExplainer, fast_predict, is_keras_model, is_tree_ensemble, shap_explainer,
)
from aiaas_lib.explain.shapley import MAX_EXACT_FEATURES, coalition_masks, exact_shapley  # noqa: F401
