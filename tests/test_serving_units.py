"""The service's parts on their own: keys, token bucket, body checks, micro-batcher, tensor decoding,
graceful exit, the CLI's serve/train-defaults guards and the defaults' registration."""
import asyncio
import signal
from types import SimpleNamespace

import numpy as np
import pytest

from aiaas_lib import cli
from aiaas_lib.serving.batching import MicroBatcher, Overloaded, concat_inputs
from aiaas_lib.serving.errors import InputError, ServiceError
from aiaas_lib.serving.kserve import _flatten
from aiaas_lib.serving.runtime import numeric_array
from aiaas_lib.serving.security import (
    KeyChecker, RateLimiter, TokenBucket, bearer_token, check_content_type, load_api_keys, parse_json,
)


# -------------------------------------------------------------------------------------------- keys
def test_keys_file_skips_blank_lines_and_comments(tmp_path):
    f = tmp_path / "keys.txt"
    f.write_text("# team keys\nfirst-key-123\n\n  second-key-456  \nfirst-key-123\n")
    assert load_api_keys(["inline-key-789"], f) == ["inline-key-789", "first-key-123", "second-key-456"]


def test_missing_keys_file_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="api_keys_file=.*does not exist"):
        load_api_keys([], tmp_path / "nope.txt")


def test_short_key_is_an_error():
    with pytest.raises(ValueError, match="API key #1 has 3 characters; use at least 8"):
        load_api_keys(["abc"])


def test_bearer_parsing():
    assert bearer_token("Bearer k") == "k" and bearer_token("Token k") is None and bearer_token("Bearer ") is None


def test_key_checker_without_keys_is_disabled():
    assert KeyChecker([]).enabled is False and KeyChecker([]).identify("x") is None


# ------------------------------------------------------------------------------------- rate limits
def test_token_bucket_refills_at_its_rate():
    bucket = TokenBucket(capacity=1, rate=0.5, now=0.0)
    assert bucket.take(now=0.0) == 0
    assert bucket.take(now=0.0) == 2  # 1 token at 0.5/s: 2 s
    assert bucket.take(now=1.0) == 1
    assert bucket.take(now=2.0) == 0


def test_rate_limiter_off_when_zero():
    limiter = RateLimiter(per_minute=0, burst=1)
    assert not limiter.enabled and [limiter.check("a", now=0.0) for _ in range(5)] == [0] * 5


def test_rate_limiter_forgets_least_recent_clients():
    limiter = RateLimiter(per_minute=60, burst=1, max_clients=2)
    for who in ("a", "b", "c"):
        limiter.check(who, now=0.0)
    assert list(limiter._buckets) == ["b", "c"]


# ------------------------------------------------------------------------------------------ bodies
def test_json_with_plus_json_type_is_accepted():
    assert check_content_type("application/vnd.api+json") is None


def test_multipart_is_415():
    with pytest.raises(ServiceError, match="Content-Type 'multipart/form-data' is not supported") as err:
        check_content_type("multipart/form-data; boundary=x")
    assert err.value.status == 415


def test_huge_integer_literal_is_400():
    with pytest.raises(ServiceError, match="not valid JSON"):
        parse_json(b"[" + b"9" * 5000 + b"]")


def test_whitespace_body_is_400():
    with pytest.raises(ServiceError, match="request body is empty"):
        parse_json(b"  \n")


# ---------------------------------------------------------------------------------------- tensors
def test_numeric_array_keeps_float32_values():
    assert numeric_array([[0.5, 2]], "x").dtype == np.float32


def test_numeric_array_refuses_dicts():
    with pytest.raises(InputError, match="got dict values"):
        numeric_array([{"a": 1}], "instances")


def test_flatten_bytes_data_refuses_nulls():
    assert _flatten([["a"], ["b", ["c"]]], "x") == ["a", "b", "c"]
    with pytest.raises(InputError, match="input 'x' data must hold strings, got NoneType"):
        _flatten(["a", None], "x")


def test_flatten_refuses_deep_nesting():
    deep = ["a"]
    for _ in range(40):
        deep = [deep]
    with pytest.raises(InputError, match="nested too deeply"):
        _flatten(deep, "x")


