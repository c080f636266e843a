"""Payloads AWS's own tools publish (aws-lambda-powertools' tests/events, see
tests/events/aws/published/README.md) through `polyfn_aws.handler`, into an app bound to the
names in those payloads; then the edge cases around them (stages, encodings, cookies, S3 keys and
event kinds, mixed batches, Lambdas built for one function).

Each payload is first accepted by the Powertools parser model for its source; the handler gets
awslambdaric's LambdaContext, and its answer is read back as the service would (as JSON).
"""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import polyfn_aws
import pytest
from polyfn_aws import rule_name

from polyfn import App, EventError, HttpRequest, HttpResponse, QueueMessage, StorageEvent
from tests._sam import sam_event

from .conftest import Seen, lambda_context, validate

PUBLISHED = Path(__file__).resolve().parent.parent / "events" / "aws" / "published"

# The Powertools parser model that reads each payload.
MODELS = {
    "albEventPathTrailingSlash": "AlbModel",
    "albMultiValueHeadersEvent": "AlbMultiValueModel",
    "albMultiValueQueryStringEvent": "AlbMultiValueModel",
    "apiGatewayProxyEvent": "APIGatewayProxyEventModel",
    "apiGatewayProxyEventPathTrailingSlash": "APIGatewayProxyEventModel",
    "apiGatewayProxyOtherEvent": "APIGatewayProxyEventModel",
    "apiGatewayProxyV2Event": "APIGatewayProxyEventV2Model",
    "apiGatewayProxyV2EventPathTrailingSlash": "APIGatewayProxyEventV2Model",
    "apiGatewayProxyV2Event_GET": "APIGatewayProxyEventV2Model",
    "apiGatewayProxyV2IamEvent": "APIGatewayProxyEventV2Model",
    "eventBridgeEvent": "EventBridgeModel",
    "eventBridgeSchedulerEvent": "EventBridgeModel",
    "lambdaFunctionUrlEvent": "LambdaFunctionUrlModel",
    "lambdaFunctionUrlEventPathTrailingSlash": "LambdaFunctionUrlModel",
    "lambdaFunctionUrlEventWithHeaders": "LambdaFunctionUrlModel",
    "s3Event": "S3Model",
    "s3EventBridgeNotificationObjectCreatedEvent": "S3EventNotificationEventBridgeModel",
    "s3EventBridgeNotificationObjectDeletedEvent": "S3EventNotificationEventBridgeModel",
    "s3EventBridgeNotificationObjectExpiredEvent": "S3EventNotificationEventBridgeModel",
    "s3EventBridgeNotificationObjectRestoreCompletedEvent": "S3EventNotificationEventBridgeModel",
    "s3EventDeleteObject": "S3Model",
    "s3EventGlacier": "S3Model",
    "s3SqsEvent": "S3SqsEventNotificationModel",
    "snsEvent": "SnsModel",
    "snsSqsEvent": "SqsModel",
    "snsSqsFifoEvent": "SqsModel",
    "sqsEvent": "SqsModel",
}

ARTIFACTS = "lambda-artifacts-deafc19498e3f2df"  # s3Event.json's bucket
EXAMPLE = "example-bucket"  # the S3-on-EventBridge payloads' bucket
ALL_KINDS = ["created", "deleted", "archived", "metadata_updated"]


def published(name: str) -> dict[str, Any]:
    """A fresh copy of the published payload `name`, read by its Powertools model."""
    ev: dict[str, Any] = json.loads((PUBLISHED / f"{name}.json").read_text())
    return validate(MODELS[name], ev)


def test_every_published_payload_has_a_model():
    assert sorted(p.stem for p in PUBLISHED.glob("*.json")) == sorted(MODELS)


