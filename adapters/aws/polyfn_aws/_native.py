"""`from_lambda(handler, event=...)`: a Lambda handler written for one AWS event source, served as
a polyfn function on any cloud and under `polyfn serve`.

The polyfn handler it returns renders the neutral input as the event that source sends, calls the
Lambda handler with it and a Lambda-like context object, and reads the native answer back:

| event=            | bind with                    | the handler gets                   |
|-------------------|------------------------------|------------------------------------|
| ``"rest"``        | ``app.http``                 | REST API proxy event (payload 1.0) |
| ``"http"``        | ``app.http``                 | HTTP API event (payload 2.0)       |
| ``"sqs"``         | ``app.queue``/``subscribe``  | SQS batch of one record            |
| ``"sns"``         | ``app.subscribe``/``queue``  | SNS notification                   |
| ``"s3"``          | ``app.storage``              | S3 event notification              |
| ``"eventbridge"`` | ``app.schedule``/``storage`` | Scheduled Event / S3 Object event  |

Answers: a proxy integration's ``statusCode``, ``headers``, ``multiValueHeaders``, ``body`` and
``isBase64Encoded`` (and ``cookies`` for payload 2.0, where any other JSON value is a 200
``application/json`` body, as API Gateway infers it); an SQS handler's ``batchItemFailures``; SNS,
S3 and EventBridge invoke asynchronously, and Lambda ignores what those handlers return.

A raise in the Lambda handler is what it is everywhere: a 500 without detail for HTTP, a failed
message or event otherwise. An answer the source would not accept (API Gateway answers such a
proxy response with a 502 "Malformed Lambda proxy response"; Lambda fails an SQS batch whose
``batchItemFailures`` it cannot read) raises `LambdaAnswerError`, which names what is wrong and
the shape to return instead: the same polyfn 500, or a failed message.

On AWS itself the handler gets the event Lambda delivered, untouched, with the runtime's own
context, whenever that event is of the source it was written for; only an event of another source
(a REST handler behind an HTTP API, an SQS handler fed by SNS) is rendered. An SQS batch reaches
the handler one record at a time: polyfn runs a queue function per message, so each record's
failure is its own (the batch the handler sees is ``{"Records": [record]}``).

Rendered events follow the AWS documentation pages cited beside each builder and are valid under
aws-lambda-powertools' parser models (tests/native checks each). The values AWS would know and no
other cloud does (an account id, an API id, a receipt handle) are stand-ins, named below.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus, urlencode

from polyfn._errors import ConfigError, EventError, PolyfnError
from polyfn._events import QueueMessage, StorageEvent, TimerEvent
from polyfn._http import HttpRequest, HttpResponse, is_text_content
from polyfn._multidict import Headers
from polyfn_aws._handler import S3_EVENT_SOURCE, SCHEDULE_EVENT, SNS_SOURCE, SQS_SOURCE
from polyfn_aws._http import HTTP_V2, REST, http_kind
from polyfn_aws._queue import (
    FIFO_SUFFIX,
    GROUP_ID,
    RECEIVE_COUNT,
    SENT_TIMESTAMP,
    string_attributes,
)
from polyfn_aws._storage import EVENTBRIDGE_KINDS, NOTIFICATION_KINDS

if TYPE_CHECKING:
    from collections.abc import Callable

    from polyfn._context import Context

    LambdaHandler = Callable[[Any, Any], Any]

# The attribute of a wrapped native handler that names the adapter it runs on: `polyfn package`
# (polyfn/_cli_build.py) puts that adapter into the zip of any cloud.
PROVIDER_MARK = "__polyfn_provider__"
# event= -> what the polyfn handler serves (the decorator's word, for messages).
EVENTS: dict[str, str] = {
    "rest": "app.http",
    "http": "app.http",
    "sqs": "app.queue or app.subscribe",
    "sns": "app.subscribe or app.queue",
    "s3": "app.storage",
    "eventbridge": "app.schedule or app.storage",
}

# Stand-ins for what only AWS knows. The region is the one the environment names, as on Lambda
# (AWS_REGION, https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html); the
# account is the all-zero id, which no AWS account has, so nothing mistakes it for a real one.
DEFAULT_REGION = "us-east-1"
ACCOUNT = "000000000000"
API_ID = "polyfn"
# The stage of a request rendered off AWS: the other clouds' URLs carry none, so the path has no
# stage prefix, as on an HTTP API's `$default` stage (a REST API names its stage; "$default" then
# tells the handler there is none in the path).
STAGE = "$default"
# The longest a Lambda runs (900 s), what `get_remaining_time_in_millis` counts down from when
# the cloud underneath names no deadline.
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_TIMEOUT_MS = 900_000

# The keys of a proxy integration's answer.
# REST: https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-output-format
# HTTP API 2.0 (adds `cookies`, and reads an answer without `statusCode` as a JSON body):
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html#http-api-develop-integrations-lambda.response
ANSWER_KEYS: dict[str, frozenset[str]] = {
    REST: frozenset(("statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded")),
    HTTP_V2: frozenset(
        ("statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded", "cookies")
    ),
}
# The SQS answer with ReportBatchItemFailures: "a complete success" is no answer, an empty one or
# an empty or null `batchItemFailures`; an item whose `itemIdentifier` is missing, empty or not in
# the batch fails the whole batch.
# https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
BATCH_FAILURES = "batchItemFailures"
ITEM_IDENTIFIER = "itemIdentifier"

# Neutral storage kind -> the notification eventName and the EventBridge detail-type S3 sends for
# it: the first of each table of `_storage` that reads back as that kind, with the operation a
# notification names after its type (the one `polyfn serve`'s own writes correspond to).
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html
_OPERATION = {"ObjectCreated": "Put", "ObjectRemoved": "Delete", "ObjectTagging": "Put"}


def _first_of(table: dict[str, str | None]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, kind in table.items():
        if kind is not None:
            found.setdefault(kind, name)
    return found


NOTIFICATION_NAMES = {
    kind: f"{name}:{_OPERATION[name]}" if name in _OPERATION else name
    for kind, name in _first_of(NOTIFICATION_KINDS).items()
}
EVENTBRIDGE_TYPES = _first_of(EVENTBRIDGE_KINDS)


class LambdaAnswerError(PolyfnError, ValueError):
    """A Lambda handler run by `from_lambda` answered with something its event source would not
    accept. The message names what is wrong and the shape to return instead."""


def _region() -> str:
    return os.environ.get("AWS_REGION") or DEFAULT_REGION


def _request_id(seed: str) -> str:
    """A UUID-shaped id derived from `seed` (an invocation id of any shape)."""
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _iso(when: datetime) -> str:
    """An ISO 8601 UTC time with milliseconds and a Z, as the AWS event sources write it."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _millis(when: datetime | None) -> int:
    return int((when or datetime.now(UTC)).timestamp() * 1000)


