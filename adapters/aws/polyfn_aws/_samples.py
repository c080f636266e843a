"""Sample native AWS events for ``polyfn events aws TRIGGER`` and running one through the adapter
for ``polyfn invoke --provider aws``.

Every shape follows the AWS documentation page cited beside its builder; tests check each sample
against aws-lambda-powertools' parser models and run it through `polyfn_aws.handler`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote_plus, unquote

from polyfn._local._sample_args import (
    SAMPLE_EPOCH_MS,
    Catalog,
    SampleValues,
    render,
    wire_path,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from polyfn._app import App

ACCOUNT = "123456789012"
REGION = "us-east-1"

TRIGGERS: dict[str, str] = {
    "http-rest": "API Gateway REST API proxy integration (payload 1.0)",
    "http-api": "API Gateway HTTP API (payload 2.0)",
    "http-api-v1": "API Gateway HTTP API (payload 1.0)",
    "function-url": "Lambda function URL",
    "alb": "Application Load Balancer, single-value headers",
    "alb-multi": "Application Load Balancer, multi-value headers",
    "schedule": "EventBridge scheduled rule (Scheduled Event)",
    "scheduler": "EventBridge Scheduler with polyfn's Input",
    "s3": "S3 event notification",
    "s3-sqs": "S3 event notification delivered through SQS",
    "s3-sns": "S3 event notification delivered through SNS",
    "s3-eventbridge": "S3 Object Created/Deleted through EventBridge",
    "sqs": "SQS batch of one message",
    "sqs-fifo": "SQS FIFO batch of one message",
    "sns": "SNS notification",
}
KINDS: dict[str, str] = {
    **dict.fromkeys(
        ("http-rest", "http-api", "http-api-v1", "function-url", "alb", "alb-multi"), "http"
    ),
    **dict.fromkeys(("schedule", "scheduler"), "schedule"),
    **dict.fromkeys(("s3", "s3-sqs", "s3-sns", "s3-eventbridge"), "storage"),
    **dict.fromkeys(("sqs", "sqs-fifo", "sns"), "queue"),
}
_EXTRA: dict[str, dict[str, str]] = {
    "http-rest": {"stage": "prod"},
    "schedule": {"rule": ""},
    "sqs-fifo": {"group": "customer-7"},
    "sns": {"subject": "order"},
}


_CATALOG = Catalog(KINDS, extra=_EXTRA)
OVERRIDES: dict[str, dict[str, str]] = _CATALOG.overrides()


def _request_id(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _http_common(v: SampleValues) -> tuple[dict[str, str], list[tuple[str, str]], str | None]:
    headers = {
        "accept": "application/json",
        "host": "api.example.com",
        "user-agent": "curl/8.5.0",
        "x-forwarded-for": v["source_ip"],
        "x-forwarded-proto": "https",
    }
    headers.update({k.lower(): val for k, val in v.prefixed("header").items()})
    body = v["body"]
    if body and "content-type" not in headers:
        headers["content-type"] = "application/json"
    pairs = parse_qsl(v["query"], keep_blank_values=True)
    return headers, pairs, body or None


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, val in pairs:
        out.setdefault(k, []).append(val)
    return out


# How each source carries the request path. REST APIs, function URLs and ALBs pass it on as the
# client sent it (percent-encoded); HTTP APIs decode it, in `path` (payload 1.0) and `rawPath`
# (2.0) alike. The docs do not say; captures of live events do (fastify/aws-lambda-fastify#169,
# honojs/hono#2156), and polyfn_aws._http reads each source that way.
PATH_DECODED = frozenset(("http-api", "http-api-v1"))


def _path(v: SampleValues, trigger: str) -> str:
    """The request path as `trigger`'s source puts it in the event."""
    sent = wire_path(v["path"])
    return unquote(sent) if trigger in PATH_DECODED else sent