def make_app(seen: Seen, fail: frozenset[str] = frozenset()) -> App:
    """An app bound to the routes, buckets, queues and topics the published payloads name.

    Handlers record what they saw; queue and storage handlers raise for a text or key in `fail`.
    """
    app = App("pt")

    def recorded(name: str, answer: Any) -> Any:
        def handler(req: HttpRequest, ctx: Any) -> Any:
            seen.append((name, req, ctx))
            if not isinstance(answer, HttpResponse):
                return answer
            resp = HttpResponse(answer.body, headers=answer.headers.multi_items())
            resp.set_cookie("a", "1")
            resp.set_cookie("b", "2", http_only=name == "my_path")
            return resp

        return handler

    # path -> (function name, answer); an HttpResponse answer sets two cookies as well.
    routes = {
        "/my/path": ("my_path", HttpResponse.json({"ok": True})),
        "/other/path": ("other_path", "other"),
        "/": ("root", "root"),
        "/todos": ("todos", HttpResponse.json([])),
        "/lambda": ("lambda_route", "lambda"),
    }
    for path, (name, answer) in routes.items():
        methods = ["GET", "POST"] if name == "my_path" else ["GET"]
        app.http(path, methods=methods, function_name=name)(recorded(name, answer))

    @app.http("/bin", methods=["POST"])
    def echo(req: HttpRequest, ctx: Any) -> bytes:
        seen.append(("echo", req, ctx))
        return req.body

    @app.http("/items/{item_id}", methods=["GET"])
    def item(req: HttpRequest, ctx: Any) -> dict[str, str]:
        seen.append(("item", req, ctx))
        return {"path": req.path, "id": req.path_params["item_id"]}

    def storage(event: StorageEvent, ctx: Any) -> None:
        seen.append((f"storage:{event.bucket}", event, ctx))
        if event.key in fail:
            raise RuntimeError(f"cannot process {event.key}")

    for bucket in (ARTIFACTS, EXAMPLE, "xxx"):
        app.storage(bucket, on=ALL_KINDS, function_name=f"on_{bucket[:8].replace('-', '_')}")(
            storage
        )

    def queue(msg: QueueMessage, ctx: Any) -> None:
        seen.append((f"queue:{msg.queue}", msg, ctx))
        if msg.text in fail:
            raise ValueError("failed on purpose")

    app.queue("my-queue", function_name="on_my_queue")(queue)
    app.queue("powertools265", function_name="on_powertools265")(queue)
    app.queue("Test", fifo=True, function_name="on_test_fifo")(queue)
    app.queue("sns-lambda", function_name="on_sns_lambda")(queue)

    @app.schedule("0 2 * * *")
    def nightly(event: Any, ctx: Any) -> None:
        seen.append(("nightly", event, ctx))

    return app


def call(
    ev: dict[str, Any], *, fail: frozenset[str] = frozenset(), function: str | None = None
) -> tuple[Any, Seen]:
    seen = Seen()
    handler = polyfn_aws.handler(make_app(seen, fail), function=function)
    result = handler(ev, lambda_context("req-pub"))
    # What Lambda hands back to the service is the JSON of the result.
    return json.loads(json.dumps(result)), seen


def only(seen: Seen) -> Any:
    assert len(seen) == 1, seen.names()
    return seen[0][1]


# -- HTTP --------------------------------------------------------------------------------------


def test_http_api_payload_1_0():
    # Powertools' "apiGatewayProxyEvent" carries version 1.0 and stage $default: an HTTP API's
    # payload 1.0. Every repeated header and query value comes through; the answer is 1.0's.
    result, seen = call(published("apiGatewayProxyEvent"))
    req = only(seen)
    assert (req.method, req.path) == ("GET", "/my/path")
    assert req.query.multi_items() == [
        ("parameter1", "value1"),
        ("parameter1", "value2"),
        ("parameter2", "value"),
    ]
    assert req.headers.getall("Header2") == ["value1", "value2"]
    assert req.body == b"Hello from Lambda!"
    assert req.source_ip == "192.168.0.1/32"
    assert seen[0][2].invocation_id == "req-pub"
    assert result["statusCode"] == 200
    assert set(result) == {"statusCode", "multiValueHeaders", "body", "isBase64Encoded"}
    assert result["multiValueHeaders"]["Set-Cookie"] == ["a=1; Path=/", "b=2; Path=/; HttpOnly"]
    assert json.loads(result["body"]) == {"ok": True}


def test_http_api_payload_1_0_other_path_and_capitalised_headers():
    result, seen = call(published("apiGatewayProxyOtherEvent"))
    assert result["statusCode"] == 200 and result["body"] == "other"
    req = only(seen)
    assert req.path == "/other/path"
    assert req.headers.get("header1") == "value1"
    assert req.headers.getall("header2") == ["value1", "value2"]


def test_a_body_flagged_base64_that_is_not_is_refused_naming_the_field():
    # Powertools' own payload flags "Hello from Lambda!" as base64; API Gateway never would.
    with pytest.raises(EventError) as info:
        call(published("apiGatewayProxyEventPathTrailingSlash"))
    assert info.value.field == "body"


