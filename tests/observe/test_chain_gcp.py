"""On GCP (functions-framework and the Pub/Sub emulator): a request traced by Cloud Run's
X-Cloud-Trace-Context sends to a Pub/Sub topic; the push delivery, arriving with a trace header of
its own, continues the request's trace from the message's `traceparent` attribute. Every log line
of both requests names the one trace as Cloud Logging reads it."""

from __future__ import annotations

import types
import uuid
from typing import Any

import pytest

from tests.resources_gcp.conftest import (  # noqa: F401 - the fixtures the emulators need
    PROJECT,
    firestore_emulator,
    gcp_env,
    gcs_emulator,
    pubsub_emulator,
    secret_manager,
)
from tests.resources_gcp.test_backend import _flask_app, _pubsub_pair, _pull, _push_body

from ._chain import TRACE_ID, chain_app

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("gcp_env")]


def test_one_cloud_trace_from_request_through_pubsub_to_worker(
    lines: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import polyfn_gcp

    # The push below is posted by the test, not by Pub/Sub with its signed token.
    monkeypatch.setenv("POLYFN_GCP_DELIVERY_AUTH", "off")
    from functions_framework import create_app

    topic, sub = _pubsub_pair()
    app, seen = chain_app(topic)
    module = types.ModuleType(f"chain_{uuid.uuid4().hex[:6]}")
    module.http = polyfn_gcp.http(app)  # type: ignore[attr-defined]
    client = _flask_app(create_app, module).test_client()

    response = client.post("/orders", headers={"X-Cloud-Trace-Context": f"{TRACE_ID}/12345;o=1"})
    assert response.status_code == 200, response.get_data(as_text=True)
    (received,) = _pull(sub, 1)
    assert "traceparent" in received.message.attributes
    pushed = client.post(
        polyfn_gcp.queue_push_path(topic),
        json=_push_body(received, sub),
        headers={"X-Cloud-Trace-Context": f"{uuid.uuid4().hex}/1;o=0"},  # the push's own
    )
    assert pushed.status_code in (200, 204), pushed.get_data(as_text=True)

    assert seen[0]["trace"].trace_id == TRACE_ID
    logged = lines()
    assert {line["logging.googleapis.com/labels"]["function_name"] for line in logged} >= {
        "place",
        "work",
    }
    assert {line["logging.googleapis.com/trace"] for line in logged} == {
        f"projects/{PROJECT}/traces/{TRACE_ID}"
    }, logged
