"""Every sample `polyfn events` prints is accepted by a parser nobody here wrote: Powertools'
parser models (AWS), azure-functions' converters fed the Datum the worker builds (Azure), and
functions-framework's own app (GCP). AWS samples also carry every field of SAM CLI's template."""

from __future__ import annotations

import base64
import json
import textwrap
from typing import TYPE_CHECKING, Any

import pytest
from aws_lambda_powertools.utilities.parser import models, parse
from polyfn_aws import _samples as aws
from polyfn_azure import _samples as azure
from polyfn_gcp import _samples as gcp

from tests._sam import sam_event

if TYPE_CHECKING:
    from pathlib import Path

AWS_MODELS = {
    "http-rest": models.APIGatewayProxyEventModel,
    "http-api": models.APIGatewayProxyEventV2Model,
    "http-api-v1": models.APIGatewayProxyEventModel,
    "function-url": models.LambdaFunctionUrlModel,
    "alb": models.AlbModel,
    "schedule": models.EventBridgeModel,
    "s3": models.S3Model,
    "s3-sqs": models.S3SqsEventNotificationModel,
    "s3-sns": models.SnsModel,
    "s3-eventbridge": models.S3EventNotificationEventBridgeModel,
    "sqs": models.SqsModel,
    "sqs-fifo": models.SqsModel,
    "sns": models.SnsModel,
}


def test_every_trigger_has_a_sample_and_a_validator() -> None:
    assert set(AWS_MODELS) | {"alb-multi", "scheduler"} == set(aws.TRIGGERS)
    for module in (aws, azure, gcp):
        for trigger in module.TRIGGERS:
            assert module.trigger_of(module.sample_event(trigger)) == trigger


@pytest.mark.parametrize("trigger", sorted(AWS_MODELS))
def test_aws_samples_parse_with_powertools_models(trigger: str) -> None:
    overrides = {}
    if aws.KINDS[trigger] == "storage":
        overrides = {"key": "in/a b+c.csv"}
    elif aws.KINDS[trigger] == "http":
        overrides = {"query": "a=1&a=2"}
    event = aws.sample_event(trigger, **overrides)
    parsed: Any = parse(event=event, model=AWS_MODELS[trigger])
    if trigger == "s3":
        assert parsed.Records[0].s3.object.key == "in/a+b%2Bc.csv"  # form-encoded, as S3 sends
    if trigger == "s3-sns":
        inner = parse(event=json.loads(parsed.Records[0].Sns.Message), model=models.S3Model)
        assert inner.Records[0].s3.bucket.name == "uploads"
    if trigger == "s3-eventbridge":
        assert parsed.detail.object.key == "in/a b+c.csv"
    if trigger == "sqs-fifo":
        assert parsed.Records[0].attributes.MessageGroupId == "customer-7"
        assert parsed.Records[0].eventSourceARN.endswith(":orders.fifo")
    if trigger == "http-api":
        assert parsed.rawQueryString == "a=1&a=2" and parsed.queryStringParameters == {"a": "1,2"}


def test_aws_alb_multi_value_sample_reads_with_powertools_event_class() -> None:
    from aws_lambda_powertools.utilities.data_classes import ALBEvent

    event = ALBEvent(aws.sample_event("alb-multi", query="a=x y&a=2", **{"header.X-Multi": "1"}))
    assert event.multi_value_query_string_parameters == {"a": ["x+y", "2"]}  # still encoded
    assert event.multi_value_headers["x-multi"] == ["1"]
    assert event.request_context.elb_target_group_arn.startswith("arn:aws:elasticloadbalancing:")


def test_aws_scheduler_sample_is_the_input_the_builder_configures() -> None:
    """The Input the cross-adapter convention fixes (app, function, and the scheduled time that
    EventBridge Scheduler substitutes), and the handler runs that function at that time."""
    from datetime import UTC, datetime

    import polyfn_aws

    from polyfn import App, TimerEvent
    from tests.aws.conftest import lambda_context

    sample = aws.sample_event("scheduler")
    assert sample == {
        "polyfn": {"app": "shop", "function": "nightly"},
        "time": "2026-01-15T02:00:00Z",
    }

    app = App("shop")
    ticks: list[tuple[str, TimerEvent]] = []

    @app.schedule("0 3 * * *")
    def early(event: TimerEvent, ctx: Any) -> None:
        ticks.append(("early", event))

    @app.schedule("0 2 * * *")
    def nightly(event: TimerEvent, ctx: Any) -> None:
        ticks.append(("nightly", event))

    polyfn_aws.handler(app)(sample, lambda_context())
    [(name, tick)] = ticks
    assert name == "nightly"
    assert tick.scheduled_time == datetime(2026, 1, 15, 2, 0, tzinfo=UTC)


