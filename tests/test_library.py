"""Library use without App: the adapters' shared functions read native inputs into the neutral
model and write neutral results back, and they are what the adapters' own entries run."""

from __future__ import annotations

import base64
import importlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from polyfn_aws import _samples as aws_samples
from polyfn_azure import _samples as azure_samples
from polyfn_gcp import _samples as gcp_samples

from polyfn import App, HttpResponse, MessagesFailedError, QueueMessage, StorageEvent
from tests._sam import sam_event
from tests.aws.conftest import lambda_context

ADAPTERS = ("polyfn_aws", "polyfn_azure", "polyfn_gcp")


def test_the_three_adapters_export_the_same_library_names() -> None:
    names = [importlib.import_module(f"{a}._library").__all__ for a in ADAPTERS]
    assert names[0] == names[1] == names[2], names
    assert names[0] == sorted(names[0])
    for adapter, library in zip(ADAPTERS, names, strict=True):
        module = importlib.import_module(adapter)
        private = importlib.import_module(f"{adapter}._library")
        for name in library:
            assert name in module.__all__, f"{adapter}.__all__ lacks {name}"
            assert getattr(module, name) is getattr(private, name)


# -- AWS, with SAM CLI's own templates -----------------------------------------------------------


def test_aws_http_request_and_response_follow_the_source_of_the_event() -> None:
    import polyfn_aws

    rest = sam_event("apigateway", "aws-proxy")
    req = polyfn_aws.http_request(rest)
    assert (req.method, req.path, req.query.get("foo")) == ("POST", "/path/to/resource", "bar")
    out = polyfn_aws.http_response(HttpResponse.text("hi", headers={"X-A": "1"}), req)
    assert out["multiValueHeaders"]["X-A"] == ["1"] and out["body"] == "hi"

    http_api = sam_event("apigateway", "http-api-proxy")
    resp = HttpResponse.text("ok")
    resp.cookies.extend(["a=1", "b=2"])
    out = polyfn_aws.http_response(resp, http_api)
    assert out["cookies"] == ["a=1", "b=2"] and "multiValueHeaders" not in out
    assert polyfn_aws.http_request(http_api).headers.get("header2") == "value1,value2"


def test_aws_library_refuses_what_is_no_http_event() -> None:
    import polyfn_aws

    from polyfn import EventError

    with pytest.raises(EventError, match="not an HTTP event"):
        polyfn_aws.http_request(sam_event("sqs", "receive-message"))


def test_aws_queue_messages_are_what_the_handler_gives_its_function() -> None:
    import polyfn_aws

    batch = sam_event("sqs", "receive-message")
    batch["Records"][0]["eventSourceARN"] = "arn:aws:sqs:us-east-1:123456789012:orders"
    app = App("lib")
    got: list[QueueMessage] = []

    @app.queue("orders")
    def on_order(msg: QueueMessage, ctx: Any) -> None:
        got.append(msg)
        raise RuntimeError("fails")

    answer = polyfn_aws.handler(app)(batch, lambda_context())
    messages = polyfn_aws.queue_messages(batch)
    assert [(m.id, m.body, m.attributes, m.delivery_count) for m in messages] == [
        (m.id, m.body, m.attributes, m.delivery_count) for m in got
    ]
    assert answer == polyfn_aws.batch_response([m.id for m in messages])
    assert polyfn_aws.batch_response([]) == {"batchItemFailures": []}

    sns = polyfn_aws.queue_messages(sam_event("sns", "notification"))
    assert sns[0].text == "example message" and sns[0].queue == "ExampleTopic"


def test_aws_storage_and_timer_events_read_sam_templates() -> None:
    import polyfn_aws

    put = sam_event("s3", "put", key="in/a b+c.csv")  # SAM CLI encodes the key itself
    event = polyfn_aws.storage_event(put)
    assert isinstance(event, StorageEvent)
    assert (event.kind, event.key) == ("created", "in/a b+c.csv")
    through_sqs = aws_samples.sample_event("s3-sqs", key="x y.txt")
    assert polyfn_aws.storage_event(through_sqs).key == "x y.txt"  # type: ignore[union-attr]
    assert polyfn_aws.storage_event({"Event": "s3:TestEvent"}) is None

    late = datetime(1970, 1, 1, 0, 3, tzinfo=UTC)
    tick = polyfn_aws.timer_event(sam_event("cloudwatch", "scheduled-event"), now=late)
    assert tick.name == "ExampleRule"
    assert (tick.scheduled_time, tick.past_due) == (datetime(1970, 1, 1, tzinfo=UTC), True)


# -- Azure, through azure-functions' own converters ----------------------------------------------


def _azure(trigger: str, **overrides: str) -> Any:
    sample = azure_samples.sample_event(trigger, **overrides)
    return azure_samples.decode(sample, azure_samples.BINDINGS[trigger])