@pytest.mark.parametrize(
    ("name", "method", "body"),
    [
        ("apiGatewayProxyV2Event", "POST", b'{"message": "hello world", "username": "tom"}'),
        ("apiGatewayProxyV2Event_GET", "GET", b""),
        ("apiGatewayProxyV2IamEvent", "GET", b'{\r\n\t"a": 1\r\n}'),
    ],
)
def test_http_api_payload_2_0(name, method, body):
    ev = published(name)
    result, seen = call(ev)
    req = only(seen)
    assert (req.method, req.path, req.body) == (method, "/my/path", body)
    # The repeated query key comes from rawQueryString, not the comma-joined map.
    assert req.query.getall("parameter1") == ["value1", "value2"]
    assert req.headers.get("cookie") == "cookie1; cookie2"
    assert req.headers.get("HEADER1") == "value1"
    assert req.source_ip == "192.168.0.1/32"
    assert result["statusCode"] == 200
    assert set(result) == {"statusCode", "headers", "cookies", "body", "isBase64Encoded"}
    assert result["cookies"] == ["a=1; Path=/", "b=2; Path=/; HttpOnly"]
    assert "Set-Cookie" not in result["headers"]
    assert result["headers"]["Content-Type"] == "application/json"


def test_http_api_body_reads_as_json():
    _, seen = call(published("apiGatewayProxyV2IamEvent"))
    assert only(seen).json() == {"a": 1}


@pytest.mark.parametrize(
    "name",
    [
        "apiGatewayProxyV2EventPathTrailingSlash",
        "lambdaFunctionUrlEventPathTrailingSlash",
        "albEventPathTrailingSlash",
    ],
)
def test_a_trailing_slash_reaches_the_route(name):
    result, seen = call(published(name))
    assert result["statusCode"] == 200
    assert seen.names() in (["my_path"], ["lambda_route"])
    assert only(seen).path.endswith("/")


def test_function_url_root():
    result, seen = call(published("lambdaFunctionUrlEvent"))
    req = only(seen)
    assert (req.method, req.path, req.body) == ("GET", "/", b"")
    assert req.source_ip == "123.123.123.123"
    assert req.headers.get("Accept-Encoding") == "gzip, deflate, br"
    assert result == {
        "statusCode": 200,
        "headers": {"Content-Type": "text/plain; charset=utf-8"},
        "body": "root",
        "isBase64Encoded": False,
    }


def test_function_url_with_only_the_parsed_query_map():
    # Powertools' payload has queryStringParameters but an empty rawQueryString: the map is read.
    result, seen = call(published("lambdaFunctionUrlEventWithHeaders"))
    req = only(seen)
    assert result["statusCode"] == 200
    assert req.query.multi_items() == [("parameter1", "value1,value2"), ("parameter2", "value")]
    assert req.headers.get("header2") == "value1,value2"


def test_alb_single_value():
    result, seen = call(published("albEventPathTrailingSlash"))
    req = only(seen)
    assert req.query.multi_items() == [("query", "1234ABCD")]
    assert req.source_ip == "72.12.164.125"
    assert req.body == b"Test"
    assert result == {
        "statusCode": 200,
        "statusDescription": "200 OK",
        "headers": {"Content-Type": "text/plain; charset=utf-8"},
        "body": "lambda",
        "isBase64Encoded": False,
    }


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("albMultiValueHeadersEvent", []),
        (
            "albMultiValueQueryStringEvent",
            [("parameter1", "value1"), ("parameter1", "value2"), ("parameter2", "value")],
        ),
    ],
)
def test_alb_multi_value(name, query):
    result, seen = call(published(name))
    req = only(seen)
    assert req.query.multi_items() == query
    assert req.source_ip == "123.123.123.123"
    assert req.headers.get("user-agent") == "curl/7.79.1"
    assert result["statusCode"] == 200
    assert result["statusDescription"] == "200 OK"
    assert "headers" not in result
    assert result["multiValueHeaders"]["Set-Cookie"] == ["a=1; Path=/", "b=2; Path=/"]


# -- HTTP edge cases ---------------------------------------------------------------------------


def v1_with(path: str, resource: str, params: dict[str, str] | None) -> dict[str, Any]:
    ev = published("apiGatewayProxyOtherEvent")
    del ev["version"]  # a REST API event
    ev.update(path=path, resource=resource, pathParameters=params, httpMethod="GET")
    ev["requestContext"].update(stage="prod", resourcePath=resource, path=f"/prod{path}")
    return validate("APIGatewayProxyEventModel", ev)


@pytest.mark.parametrize(
    ("path", "resource", "params"),
    [
        ("/items/42", "/items/{item_id}", {"item_id": "42"}),
        # A custom domain's base path mapping (api.example.com/v1 -> this API) stays in `path`.
        ("/v1/items/42", "/items/{item_id}", {"item_id": "42"}),
        ("/v1/shop/items/42", "/{proxy+}", {"proxy": "items/42"}),
    ],
)
def test_rest_api_base_paths_are_dropped(path, resource, params):
    result, _ = call(v1_with(path, resource, params))
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"path": "/items/42", "id": "42"}


