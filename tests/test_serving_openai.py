"""The OpenAI-compatible routes: TestClient tests for every route and error path, then the official `openai`
client against a real `aiaas serve` process. Models are tiny and untrained (a 1-layer GPT over a small
character vocabulary, a 1-layer BERT over 20 words), registered once per test session in a temp registry."""
import atexit
import base64
import functools
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import pytest

from _serving import TEXT, WORDS, add_text_models, ready_client
from aiaas_lib.generation import chat_prompt
from aiaas_lib.serving import Settings, create_app
from aiaas_lib.serving.openai_api import MAX_N, _chat_stops, decode_base64_embedding

KEY = "openai-test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}


@functools.lru_cache(maxsize=1)
def text_registry() -> str:
    """tiny-gpt (generation), tiny-embed (embedding) and demo (a tensor model, for wrong-kind errors)."""
    from aiaas_lib.env import import_tensorflow

    import_tensorflow()
    import keras

    from aiaas_lib.packaging.registry import ModelRegistry

    root = tempfile.mkdtemp(prefix="aiaas-openai-test-")
    atexit.register(shutil.rmtree, root, True)
    add_text_models(root, TEXT, WORDS)
    demo = keras.Sequential([keras.Input((2,), name="x"), keras.layers.Dense(1)])
    ModelRegistry(root).register("demo", demo, {"kind": "tensor", "input_shape": [2]})
    return root


@pytest.fixture(scope="module")
def client():
    c = ready_client(create_app(Settings(registry=text_registry(), api_keys=[KEY])))
    yield c
    c.__exit__(None, None, None)


def post(client, path, body, headers=AUTH):
    return client.post(path, json=body, headers=headers)


def complete(client, **body):
    r = post(client, "/v1/completions", {"model": "tiny-gpt", **body})
    assert r.status_code == 200, r.text
    return r.json()


def chat(client, **body):
    r = post(client, "/v1/chat/completions", {"model": "tiny-gpt", **body})
    assert r.status_code == 200, r.text
    return r.json()


