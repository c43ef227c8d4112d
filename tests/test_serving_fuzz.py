"""Property-based fuzz of every POST body: whatever JSON a client sends, the service answers with a 2xx
or a 4xx in the protocol's error shape — never a 5xx."""
import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiaas_lib.serving import Settings, create_app
from _serving import CATEGORICAL, NUMERIC, churn_rows
from aiaas_lib.loadtest import wait_ready

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
FUZZ_STRUCTURED = settings(FUZZ, max_examples=100)  # deeper into validation; fewer to keep the file fast
ROUTES = ["/v1/models/churn:predict", "/v1/models/fashion:predict", "/v1/models/churn:explain",
          "/v2/models/churn/infer", "/v2/models/fashion/infer"]

scalars = (st.none() | st.booleans() | st.floats(allow_nan=True, allow_infinity=True)
           | st.integers() | st.integers(min_value=-10 ** 400, max_value=10 ** 400) | st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=5), max_leaves=20)
bodies = (json_values
          | st.fixed_dictionaries({"instances": json_values})
          | st.fixed_dictionaries({"inputs": json_values})
          | st.fixed_dictionaries({"instances": st.lists(json_values, min_size=1, max_size=3)}))
churn_like_rows = st.lists(
    st.fixed_dictionaries({c: scalars | st.lists(scalars, max_size=2) for c in NUMERIC + CATEGORICAL}),
    min_size=1, max_size=3)
v2_tensors = st.lists(st.fixed_dictionaries({
    "name": st.sampled_from(["image", "tenure", "contract", "nope"]) | json_values,
    "shape": st.lists(st.integers(min_value=-2, max_value=30), max_size=4) | json_values,
    "datatype": st.sampled_from(["FP32", "BYTES", "INT64", "BOOL"]) | json_values,
    "data": json_values,
}), min_size=1, max_size=3)


@pytest.fixture(scope="module")
def client(tiny_registry):
    with TestClient(create_app(Settings(registry=tiny_registry, max_explain_instances=4))) as c:
        wait_ready(c.get)
        yield c


def post(client, route, body):
    return client.post(route, content=json.dumps(body, allow_nan=True), headers={"content-type": "application/json"})


def assert_well_formed(response):
    assert response.status_code < 500, response.text
    body = response.json()
    if response.status_code >= 400:
        assert set(body) == {"error"} and isinstance(body["error"], str), body
    else:
        assert set(body) & {"predictions", "outputs", "explanations"}, body


@FUZZ
@given(route=st.sampled_from(ROUTES), body=bodies)
def test_arbitrary_json_never_gives_5xx(client, route, body):
    assert_well_formed(post(client, route, body))


@FUZZ_STRUCTURED
@given(route=st.sampled_from(ROUTES[0:3:2]), rows=churn_like_rows)
def test_tabular_rows_with_junk_values_never_give_5xx(client, route, rows):
    assert_well_formed(post(client, route, {"instances": rows}))


@FUZZ_STRUCTURED
@given(route=st.sampled_from(ROUTES[3:]), tensors=v2_tensors, request_id=st.none() | json_values)
def test_v2_tensors_with_junk_never_give_5xx(client, route, tensors, request_id):
    body = {"inputs": tensors} if request_id is None else {"inputs": tensors, "id": request_id}
    assert_well_formed(post(client, route, body))


@FUZZ_STRUCTURED
@given(column=st.sampled_from(NUMERIC), value=st.floats(allow_nan=False, allow_infinity=False))
def test_extreme_but_finite_numbers_never_give_5xx(client, column, value):
    row = churn_rows(1)[0] | {column: value}
    assert_well_formed(post(client, ROUTES[0], {"instances": [row]}))