# -- the context -------------------------------------------------------------------------------


class PortableLambdaContext:
    """The Lambda context object a handler expects (awslambdaric's `LambdaContext`), built from a
    polyfn `Context`: the same attributes and ``get_remaining_time_in_millis()``.

    https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
    """

    def __init__(self, ctx: Context, memory: int | None = None) -> None:
        name = ctx.function_name
        region = _region()
        self.aws_request_id = ctx.invocation_id
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
        self.memory_limit_in_mb = memory or int(
            os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") or 128
        )
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{ctx.invocation_id}"
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        remaining = ctx.remaining_time()
        budget = remaining.total_seconds() * 1000 if remaining is not None else MAX_TIMEOUT_MS
        self._deadline = time.monotonic() * 1000 + budget

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline - time.monotonic() * 1000))

    def __repr__(self) -> str:
        return f"PortableLambdaContext(function_name={self.function_name!r}, aws_request_id=...)"


def _function_memory() -> int | None:
    """The memory the running polyfn function declared, if any."""
    from polyfn._resources import _CURRENT

    current = _CURRENT.get()
    function = current[1] if current is not None else None
    return function.settings.memory if function is not None else None


def lambda_context(ctx: Context) -> Any:
    """The runtime's own context on Lambda; elsewhere a `PortableLambdaContext` (the same
    attributes)."""
    if ctx.provider == "aws" and ctx.raw is not None:
        return ctx.raw
    return PortableLambdaContext(ctx, _function_memory())