def sse(response) -> list:
    """The data of every server-sent event; checks the framing and that the last one is [DONE]."""
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [e for e in response.text.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    return [json.loads(e[len("data: "):]) for e in events[:-1]]


def assert_openai_error(r, status, param=None, code=None, type_="invalid_request_error"):
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"} and err["type"] == type_
    assert err["param"] == param and err["code"] == code
    return err["message"]


# ------------------------------------------------------------------------------------------- models
def test_models_lists_the_text_models_only(client):
    r = client.get("/v1/models", headers=AUTH)
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "list"
    assert [(m["id"], m["object"], m["kind"]) for m in body["data"]] == [
        ("tiny-embed", "model", "embedding"), ("tiny-gpt", "model", "generation")]
    assert all(m["created"] > 1_700_000_000 and m["owned_by"] == "aiaas" for m in body["data"])


def test_tf_serving_status_route_still_answers_for_other_models(client):
    assert client.get("/v1/models/demo", headers=AUTH).json()["model_version_status"][0]["state"] == "AVAILABLE"


def test_tf_serving_predict_refuses_a_language_model(client):
    r = post(client, "/v1/models/tiny-gpt:predict", {"instances": [[1.0, 2.0]]})
    assert r.status_code == 400 and "use /v1/completions" in r.json()["error"]


# --------------------------------------------------------------------------------------- completions
def test_completion_shape_and_usage(client):
    body = complete(client, prompt="the cat", max_tokens=5, seed=1)
    assert body["object"] == "text_completion" and body["id"].startswith("cmpl-") and body["model"] == "tiny-gpt"
    (choice,) = body["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "length" and choice["logprobs"] is None
    assert len(choice["text"]) == 5  # one character per token; no stop sequence given
    assert body["usage"] == {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}


def test_completion_same_seed_same_text(client):
    a = complete(client, prompt="a dog", max_tokens=8, seed=3, n=2)
    b = complete(client, prompt="a dog", max_tokens=8, seed=3, n=2)
    assert [c["text"] for c in a["choices"]] == [c["text"] for c in b["choices"]]


def test_completion_n_choices_count_the_prompt_once(client):
    body = complete(client, prompt="the mat", max_tokens=4, n=2, seed=0)
    assert [c["index"] for c in body["choices"]] == [0, 1]
    assert body["usage"] == {"prompt_tokens": 7, "completion_tokens": 8, "total_tokens": 15}


def test_completion_list_of_prompts(client):
    body = complete(client, prompt=["the", "a dog", [3, 4]], max_tokens=2, n=2, seed=0)
    assert [c["index"] for c in body["choices"]] == [0, 1, 2, 3, 4, 5]
    assert body["usage"]["prompt_tokens"] == 3 + 5 + 2 and body["usage"]["completion_tokens"] == 12


def test_completion_stop_ends_before_the_stop_sequence(client):
    greedy = complete(client, prompt="the cat", max_tokens=12, temperature=0)["choices"][0]["text"]
    stop = greedy[4:6]  # a piece the greedy reply contains
    first = greedy.find(stop)
    body = complete(client, prompt="the cat", max_tokens=12, temperature=0, stop=[stop])
    assert body["choices"][0] == {"index": 0, "text": greedy[:first], "finish_reason": "stop", "logprobs": None}
    assert body["usage"]["completion_tokens"] == first + len(stop)  # the stop sequence's tokens are billed


def test_completion_echo_prepends_the_prompt(client):
    plain = complete(client, prompt="the cat", max_tokens=3, seed=5)["choices"][0]["text"]
    echoed = complete(client, prompt="the cat", max_tokens=3, seed=5, echo=True)["choices"][0]["text"]
    assert echoed == "the cat" + plain


def test_completion_logprobs(client):
    body = complete(client, prompt="the cat", max_tokens=4, seed=2, logprobs=2)
    lp = body["choices"][0]["logprobs"]
    assert "".join(lp["tokens"]) == body["choices"][0]["text"] and lp["text_offset"] == [0, 1, 2, 3]
    assert all(v <= 0 for v in lp["token_logprobs"]) and all(len(t) == 2 for t in lp["top_logprobs"])


def test_completion_prompt_is_left_truncated_to_the_context(client):
    body = complete(client, prompt="the cat sat on the mat " * 4, max_tokens=8, seed=0)
    assert body["usage"]["prompt_tokens"] == 48 - 8  # context 48 minus max_tokens


# --------------------------------------------------------------------------------------------- chat
MESSAGES = [{"role": "system", "content": "the cat"}, {"role": "user", "content": "a dog?"}]


def test_chat_shape_and_usage_counts_the_template(client):
    body = chat(client, messages=MESSAGES, max_tokens=6, seed=0)
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    (choice,) = body["choices"]
    assert choice["message"]["role"] == "assistant" and choice["finish_reason"] in ("stop", "length")
    assert body["usage"]["prompt_tokens"] == len(chat_prompt(MESSAGES))
    assert body["usage"]["completion_tokens"] <= 6


def test_chat_default_max_tokens_is_the_rest_of_the_context(client):
    messages = [{"role": "user", "content": "a dog?"}]
    body = chat(client, messages=messages, seed=0)
    prompt = len(chat_prompt(messages))  # 24 characters: 48 - 24 are left for the reply
    assert body["usage"]["prompt_tokens"] == prompt
    assert (body["choices"][0]["finish_reason"], body["usage"]["completion_tokens"]) == ("length", 48 - prompt)


def test_chat_accepts_text_content_parts(client):
    parts = [{"role": "user", "content": [{"type": "text", "text": "a "}, {"type": "text", "text": "dog?"}]}]
    a = chat(client, messages=parts, max_tokens=3, seed=4)
    b = chat(client, messages=[{"role": "user", "content": "a dog?"}], max_tokens=3, seed=4)
    assert a["choices"] == b["choices"]


def test_chat_logprobs(client):
    body = chat(client, messages=MESSAGES, max_tokens=3, seed=0, logprobs=True, top_logprobs=3, temperature=0)
    content = body["choices"][0]["logprobs"]["content"]
    assert len(content) == body["usage"]["completion_tokens"]
    assert all(len(c["top_logprobs"]) == 3 and c["bytes"] == list(c["token"].encode()) for c in content)
    assert all(c["logprob"] == c["top_logprobs"][0]["logprob"] for c in content)  # greedy: the top token


def test_chat_turn_marker_ends_the_reply():
    from types import SimpleNamespace as Event

    events = [Event(text=t, finish_reason=None) for t in ("hi", "\n\nus", "er: more", "x")]
    out = list(_chat_stops(iter(events), ("\n\nuser:",)))
    assert "".join(text for _, text, _ in out) == "hi" and out[-1][2] == "stop" and len(out) == 3


def test_chat_stop_releases_held_text_when_length_ends_it():
    from types import SimpleNamespace as Event

    events = [Event(text="ok\n", finish_reason=None), Event(text="\n", finish_reason="length")]
    out = list(_chat_stops(iter(events), ("\n\nuser:",)))
    assert [t for _, t, _ in out] == ["ok", "\n\n"] and out[-1][2] == "length"


def test_generation_and_embeddings_are_timed_in_the_metrics(client):
    complete(client, prompt="a", max_tokens=1)
    post(client, "/v1/embeddings", {"model": "tiny-embed", "input": "tea"})
    text = client.get("/metrics", headers=AUTH).text
    assert 'aiaas_inference_duration_seconds_count{model="tiny-gpt"}' in text
    assert 'aiaas_inference_duration_seconds_count{model="tiny-embed"}' in text
    assert 'aiaas_requests_total{method="POST",route="/v1/completions",status="200"}' in text


# ----------------------------------------------------------------------------------------- streaming
def test_completion_stream_chunks_match_the_plain_answer(client):
    plain = complete(client, prompt="the cat", max_tokens=6, seed=7, n=2)
    r = post(client, "/v1/completions", {"model": "tiny-gpt", "prompt": "the cat", "max_tokens": 6, "seed": 7,
                                         "n": 2, "stream": True, "stream_options": {"include_usage": True}})
    chunks = sse(r)
    assert all(c["object"] == "text_completion" for c in chunks)
    body, usage = chunks[:-1], chunks[-1]
    for index in (0, 1):
        mine = [c["choices"][0] for c in body if c["choices"][0]["index"] == index]
        assert [m["finish_reason"] for m in mine[:-1]] == [None] * (len(mine) - 1)
        assert mine[-1]["finish_reason"] == "length"
        assert "".join(m["text"] for m in mine) == plain["choices"][index]["text"]
    assert all(c["usage"] is None for c in body)
    assert usage["choices"] == [] and usage["usage"] == plain["usage"]


def test_chat_stream_chunks_are_well_formed(client):
    plain = chat(client, messages=MESSAGES, max_tokens=8, seed=9)
    r = post(client, "/v1/chat/completions", {"model": "tiny-gpt", "messages": MESSAGES, "max_tokens": 8,
                                              "seed": 9, "stream": True})
    chunks = sse(r)
    assert all(c["object"] == "chat.completion.chunk" and "usage" not in c for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    finishes = [c["choices"][0]["finish_reason"] for c in chunks]
    assert finishes[:-1] == [None] * (len(chunks) - 1) and finishes[-1] == plain["choices"][0]["finish_reason"]
    assert chunks[-1]["choices"][0]["delta"] == {}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == plain["choices"][0]["message"]["content"]


def test_stream_errors_are_plain_400s_before_the_stream(client):
    r = post(client, "/v1/completions", {"model": "tiny-gpt", "prompt": "a", "stream": True, "max_tokens": 48})
    assert "must be an integer in [1, 47]" in assert_openai_error(r, 400, "max_tokens")


# ---------------------------------------------------------------------------------------- embeddings
def test_embeddings_float_and_base64_agree(client):
    texts = ["a good coffee", "the tax form is due"]
    floats = post(client, "/v1/embeddings", {"model": "tiny-embed", "input": texts}).json()
    b64 = post(client, "/v1/embeddings", {"model": "tiny-embed", "input": texts, "encoding_format": "base64"}).json()
    assert floats["object"] == "list" and [d["index"] for d in floats["data"]] == [0, 1]
    for f, b in zip(floats["data"], b64["data"]):
        raw = np.frombuffer(base64.b64decode(b["embedding"]), dtype="<f4")
        assert raw.tolist() == f["embedding"]  # exact: the float format sends the same float32 values
        assert decode_base64_embedding(b["embedding"]).tolist() == f["embedding"]
        assert len(f["embedding"]) == 16 and abs(np.linalg.norm(raw) - 1) < 1e-5  # float32 rounding
    # [CLS] + words + [SEP]: 3 + 2 and 5 + 2 tokens
    assert floats["usage"] == {"prompt_tokens": 12, "total_tokens": 12} == b64["usage"]


def test_embeddings_single_string_equals_first_of_list(client):
    one = post(client, "/v1/embeddings", {"model": "tiny-embed", "input": "a good coffee"}).json()
    two = post(client, "/v1/embeddings", {"model": "tiny-embed", "input": ["a good coffee", "tea"]}).json()
    # 1e-6: batches of different padding can change float32 sums in the last bits
    assert np.allclose(one["data"][0]["embedding"], two["data"][0]["embedding"], atol=1e-6)


# -------------------------------------------------------------------------------------------- errors
BASE = {"/v1/completions": {"model": "tiny-gpt", "prompt": "a"},
        "/v1/chat/completions": {"model": "tiny-gpt", "messages": MESSAGES},
        "/v1/embeddings": {"model": "tiny-embed", "input": "a"}}


@pytest.mark.parametrize("path", list(BASE))
def test_unknown_model_is_404_model_not_found(client, path):
    r = post(client, path, {**BASE[path], "model": "gpt-4o"})
    assert "'gpt-4o' does not exist" in assert_openai_error(r, 404, "model", "model_not_found")


def test_wrong_kind_of_model_is_400(client):
    r = post(client, "/v1/completions", {"model": "tiny-embed", "prompt": "a"})
    assert "is a embedding model" in assert_openai_error(r, 400, "model", "model_not_supported")


@pytest.mark.parametrize("path, field, value", [
    ("/v1/chat/completions", "tools", [{"type": "function"}]),
    ("/v1/chat/completions", "response_format", {"type": "json_object"}),
    ("/v1/completions", "best_of", 2),
    ("/v1/completions", "suffix", "x"),
    ("/v1/embeddings", "input_type", "query"),
])
def test_unsupported_fields_are_named(client, path, field, value):
    r = post(client, path, {**BASE[path], field: value})
    assert f"{field!r} is not supported" in assert_openai_error(r, 400, field, "unsupported_parameter")


def test_null_fields_count_as_absent(client):
    assert complete(client, prompt="a", max_tokens=1, best_of=None, suffix=None)["usage"]["completion_tokens"] == 1


@pytest.mark.parametrize("field, value, param, says", [
    ("temperature", 5, "temperature", "temperature=5 must be a number in [0, 2]"),
    ("top_p", 0, "top_p", "top_p=0 must be a number in (0, 1]"),
    ("frequency_penalty", -3, "frequency_penalty", "in [-2, 2]"),
    ("presence_penalty", "x", "presence_penalty", "in [-2, 2]"),
    ("n", MAX_N + 1, "n", f"n={MAX_N + 1} must be an integer in [1, {MAX_N}]"),
    ("n", 0, "n", "n=0 must be an integer"),
    ("max_tokens", 0, "max_tokens", "max_tokens=0 must be an integer in [1, 47]"),
    ("stop", ["a", "b", "c", "d", "e"], "stop", "at most 4"),
    ("seed", -1, "seed", "seed=-1 must be an integer >= 0"),
    ("logprobs", 6, "logprobs", "logprobs=6 must be an integer in [0, 5]"),
    ("echo", "yes", "echo", "echo='yes' must be true or false"),
    ("stream", 1, "stream", "stream=1 must be true or false"),
    ("stream_options", {"include_usage": True}, "stream_options", "only allowed with stream=true"),
    ("prompt", "", "prompt", "prompt is empty"),
    ("prompt", [1, 999], "prompt", "token ids must be in"),
    ("prompt", {"text": "a"}, "prompt", "prompt must be a string"),
    ("prompt", ["a"] * 17, "prompt", "at most 16 per request"),
])
def test_completion_out_of_range_values_are_400_naming_them(client, field, value, param, says):
    r = post(client, "/v1/completions", {"model": "tiny-gpt", "prompt": "a", field: value})
    assert says in assert_openai_error(r, 400, param)


def test_echo_with_logprobs_is_refused(client):
    r = post(client, "/v1/completions", {"model": "tiny-gpt", "prompt": "a", "echo": True, "logprobs": 1})
    assert "echo together with logprobs" in assert_openai_error(r, 400, "echo", "unsupported_parameter")


@pytest.mark.parametrize("messages, param, says", [
    ([], "messages", "non-empty list"),
    ("hello", "messages", "non-empty list"),
    ([{"role": "robot", "content": "hi"}], "messages[0].role", "messages[0].role='robot'"),
    ([{"role": "user", "content": 3}], "messages[0].content", "must be a string"),
    ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}], "messages[0].content",
     "text only"),
    ([{"role": "user", "content": "hi"}, {"role": "tool", "content": "x", "tool_call_id": "1"}],
     "messages[1].tool_call_id", "not supported"),
    (["hi"], "messages[0]", "must be an object"),
])
def test_bad_messages_are_400_naming_them(client, messages, param, says):
    r = post(client, "/v1/chat/completions", {"model": "tiny-gpt", "messages": messages})
    assert says in assert_openai_error(r, 400, param, "unsupported_parameter" if "not supported" in says else None)


