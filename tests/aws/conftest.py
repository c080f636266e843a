"""Shared pieces of the AWS adapter tests: the fixture events, a test app that records what its
handlers saw, awslambdaric's LambdaContext, and Powertools' parser models as the third-party
check that every event a test feeds the handler is one AWS could send."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from awslambdaric.lambda_context import LambdaContext

from conformance.hosts import aws as aws_host
from polyfn import App, HttpRequest, HttpResponse, QueueMessage, Schedule, StorageEvent, TimerEvent

EVENTS = Path(__file__).resolve().parent.parent / "events" / "aws"


def load(name: str) -> dict[str, Any]:
    """A fresh copy of the fixture event `name` (tests/events/aws/<name>.json)."""
    return copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))


def lambda_context(request_id: str = "req-0001", remaining_ms: int = 30_000) -> LambdaContext:
    """The context object awslambdaric hands a Python handler (conformance's Lambda runtime)."""
    return aws_host.lambda_context(request_id, remaining_ms, function="shop")


def _alb_multi_model() -> Any:
    # Powertools' AlbModel requires the single-value maps a multi-value target group does not
    # send; the same model with the multi-value maps in their place.
    from aws_lambda_powertools.utilities.parser.models import AlbModel
    from pydantic import create_model

    return create_model(
        "AlbMultiValueModel",
        __base__=AlbModel,
        headers=(dict[str, str] | None, None),
        queryStringParameters=(dict[str, str] | None, None),
        multiValueHeaders=(dict[str, list[str]], ...),
        multiValueQueryStringParameters=(dict[str, list[str]], ...),
    )


def validate(model: str, event: dict[str, Any]) -> dict[str, Any]:
    """Parse `event` with Powertools' parser model `model`; returns the event for chaining."""
    from aws_lambda_powertools.utilities.parser import models

    parser = _alb_multi_model() if model == "AlbMultiValueModel" else getattr(models, model)
    parser.model_validate(event)
    return event


# Which Powertools model reads each fixture.
MODELS = {
    "alb": "AlbModel",
    "alb_multi": "AlbMultiValueModel",
    "apigw_http_v1": "APIGatewayProxyEventModel",
    "apigw_http_v2": "APIGatewayProxyEventV2Model",
    "apigw_http_v2_stage": "APIGatewayProxyEventV2Model",
    "apigw_rest": "APIGatewayProxyEventModel",
    "apigw_rest_custom_domain": "APIGatewayProxyEventModel",
    "eventbridge_schedule": "EventBridgeModel",
    "function_url": "LambdaFunctionUrlModel",
    "s3_delete": "S3Model",
    "s3_eventbridge_created": "S3EventNotificationEventBridgeModel",
    "s3_eventbridge_deleted": "S3EventNotificationEventBridgeModel",
    "s3_put": "S3Model",
    "s3_sns": "SnsModel",
    "s3_sns_sqs": "SqsModel",
    "s3_sqs": "S3SqsEventNotificationModel",
    "s3_test_event_sqs": "SqsModel",
    "sns": "SnsModel",
    "sqs": "SqsModel",
    "sqs_fifo": "SqsModel",
}


def event(name: str) -> dict[str, Any]:
    """The fixture `name`, validated by its Powertools model (scheduler.json has none: its shape
    is the Input polyfn's builder gives the schedule)."""
    loaded = load(name)
    if name in MODELS:
        validate(MODELS[name], loaded)
    return loaded


class Seen(list[tuple[str, Any, Any]]):
    """(function name, event, context) of every handler call, in order."""

    def names(self) -> list[str]:
        return [name for name, _, _ in self]


def make_app(seen: Seen, fail: set[str] | None = None) -> App:
    """The test app. Queue handlers raise for message bodies listed in `fail`."""
    fail = fail if fail is not None else set()
    app = App("shop")

    @app.http("/orders/{order_id}", methods=["GET", "POST"])
    def get_order(req: HttpRequest, ctx: Any) -> Any:
        seen.append(("get_order", req, ctx))
        return {
            "method": req.method,
            "path": req.path,
            "order_id": req.path_params["order_id"],
            "query": req.query.multi_items(),
            "tags": req.headers.getall("x-tag"),
            "cookies": req.cookies,
            "body": base64.b64encode(req.body).decode(),
            "source_ip": req.source_ip,
        }

    @app.http("/files/{path+}")
    def get_file(req: HttpRequest, ctx: Any) -> Any:
        seen.append(("get_file", req, ctx))
        return {"path": req.path_params["path"]}

    @app.http("/cookies", methods=["GET"])
    def cookies(req: HttpRequest, ctx: Any) -> HttpResponse:
        resp = HttpResponse.text("ok")
        resp.headers.add("X-Multi", "1")
        resp.headers.add("X-Multi", "2")
        resp.set_cookie("a", "1", http_only=True)
        resp.set_cookie("b", "2", expires="Wed, 21 Oct 2026 07:28:00 GMT")
        return resp

    @app.http("/binary")
    def binary(req: HttpRequest, ctx: Any) -> bytes:
        return bytes(range(256))

    @app.http("/gzip")
    def gzipped(req: HttpRequest, ctx: Any) -> HttpResponse:
        import gzip

        resp = HttpResponse(gzip.compress(b'{"a":1}'), content_type="application/json")
        resp.headers.set("Content-Encoding", "gzip")
        return resp

    @app.http("/boom")
    def boom(req: HttpRequest, ctx: Any) -> None:
        raise RuntimeError("secret detail that must not leak")

    @app.schedule("0 2 * * *")
    def nightly(event: TimerEvent, ctx: Any) -> None:
        seen.append(("nightly", event, ctx))

    @app.schedule(Schedule.rate(hours=1))
    def hourly(event: TimerEvent, ctx: Any) -> None:
        seen.append(("hourly", event, ctx))

    @app.storage("uploads", on=["created", "deleted"], prefix="incoming/")
    def on_upload(event: StorageEvent, ctx: Any) -> None:
        seen.append(("on_upload", event, ctx))
        if event.key in fail:
            raise RuntimeError(f"cannot process {event.key}")

    @app.storage("uploads", on=["archived", "metadata_updated"])
    def on_archive(event: StorageEvent, ctx: Any) -> None:
        seen.append(("on_archive", event, ctx))

    @app.queue("orders")
    def on_order(msg: QueueMessage, ctx: Any) -> None:
        seen.append(("on_order", msg, ctx))
        if msg.text in fail:
            raise ValueError(f"bad order {msg.text}")

    @app.queue("jobs", fifo=True)
    def on_job(msg: QueueMessage, ctx: Any) -> None:
        seen.append(("on_job", msg, ctx))
        if msg.text in fail:
            raise ValueError(f"bad job {msg.text}")

    @app.queue("signups")
    def on_signup(msg: QueueMessage, ctx: Any) -> None:
        seen.append(("on_signup", msg, ctx))
        if msg.text in fail:
            raise ValueError("signup failed")

    return app


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def app(seen: Seen) -> App:
    return make_app(seen)


@pytest.fixture
def ctx() -> LambdaContext:
    return lambda_context()
