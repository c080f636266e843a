"""`handler(app)`: the Lambda entry point that serves every function of a polyfn app.

The event itself says where it came from (an HTTP source, an SQS/SNS/S3 record batch, an
EventBridge event, an EventBridge Scheduler input); the app's bindings say which function runs.
Only the HTTP path is imported up front: the others load on their first event, so an HTTP
cold start pays for nothing else.
"""

from __future__ import annotations

from polyfn._errors import EventError
from polyfn._values import quoted
from polyfn_aws._http import handle as handle_http
from polyfn_aws._http import http_kind

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from polyfn._app import App, Function

    LambdaHandler = Callable[[Any, Any], dict[str, Any] | None]

ANY_SOURCE = (
    "a Lambda event from API Gateway (REST or HTTP API), a function URL, an ALB, SQS, SNS, S3, "
    "EventBridge or EventBridge Scheduler"
)
RECORDS = "SQS, SNS or S3 notification records"
EVENTBRIDGE = "EventBridge"

# eventSource of a record: https://docs.aws.amazon.com/lambda/latest/dg/lambda-services.html
SQS_SOURCE = "aws:sqs"
SNS_SOURCE = "aws:sns"  # SNS spells the key "EventSource"
S3_SOURCE = "aws:s3"
# EventBridge "source" and "detail-type" of the events polyfn serves.
# https://docs.aws.amazon.com/eventbridge/latest/ref/events-structure.html
SCHEDULE_EVENT = ("aws.events", "Scheduled Event")
# The same tick with EventBridge Scheduler as its source (the resource is the schedule's ARN), as
# in aws-lambda-powertools' tests/events/eventBridgeSchedulerEvent.json.
SCHEDULER_EVENT = ("aws.scheduler", "Scheduled Event")
S3_EVENT_SOURCE = "aws.s3"
S3_TEST_EVENT = "s3:TestEvent"
# The key `_names.scheduler_input` puts in the Input of an EventBridge Scheduler schedule.
SCHEDULER_KEY = "polyfn"


def _arrived(event: dict[str, Any]) -> str:
    keys = ", ".join(sorted(str(k) for k in event)[:12]) or "no keys"
    return f"an event with {keys}"


def _records(
    app: App, function: Function | None, event: dict[str, Any], context: Any
) -> dict[str, Any] | None:
    records = event["Records"]
    if type(records) is not list or not records or type(records[0]) is not dict:
        raise EventError("expected a non-empty array of records", field="Records", source=RECORDS)
    first = records[0]
    source = first.get("eventSource") or first.get("EventSource")
    if source == SQS_SOURCE:
        from polyfn_aws._queue import handle_sqs

        return handle_sqs(app, function, records, context)
    if source == SNS_SOURCE:
        from polyfn_aws._queue import handle_sns

        handle_sns(app, function, records, context)
        return None
    if source == S3_SOURCE:
        from polyfn_aws._storage import handle_records

        handle_records(app, function, records, context)
        return None
    raise EventError(
        f"records from {quoted(source)} are not served (expected {SQS_SOURCE}, {SNS_SOURCE} or "
        f"{S3_SOURCE}); the app serves: {app.describe()}",
        field="Records[0].eventSource",
        source=RECORDS,
    )


def _eventbridge(app: App, function: Function | None, event: dict[str, Any], context: Any) -> None:
    source, detail_type = event.get("source"), event.get("detail-type")
    if (source, detail_type) == SCHEDULE_EVENT or (source, detail_type) == SCHEDULER_EVENT:
        from polyfn_aws._timer import handle_scheduled

        handle_scheduled(app, function, event, context)
        return
    if source == S3_EVENT_SOURCE:
        from polyfn_aws._storage import handle_eventbridge

        handle_eventbridge(app, function, event, context)
        return
    raise EventError(
        f"EventBridge events of source {quoted(source)}, detail-type {quoted(detail_type)} are "
        "not served "
        f"(expected {SCHEDULE_EVENT[0]} scheduled events or {S3_EVENT_SOURCE} object events); "
        f"the app serves: {app.describe()}",
        field="source",
        source=EVENTBRIDGE,
    )


def _other(
    app: App, function: Function | None, event: dict[str, Any], context: Any
) -> dict[str, Any] | None:
    if "Records" in event:
        return _records(app, function, event, context)
    if "detail-type" in event:
        _eventbridge(app, function, event, context)
        return None
    if SCHEDULER_KEY in event:
        from polyfn_aws._timer import handle_scheduler

        handle_scheduler(app, function, event, context)
        return None
    if event.get("Event") == S3_TEST_EVENT:
        return None
    raise EventError(
        f"{_arrived(event)} arrived, which polyfn cannot read; the app serves: {app.describe()}",
        source=ANY_SOURCE,
    )


def handler(app: App, function: str | None = None) -> LambdaHandler:
    """The Lambda handler for `app`: ``handler(event, context) -> dict | None``.

    One Lambda can serve every function of the app, each event going to the function bound to
    its route, schedule, bucket or queue; with `function` it serves that function only (an event
    meant for another is an `EventError`).
    """
    fn = app.function(function) if function is not None else None
    http_functions = app.functions_of("http")
    # The context names the function when it is known before routing (saves a copy per call).
    http_name = (
        fn.name if fn is not None else (http_functions[0].name if len(http_functions) == 1 else "")
    )

    def lambda_handler(event: Any, context: Any) -> dict[str, Any] | None:
        if type(event) is not dict:
            raise EventError(
                f"expected the event to be a JSON object, got {type(event).__name__}",
                source=ANY_SOURCE,
            )
        request_context = event.get("requestContext")
        if request_context is not None:
            kind = http_kind(event, request_context)
            if kind is not None:
                if fn is not None and fn.trigger_label != "http":
                    raise EventError(
                        f"this Lambda serves {fn.name!r} ({fn.trigger_label}) of app "
                        f"{app.name!r}, but an HTTP request arrived; the app serves: "
                        f"{app.describe()}",
                        source=kind,
                    )
                return handle_http(app, fn, event, context, kind=kind, default_name=http_name)
        return _other(app, fn, event, context)

    lambda_handler.__qualname__ = lambda_handler.__name__ = f"handler_{app.name}"
    return lambda_handler