@pytest.mark.parametrize("extra, param, says", [
    ({"top_logprobs": 2}, "top_logprobs", "needs logprobs=true"),
    ({"top_logprobs": 21, "logprobs": True}, "top_logprobs", "in [0, 20]"),
    ({"max_tokens": 2, "max_completion_tokens": 2}, "max_completion_tokens", "not both"),
    ({"max_completion_tokens": 100}, "max_completion_tokens", "max_completion_tokens=100 must be an integer in"),
    ({"max_tokens": 100}, "max_tokens", "max_tokens=100 must be an integer in [1, 47]"),
])
def test_chat_parameter_errors(client, extra, param, says):
    r = post(client, "/v1/chat/completions", {"model": "tiny-gpt", "messages": MESSAGES, **extra})
    assert says in assert_openai_error(r, 400, param)


@pytest.mark.parametrize("body, param, says", [
    ({"input": []}, "input", "non-empty"),
    ({"input": [1, 2, 3]}, "input", "token-id input is not supported"),
    ({"input": ["a", " "]}, "input", "input[1] is empty"),
    ({"input": "a", "encoding_format": "int8"}, "encoding_format", "expected one of ['float', 'base64']"),
])
def test_embedding_errors(client, body, param, says):
    r = post(client, "/v1/embeddings", {"model": "tiny-embed", **body})
    assert says in assert_openai_error(r, 400, param)