@pytest.mark.parametrize(
    ("raw_path", "route_key", "params"),
    [
        ("/prod/items/42", "GET /items/{item_id}", {"item_id": "42"}),
        ("/prod/items/42", "ANY /{proxy+}", {"proxy": "items/42"}),
        ("/prod/items/42", "$default", None),
    ],
)
def test_http_api_named_stage_is_dropped(raw_path, route_key, params):
    ev = published("apiGatewayProxyV2Event_GET")
    ev.update(rawPath=raw_path, routeKey=route_key, pathParameters=params)
    ev["requestContext"].update(stage="prod", routeKey=route_key)
    ev["requestContext"]["http"]["path"] = raw_path
    result, _ = call(validate("APIGatewayProxyEventV2Model", ev))
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"path": "/items/42", "id": "42"}


@pytest.mark.parametrize(
    ("resource", "params"),
    [("$default", None), ("/{proxy+}", {"proxy": "items/42"}), ("/items/{id}", {"id": "42"})],
)
def test_http_api_payload_1_0_named_stage_is_dropped(resource, params):
    ev = published("apiGatewayProxyEvent")
    ev.update(path="/prod/items/42", resource=resource, pathParameters=params)
    ev["requestContext"].update(stage="prod", resourcePath=resource, path="/prod/items/42")
    result, _ = call(validate("APIGatewayProxyEventModel", ev))
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"path": "/items/42", "id": "42"}


def test_a_gzip_request_body_reaches_the_handler_as_sent():
    # Content-Encoding is the client's: the bytes are handed over compressed, as they came.
    import gzip

    data = gzip.compress(b'{"a": 1}')
    ev = published("apiGatewayProxyV2Event")
    ev.update(body=base64.b64encode(data).decode(), isBase64Encoded=True, rawPath="/bin")
    ev["headers"]["content-encoding"] = "gzip"
    ev["requestContext"]["http"]["path"] = "/bin"
    result, seen = call(validate("APIGatewayProxyEventV2Model", ev))
    assert only(seen).body == data
    assert only(seen).headers.get("Content-Encoding") == "gzip"
    assert (result["isBase64Encoded"], base64.b64decode(result["body"])) == (True, data)


def test_function_url_cookies_and_binary_body():
    ev = published("lambdaFunctionUrlEvent")
    data = bytes(range(256))
    ev.update(
        rawPath="/bin",
        cookies=["session=abc", "theme=dark"],
        body=base64.b64encode(data).decode(),
        isBase64Encoded=True,
    )
    ev["headers"]["cookie"] = "session=abc; theme=dark"
    ev["requestContext"]["http"].update(method="POST", path="/bin")
    result, seen = call(validate("LambdaFunctionUrlModel", ev))
    req = only(seen)
    assert req.cookies == {"session": "abc", "theme": "dark"}
    assert req.body == data
    assert result["isBase64Encoded"] is True
    assert base64.b64decode(result["body"]) == data
    assert result["headers"]["Content-Type"] == "application/octet-stream"


def test_alb_query_values_are_decoded_once():
    # ALB hands the query over as the client sent it: "+" and "%20" are spaces, "%2B" a plus.
    ev = published("albMultiValueQueryStringEvent")
    ev["multiValueQueryStringParameters"] = {
        "q": ["a+b", "a%2Bb", "a%20b", "100%25"],
        "k%20x": ["1"],
    }
    _, seen = call(validate("AlbMultiValueModel", ev))
    assert only(seen).query.multi_items() == [
        ("q", "a b"),
        ("q", "a+b"),
        ("q", "a b"),
        ("q", "100%"),
        ("k x", "1"),
    ]


def _with_path(name: str, path: str) -> dict[str, Any]:
    ev = published(name)
    if "rawPath" in ev:
        ev["rawPath"] = path
        ev["requestContext"]["http"].update(method="GET", path=path)
    else:
        ev.update(path=path, httpMethod="GET")
        if "resource" in ev:
            del ev["version"]  # a REST API event: its path comes percent-encoded
            ev.update(resource="/items/{item_id}", pathParameters={"item_id": "\ufffd"})
    return ev


@pytest.mark.parametrize(
    "name", ["lambdaFunctionUrlEvent", "albEventPathTrailingSlash", "apiGatewayProxyOtherEvent"]
)
def test_a_percent_escape_that_is_no_utf8_is_a_request_not_a_failed_invocation(name):
    # "%FF" came from the client; it reads as U+FFFD, as werkzeug (GCP) and urllib read it.
    result, seen = call(_with_path(name, "/items/%FF"))
    assert result["statusCode"] == 200
    assert only(seen).path_params == {"item_id": "\ufffd"}


