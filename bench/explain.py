"""Time to explain one churn row, per explainer, with the additivity error of each.

Models (fast-mode sized: a few epochs on the churn training split):
- the Keras churn classifier (``fit_tabular_classifier``, all 19 raw columns, hidden (16,), 3 epochs);
- a 6-column Keras churn classifier (3 numbers, contract, internet service, payment method) for the
  from-scratch exact Shapley values, which enumerate 2**6 coalitions;
- a HistGradientBoostingClassifier (100 trees) on ``churn_matrix`` features (45 columns).

Every explainer uses the same 100 training rows as background and explains test rows; each cell is the
median of REPEATS timed calls (a different row each time) after one warm-up call (which also JIT-compiles
shap's numba code and traces TensorFlow functions). The additivity error is
max |sum(values) + base - prediction| over the timed rows, the prediction being what the explainer
explains (P(churn), or log-odds for the tree model). The ``model.predict`` row hands the same permutation
explainer ``model.predict`` instead of ``predict_on_batch``: the pitfall the course warns about.

Threads: TensorFlow and BLAS may use both cores of this 2-core machine (nothing is pinned to one thread).
It prints markdown tables and asserts nothing.

Run: ``python bench/explain.py`` (about 1–2 minutes).
"""
from __future__ import annotations

import os
import statistics
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402  (installed with scikit-learn)

from aiaas_lib import data  # noqa: E402
from aiaas_lib.env import import_tensorflow  # noqa: E402

REPEATS, N_BACKGROUND, THREADS = 5, 100, 2
NUMERIC, CATEGORICAL = list(data.CHURN_NUMERIC), list(data.CHURN_CATEGORICAL)
SMALL_CATEGORICAL = ["contract", "internet_service", "payment_method"]


def timed(explain, rows, predict) -> tuple[float, float, float]:
    """Median ms per row over REPEATS rows after one warm-up, the worst additivity error, and the warm-up ms."""
    from aiaas_lib.explain import additivity_error

    start = time.perf_counter()
    explain(rows.iloc[[0]] if hasattr(rows, "iloc") else rows[:1])  # warm-up
    first = 1000 * (time.perf_counter() - start)
    times, errors = [], []
    for i in range(1, REPEATS + 1):
        row = rows.iloc[[i]] if hasattr(rows, "iloc") else rows[i:i + 1]
        start = time.perf_counter()
        values, base = explain(row)
        times.append(1000 * (time.perf_counter() - start))
        errors.append(additivity_error(values, base, predict(row)))
    return statistics.median(times), max(errors), first