def test_embedding_dimensions_other_than_the_models_are_refused(client):
    ok = post(client, "/v1/embeddings", {"model": "tiny-embed", "input": "a", "dimensions": 16})
    r = post(client, "/v1/embeddings", {"model": "tiny-embed", "input": "a", "dimensions": 8})
    assert ok.status_code == 200
    assert "cannot shorten them" in assert_openai_error(r, 400, "dimensions", "unsupported_parameter")


def test_missing_model_is_400(client):
    assert "'model' is required" in assert_openai_error(post(client, "/v1/completions", {"prompt": "a"}), 400, "model")


def test_body_that_is_not_an_object_or_not_json(client):
    assert "must be a JSON object" in assert_openai_error(post(client, "/v1/completions", [1]), 400)
    r = client.post("/v1/chat/completions", content=b"{nope", headers={**AUTH, "Content-Type": "application/json"})
    assert "not valid JSON" in assert_openai_error(r, 400)


@pytest.mark.parametrize("headers, says", [({}, "missing API key"), ({"Authorization": "Bearer wrong-key-123"},
                                                                      "invalid API key")])
@pytest.mark.parametrize("path", ["/v1/models", "/v1/completions"])
def test_auth_errors_take_openai_shape(client, headers, says, path):
    r = client.get(path, headers=headers) if path == "/v1/models" else post(client, path, {}, headers)
    assert says in assert_openai_error(r, 401, None, "invalid_api_key")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_method_takes_openai_shape(client):
    assert_openai_error(client.get("/v1/completions", headers=AUTH), 405, None, "method_not_allowed")


