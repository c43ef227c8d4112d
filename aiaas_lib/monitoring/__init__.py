"""Used by notebook 14.

Monitoring a served model: drift statistics, the service's Prometheus metrics, and simulated traffic.

=====================  ====================================================================================
module                 what
=====================  ====================================================================================
:mod:`.drift`          PSI (numeric and categorical), KS and chi-square tests, prediction drift, and
                       :func:`drift_report` with alert levels (``ok`` / ``warn`` / ``alert``); column
                       kinds inferred from dtypes (:func:`column_kinds`) when not given
:mod:`.prometheus`     parse the service's ``/metrics`` text into a tidy DataFrame; request counts by
                       status, latency quantiles from histogram buckets, predictions per model version
:mod:`.traffic`        a stream of churn rows in windows with drift injected part-way (seeded)
=====================  ====================================================================================

Pure NumPy/SciPy/pandas: importing this package imports neither TensorFlow nor FastAPI.
"""
from aiaas_lib.monitoring.drift import (  # noqa: F401
    PSI_THRESHOLDS,
    alert_level,
    categorical_psi,
    chi2_test,
    column_kinds,
    drift_report,
    ks_test,
    prediction_drift,
    psi,
)
from aiaas_lib.monitoring.prometheus import (  # noqa: F401
    histogram_quantile,
    metric_values,
    parse_metrics,
    predictions_by_version,
    request_counts,
)
from aiaas_lib.monitoring.traffic import Window, churn_stream, drift_churn, stack  # noqa: F401

__all__ = [
    "PSI_THRESHOLDS", "alert_level", "categorical_psi", "chi2_test", "column_kinds", "drift_report", "ks_test",
    "prediction_drift", "psi", "histogram_quantile", "metric_values", "parse_metrics", "predictions_by_version",
    "request_counts",
    "Window", "churn_stream", "drift_churn", "stack",
]