def call_overhead_ms(fn, n: int = 20) -> float:
    fn()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def main() -> None:
    warnings.filterwarnings("ignore")
    tf = import_tensorflow()
    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(THREADS)
    import keras
    import shap
    from sklearn.ensemble import HistGradientBoostingClassifier

    from aiaas_lib.explain import TabularExplainer, exact_shapley, explain_rows, shap_explainer
    from aiaas_lib.explain.keras_tabular import ColumnCodec, tabular_function
    from aiaas_lib.keras_models import fit_tabular_classifier, tabular_inputs

    X, y = data.churn_xy(data.load_churn())
    X_train, _, X_test, y_train, _, _ = data.split(X, y, seed=0, stratify=y)
    background, rows = X_train.iloc[:N_BACKGROUND], X_test.iloc[: REPEATS + 1]

    t0 = time.perf_counter()
    model = fit_tabular_classifier(X_train, y_train, NUMERIC, CATEGORICAL, hidden=(16,), epochs=3)
    small = fit_tabular_classifier(X_train, y_train, NUMERIC, SMALL_CATEGORICAL, hidden=(16,), epochs=3,
                                   name="small")
    M_train, M_test, names = data.churn_matrix(X_train, X_test)
    hgb = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(M_train, y_train)
    train_s = time.perf_counter() - t0

    def p_model(frame, m=model, cat=CATEGORICAL):
        return np.asarray(m.predict_on_batch(tabular_inputs(frame, NUMERIC, cat))).ravel()

    def as_pair(att):
        return att.values, att.base_values

    results = []
    with threadpool_limits(limits=THREADS):
        # 1. from-scratch exact Shapley over the 6 raw columns of the small model
        codec = ColumnCodec(NUMERIC, SMALL_CATEGORICAL).fit(background, rows)
        f_small, bg_small = tabular_function(small, codec), codec.encode(background)
        results.append(("exact_shapley (from scratch), 6 raw columns", "P(churn), 6-column model",
                        *timed(lambda r: exact_shapley(f_small, codec.encode(r), bg_small), rows,
                               lambda r: p_model(r, small, SMALL_CATEGORICAL))))
        # 2. TreeExplainer on the boosted trees
        tree = shap_explainer(hgb, M_train[:N_BACKGROUND], kind="tree")
        results.append(("TreeExplainer, HistGradientBoosting (45 encoded columns)", "log-odds of churn",
                        *timed(lambda r: as_pair(tree(r)), M_test[: REPEATS + 1], hgb.decision_function)))
        # 3. DeepExplainer through explain_rows (what the service uses)
        results.append(("DeepExplainer via explain_rows (19 raw columns)", "P(churn)",
                        *timed(lambda r: explain_rows(model, r, background, NUMERIC, CATEGORICAL)[:2], rows,
                               p_model)))
        # 4. GradientExplainer on the same head
        grad = TabularExplainer(model, background, NUMERIC, CATEGORICAL, method="gradient", nsamples=200)
        results.append(("GradientExplainer (200 samples), 19 raw columns", "P(churn)",
                        *timed(lambda r: as_pair(grad(r)), rows, p_model)))
        # 5. Permutation and Kernel on raw columns, model called through fast_predict (predict_on_batch)
        perm = TabularExplainer(model, background, NUMERIC, CATEGORICAL, method="permutation", max_evals=500)
        results.append(("PermutationExplainer (500 evals), predict_on_batch", "P(churn)",
                        *timed(lambda r: as_pair(perm(r)), rows, p_model)))
        kern = TabularExplainer(model, background, NUMERIC, CATEGORICAL, method="kernel", nsamples=500)
        results.append(("KernelExplainer (500 samples), predict_on_batch", "P(churn)",
                        *timed(lambda r: as_pair(kern(r)), rows, p_model)))

        # 6. the pitfall: the same permutation explainer handed model.predict
        calls = {"n": 0}

        def slow_predict(inputs):
            calls["n"] += 1
            # Keras' predict refuses NumPy string arrays (unicode or object): hand it tensors
            return model.predict({k: tf.constant(v) for k, v in inputs.items()}, verbose=0)

        slow = TabularExplainer(model, background, NUMERIC, CATEGORICAL, method="permutation", max_evals=500,
                                predict=slow_predict)
        calls["n"] = 0
        ms, err, first = timed(lambda r: as_pair(slow(r)), rows, p_model)
        calls_per_row = calls["n"] / (REPEATS + 1)
        results.append(("PermutationExplainer (500 evals), model.predict", "P(churn)", ms, err, first))

        one = tabular_inputs(rows.iloc[[0]], NUMERIC, CATEGORICAL)
        one_obj = {k: tf.constant(v) for k, v in one.items()}
        big = tabular_inputs(background, NUMERIC, CATEGORICAL)
        big_obj = {k: tf.constant(v) for k, v in big.items()}
        overhead = {
            "model.predict": (call_overhead_ms(lambda: model.predict(one_obj, verbose=0)),
                              call_overhead_ms(lambda: model.predict(big_obj, verbose=0))),
            "model.predict_on_batch": (call_overhead_ms(lambda: model.predict_on_batch(one)),
                                       call_overhead_ms(lambda: model.predict_on_batch(big))),
            "model(x, training=False)": (call_overhead_ms(lambda: model(one, training=False)),
                                         call_overhead_ms(lambda: model(big, training=False))),
        }

    print(f"tensorflow {tf.__version__}, keras {keras.__version__}, shap {shap.__version__}, {os.cpu_count()} CPUs "
          f"(TF and BLAS limited to {THREADS} threads); background {N_BACKGROUND} training rows; "
          f"models trained in {train_s:.1f} s\n")
    print(f"| explainer | explains | ms per row (median of {REPEATS}) | first call ms | max additivity error |")
    print("|---|---|---:|---:|---:|")
    for name, what, ms, err, first in results:
        print(f"| {name} | {what} | {ms:.1f} | {first:.0f} | {err:.1e} |")
    print("\nfirst call: the warm-up, which for the explainers built lazily (explain_rows) includes building them, "
          "and includes one-off JIT compilation (numba in shap, TensorFlow tracing).")
    print(f"\nThe model.predict permutation run called the model {calls_per_row:.0f} times per row.\n")
    print("| call (Keras churn model) | ms for 1 row | ms for 100 rows |")
    print("|---|---:|---:|")
    for name, (a, b) in overhead.items():
        print(f"| {name} | {a:.2f} | {b:.2f} |")


if __name__ == "__main__":
    main()