# Maps whose keys are the request's or message's own (headers, parameters, attributes): their
# presence is compared, not their entries.
OPEN_MAPS = {
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "pathParameters",
    "multiValueQueryStringParameters",
    "stageVariables",
    "MessageAttributes",
    "messageAttributes",
    "identity",
}


def _keys(obj: Any, prefix: str = "") -> set[str]:
    if isinstance(obj, list):
        return _keys(obj[0], prefix + "[].") if obj and isinstance(obj[0], dict) else set()
    if not isinstance(obj, dict):
        return set()
    found = set()
    for key, value in obj.items():
        found.add(prefix + key)
        if key not in OPEN_MAPS:
            found |= _keys(value, prefix + key + ".")
    return found


@pytest.mark.parametrize(
    ("trigger", "service", "name", "optional"),
    [
        ("http-rest", "apigateway", "aws-proxy", {"requestContext.requestTimeEpoch"}),
        # Payload 2.0 leaves out what the request does not have (no body, cookies or route params).
        (
            "http-api",
            "apigateway",
            "http-api-proxy",
            {"body", "cookies", "pathParameters", "stageVariables", "queryStringParameters"},
        ),
        ("alb", "alb", "request", set()),
        ("schedule", "cloudwatch", "scheduled-event", set()),
        ("s3", "s3", "put", set()),
        ("sqs", "sqs", "receive-message", set()),
        ("sns", "sns", "notification", set()),
    ],
)
def test_aws_samples_have_every_field_of_sam_clis_template(
    trigger: str, service: str, name: str, optional: set[str]
) -> None:
    missing = _keys(sam_event(service, name)) - _keys(aws.sample_event(trigger)) - optional
    # Authorizer output and mutual-TLS certificates exist only on APIs configured for them.
    missing = {
        m
        for m in missing
        if not m.startswith(("requestContext.authorizer", "requestContext.authentication"))
    }
    assert not missing, missing


# -- Azure: the worker's Datum, azure-functions' converters ------------------------------------


def _datum(typed: dict[str, Any]) -> Any:
    """The Datum the Python worker builds from a TypedData (written here independently of
    polyfn_azure._samples.to_datum)."""
    from azure.functions.meta import Datum

    [(kind, value)] = typed.items()
    if kind == "http":
        strings = {
            n: {k: Datum(v, "string") for k, v in (value.get(n) or {}).items()}
            for n in ("headers", "params", "query")
        }
        body = _datum(value["body"]) if "body" in value else Datum(b"", "bytes")
        return Datum(
            {
                "method": Datum(value["method"], "string"),
                "url": Datum(value["url"], "string"),
                "body": body,
                **strings,
            },
            "http",
        )
    if kind == "bytes":
        return Datum(base64.b64decode(value), "bytes")
    return Datum(value, kind)


@pytest.mark.parametrize("trigger", sorted(azure.TRIGGERS))
def test_azure_samples_decode_with_azure_functions_converters(trigger: str) -> None:
    from azure.functions import meta

    sample = azure.sample_event(trigger, **({"group": "s1"} if trigger == "servicebus" else {}))
    data = _datum(sample["inputData"][0]["data"])
    metadata = {k: _datum(v) for k, v in sample["triggerMetadata"].items()}
    converter = meta.get_binding_registry().get(azure.BINDINGS[trigger])
    obj = converter.decode(data, trigger_metadata=metadata)
    if trigger == "http":
        assert (obj.method, obj.url) == ("GET", "https://shop.azurewebsites.net/api/orders/42")
    elif trigger == "timer":
        assert obj.past_due is False
    elif trigger == "blob":
        assert obj.name == "uploads/incoming/report 2026+q1.csv"
        assert obj.length == len(obj.read())
    elif trigger == "eventgrid-blob":
        assert obj.event_type == "Microsoft.Storage.BlobCreated"
        assert obj.subject.endswith("/containers/uploads/blobs/incoming/report 2026+q1.csv")
    elif trigger == "queue":
        assert (obj.get_body(), obj.dequeue_count) == (b'{"order_id": 42}', 1)
    else:
        assert (obj.get_body(), obj.delivery_count, obj.session_id) == (
            b'{"order_id": 42}',
            1,
            "s1",
        )