def test_alb_query_escape_that_is_no_utf8():
    ev = published("albEventPathTrailingSlash")
    ev["queryStringParameters"] = {"q": "%FF", "ok": "%C3%BC"}
    _, seen = call(ev)
    assert only(seen).query.multi_items() == [("q", "\ufffd"), ("ok", "ü")]


def test_single_value_alb_sends_the_last_set_cookie():
    # One value per header name in this mode: the last cookie goes (the warning naming the
    # dropped ones is checked in test_http).
    ev = published("albEventPathTrailingSlash")
    ev["path"] = "/todos"
    result, _ = call(validate("AlbModel", ev))
    assert result["headers"]["Set-Cookie"] == "b=2; Path=/"
    assert "multiValueHeaders" not in result


@pytest.mark.parametrize("name", ["apiGatewayProxyV2Event", "albMultiValueHeadersEvent"])
def test_an_empty_body_flagged_base64_is_empty(name):
    ev = published(name)
    ev.update(body="", isBase64Encoded=True)
    if "rawPath" in ev:
        ev["rawPath"] = "/bin"
        ev["requestContext"]["http"].update(method="POST", path="/bin")
    else:
        ev.update(path="/bin", httpMethod="POST")
    result, seen = call(ev)
    assert only(seen).body == b""
    assert (result["statusCode"], result["body"], result["isBase64Encoded"]) == (200, "", False)


@pytest.mark.parametrize("name", ["apiGatewayProxyV2Event", "albEventPathTrailingSlash"])
def test_options_on_a_route_is_405_with_allow(name):
    ev = published(name)
    if "rawPath" in ev:
        ev["requestContext"]["http"]["method"] = "OPTIONS"
    else:
        ev.update(path="/my/path", httpMethod="OPTIONS")
    result, seen = call(ev)
    assert seen == []
    assert result["statusCode"] == 405
    headers = result["headers"]
    assert headers["Allow"] == "GET, POST"
    if "statusDescription" in result:
        assert result["statusDescription"] == "405 Method Not Allowed"


def test_a_lambda_authorizer_event_is_no_request():
    # It wants a policy back; answering it with a 404 would only confuse API Gateway. (Powertools'
    # ApiGatewayAuthorizerRequest model rejects SAM CLI's template: it lacks multiValueHeaders,
    # requestContext.protocol and requestContext.identity.sourceIp.)
    ev = sam_event("apigateway", "request-authorizer")
    assert ev["type"] == "REQUEST" and "httpMethod" in ev
    with pytest.raises(EventError, match="methodArn"):
        call(ev)


# -- S3 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "size"),
    [
        ("s3Event", "created", 1305107),
        ("s3EventDeleteObject", "deleted", None),
        # An object put with a Glacier restore block: still a creation.
        ("s3EventGlacier", "created", 1305107),
    ],
)
def test_s3_notifications(name, kind, size):
    result, seen = call(published(name))
    assert result is None
    event = only(seen)
    assert seen.names() == [f"storage:{ARTIFACTS}"]
    assert (event.kind, event.bucket, event.key) == (
        kind,
        ARTIFACTS,
        "b21b84d653bb07b05b1e6b33684dc11b",
    )
    assert event.size == size
    assert event.time == datetime(2019, 9, 3, 19, 37, 27, 192000, tzinfo=UTC)
    assert event.time.utcoffset() is not None
    assert event.etag == ("b21b84d653bb07b05b1e6b33684dc11b" if size else None)


def test_s3_notification_through_sqs():
    ev = published("s3SqsEvent")
    result, seen = call(ev)
    assert result == {"batchItemFailures": []}
    event = only(seen)
    assert (event.kind, event.bucket, event.key, event.size) == (
        "created",
        "xxx",
        "test.pdf",
        104681,
    )
    assert event.version == "yd3d4HaWOT2zguDLvIQLU6ptDTwKBnQV"
    assert event.time == datetime(2023, 4, 12, 20, 43, 38, 21000, tzinfo=UTC)
    # A storage handler that raises lists its SQS record, nothing else.
    result, _ = call(published("s3SqsEvent"), fail=frozenset({"test.pdf"}))
    assert result == {"batchItemFailures": [{"itemIdentifier": ev["Records"][0]["messageId"]}]}


