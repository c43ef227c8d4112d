"""The conformance kit against the course's own service, ``create_app`` with the default models' kinds:
churn (tabular), fashion (tensor), a generation model and an embedding model (tiny stand-ins of tiny-gpt and
minilm, ``_serving.every_kind_registry``, built once per session), with an API key and the body limit on.
Every check of every protocol must pass; each is its own test case, so a failure names its check."""

import pytest

from _serving import churn_rows, every_kind_registry, ready_client
from aiaas_lib.conformance import CHECKS, run
from aiaas_lib.serving import Settings

KEY = "conformance-test-key-0123456789"


@pytest.fixture(scope="module")
def reports(tiny_registry):
    """The kit's reports for churn (given rows) and fashion (zeros from the metadata), through one client."""
    from aiaas_lib.serving import create_app

    settings = Settings(registry=every_kind_registry(tiny_registry), api_keys=[KEY], max_body_bytes=64 << 10)
    client = ready_client(create_app(settings))
    try:
        churn = run(
            client,
            model="churn",
            instances=churn_rows(2),
            api_key=KEY,
            max_body_bytes=settings.max_body_bytes,
        )
        fashion = run(client, model="fashion", api_key=KEY, protocols=["tfserving", "oip"])
    finally:
        client.__exit__(None, None, None)
    print(churn.table(), fashion.table(), sep="\n")
    return churn, fashion


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_aiaas_serve_passes(reports, check_id):
    churn, _ = reports
    result = next(r for r in churn.results if r.check == check_id)
    assert result.status == "pass", f"{check_id}: {result.detail}"


def test_tensor_model_passes_with_instances_made_from_metadata(reports):
    _, fashion = reports
    assert fashion.ok, fashion.table()
    assert {r.protocol for r in fashion.results} == {"tfserving", "oip"}
    assert fashion.status("tfs.auth") == "pass" and fashion.status("tfs.body_limit") == "skip"