# ---------------------------------------------------------------------------------------- batching
def test_concat_inputs_of_dicts():
    out = concat_inputs([{"a": np.zeros((1, 1))}, {"a": np.ones((2, 1))}])
    assert out["a"].ravel().tolist() == [0.0, 1.0, 1.0]


def test_batcher_splits_results_back_in_order():
    async def run():
        b = MicroBatcher(lambda x: x * 10, max_size=8, max_wait_ms=100, queue_size=8)
        await b.start()
        outs = await asyncio.gather(*(b.submit(np.full((k, 1), k, float), k) for k in (1, 2, 3)))
        await b.stop()
        return [o.ravel().tolist() for o in outs], b.batches

    outs, batches = asyncio.run(run())
    assert outs == [[10.0], [20.0, 20.0], [30.0, 30.0, 30.0]] and batches == [6]


def test_batcher_never_exceeds_max_size():
    async def run():
        b = MicroBatcher(lambda x: x, max_size=3, max_wait_ms=100, queue_size=8)
        await b.start()
        await asyncio.gather(*(b.submit(np.zeros((2, 1)), 2) for _ in range(3)))
        await b.stop()
        return b.batches

    assert asyncio.run(run()) == [2, 2, 2]  # 2 + 2 > 3, so each request runs alone


def test_batcher_full_queue_raises_overloaded():
    async def run():
        b = MicroBatcher(lambda x: x, max_size=1, max_wait_ms=0, queue_size=1)
        b._worker = object()  # pretend started, with nobody consuming the queue
        b._queue = asyncio.Queue(maxsize=1)
        first = asyncio.ensure_future(b.submit(np.zeros((1, 1)), 1))
        await asyncio.sleep(0)
        try:
            await b.submit(np.zeros((1, 1)), 1)
        finally:
            first.cancel()

    with pytest.raises(Overloaded, match="1 requests waiting"):
        asyncio.run(run())


def test_batcher_model_error_reaches_every_request():
    def boom(x):
        raise RuntimeError("model broke")

    async def run():
        b = MicroBatcher(boom, max_size=4, max_wait_ms=50, queue_size=4)
        await b.start()
        results = await asyncio.gather(b.submit(np.zeros((1, 1)), 1), b.submit(np.zeros((1, 1)), 1),
                                       return_exceptions=True)
        await b.stop()
        return results

    assert [str(r) for r in asyncio.run(run())] == ["model broke", "model broke"]


def test_batcher_submit_before_start_is_an_error():
    with pytest.raises(RuntimeError, match="start\\(\\) must be awaited"):
        asyncio.run(MicroBatcher(lambda x: x).submit(np.zeros((1, 1)), 1))


def test_batcher_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="max_size=0"):
        MicroBatcher(lambda x: x, max_size=0)


# ----------------------------------------------------------------------------------- graceful exit
def test_graceful_server_waits_drain_seconds_before_stopping():
    import uvicorn

    from aiaas_lib.serving.server import GracefulServer

    flags = []
    server = GracefulServer(uvicorn.Config(app=None), SimpleNamespace(begin_shutdown=lambda: flags.append(1)),
                            drain_seconds=30)
    server.handle_exit(signal.SIGTERM, None)
    assert flags == [1] and server.should_exit is False  # not ready at once, still serving
    server.handle_exit(signal.SIGTERM, None)  # a second signal stops at once
    assert server.should_exit is True


# ------------------------------------------------------------------------------------------- CLI
def test_serve_refuses_public_host_without_keys(tmp_path, capsys):
    code = cli.main(["serve", "--registry", str(tmp_path), "--host", "0.0.0.0"])
    assert code == 2 and "refusing to listen on 0.0.0.0 without API keys" in capsys.readouterr().err


def test_serve_refuses_empty_registry(tmp_path, capsys):
    code = cli.main(["serve", "--registry", str(tmp_path / "empty")])
    assert code == 2 and "has no models; train the defaults first" in capsys.readouterr().err