def test_rate_limit_is_shared_and_takes_openai_shape():
    c = ready_client(create_app(Settings(registry=text_registry(), api_keys=[KEY], models=["tiny-gpt"],
                                          rate_limit_per_minute=1, rate_limit_burst=1)))
    try:
        assert c.get("/v1/models", headers=AUTH).status_code == 200
        r = post(c, "/v1/completions", {"model": "tiny-gpt", "prompt": "a"})
        assert "rate limit exceeded" in assert_openai_error(r, 429, None, "rate_limit_exceeded", "rate_limit_error")
        assert int(r.headers["Retry-After"]) >= 1
    finally:
        c.__exit__(None, None, None)


# ---------------------------------------------------------------------- the openai client, real process
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from aiaas_lib.loadtest import ServerProcess, free_port

    folder = tmp_path_factory.mktemp("openai-serve")
    (folder / "keys.txt").write_text(f"{KEY}\n")
    port = free_port()
    command = [sys.executable, "-m", "aiaas_lib.cli", "serve", "--registry", text_registry(),
               "--port", str(port), "--api-keys-file", str(folder / "keys.txt")]
    with ServerProcess(command, f"http://127.0.0.1:{port}", log=folder / "server.log", env=os.environ) as proc:
        yield proc.url


@pytest.fixture(scope="module")
def oai(server):
    import openai

    return openai.OpenAI(base_url=f"{server}/v1", api_key=KEY, max_retries=0, timeout=60)