def _http_rest(v: SampleValues) -> dict[str, Any]:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
    headers, pairs, body = _http_common(v)
    path, stage = _path(v, "http-rest"), v["stage"]
    multi_q = _multi(pairs)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": v["method"],
        "headers": headers,
        "multiValueHeaders": {k: [val] for k, val in headers.items()},
        "queryStringParameters": {k: vals[-1] for k, vals in multi_q.items()} or None,
        "multiValueQueryStringParameters": multi_q or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "a1b2c3d4e5",
            "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "a1b2c3d4e5",
            "extendedRequestId": "Q2FsbGVkIGJ5IHBvbHlmbg=",
            "httpMethod": v["method"],
            "identity": {"sourceIp": v["source_ip"], "userAgent": headers["user-agent"]},
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": _request_id("rest" + path),
            "requestTime": "15/Jan/2026:02:00:00 +0000",
            "requestTimeEpoch": SAMPLE_EPOCH_MS,
            "resourceId": "abc123",
            "resourcePath": "/{proxy+}",
            "stage": stage,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def _http_api_v1(v: SampleValues) -> dict[str, Any]:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
    # An HTTP API's catch-all `$default` route on its `$default` stage: the path arrives decoded,
    # with no stage in front of it.
    headers, pairs, body = _http_common(v)
    path = _path(v, "http-api-v1")
    multi_q = _multi(pairs)
    domain = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
    headers["host"] = domain
    return {
        "version": "1.0",
        "resource": "$default",
        "path": path,
        "httpMethod": v["method"],
        "headers": headers,
        "multiValueHeaders": {k: [val] for k, val in headers.items()},
        # Payload 1.0 joins repeated query keys with commas in the single-value map.
        "queryStringParameters": {k: ",".join(vals) for k, vals in multi_q.items()} or None,
        "multiValueQueryStringParameters": multi_q or None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": domain.split(".", 1)[0],
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "extendedRequestId": "Q2FsbGVkIGJ5IHBvbHlmbg=",
            "httpMethod": v["method"],
            "identity": {"sourceIp": v["source_ip"], "userAgent": headers["user-agent"]},
            "path": path,
            "protocol": "HTTP/1.1",
            "requestId": _request_id("v1" + path),
            "requestTime": "15/Jan/2026:02:00:00 +0000",
            "requestTimeEpoch": SAMPLE_EPOCH_MS,
            "resourceId": "$default",
            "resourcePath": "$default",
            "stage": "$default",
        },
        "pathParameters": None,
        "stageVariables": None,
        "body": body,
        "isBase64Encoded": False,
    }


def _http_v2(v: SampleValues, *, url: bool) -> dict[str, Any]:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
    # https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
    headers, pairs, body = _http_common(v)
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    # Payload 2.0 joins repeated query keys with commas; rawQueryString keeps them apart.
    joined = {k: ",".join(vals) for k, vals in _multi(pairs).items()}
    domain = (
        "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"
        if url
        else "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
    )
    headers["host"] = domain
    path = _path(v, "function-url" if url else "http-api")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": v["query"],
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous" if url else ACCOUNT,
            "apiId": domain.split(".", 1)[0],
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": v["method"],
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": v["source_ip"],
                "userAgent": headers["user-agent"],
            },
            "requestId": _request_id("v2" + path),
            "routeKey": "$default",
            "stage": "$default",
            "time": "15/Jan/2026:02:00:00 +0000",
            "timeEpoch": SAMPLE_EPOCH_MS,
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if joined:
        event["queryStringParameters"] = joined
    if body is not None:
        event["body"] = body
    return event