@pytest.mark.parametrize(
    ("name", "kind", "size", "time"),
    [
        ("s3EventBridgeNotificationObjectCreatedEvent", "created", 184662, "2023-03-08T17:50:14"),
        ("s3EventBridgeNotificationObjectDeletedEvent", "deleted", None, "2021-11-12T00:00:00"),
        # A lifecycle expiration is a deletion.
        ("s3EventBridgeNotificationObjectExpiredEvent", "deleted", 184662, "2021-11-12T00:00:00"),
    ],
)
def test_s3_on_eventbridge(name, kind, size, time):
    result, seen = call(published(name))
    assert result is None
    event = only(seen)
    assert (event.kind, event.bucket, event.key, event.size) == (
        kind,
        EXAMPLE,
        "IMG_m7fzo3.jpg",
        size,
    )
    assert event.time == datetime.fromisoformat(time).replace(tzinfo=UTC)


def test_s3_restore_completed_on_eventbridge_triggers_nothing():
    # A restore makes a temporary copy of an archived object: no neutral kind (see _storage).
    result, seen = call(published("s3EventBridgeNotificationObjectRestoreCompletedEvent"))
    assert (result, seen) == (None, [])


def s3_record(event_name: str, key: str, bucket: str = ARTIFACTS) -> dict[str, Any]:
    ev = published("s3Event")
    record = ev["Records"][0]
    record["eventName"] = event_name
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["object"]["key"] = key
    return record


# Every notification type in
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html
# and the neutral kind it is (None: no handler runs).
S3_TYPES = [
    ("ObjectCreated:Put", "created"),
    ("ObjectCreated:Post", "created"),
    ("ObjectCreated:Copy", "created"),
    ("ObjectCreated:CompleteMultipartUpload", "created"),
    ("ObjectRemoved:Delete", "deleted"),
    ("ObjectRemoved:DeleteMarkerCreated", "deleted"),
    ("LifecycleExpiration:Delete", "deleted"),
    ("LifecycleExpiration:DeleteMarkerCreated", "deleted"),
    ("LifecycleTransition", "archived"),
    ("IntelligentTiering", "archived"),
    ("ObjectTagging:Put", "metadata_updated"),
    ("ObjectTagging:Delete", "metadata_updated"),
    ("ObjectAcl:Put", "metadata_updated"),
    ("ObjectRestore:Post", None),
    ("ObjectRestore:Completed", None),
    ("ObjectRestore:Delete", None),
    ("ReducedRedundancyLostObject", None),
    ("Replication:OperationFailedReplication", None),
    ("Replication:OperationMissedThreshold", None),
    ("ObjectAnnotation:Put", None),
    ("ObjectAnnotation:Delete", None),
]


@pytest.mark.parametrize(("event_name", "kind"), S3_TYPES)
def test_s3_event_types_map_to_neutral_kinds(event_name, kind):
    ev = {"Records": [s3_record(event_name, "k")]}
    _, seen = call(validate("S3Model", ev))
    assert [e.kind for _, e, _ in seen] == ([kind] if kind else [])


def test_an_s3_event_type_polyfn_does_not_know_is_an_event_error():
    ev = {"Records": [s3_record("ObjectTeleported:Put", "k")]}
    with pytest.raises(EventError) as info:
        call(ev)
    assert info.value.field == "Records[0].eventName"


KEYS = ["a b+c.txt", "dir/ünï cødé €.png", "100% sure?.txt", "plus+and%2B.txt", " lead", "x=1&y"]


@pytest.mark.parametrize("key", KEYS)
def test_s3_keys_are_decoded_on_every_path(key):
    # S3 form-encodes the key in a notification (a space is "+", "+" is "%2B", slashes kept).
    encoded = quote_plus(key, safe="/")
    notification = {"Records": [s3_record("ObjectCreated:Put", encoded)]}
    body = json.dumps(notification)
    sqs = published("s3SqsEvent")
    sqs["Records"][0]["body"] = body
    sns = published("snsEvent")
    sns["Records"][0]["Sns"]["Message"] = body
    envelope = json.loads(published("snsSqsEvent")["Records"][0]["body"])
    envelope["Message"] = body
    sns_sqs = published("snsSqsEvent")
    sns_sqs["Records"][0]["body"] = json.dumps(envelope)
    sns_sqs["Records"][0]["eventSourceARN"] = "arn:aws:sqs:eu-west-1:231436140809:s3-events"
    raw_sqs = copy.deepcopy(sns_sqs)  # raw delivery: the SQS body is the S3 notification
    raw_sqs["Records"][0]["body"] = body
    # unbound topic and queues: their S3 notifications go to the bucket's function
    sns["Records"][0]["Sns"]["TopicArn"] = "arn:aws:sns:us-east-2:123456789012:s3-events"
    for ev in (notification, sqs, sns, sns_sqs, raw_sqs):
        _, seen = call(ev)
        assert [(e.bucket, e.key) for _, e, _ in seen] == [(ARTIFACTS, key)]