def test_serve_reports_bad_keys_file(tmp_path, capsys):
    code = cli.main(["serve", "--registry", str(tmp_path), "--api-keys-file", str(tmp_path / "none")])
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_train_defaults_registers_labels_and_logs(tmp_path, monkeypatch, capsys):
    from aiaas_lib import defaults
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    from aiaas_lib.packaging.registry import ModelRegistry

    def fake(mode=None):
        model = keras.Sequential([keras.Input((2,), name="x"), keras.layers.Dense(1)])
        return model, {"kind": "tensor", "input_shape": [2], "metrics": {"accuracy": 0.5}, "mode": "fast"}

    monkeypatch.setattr(defaults, "TRAINERS", {"churn": fake, "fashion": fake})
    assert cli.main(["train-defaults", "--registry", str(tmp_path), "--mode", "fast"]) == 0
    out = capsys.readouterr().out
    reg = ModelRegistry(tmp_path)
    assert reg.models() == ["churn", "fashion"] and reg.labels("churn") == {"stable": 1}
    assert "churn    version 1 (stable)  accuracy=0.5000" in out


def test_train_defaults_refuses_unknown_names(tmp_path):
    from aiaas_lib.defaults import train_defaults

    with pytest.raises(ValueError, match="the default models are \\['churn', 'fashion'\\]"):
        train_defaults(tmp_path, names=["gpt"])