def test_azure_library_reads_the_converters_objects() -> None:
    import azure.functions as func
    import polyfn_azure

    req = polyfn_azure.http_request(_azure("http", path="/orders/7", query="a=1&a=2"))
    assert (req.path, req.query.getall("a")) == ("/orders/7", ["1", "2"])
    resp = HttpResponse.json({"ok": True})
    resp.cookies.extend(["a=1", "b=2"])
    out = polyfn_azure.http_response(resp)
    assert isinstance(out, func.HttpResponse) and out.get_body() == b'{"ok":true}'
    assert out.headers.get_all("Set-Cookie") == ["a=1", "b=2"]

    [queued] = polyfn_azure.queue_messages(_azure("queue"), queue="orders")
    assert (queued.queue, queued.json()) == ("orders", {"order_id": 42})
    [bus] = polyfn_azure.queue_messages([_azure("servicebus", group="g1", **{"attr.k": "v"})])
    assert (bus.group, bus.attributes) == ("g1", {"k": "v"})

    blob = polyfn_azure.storage_event(_azure("blob"))
    grid = polyfn_azure.storage_event(_azure("eventgrid-blob", kind="deleted"))
    assert (blob.bucket, blob.kind, grid.kind) == ("uploads", "created", "deleted")
    tick = polyfn_azure.timer_event(_azure("timer", past_due="true"), name="nightly")
    assert (tick.name, tick.past_due) == ("nightly", True)


@pytest.mark.parametrize("adapter", ["polyfn_azure", "polyfn_gcp"])
def test_batch_response_fails_the_invocation_where_the_cloud_has_no_partial_answer(
    adapter: str,
) -> None:
    module = importlib.import_module(adapter)
    assert module.batch_response([]) is None
    with pytest.raises(MessagesFailedError, match="2 message") as raised:
        module.batch_response(["m1", "m2"])
    assert raised.value.ids == ["m1", "m2"]


# -- GCP: Flask requests and CloudEvents as functions-framework hands them over ------------------


def _flask(sample: dict[str, Any]) -> Any:
    import flask
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(
        path=sample["path"],
        method=sample["method"],
        query_string=sample["query"],
        headers=sample["headers"],
        data=sample["body"],
    )
    return flask.Request(builder.get_environ())


def test_gcp_library_reads_flask_requests_and_cloud_events() -> None:
    import flask
    import polyfn_gcp
    from cloudevents.http import from_dict

    req = polyfn_gcp.http_request(_flask(gcp_samples.sample_event("http", query="a=1&a=2")))
    assert (req.path, req.query.getall("a"), req.source_ip) == (
        "/orders/42",
        ["1", "2"],
        "203.0.113.7",
    )
    resp = HttpResponse(b"\x00\x01", 201, headers={"X-A": "1"})
    resp.cookies.extend(["a=1", "b=2"])
    out = polyfn_gcp.http_response(resp)
    assert isinstance(out, flask.Response) and out.status_code == 201
    assert out.headers.getlist("Set-Cookie") == ["a=1", "b=2"] and out.get_data() == b"\x00\x01"

    storage = gcp_samples.sample_event("storage", kind="deleted")
    event = polyfn_gcp.storage_event(from_dict(storage))
    assert (event.kind, event.bucket, event.size) == ("deleted", "uploads", 1024)
    pubsub = gcp_samples.sample_event("pubsub", **{"attr.k": "v"})
    [msg] = polyfn_gcp.queue_messages(from_dict(pubsub))
    assert (msg.queue, msg.attributes, msg.json()) == ("orders", {"k": "v"}, {"order_id": 42})
    [pushed] = polyfn_gcp.queue_messages(pubsub["data"], queue="orders")
    assert pushed.body == base64.b64decode(pubsub["data"]["message"]["data"])

    tick = polyfn_gcp.timer_event(_flask(gcp_samples.sample_event("scheduler-http")))
    assert (tick.name, tick.scheduled_time) == (
        "shop-nightly",
        datetime(2026, 1, 15, 2, tzinfo=UTC),
    )


def test_gcp_storage_event_is_what_the_cloud_event_function_gives() -> None:
    import polyfn_gcp
    from cloudevents.http import from_dict

    app = App("lib")
    got: list[StorageEvent] = []

    @app.storage("uploads")
    def on_upload(event: StorageEvent, ctx: Any) -> None:
        got.append(event)

    sample = json.loads(json.dumps(gcp_samples.sample_event("storage")))
    polyfn_gcp.cloud_event(app)(from_dict(sample))
    mine = polyfn_gcp.storage_event(from_dict(sample))
    [theirs] = got
    assert [getattr(mine, f) for f in StorageEvent.__slots__ if f != "raw"] == [
        getattr(theirs, f) for f in StorageEvent.__slots__ if f != "raw"
    ]