@pytest.mark.parametrize("key", KEYS)
def test_s3_keys_on_eventbridge_are_taken_verbatim(key):
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html: detail.object.key is
    # the key itself; the percent-encoded spelling arrives as is, never half-decoded.
    for spelling in (key, quote_plus(key, safe="/")):
        ev = published("s3EventBridgeNotificationObjectCreatedEvent")
        ev["detail"]["object"]["key"] = spelling
        _, seen = call(validate("S3EventNotificationEventBridgeModel", ev))
        assert only(seen).key == spelling


def test_s3_test_event_inside_sqs_runs_nothing_and_fails_nothing():
    ev = published("s3SqsEvent")
    ev["Records"][0]["body"] = json.dumps(
        {
            "Service": "Amazon S3",
            "Event": "s3:TestEvent",
            "Time": "2024-03-10T13:00:00.000Z",
            "Bucket": "xxx",
            "RequestId": "5582815E1AEA5ADF",
            "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
        }
    )
    result, seen = call(validate("SqsModel", ev))
    assert (result, seen) == ({"batchItemFailures": []}, [])


# -- SQS and SNS -------------------------------------------------------------------------------


def test_sqs_batch():
    ev = published("sqsEvent")
    result, seen = call(ev)
    assert result == {"batchItemFailures": []}
    first, second = (m for _, m, _ in seen)
    assert seen.names() == ["queue:my-queue", "queue:my-queue"]
    assert (first.id, first.text) == ("059f36b4-87a3-44ab-83d2-661975830a7d", "Test message.")
    assert first.attributes == {"testAttr": "100"}  # a Number attribute: its stringValue
    assert first.delivery_count == 1
    assert first.enqueued_time == datetime(2018, 12, 17, 21, 37, 29, 183000, tzinfo=UTC)
    assert first.group is None
    assert second.json() == {"message": "foo1"} and second.attributes == {}
    # A raise lists that record alone.
    result, _ = call(published("sqsEvent"), fail=frozenset({"Test message."}))
    assert result == {"batchItemFailures": [{"itemIdentifier": first.id}]}


def test_sqs_redelivery_counts_and_typed_attributes():
    ev = published("sqsEvent")
    record = ev["Records"][1]
    record["attributes"]["ApproximateReceiveCount"] = "3"
    record["messageAttributes"] = {
        "price": {"stringValue": "9.5", "dataType": "Number.float"},
        "kind": {"stringValue": "gift", "dataType": "String.label"},
    }
    _, seen = call(validate("SqsModel", ev))
    message = seen[1][1]
    assert message.delivery_count == 3
    assert message.attributes == {"price": "9.5", "kind": "gift"}
    assert message.enqueued_time == datetime(2018, 12, 17, 21, 37, 30, 636000, tzinfo=UTC)


def test_sqs_binary_attribute_is_the_base64_sqs_delivers():
    ev = published("sqsEvent")
    ev["Records"][0]["messageAttributes"]["blob"] = {
        "binaryValue": base64.b64encode(b"\x00\x01\xff").decode(),
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "Binary",
    }
    _, seen = call(validate("SqsModel", ev))
    assert seen[0][1].attributes == {"testAttr": "100", "blob": "AAH/"}


def test_sns_inside_sqs_is_the_envelope_sqs_holds():
    ev = published("snsSqsEvent")
    envelope = json.loads(ev["Records"][0]["body"])
    validate("SnsNotificationModel", envelope)
    result, seen = call(ev)
    assert result == {"batchItemFailures": []}
    message = only(seen)
    assert message.queue == "powertools265"
    assert message.json()["Type"] == "Notification"
    assert json.loads(message.json()["Message"]) == {"message": "hello world", "username": "lessa"}
    assert message.enqueued_time == datetime(2021, 1, 19, 10, 7, 7, 340000, tzinfo=UTC)


def test_sns_inside_a_fifo_queue():
    ev = published("snsSqsFifoEvent")
    validate("SnsNotificationModel", json.loads(ev["Records"][0]["body"]))
    second = copy.deepcopy(ev["Records"][0])
    second["messageId"] = "second-of-the-group"
    ev["Records"].append(second)
    result, seen = call(ev)
    assert result == {"batchItemFailures": []}
    assert [(m.queue, m.group) for _, m, _ in seen] == [("Test", "powertools-test")] * 2
    # The first fails: the rest of its group is reported without running.
    body = ev["Records"][0]["body"]
    result, seen = call(ev, fail=frozenset({body}))
    assert len(seen) == 1
    assert result == {
        "batchItemFailures": [
            {"itemIdentifier": "69bc4bbd-ed69-4325-a434-85c3b428ceab"},
            {"itemIdentifier": "second-of-the-group"},
        ]
    }