def test_openai_client_completion_n2_and_stop(oai):
    import openai

    assert openai.__version__ == "3.54.0"  # the pinned client (requirements.txt)
    out = oai.completions.create(model="tiny-gpt", prompt="the cat", max_tokens=6, n=2, seed=1)
    assert len(out.choices) == 2 and out.usage.prompt_tokens == 7 and out.usage.completion_tokens == 12
    greedy = oai.completions.create(model="tiny-gpt", prompt="the cat", max_tokens=10, temperature=0)
    text = greedy.choices[0].text
    stopped = oai.completions.create(model="tiny-gpt", prompt="the cat", max_tokens=10, temperature=0,
                                     stop=text[3:5])
    assert stopped.choices[0].text == text[:text.find(text[3:5])] and stopped.choices[0].finish_reason == "stop"


def test_openai_client_chat_and_stream(oai):
    messages = [{"role": "user", "content": "the cat?"}]
    plain = oai.chat.completions.create(model="tiny-gpt", messages=messages, max_tokens=6, seed=2)
    assert plain.choices[0].message.role == "assistant"
    assert plain.usage.prompt_tokens == len(chat_prompt(messages))
    chunks = list(oai.chat.completions.create(model="tiny-gpt", messages=messages, max_tokens=6, seed=2,
                                              stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert chunks[-1].usage.total_tokens == plain.usage.total_tokens


def test_openai_client_embeddings(oai):
    out = oai.embeddings.create(model="tiny-embed", input=["a good coffee", "tea"])  # the client asks for base64
    floats = oai.embeddings.create(model="tiny-embed", input=["a good coffee", "tea"], encoding_format="float")
    assert [len(d.embedding) for d in out.data] == [16, 16]
    assert [d.embedding for d in out.data] == [d.embedding for d in floats.data]


def test_openai_client_bad_temperature_is_400_naming_it(oai):
    import openai

    with pytest.raises(openai.BadRequestError, match="temperature=5 must be a number in") as info:
        oai.completions.create(model="tiny-gpt", prompt="a", temperature=5)
    assert info.value.status_code == 400 and info.value.param == "temperature"


def test_openai_client_lists_models_and_refuses_a_bad_key(oai, server):
    import openai

    assert sorted(m.id for m in oai.models.list()) == ["tiny-embed", "tiny-gpt"]
    bad = openai.OpenAI(base_url=f"{server}/v1", api_key="not-the-key-000", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        bad.models.list()
    assert info.value.code == "invalid_api_key"