def _alb(v: SampleValues, *, multi: bool) -> dict[str, Any]:
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html#receive-event-from-load-balancer
    headers, pairs, body = _http_common(v)
    # ALB passes query values on as the client sent them, still percent-encoded.
    encoded = [(quote_plus(k, safe=""), quote_plus(val, safe="")) for k, val in pairs]
    event: dict[str, Any] = {
        "requestContext": {
            "elb": {
                "targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:"
                "targetgroup/shop/73e2d6bc24d8a067"
            }
        },
        "httpMethod": v["method"],
        "path": _path(v, "alb"),
        "body": body or "",
        "isBase64Encoded": False,
    }
    if multi:
        event["multiValueQueryStringParameters"] = _multi(encoded)
        event["multiValueHeaders"] = {k: [val] for k, val in headers.items()}
    else:
        event["queryStringParameters"] = dict(encoded)
        event["headers"] = headers
    return event


def _names(v: SampleValues) -> tuple[App, Any]:
    from polyfn._app import App, Function, ScheduleTrigger, Settings
    from polyfn._schedule import Schedule

    app = App(v["app"])
    fn = Function(
        v["function"], ScheduleTrigger(Schedule.cron("0 2 * * *")), lambda e, c: None, Settings()
    )
    return app, fn


def _schedule(v: SampleValues) -> dict[str, Any]:
    # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
    from polyfn_aws._names import rule_name

    rule = v["rule"] or rule_name(*_names(v))
    return {
        "version": "0",
        "id": _request_id("schedule" + rule),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": v["time"],
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"],
        "detail": {},
    }


def _scheduler(v: SampleValues) -> dict[str, Any]:
    # EventBridge Scheduler sends the target's configured Input, with context attributes such as
    # <aws.scheduler.scheduled-time> substituted:
    # https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html
    from polyfn_aws._names import SCHEDULER_TIME, scheduler_input

    payload = json.dumps(scheduler_input(*_names(v)))
    return dict(json.loads(payload.replace(SCHEDULER_TIME, v["time"])))


def _s3_record(v: SampleValues) -> dict[str, Any]:
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
    # "the object key name value is URL encoded": a space is "+", a plus "%2B".
    kind = v.choice("kind", ("created", "deleted"))
    obj: dict[str, Any] = {"key": quote_plus(v["key"], safe="/"), "sequencer": "0A1B2C3D4E5F678901"}
    if kind == "created":
        obj.update({"size": v.integer("size"), "eTag": v["etag"]})
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": v["time"].replace("Z", ".000Z"),
        "eventName": "ObjectCreated:Put" if kind == "created" else "ObjectRemoved:Delete",
        "userIdentity": {"principalId": "AWS:AIDAINPONIXQXHT3IKHL2"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {
            "x-amz-request-id": "C3D13FE58DE4C810",
            "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "polyfn-uploads",
            "bucket": {
                "name": v["bucket"],
                "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": f"arn:aws:s3:::{v['bucket']}",
            },
            "object": obj,
        },
    }


def _sqs_record(
    v: SampleValues, body: str, queue: str, attributes: dict[str, str], group: str | None
) -> dict[str, Any]:
    # https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#example-standard-queue-message-event
    attrs = {
        "ApproximateReceiveCount": str(
            v.integer("delivery_count") if "delivery_count" in v.values else 1
        ),
        "SentTimestamp": str(SAMPLE_EPOCH_MS),
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": str(SAMPLE_EPOCH_MS + 2),
    }
    if group is not None:
        # https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#sample-fifo-queues-message-event
        attrs.update(
            {
                "SequenceNumber": "18849496460467696128",
                "MessageGroupId": group,
                "MessageDeduplicationId": hashlib.sha256(body.encode()).hexdigest(),
            }
        )
    return {
        "messageId": v.values.get("id", _request_id(body)),
        "receiptHandle": base64.b64encode(_request_id("receipt" + body).encode()).decode(),
        "body": body,
        "attributes": attrs,
        "messageAttributes": {
            name: {
                "stringValue": value,
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            }
            for name, value in attributes.items()
        },
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
        "awsRegion": REGION,
    }