# -- HTTP --------------------------------------------------------------------------------------

# RFC 3986 section 3.3: the characters a path segment carries unescaped ("pchar").
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _body_in(req: HttpRequest) -> tuple[str | None, bool]:
    """The body as the event carries it: UTF-8 text of a text type (or of none) as is, the rest
    base64 (API Gateway's rule for an HTTP API, and for a REST API whose binary media types name
    the type)."""
    if not req.body:
        return None, False
    ctype, encoding = req.headers.get("content-type"), req.headers.get("content-encoding")
    if (ctype is None and not encoding) or is_text_content(ctype, encoding):
        try:
            return req.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(req.body).decode("ascii"), True


def _route_template(req: HttpRequest) -> str:
    # polyfn's route templates are API Gateway's ({name}, greedy {name+}).
    return req.route or req.path


def _source_ip(req: HttpRequest) -> str:
    return req.source_ip or "127.0.0.1"


def render_rest(req: HttpRequest, ctx: Context) -> dict[str, Any]:
    """The REST API proxy event (payload 1.0) for `req`: the path as the client sent it
    (percent-encoded), every value of a repeated header or query key in the multi-value maps,
    the last in the single-value ones.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
    """
    multi_headers = req.headers.to_multi()
    multi_query: dict[str, list[str]] = {}
    for key, value in req.query.multi_items():
        multi_query.setdefault(key, []).append(value)
    body, encoded = _body_in(req)
    path = quote(req.path, safe=_PATH_SAFE)
    template = _route_template(req)
    now = datetime.now(UTC)
    user_agent = req.headers.get("user-agent")
    return {
        "resource": template,
        "path": path,
        "httpMethod": req.method,
        "headers": {k: vs[-1] for k, vs in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: vs[-1] for k, vs in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(req.path_params) or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "domainName": req.headers.get("host") or "localhost",
            "extendedRequestId": ctx.invocation_id,
            "httpMethod": req.method,
            "identity": {"sourceIp": _source_ip(req), "userAgent": user_agent},
            "path": path,
            "protocol": "HTTP/1.1",
            "requestId": ctx.invocation_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": _millis(now),
            "resourceId": API_ID,
            "resourcePath": template,
            "stage": STAGE,
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


def render_http(req: HttpRequest, ctx: Context) -> dict[str, Any]:
    """The HTTP API event (payload 2.0) for `req`: the path decoded, repeated headers and query
    keys joined with commas (the raw query string keeps them apart), cookies in ``cookies``.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
    """
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in req.headers.multi_items():
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        previous = headers.get(key)
        headers[key] = value if previous is None else f"{previous},{value}"
    pairs = req.query.multi_items()
    joined: dict[str, str] = {}
    for key, value in pairs:
        previous = joined.get(key)
        joined[key] = value if previous is None else f"{previous},{value}"
    body, encoded = _body_in(req)
    route_key = f"ANY {req.route}" if req.route else "$default"
    now = datetime.now(UTC)
    domain = headers.get("host") or "localhost"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": req.path,
        "rawQueryString": urlencode(pairs, quote_via=quote),
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": req.method,
                "path": req.path,
                "protocol": "HTTP/1.1",
                "sourceIp": _source_ip(req),
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": ctx.invocation_id,
            "routeKey": route_key,
            "stage": STAGE,
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": _millis(now),
        },
        "isBase64Encoded": encoded,
    }
    if cookies:
        event["cookies"] = cookies
    if joined:
        event["queryStringParameters"] = joined
    if req.path_params:
        event["pathParameters"] = dict(req.path_params)
    if body is not None:
        event["body"] = body
    return event


def _answer_error(problem: str, kind: str) -> LambdaAnswerError:
    shape = (
        '{"statusCode": 200, "headers": {...}, "multiValueHeaders": {...}, "body": "...", '
        '"isBase64Encoded": false}'
    )
    if kind == HTTP_V2:
        shape += ' (with "cookies": [...]), or any JSON value for a 200 application/json'
    return LambdaAnswerError(
        f"the Lambda handler's answer to an {kind} event is not supported: {problem}; return "
        f"{shape}, as the proxy integration expects; the client got polyfn's 500"
    )


