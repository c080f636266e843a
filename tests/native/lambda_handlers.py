"""Lambda handlers as their authors write them for AWS, built with aws-lambda-powertools' own event
handlers and batch processor in the shape of Powertools' documented examples (getting started with
REST and HTTP API resolvers, BatchProcessor for SQS with partial failure). Nothing here knows
polyfn: tests/native/app.py runs them on every cloud through polyfn_aws.from_lambda.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    APIGatewayRestResolver,
    Response,
    content_types,
)
from aws_lambda_powertools.shared.cookies import Cookie
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import (
    EventBridgeModel,
    S3Model,
    SnsModel,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="todos")
rest = APIGatewayRestResolver()
http_api = APIGatewayHttpResolver()
processor = BatchProcessor(event_type=EventType.SQS)

# What the handlers saw, for the tests to read.
SEEN: list[dict[str, Any]] = []


@rest.get("/todos/<todo_id>")
def get_todo(todo_id: str) -> dict[str, Any]:
    event = rest.current_event
    return {
        "id": todo_id,
        "tags": (event.multi_value_query_string_parameters or {}).get("tag"),
        "user_agent": event.headers.get("user-agent"),
        "source_ip": event.request_context.identity.source_ip,
        "request_id": rest.lambda_context.aws_request_id,
    }


@rest.post("/todos")
def create_todo() -> Response[str]:
    todo = rest.current_event.json_body
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"created": todo}),
        headers={"X-Seen": ["a", "b"]},
        cookies=[Cookie(name="session", value="s1"), Cookie(name="theme", value="dark")],
    )


@rest.get("/todos/<todo_id>/image")
def todo_image(todo_id: str) -> Response[bytes]:
    return Response(status_code=200, content_type="image/png", body=bytes(range(256)))


@rest.get("/todos/<todo_id>/fail")
def todo_fail(todo_id: str) -> Response[str]:
    raise RuntimeError("secret detail")


@logger.inject_lambda_context
def rest_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return rest.resolve(event, context)


@http_api.get("/items/<item_id>")
def get_item(item_id: str) -> dict[str, Any]:
    event = http_api.current_event
    return {
        "id": item_id,
        "query": event.query_string_parameters,
        "cookies": event.cookies,
        "raw_query": event.raw_query_string,
    }


@http_api.post("/items")
def create_item() -> Response[str]:
    return Response(
        status_code=201,
        content_type=content_types.TEXT_PLAIN,
        body=http_api.current_event.decoded_body or "",
        cookies=[Cookie(name="a", value="1"), Cookie(name="b", value="2")],
    )


def http_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return http_api.resolve(event, context)


def record_handler(record: SQSRecord) -> None:
    payload = record.json_body
    if payload.get("fail"):
        raise ValueError(f"order {payload.get('order')} cannot be processed")
    SEEN.append(
        {"sqs": payload, "id": record.message_id, "group": record.attributes.message_group_id}
    )


@logger.inject_lambda_context
def sqs_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


@event_parser(model=SnsModel)
def sns_handler(event: SnsModel, context: LambdaContext) -> None:
    notification = event.Records[0].Sns
    SEEN.append({"sns": notification.Message, "topic": notification.TopicArn})


@event_parser(model=S3Model)
def s3_handler(event: S3Model, context: LambdaContext) -> None:
    record = event.Records[0]
    SEEN.append(
        {"s3": record.s3.object.key, "bucket": record.s3.bucket.name, "name": record.eventName}
    )


@event_parser(model=EventBridgeModel)
def schedule_handler(event: EventBridgeModel, context: LambdaContext) -> None:
    SEEN.append({"eventbridge": event.detail_type, "resources": event.resources})


# As Powertools documents for a batch whose every record may fail ("working with entire batch
# fail"): the answer lists the failures instead of raising.
lenient = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def lenient_sqs_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=lenient, context=context
    )
