"""On Azure (Azurite, the worker's own converters): an HTTP invocation, with the host's W3C trace
context, sends to a Storage queue; the queue invocation, with a trace context of its own from
the host, continues the request's trace from the message's `traceparent` attribute (in polyfn's
envelope, since the message has attributes). Every record both invocations hand the worker
carries the one trace id."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import polyfn_azure
import pytest
from azure.storage import queue as queue_storage

from conformance.hosts import azure as azure_worker
from polyfn._logs import AZURE_LOGGER_NAME
from tests.azure._host import Host, datum
from tests.azure.test_published import http_fixture
from tests.resources_azure.test_backend import (  # noqa: F401 - azure_env is a fixture
    _receive,
    azure_env,
    queue_fixture,
)

from ._chain import TRACE_ID, TRACEPARENT, chain_app

pytestmark = pytest.mark.e2e


def _call(host: Host, name: str, fixture: dict[str, Any], traceparent: str) -> Any:
    """What the worker does for one invocation, with the host's trace context `traceparent`."""
    metadata = {k: datum(v) for k, v in fixture.get("metadata", {}).items()}
    return azure_worker.call(
        host.functions[name], datum(fixture["data"]), metadata, trace_parent=traceparent
    )


def test_one_trace_from_request_through_storage_queue_to_worker(
    azure_env: str,  # noqa: F811 - the fixture imported above
    root_records: list[logging.LogRecord],
) -> None:
    name = f"chain{uuid.uuid4().hex[:10]}"
    queue_storage.QueueClient.from_connection_string(azure_env, name).create_queue()
    app, seen = chain_app(name, attributes={"source": "api"})
    host = Host(polyfn_azure.function_app(app))

    answer = _call(host, "place", http_fixture("http://localhost/api/orders", "POST"), TRACEPARENT)
    assert answer.status_code == 200, answer.get_body()
    message = _receive(azure_env, name)
    fixture = queue_fixture(message)
    other = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"  # the host's for the message
    _call(host, "work", fixture, other)

    assert seen[0]["trace"].trace_id == TRACE_ID
    assert seen[0]["attributes"]["source"] == "api"
    ours = [r for r in root_records if r.name == AZURE_LOGGER_NAME]
    assert {r.function_name for r in ours} == {"place", "work"}  # type: ignore[attr-defined]
    assert {r.custom_dimensions["trace_id"] for r in ours} == {TRACE_ID}  # type: ignore[attr-defined]
    closing = [r for r in ours if r.getMessage() == "invocation finished"]
    assert [getattr(r, "status", None) or r.outcome for r in closing] == [  # type: ignore[attr-defined]
        200,
        "acknowledged",
    ]


def test_a_plain_message_stays_exactly_its_bytes(
    azure_env: str,  # noqa: F811 - the fixture imported above
) -> None:
    import base64

    name = f"plain{uuid.uuid4().hex[:10]}"
    queue_storage.QueueClient.from_connection_string(azure_env, name).create_queue()
    app, _ = chain_app(name)
    host = Host(polyfn_azure.function_app(app))
    _call(host, "place", http_fixture("http://localhost/api/orders", "POST"), TRACEPARENT)
    assert base64.b64decode(_receive(azure_env, name).content) == b"order-1"