def _header_value(value: Any, where: str, kind: str) -> str:
    if type(value) is str:
        return value
    if type(value) in (int, float, bool):
        # API Gateway writes a JSON number or boolean as its text.
        return json.dumps(value)
    raise _answer_error(f"{where} is {type(value).__name__}, not a string", kind)


def _answer_headers(answer: dict[str, Any], kind: str) -> Headers:
    """`headers` and `multiValueHeaders` merged as API Gateway merges them: a name in both keeps
    the multi-value list only."""
    headers = Headers()
    multi = answer.get("multiValueHeaders")
    taken: set[str] = set()
    if multi is not None:
        # isinstance: Powertools answers with a defaultdict.
        if not isinstance(multi, dict):
            raise _answer_error("multiValueHeaders is no object of lists", kind)
        for name, values in multi.items():
            if not isinstance(values, list | tuple):
                raise _answer_error(f"multiValueHeaders[{name!r}] is no list", kind)
            for value in values:
                headers.add(name, _header_value(value, f"multiValueHeaders[{name!r}]", kind))
            taken.add(name.lower())
    single = answer.get("headers")
    if single is not None:
        if not isinstance(single, dict):
            raise _answer_error("headers is no object", kind)
        for name, value in single.items():
            if name.lower() not in taken:
                headers.add(name, _header_value(value, f"headers[{name!r}]", kind))
    return headers


def _answer_body(answer: dict[str, Any], kind: str) -> bytes:
    body = answer.get("body")
    if body is None:
        return b""
    if type(body) is not str:
        raise _answer_error(
            f"body is {type(body).__name__}; serialise it to a string (json.dumps)", kind
        )
    flag = answer.get("isBase64Encoded", False)
    if flag is None or flag is False:
        return body.encode("utf-8", "surrogatepass")
    if flag is not True:
        raise _answer_error(f"isBase64Encoded is {flag!r}, not a boolean", kind)
    try:
        return base64.b64decode(body, validate=True)
    except ValueError:
        raise _answer_error("isBase64Encoded is true but the body is not base64", kind) from None


def http_answer(answer: Any, kind: str) -> HttpResponse:
    """The neutral response for a proxy integration's answer; `LambdaAnswerError` for one API
    Gateway would refuse."""
    if kind == HTTP_V2 and (not isinstance(answer, dict) or "statusCode" not in answer):
        # Payload 2.0 "format inference": an answer without statusCode is a JSON 200 body.
        try:
            text = json.dumps(answer)
        except (TypeError, ValueError) as exc:
            raise _answer_error(f"it is no JSON value ({exc})", kind) from None
        return HttpResponse(text.encode(), 200, content_type="application/json")
    if not isinstance(answer, dict):
        raise _answer_error(f"it is {type(answer).__name__}, not an object", kind)
    unknown = sorted(set(answer) - ANSWER_KEYS[kind])
    if unknown:
        raise _answer_error(f"unknown keys {unknown}", kind)
    status = answer.get("statusCode")
    if type(status) is not int or not 100 <= status <= 599:
        raise _answer_error(f"statusCode {status!r} is no integer from 100 to 599", kind)
    resp = HttpResponse(_answer_body(answer, kind), status, _answer_headers(answer, kind))
    cookies = answer.get("cookies")
    if cookies is not None:
        if not isinstance(cookies, list) or any(type(c) is not str for c in cookies):
            raise _answer_error("cookies is no list of strings", kind)
        resp.cookies.extend(cookies)
    return resp.normalized()


def _http_handler(handler: LambdaHandler, kind: str) -> Callable[[HttpRequest, Context], Any]:
    render = render_rest if kind == REST else render_http

    def polyfn_http(req: HttpRequest, ctx: Context) -> HttpResponse:
        event = _delivered_http(req, ctx, kind)
        if event is None:
            event = render(req, ctx)
        return http_answer(handler(event, lambda_context(ctx)), kind)

    return polyfn_http


