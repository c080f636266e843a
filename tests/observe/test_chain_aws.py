"""On AWS (moto_server): an API Gateway request traced by X-Ray sends to SQS; the worker Lambda,
invoked with the records Lambda's poller delivers and a different X-Ray trace of its own,
continues the request's trace from the message's `traceparent` attribute. Every log line of both
invocations carries the one X-Ray trace id."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import polyfn_aws
import pytest

from polyfn._resources import reset_backends
from tests.aws._aws_resources import REGION, new_queue, sqs_records
from tests.aws.conftest import lambda_context, load, validate

from ._chain import TRACE_ID, chain_app

XRAY_ROOT = f"1-{TRACE_ID[:8]}-{TRACE_ID[8:]}"


@pytest.fixture
def sqs(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import boto3

    monkeypatch.setenv("POLYFN_PROVIDER", "aws")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    reset_backends()
    yield boto3.client("sqs", endpoint_url=moto_url, region_name=REGION)
    reset_backends()


def _request() -> dict[str, Any]:
    """API Gateway's HTTP API event (the suite's fixture) for POST /orders."""
    event = load("apigw_http_v2")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/orders"
    event["rawQueryString"] = ""
    event.pop("queryStringParameters", None)
    event["requestContext"]["http"]["method"] = "POST"
    return event


def test_one_xray_trace_from_api_through_sqs_to_worker(
    sqs: Any, lines: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"chain-{uuid.uuid4().hex[:8]}"
    url, arn = new_queue(sqs, name)
    app, seen = chain_app(name)
    handler = polyfn_aws.handler(app)

    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={XRAY_ROOT};Parent=53995c3f42cd8ad8;Sampled=1")
    answer = handler(validate("APIGatewayProxyEventV2Model", _request()), lambda_context("req-1"))
    assert answer is not None and answer["statusCode"] == 200

    # The worker's invocation has an X-Ray trace of its own; the message's context wins.
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-6759e988-aaaaaaaaaaaaaaaaaaaaaaaa;Sampled=0")
    records = sqs_records(sqs, url, arn, 1)
    assert records[0]["messageAttributes"]["traceparent"]["dataType"] == "String"
    event = validate("SqsModel", {"Records": records})
    assert handler(event, lambda_context("req-2")) == {"batchItemFailures": []}

    assert seen[0]["trace"].trace_id == TRACE_ID
    logged = lines()
    assert {line["requestId"] for line in logged} == {"req-1", "req-2"}
    assert {line["xray_trace_id"] for line in logged} == {XRAY_ROOT}, logged
    closing = [line for line in logged if line["message"] == "invocation finished"]
    # One closing line for the request, one for the whole SQS batch (with its counts).
    assert [
        (c["requestId"], c.get("status"), c.get("acknowledged"), c.get("failed")) for c in closing
    ] == [("req-1", 200, None, None), ("req-2", None, 1, 0)]