def _sns_record(
    v: SampleValues, message: str, topic: str, subject: str | None, attributes: dict[str, str]
) -> dict[str, Any]:
    # https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html
    topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{topic}"
    return {
        "EventVersion": "1.0",
        "EventSubscriptionArn": f"{topic_arn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
        "EventSource": "aws:sns",
        "Sns": {
            "SignatureVersion": "1",
            "Timestamp": v["time"].replace("Z", ".000Z"),
            "Signature": "tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
            "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-"
            "ac565b8b1a6c5d002d285f9598aa1d9b.pem",
            "MessageId": v.values.get("id", _request_id(message)),
            "Message": message,
            "MessageAttributes": {
                name: {"Type": "String", "Value": value} for name, value in attributes.items()
            },
            "Type": "Notification",
            "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&"
            f"SubscriptionArn={topic_arn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
            "TopicArn": topic_arn,
            "Subject": subject,
        },
    }


def _s3(v: SampleValues) -> dict[str, Any]:
    return {"Records": [_s3_record(v)]}


def _s3_sqs(v: SampleValues) -> dict[str, Any]:
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/ways-to-add-notification-config-to-bucket.html
    body = json.dumps({"Records": [_s3_record(v)]})
    return {"Records": [_sqs_record(v, body, f"{v['bucket']}-events", {}, None)]}


def _s3_sns(v: SampleValues) -> dict[str, Any]:
    message = json.dumps({"Records": [_s3_record(v)]})
    return {
        "Records": [_sns_record(v, message, f"{v['bucket']}-events", "Amazon S3 Notification", {})]
    }


def _s3_eventbridge(v: SampleValues) -> dict[str, Any]:
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
    # The key is not URL-encoded here: S3's EventBridge events carry it as stored (a real event:
    # "raw/health-check/2023-08-08T14:03:40.532432.zip", its colons left as they are).
    kind = v.choice("kind", ("created", "deleted"))
    obj: dict[str, Any] = {"key": v["key"], "sequencer": "617f08299329d189"}
    if kind == "created":
        obj.update({"size": v.integer("size"), "etag": v["etag"]})
    return {
        "version": "0",
        "id": _request_id("s3eb" + v["key"]),
        "detail-type": "Object Created" if kind == "created" else "Object Deleted",
        "source": "aws.s3",
        "account": ACCOUNT,
        "time": v["time"],
        "region": REGION,
        "resources": [f"arn:aws:s3:::{v['bucket']}"],
        "detail": {
            "version": "0",
            "bucket": {"name": v["bucket"]},
            "object": obj,
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": ACCOUNT,
            "source-ip-address": "203.0.113.7",
            "reason": "PutObject" if kind == "created" else "DeleteObject",
        },
    }


def _sqs(v: SampleValues, *, fifo: bool) -> dict[str, Any]:
    queue = v["queue"]
    if fifo and not queue.endswith(".fifo"):
        queue += ".fifo"  # polyfn's fifo=True queue "orders" is the SQS queue "orders.fifo"
    record = _sqs_record(v, v["body"], queue, v.prefixed("attr"), v["group"] if fifo else None)
    return {"Records": [record]}


def _sns(v: SampleValues) -> dict[str, Any]:
    return {"Records": [_sns_record(v, v["body"], v["queue"], v["subject"], v.prefixed("attr"))]}


_BUILDERS: dict[str, Callable[[SampleValues], dict[str, Any]]] = {
    "http-rest": _http_rest,
    "http-api": lambda v: _http_v2(v, url=False),
    "http-api-v1": _http_api_v1,
    "function-url": lambda v: _http_v2(v, url=True),
    "alb": lambda v: _alb(v, multi=False),
    "alb-multi": lambda v: _alb(v, multi=True),
    "schedule": _schedule,
    "scheduler": _scheduler,
    "s3": _s3,
    "s3-sqs": _s3_sqs,
    "s3-sns": _s3_sns,
    "s3-eventbridge": _s3_eventbridge,
    "sqs": lambda v: _sqs(v, fifo=False),
    "sqs-fifo": lambda v: _sqs(v, fifo=True),
    "sns": _sns,
}