def _delivered_http(req: HttpRequest, ctx: Context, kind: str) -> dict[str, Any] | None:
    """The event Lambda delivered, when it is of the source the handler was written for."""
    raw = req.raw
    if ctx.provider != "aws" or type(raw) is not dict:
        return None
    try:
        delivered = http_kind(raw, raw.get("requestContext"))
    except EventError:
        return None
    return raw if delivered == kind else None


# -- messages ----------------------------------------------------------------------------------


def _text_body(body: bytes, source: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise EventError(
            f"the message body is not UTF-8 text, and {source} carries text only; send it "
            "base64-encoded, or serve it with a polyfn handler (QueueMessage.body is bytes)",
            field="body",
            source=source,
        ) from None


def render_sqs_record(msg: QueueMessage) -> dict[str, Any]:
    """The SQS record for `msg` (a FIFO record when it has a group).
    https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#example-standard-queue-message-event
    """
    body = _text_body(msg.body, "SQS")
    sent = str(_millis(msg.enqueued_time))
    attributes = {
        RECEIVE_COUNT: str(msg.delivery_count),
        SENT_TIMESTAMP: sent,
        "SenderId": ACCOUNT,
        "ApproximateFirstReceiveTimestamp": sent,
    }
    queue = msg.queue
    if msg.group is not None:
        attributes[GROUP_ID] = msg.group
        attributes["MessageDeduplicationId"] = hashlib.sha256(msg.body).hexdigest()
        attributes["SequenceNumber"] = str(int(sent) * 1000)
        if not queue.endswith(FIFO_SUFFIX):
            queue += FIFO_SUFFIX  # polyfn's fifo=True queue "orders" is the SQS queue orders.fifo
    region = _region()
    return {
        "messageId": msg.id,
        "receiptHandle": base64.b64encode(f"polyfn:{msg.queue}:{msg.id}".encode()).decode(),
        "body": body,
        "attributes": attributes,
        "messageAttributes": string_attributes(msg.attributes),
        "md5OfBody": hashlib.md5(msg.body, usedforsecurity=False).hexdigest(),
        "eventSource": SQS_SOURCE,
        "eventSourceARN": f"arn:aws:sqs:{region}:{ACCOUNT}:{queue}",
        "awsRegion": region,
    }


def render_sns_record(msg: QueueMessage) -> dict[str, Any]:
    """The SNS notification record for `msg`.
    https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html
    """
    region = _region()
    topic_arn = f"arn:aws:sns:{region}:{ACCOUNT}:{msg.queue}"
    subscription = f"{topic_arn}:{_request_id(msg.queue)}"
    return {
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription,
        "EventSource": SNS_SOURCE,
        "Sns": {
            "SignatureVersion": "1",
            "Timestamp": _iso(msg.enqueued_time or datetime.now(UTC)),
            "Signature": "",
            "SigningCertUrl": f"https://sns.{region}.amazonaws.com/polyfn.pem",
            "MessageId": msg.id,
            "Message": _text_body(msg.body, "SNS"),
            "MessageAttributes": {
                name: {"Type": "String", "Value": value} for name, value in msg.attributes.items()
            },
            "Type": "Notification",
            "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&"
            f"SubscriptionArn={subscription}",
            "TopicArn": topic_arn,
            "Subject": None,
        },
    }


def _delivered_record(raw: Any, ctx: Context, key: str, source: str) -> dict[str, Any] | None:
    """The record Lambda delivered, when it came from `source` (its ``key`` names the source)."""
    if ctx.provider == "aws" and type(raw) is dict and raw.get(key) == source:
        return raw
    return None


def batch_failed(answer: Any, message_id: str) -> bool:
    """Whether an SQS handler's answer reports message `message_id` failed; `LambdaAnswerError`
    for an answer Lambda reads as the failure of the whole batch."""
    if answer is None:
        return False
    if not isinstance(answer, dict):
        raise LambdaAnswerError(
            f"the Lambda handler answered an SQS batch with {type(answer).__name__}; return None "
            f'or {{"{BATCH_FAILURES}": [{{"{ITEM_IDENTIFIER}": messageId}}, ...]}} (Lambda '
            "fails the whole batch on any other answer); the message failed"
        )
    failures = answer.get(BATCH_FAILURES)
    if failures is None:
        return False
    if not isinstance(failures, list):
        raise LambdaAnswerError(
            f"{BATCH_FAILURES} is {type(failures).__name__}, not a list of "
            f'{{"{ITEM_IDENTIFIER}": messageId}}; the message failed'
        )
    for item in failures:
        identifier = item.get(ITEM_IDENTIFIER) if isinstance(item, dict) else None
        if identifier != message_id:
            raise LambdaAnswerError(
                f"{BATCH_FAILURES} lists {item!r}, which names no record of the batch (its one "
                f"record is {message_id!r}; Lambda fails the whole batch); the message failed"
            )
    return bool(failures)


class BatchItemFailureError(PolyfnError):
    """The Lambda handler listed the message in ``batchItemFailures``: it failed."""


def _sqs_handler(handler: LambdaHandler) -> Callable[[QueueMessage, Context], None]:
    def polyfn_sqs(msg: QueueMessage, ctx: Context) -> None:
        record = _delivered_record(msg.raw, ctx, "eventSource", SQS_SOURCE)
        if record is None:
            record = render_sqs_record(msg)
        answer = handler({"Records": [record]}, lambda_context(ctx))
        if batch_failed(answer, msg.id):
            raise BatchItemFailureError(
                f"the Lambda handler reported message {msg.id!r} in {BATCH_FAILURES}"
            )

    return polyfn_sqs


def _sns_handler(handler: LambdaHandler) -> Callable[[QueueMessage, Context], None]:
    def polyfn_sns(msg: QueueMessage, ctx: Context) -> None:
        record = _delivered_record(msg.raw, ctx, "EventSource", SNS_SOURCE)
        if record is None:
            record = render_sns_record(msg)
        # SNS invokes asynchronously: Lambda ignores what the handler returns.
        handler({"Records": [record]}, lambda_context(ctx))

    return polyfn_sns


# -- storage and schedules ---------------------------------------------------------------------


def _object(event: StorageEvent, key: str, *, etag: str, version: str) -> dict[str, Any]:
    """The ``object`` of an S3 event: the notification and EventBridge spell the ETag and the
    version id differently (`etag`, `version`), and leave out what is unknown (a delete's size)."""
    obj: dict[str, Any] = {"key": key, "sequencer": f"{_millis(event.time):016X}"}
    if event.size is not None:
        obj["size"] = event.size
    if event.etag is not None:
        obj[etag] = event.etag
    if event.version is not None:
        obj[version] = event.version
    return obj


def render_s3_record(event: StorageEvent) -> dict[str, Any]:
    """The S3 notification record for `event`; the key URL-encoded as S3 encodes it (a space is
    ``+``). https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
    """
    obj = _object(event, quote_plus(event.key, safe="/"), etag="eTag", version="versionId")
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": _region(),
        "eventTime": _iso(event.time),
        "eventName": NOTIFICATION_NAMES[event.kind],
        "userIdentity": {"principalId": ACCOUNT},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": API_ID, "x-amz-id-2": API_ID},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "polyfn",
            "bucket": {
                "name": event.bucket,
                "ownerIdentity": {"principalId": ACCOUNT},
                "arn": f"arn:aws:s3:::{event.bucket}",
            },
            "object": obj,
        },
    }