def test_sns_notification():
    result, seen = call(published("snsEvent"))
    assert result is None
    message = only(seen)
    assert (message.queue, message.id) == ("sns-lambda", "95df01b4-ee98-5cb9-9903-4c221d41eb5e")
    assert message.text == "Hello from SNS!"
    assert message.attributes == {"Test": "TestString", "TestBinary": "TestBinary"}
    assert message.enqueued_time == datetime(2019, 1, 2, 12, 45, 7, tzinfo=UTC)
    with pytest.raises(ValueError, match="failed on purpose"):
        call(published("snsEvent"), fail=frozenset({"Hello from SNS!"}))


def test_records_of_two_queues_in_one_batch_go_to_their_own_functions():
    # Lambda never mixes queues in a batch; one put together by hand must not mis-dispatch.
    ev = published("sqsEvent")
    other = copy.deepcopy(published("snsSqsEvent")["Records"][0])
    ev["Records"].insert(1, other)
    stray = copy.deepcopy(ev["Records"][0])
    stray.update(messageId="stray", eventSourceARN="arn:aws:sqs:us-east-2:123456789012:nobody")
    ev["Records"].append(stray)
    result, seen = call(validate("SqsModel", ev))
    assert [(name, m.id) for name, m, _ in seen] == [
        ("queue:my-queue", "059f36b4-87a3-44ab-83d2-661975830a7d"),
        ("queue:my-queue", "2e1424d4-f796-459a-8184-9c92662be6da"),
        ("queue:powertools265", "79406a00-bf15-46ca-978c-22c3613fcb30"),
    ]
    # The record of a queue nothing serves is reported failed, not handed to another function.
    assert result == {"batchItemFailures": [{"itemIdentifier": "stray"}]}
    # Failures keep the batch's order across the queues.
    result, _ = call(ev, fail=frozenset({"Test message.", other["body"]}))
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [
        "059f36b4-87a3-44ab-83d2-661975830a7d",
        "79406a00-bf15-46ca-978c-22c3613fcb30",
        "stray",
    ]


# -- EventBridge -------------------------------------------------------------------------------


def test_an_eventbridge_event_polyfn_does_not_serve():
    with pytest.raises(EventError) as info:
        call(published("eventBridgeEvent"))
    assert "aws.ec2" in str(info.value) and info.value.field == "source"


def test_scheduler_scheduled_event_dispatches_by_schedule_name():
    app = make_app(Seen())
    ev = published("eventBridgeSchedulerEvent")
    # A schedule polyfn's builder did not name: not for any function of the app.
    with pytest.raises(EventError) as info:
        call(ev)
    assert "'aaaaa'" in str(info.value) and rule_name(app, app.function("nightly")) in str(
        info.value
    )
    # Built for the function, the Lambda serves it.
    _, seen = call(ev, function="nightly")
    tick = only(seen)
    assert tick.scheduled_time == datetime(2025, 2, 20, 16, 3, tzinfo=UTC)
    # Named as the builder names it, it finds its function.
    name = rule_name(app, app.function("nightly"))
    ev["resources"] = [f"arn:aws:scheduler:us-east-1:123456789012:schedule/default/{name}"]
    _, seen = call(ev)
    assert seen.names() == ["nightly"]


def test_a_scheduled_rule_no_function_matches_names_the_rules_served():
    ev = validate(
        "EventBridgeModel",
        {
            "version": "0",
            "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": "2015-10-08T16:53:06Z",
            "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"],
            "detail": {},
        },
    )
    with pytest.raises(EventError) as info:
        call(ev)
    assert "'my-scheduled-rule'" in str(info.value) and "pt-nightly" in str(info.value)


# -- a Lambda built for one function -----------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "name"),
    [
        ("on_my_queue", "s3Event"),
        ("on_my_queue", "apiGatewayProxyV2Event"),
        ("on_my_queue", "s3EventBridgeNotificationObjectCreatedEvent"),
        ("nightly", "sqsEvent"),
        ("nightly", "snsEvent"),
        ("my_path", "sqsEvent"),
        ("my_path", "s3Event"),
        ("on_lambda_a", "snsEvent"),
    ],
)
def test_a_lambda_for_one_function_refuses_other_triggers(function, name):
    with pytest.raises(EventError) as info:
        call(published(name), function=function)
    assert f"this Lambda serves {function!r}" in str(info.value)