def sample_event(trigger: str, **overrides: Any) -> dict[str, Any]:
    """A native AWS event for `trigger` (a key of `TRIGGERS`), with `overrides` applied."""
    return render("aws", trigger, overrides, builders=_BUILDERS, catalog=_CATALOG)


def _is_s3_json(text: Any) -> bool:
    try:
        records = json.loads(text)["Records"]
        return bool(records[0]["eventSource"] == "aws:s3")
    except (TypeError, ValueError, KeyError, IndexError):
        return False


def trigger_of(event: dict[str, Any]) -> str | None:
    """Which of `TRIGGERS` `event` looks like (None: none of them)."""
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        first = records[0]
        if first.get("eventSource") == "aws:s3":
            return "s3"
        if first.get("eventSource") == "aws:sqs":
            if _is_s3_json(first.get("body")):
                return "s3-sqs"
            return "sqs-fifo" if "MessageGroupId" in (first.get("attributes") or {}) else "sqs"
        if first.get("EventSource") == "aws:sns":
            return "s3-sns" if _is_s3_json((first.get("Sns") or {}).get("Message")) else "sns"
        return None
    if event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event":
        return "schedule"
    if event.get("source") == "aws.s3":
        return "s3-eventbridge"
    if isinstance(event.get("polyfn"), dict):
        return "scheduler"
    context = event.get("requestContext")
    if isinstance(context, dict):
        if "elb" in context:
            return "alb-multi" if "multiValueHeaders" in event else "alb"
        if event.get("version") == "2.0":
            return (
                "function-url" if ".lambda-url." in str(context.get("domainName")) else "http-api"
            )
        if "httpMethod" in event:
            return "http-api-v1" if event.get("version") == "1.0" else "http-rest"
    return None


def http_status(result: Any) -> int | None:
    """The HTTP status in what `invoke` returned, or None when it is no HTTP answer."""
    status = result.get("statusCode") if isinstance(result, dict) else None
    return status if type(status) is int else None


def invoke(app: App, function: str, event: dict[str, Any]) -> tuple[Any, bool]:
    """Run `event` through ``polyfn_aws.handler(app, function=...)`` with an awslambdaric
    LambdaContext; returns (what the Lambda returns, True) or, when the handler raises, the
    error payload Lambda reports for a failed invocation and False. An `EventError` (the
    adapter cannot read the event) propagates."""
    import os

    fn = app.function(function)
    # What the deployed Lambda gets: `polyfn build` writes this timeout (polyfn's default
    # unless declared) into the template, never leaving Lambda's own 3 s default.
    timeout = fn.settings.effective_timeout
    lambda_name = f"{app.name}-{function}"
    # The runtime sets these before it builds the context:
    # https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
    runtime_env = {
        "AWS_LAMBDA_FUNCTION_NAME": lambda_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.settings.memory or 128),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": REGION,
    }
    # Only for this call: code after it in the same process must not think it runs on Lambda.
    added = [name for name in runtime_env if name not in os.environ]
    for name in added:
        os.environ[name] = runtime_env[name]
    try:
        return _invoke_handler(app, function, event, lambda_name, timeout)
    finally:
        for name in added:
            os.environ.pop(name, None)


def _invoke_handler(
    app: App, function: str, event: dict[str, Any], lambda_name: str, timeout: float
) -> tuple[Any, bool]:
    import time
    import traceback
    import uuid

    from awslambdaric.lambda_context import LambdaContext

    import polyfn_aws
    from polyfn._errors import PolyfnError

    context = LambdaContext(
        str(uuid.uuid4()),
        None,
        None,
        int(time.time() * 1000 + timeout * 1000),
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{lambda_name}",
    )
    handler = polyfn_aws.handler(app, function=function)
    try:
        return handler(event, context), True
    except PolyfnError:
        raise
    except Exception as exc:
        # https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html
        return {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "requestId": context.aws_request_id,
            "stackTrace": traceback.format_tb(exc.__traceback__),
        }, False