def _eventbridge_envelope(
    detail_type: str, source: str, *, when: datetime, resource: str, detail: Any, seed: str
) -> dict[str, Any]:
    # https://docs.aws.amazon.com/eventbridge/latest/ref/events-structure.html
    return {
        "version": "0",
        "id": _request_id(seed),
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": _region(),
        "resources": [resource],
        "detail": detail,
    }


def render_s3_eventbridge(event: StorageEvent) -> dict[str, Any]:
    """The S3 event on EventBridge for `event` (the key as stored, not encoded).
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
    """
    detail = {
        "version": "0",
        "bucket": {"name": event.bucket},
        "object": _object(event, event.key, etag="etag", version="version-id"),
        "request-id": API_ID,
        "requester": ACCOUNT,
        "source-ip-address": "127.0.0.1",
        "reason": "PutObject" if event.kind == "created" else "DeleteObject",
    }
    return _eventbridge_envelope(
        EVENTBRIDGE_TYPES[event.kind],
        S3_EVENT_SOURCE,
        when=event.time,
        resource=f"arn:aws:s3:::{event.bucket}",
        detail=detail,
        seed=f"{event.bucket}/{event.key}@{event.time.isoformat()}",
    )


def render_scheduled(event: TimerEvent) -> dict[str, Any]:
    """The EventBridge Scheduled Event for a tick of schedule `event.name` (the rule's name).
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
    """
    when = event.scheduled_time or datetime.now(UTC)
    source, detail_type = SCHEDULE_EVENT
    return _eventbridge_envelope(
        detail_type,
        source,
        when=when,
        resource=f"arn:aws:events:{_region()}:{ACCOUNT}:rule/{event.name}",
        detail={},
        seed=f"{event.name}@{when.isoformat()}",
    )