def test_runtime_refuses_bad_metadata():
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    from aiaas_lib.serving.runtime import ModelRuntime

    model = keras.Sequential([keras.Input((2,), name="x"), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="metadata kind='image'; expected one of \\['tabular', 'tensor', 'tensors'\\]"):
        ModelRuntime("m", 1, model, {"kind": "image"})
    with pytest.raises(ValueError, match="tensor metadata lacks 'input_shape'"):
        ModelRuntime("m", 1, model, {"kind": "tensor"})
    with pytest.raises(ValueError, match="tabular metadata lacks \\['numeric', 'categorical', 'input_schema'\\]"):
        ModelRuntime("m", 1, model, {"kind": "tabular"})


def test_non_finite_model_output_is_400():
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    from aiaas_lib.serving.runtime import ModelRuntime

    model = keras.Sequential([keras.Input((1,), name="x"), keras.layers.Dense(1)])
    rt = ModelRuntime("m", 1, model, {"kind": "tensor", "input_shape": [1]})
    with pytest.raises(InputError, match="output is not finite for instance\\(s\\) \\[1\\]"):
        rt.check_finite(np.array([[0.5], [np.nan]], np.float32))


def test_content_length_must_be_a_number():
    from aiaas_lib.serving.security import read_body

    request = SimpleNamespace(headers={"content-length": "ten"})
    with pytest.raises(ServiceError, match="Content-Length 'ten' is not a number of bytes"):
        asyncio.run(read_body(request, 100))


def test_batcher_stop_fails_waiting_requests_and_reports_batches():
    seen = []

    async def run():
        b = MicroBatcher(lambda x: x, max_size=4, max_wait_ms=0, queue_size=4, on_batch=seen.append)
        await b.start()
        await b.submit(np.zeros((2, 1)), 2)
        b._worker.cancel()  # a stuck worker: requests are left waiting
        loop = asyncio.get_running_loop()
        job_future = loop.create_future()
        from aiaas_lib.serving.batching import _Job

        b._queue.put_nowait(_Job(np.zeros((1, 1)), 1, job_future))
        await b.stop()
        return job_future.exception()

    err = asyncio.run(run())
    assert seen == [2] and "shutting down" in str(err)


def test_is_loopback_of_a_host_name():
    from aiaas_lib.serving.server import is_loopback

    assert is_loopback("example.com") is False and is_loopback("127.0.0.2") is True


# ------------------------------------------------------------------------------------ tabular fast path
def _churn_runtime(model_fn):
    from aiaas_lib import data
    from aiaas_lib.keras_models import tabular_classifier
    from aiaas_lib.packaging.schema import input_schema
    from aiaas_lib.serving.runtime import ModelRuntime

    X, _ = data.churn_xy(data.load_churn())
    X = X.iloc[:200]
    num, cat = data.CHURN_NUMERIC, data.CHURN_CATEGORICAL
    model = model_fn(tabular_classifier(X, num, cat, hidden=(8,), dropout=0.1))
    meta = {"kind": "tabular", "numeric": num, "categorical": cat, "input_schema": input_schema(X, num, cat),
            "background": X.iloc[:50].to_dict("records")}
    rt = ModelRuntime("churn", 1, model, meta)
    rt.warm_up()
    return rt, X


def test_tabular_runtime_runs_a_dense_head_in_numpy_equal_to_keras():
    from aiaas_lib.keras_models import tabular_inputs

    rt, X = _churn_runtime(lambda m: m)
    assert rt.call_path == "numpy encoder + numpy dense head"
    rows = X.iloc[60:90].to_dict("records")
    inputs, columns = rt.decode_rows(rows)
    expected = rt.model.predict_on_batch(tabular_inputs(X.iloc[60:90], rt.numeric, rt.categorical))
    np.testing.assert_allclose(rt.predict(inputs), expected, rtol=0, atol=1e-5)  # float32 sums in another order
    assert list(columns) == rt.columns and len(columns["tenure"]) == 30


def test_tabular_runtime_keeps_a_compiled_head_for_other_layers():
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    def with_batchnorm(model):  # a head that is not only Dense/Dropout: BatchNormalization after features
        features = model.get_layer("features").output
        x = keras.layers.BatchNormalization(name="bn")(features)
        out = keras.layers.Dense(1, activation="sigmoid", name="out")(x)
        return keras.Model(model.inputs, out)

    rt, _ = _churn_runtime(with_batchnorm)
    assert rt.call_path == "numpy encoder + tf.function head"


# ------------------------------------------------------------------------------ explainer choice
def _numeric_runtime(width: int, features_name: str = "concat"):
    """A ModelRuntime for a plain functional model on ``width`` numeric columns: one Normalization over all of
    them after a Concatenate named ``features_name`` (a practitioner's pattern, not the course's builder)."""
    import pandas as pd

    from aiaas_lib.env import import_tensorflow
    from aiaas_lib.serving.runtime import ModelRuntime
    from aiaas_lib.packaging.signature import serving_metadata

    import_tensorflow()
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    columns = [f"x{i}" for i in range(width)]
    frame = pd.DataFrame(rng.normal(size=(200, width)).round(3), columns=columns)
    inputs = {c: keras.Input((1,), name=c) for c in columns}
    joined = keras.layers.Concatenate(name=features_name)([inputs[c] for c in columns])
    norm = keras.layers.Normalization()
    norm.adapt(frame.to_numpy("float32"))
    hidden = keras.layers.Dense(4, activation="tanh")(norm(joined))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    meta = serving_metadata(model, data=frame, n_background=50)
    runtime = ModelRuntime("plain", 1, model, meta)
    runtime.warm_up()
    return runtime, frame


@pytest.mark.parametrize("width, features_name, method", [
    (4, "features", None),  # the course's layer name on another structure: deep only if it adds up
    (4, "concat", "exact"),
    (11, "concat", "permutation"),  # 2**11 coalitions x 20 background rows exceed the budget
])
def test_explainer_falls_back_to_a_model_agnostic_method_within_budget(width, features_name, method):
    from aiaas_lib.serving.explaining import EVAL_BUDGET, RuntimeExplainer

    runtime, frame = _numeric_runtime(width, features_name)
    explainer = RuntimeExplainer(runtime)
    info = explainer.info
    if method is not None:
        assert info["method"] == method and "model-agnostic" in info["reason"], info
    assert info["model_rows_per_instance"] <= max(EVAL_BUDGET, info["background_rows"])
    rows = frame.iloc[:3]
    values, base, names = explainer(rows)
    prediction = runtime.predict(runtime._column_inputs(rows)).ravel()
    assert names == runtime.numeric and sorted(names) == sorted(frame.columns) and values.shape == (3, width)
    np.testing.assert_allclose(values.sum(axis=1) + base, prediction, atol=1e-5)  # additive whatever the method