# -- GCP: functions-framework's own app ---------------------------------------------------------


@pytest.fixture(scope="module")
def ff_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("ff") / "ff_recorder_main.py"
    source.write_text(
        textwrap.dedent("""
        import flask
        GOT = []

        def web(request: flask.Request):
            GOT.append((request.method, request.path, request.args.getlist("a"),
                        dict(request.headers)))
            return "ok"

        def event(cloud_event):
            GOT.append((cloud_event["type"], cloud_event.get("subject"), cloud_event.data))
    """)
    )
    return source


def _ff(source: Path, target: str, signature: str) -> tuple[Any, list[Any]]:
    import sys

    import functions_framework

    app = functions_framework.create_app(target, str(source), signature)
    return app.test_client(), sys.modules[source.stem].GOT


@pytest.mark.parametrize("trigger", ["storage", "storage-legacy", "pubsub"])
def test_gcp_event_samples_are_read_by_functions_framework(ff_source: Path, trigger: str) -> None:
    client, got = _ff(ff_source, "event", "cloudevent")
    sample = gcp.sample_event(trigger)
    if trigger == "storage-legacy":
        resp = client.post("/", json=sample)  # functions-framework converts it to a CloudEvent
    else:
        resp = client.post(
            "/", data=json.dumps(sample), headers={"Content-Type": "application/cloudevents+json"}
        )
    assert resp.status_code == 200, resp.get_data()
    kind, subject, data = got[-1]
    if trigger == "pubsub":
        assert kind == "google.cloud.pubsub.topic.v1.messagePublished"
        assert base64.b64decode(data["message"]["data"]) == b'{"order_id": 42}'
    else:
        assert kind == "google.cloud.storage.object.v1.finalized"
        assert subject == "objects/incoming/report 2026+q1.csv"
        assert (data["bucket"], data["size"]) == ("uploads", "1024")


@pytest.mark.parametrize("trigger", ["http", "scheduler-http"])
def test_gcp_http_samples_are_read_by_functions_framework(ff_source: Path, trigger: str) -> None:
    client, got = _ff(ff_source, "web", "http")
    sample = gcp.sample_event(trigger, **({"query": "a=1&a=2"} if trigger == "http" else {}))
    resp = client.open(
        sample["path"],
        method=sample["method"],
        query_string=sample["query"],
        headers=sample["headers"],
        data=sample["body"],
    )
    assert resp.status_code == 200
    method, path, args, headers = got[-1]
    if trigger == "http":
        assert (method, path, args) == ("GET", "/orders/42", ["1", "2"])
    else:
        assert (method, path) == ("POST", "/_polyfn/schedule/nightly")
        assert headers["X-Cloudscheduler-Jobname"] == "shop-nightly"


def test_aws_invoke_leaves_the_process_environment_as_it_found_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`invoke` sets the variables the Lambda runtime would only for the call: afterwards the
    process is not on Lambda (the resource backends choose the cloud from them)."""
    from polyfn import App
    from polyfn._resources import current_provider

    for name in ("AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "POLYFN_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    app = App("envcheck")
    seen: dict[str, str | None] = {}

    @app.queue("jobs")
    def work(msg: Any, ctx: Any) -> None:
        import os

        seen["name"] = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        seen["region"] = os.environ.get("AWS_REGION")

    result, ok = aws.invoke(app, "work", aws.sample_event("sqs", queue="jobs"))
    assert ok, result
    assert seen == {"name": "envcheck-work", "region": "eu-west-3"}
    import os

    assert "AWS_LAMBDA_FUNCTION_NAME" not in os.environ
    assert "AWS_LAMBDA_FUNCTION_VERSION" not in os.environ
    assert os.environ["AWS_REGION"] == "eu-west-3"
    assert current_provider() == "local"