def _s3_handler(handler: LambdaHandler) -> Callable[[StorageEvent, Context], None]:
    def polyfn_s3(event: StorageEvent, ctx: Context) -> None:
        record = _delivered_record(event.raw, ctx, "eventSource", "aws:s3")
        handler({"Records": [record or render_s3_record(event)]}, lambda_context(ctx))

    return polyfn_s3


def _eventbridge_handler(handler: LambdaHandler) -> Callable[[Any, Context], None]:
    def polyfn_eventbridge(event: Any, ctx: Context) -> None:
        raw = event.raw if ctx.provider == "aws" else None
        if type(raw) is dict and "detail-type" in raw:
            native = raw  # as EventBridge delivered it
        elif isinstance(event, TimerEvent):
            native = render_scheduled(event)
        elif isinstance(event, StorageEvent):
            native = render_s3_eventbridge(event)
        else:
            raise ConfigError(
                f"from_lambda(event='eventbridge') serves app.schedule and app.storage, and got "
                f"{type(event).__name__}; bind it with one of those"
            )
        handler(native, lambda_context(ctx))

    return polyfn_eventbridge


# -- the entry ---------------------------------------------------------------------------------


def from_lambda(handler: LambdaHandler, event: str) -> Callable[[Any, Context], Any]:
    """A polyfn handler that runs Lambda handler `handler`, written for `event` ("rest", "http",
    "sqs", "sns", "s3" or "eventbridge"), on any cloud: bind it with the matching decorator, e.g.
    ``app.http("/{path+}", methods=[...])(polyfn_aws.from_lambda(lambda_handler, event="rest"))``.
    """
    if not callable(handler):
        raise ConfigError(
            f"from_lambda: handler must be a Lambda handler (event, context) -> answer, got "
            f"{type(handler).__name__}"
        )
    if event not in EVENTS:
        raise ConfigError(
            f"from_lambda: event={event!r} is not served; expected one of "
            f"{', '.join(repr(e) for e in EVENTS)} (an ALB, function URL or HTTP API payload 1.0 "
            "handler reads the fields of 'rest' or 'http' nearly always: try the closer one)"
        )
    built: Callable[[Any, Context], Any]
    if event in ("rest", "http"):
        built = _http_handler(handler, REST if event == "rest" else HTTP_V2)
    elif event == "sqs":
        built = _sqs_handler(handler)
    elif event == "sns":
        built = _sns_handler(handler)
    elif event == "s3":
        built = _s3_handler(handler)
    else:
        built = _eventbridge_handler(handler)
    name = getattr(handler, "__name__", None)
    # The function's default name (the decorator reads __name__): the Lambda handler's own.
    built.__name__ = built.__qualname__ = name if isinstance(name, str) else f"lambda_{event}"
    built.__doc__ = getattr(handler, "__doc__", None)
    # `polyfn package` puts this adapter into another cloud's zip for it.
    setattr(built, PROVIDER_MARK, "aws")
    return built
