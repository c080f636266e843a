"""Warm invocations on AWS: one API Gateway HTTP API GET and one SQS batch of 10, through
polyfn_aws.handler, a raw handler, aws-lambda-powertools (APIGatewayHttpResolver, BatchProcessor)
and Mangum, on the same events in the same run (interleaved rounds, medians; see _common).

Both events are checked once with Powertools' parser models, so they have the shape Lambda sends.
Budgets (DESIGN.md): HTTP at most half of Powertools' time; SQS no more per record than
Powertools' BatchProcessor.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import sys
from collections import deque
from pathlib import Path
from time import perf_counter
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import polyfn_aws  # noqa: E402
from _common import compare, log_sink, timing_table, verdict  # noqa: E402
from awslambdaric.lambda_context import LambdaContext  # noqa: E402
from cold_start import EVENT as HTTP_EVENT  # noqa: E402

import polyfn  # noqa: E402

# Lambda sets the invocation's X-Ray header in the environment (tracing active or not); polyfn's
# closing line carries its trace id.
os.environ.setdefault(
    "_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
)
CONTEXT = LambdaContext("req-1", None, None, 4102444800000, "arn:aws:lambda:us-east-1:1:function:f")

POWERTOOLS_HTTP = "Powertools APIGatewayHttpResolver"
POWERTOOLS_SQS = "Powertools BatchProcessor"
POWERTOOLS_HTTP_LOGGED = "Powertools APIGatewayHttpResolver + Logger line"
POWERTOOLS_SQS_LOGGED = "Powertools BatchProcessor + Logger line"
POLYFN = "polyfn_aws.handler"


def powertools_logger(service: str) -> Any:
    """aws-lambda-powertools' Logger writing JSON lines to stdout, as on Lambda (a service name
    per use: Powertools sets up the logger of a name once per process)."""
    from aws_lambda_powertools import Logger

    return Logger(service=service)


def sqs_event(n: int = 10) -> dict[str, Any]:
    """A batch of `n` SQS records as the Lambda poller delivers it (one message attribute)."""
    records = []
    for i in range(n):
        records.append(
            {
                "messageId": f"00000000-0000-0000-0000-{i:012d}",
                "receiptHandle": f"handle-{i}",
                "body": json.dumps({"sku": "apple", "quantity": i + 1}),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795773600000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1795773600001",
                },
                "messageAttributes": {
                    "tenant": {
                        "stringValue": "acme",
                        "dataType": "String",
                        "stringListValues": [],
                        "binaryListValues": [],
                    },
                },
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:orders",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def http_bench() -> str:
    from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model

    APIGatewayProxyEventV2Model.model_validate(HTTP_EVENT)

    app = polyfn.App("shop")

    @app.http("/orders/{order_id}", methods=["GET"])
    def get_order(req: polyfn.HttpRequest, ctx: polyfn.Context) -> dict[str, str]:
        return {"id": req.path_params["order_id"]}

    polyfn_handler = polyfn_aws.handler(app)

    def raw_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": json.dumps({"id": event["pathParameters"]["order_id"]}),
        }

    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    pt = APIGatewayHttpResolver()

    @pt.get("/orders/<order_id>")
    def pt_get(order_id: str) -> dict[str, str]:
        return {"id": order_id}

    from mangum import Mangum

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b'{"id": "42"}'})

    mangum = Mangum(asgi, lifespan="off")

    # Like for like with polyfn's closing line: the same resolver, with Powertools' Logger
    # injecting the Lambda context and writing one line per invocation (duration and status).
    pt_logger = powertools_logger("shop")

    @pt_logger.inject_lambda_context
    def pt_logged(event: dict[str, Any], context: Any) -> dict[str, Any]:
        started = perf_counter()
        response: dict[str, Any] = pt.resolve(event, context)
        pt_logger.info(
            "invocation finished",
            extra={
                "duration_ms": round((perf_counter() - started) * 1000, 3),
                "status": response["statusCode"],
                "method": event["requestContext"]["http"]["method"],
                "path": event["rawPath"],
            },
        )
        return response

    asyncio.set_event_loop(asyncio.new_event_loop())

    # Each handler gets its own copy of the event, as each Lambda invocation does.
    events = [copy.deepcopy(HTTP_EVENT) for _ in range(5)]
    for out in (
        raw_handler(events[0], CONTEXT),
        polyfn_handler(events[1], CONTEXT),
        pt.resolve(events[2], CONTEXT),
        mangum(events[3], CONTEXT),
        pt_logged(events[4], CONTEXT),
    ):
        assert out is not None and out["statusCode"] == 200, out
        assert json.loads(out["body"]) == {"id": "42"}, out
    with log_sink():
        t = compare(
            {
                "raw handler": lambda: raw_handler(events[0], CONTEXT),
                POLYFN: lambda: polyfn_handler(events[1], CONTEXT),
                POWERTOOLS_HTTP: lambda: pt.resolve(events[2], CONTEXT),
                "Mangum + minimal ASGI app": lambda: mangum(events[3], CONTEXT),
                POWERTOOLS_HTTP_LOGGED: lambda: pt_logged(events[4], CONTEXT),
            }
        )
    ratio = t.ratio(POLYFN, POWERTOOLS_HTTP)
    logged = t.ratio(POLYFN, POWERTOOLS_HTTP_LOGGED)
    return "\n".join(
        [
            "### AWS: API Gateway HTTP API GET, warm, per invocation",
            "",
            "polyfn writes its closing log line (duration, status) on every invocation; the last "
            "row is Powertools writing the same line with its Logger. Log lines go to /dev/null "
            "while timing (their write system call counted).",
            "",
            timing_table(t, POWERTOOLS_HTTP, label="handler"),
            "",
            f"Budget: polyfn / Powertools = {ratio:.2f} (at most 0.50): {verdict(ratio <= 0.5)}",
            f"Like for like: polyfn / Powertools with its Logger's line = {logged:.2f}",
        ]
    )


def sqs_bench() -> str:
    from aws_lambda_powertools.utilities.parser.models import SqsModel

    event = sqs_event(10)
    SqsModel.model_validate(event)

    app = polyfn.App("worker")
    seen: deque[int] = deque(maxlen=16)

    @app.queue("orders")
    def on_order(msg: polyfn.QueueMessage, ctx: polyfn.Context) -> None:
        seen.append(len(msg.body))

    polyfn_handler = polyfn_aws.handler(app)

    def raw_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        failures = []
        for record in event["Records"]:
            try:
                seen.append(len(record["body"]))
            except Exception:
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    processor = BatchProcessor(event_type=EventType.SQS)

    def pt_record(record: Any) -> None:
        seen.append(len(record.body))

    def pt_handler() -> Any:
        return process_partial_response(event, pt_record, processor, CONTEXT)

    # Like for like with polyfn's one closing line per batch: Powertools' Logger writing one.
    pt_logger = powertools_logger("worker")

    @pt_logger.inject_lambda_context
    def pt_logged_batch(event: dict[str, Any], context: Any) -> Any:
        started = perf_counter()
        response = process_partial_response(event, pt_record, processor, context)
        failed = len(response["batchItemFailures"])
        pt_logger.info(
            "invocation finished",
            extra={
                "duration_ms": round((perf_counter() - started) * 1000, 3),
                "acknowledged": len(event["Records"]) - failed,
                "failed": failed,
            },
        )
        return response

    for out in (
        raw_handler(event, CONTEXT),
        polyfn_handler(event, CONTEXT),
        pt_handler(),
        pt_logged_batch(event, CONTEXT),
    ):
        assert out == {"batchItemFailures": []}, out
    with log_sink():
        t = compare(
            {
                "raw loop": lambda: raw_handler(event, CONTEXT),
                POLYFN: lambda: polyfn_handler(event, CONTEXT),
                POWERTOOLS_SQS: pt_handler,
                POWERTOOLS_SQS_LOGGED: lambda: pt_logged_batch(event, CONTEXT),
            },
            per_record=10,
        )
    seen.clear()
    ratio = t.ratio(POLYFN, POWERTOOLS_SQS)
    logged = t.ratio(POLYFN, POWERTOOLS_SQS_LOGGED)
    return "\n".join(
        [
            "### AWS: SQS batch of 10, warm, per record",
            "",
            "polyfn writes one closing log line per batch (acknowledged and failed counts); the "
            "last row is Powertools writing the same line with its Logger.",
            "",
            timing_table(t, POWERTOOLS_SQS, unit="µs/record", label="handler"),
            "",
            f"Budget: polyfn / Powertools per record = {ratio:.2f} (at most 1.00): "
            f"{verdict(ratio <= 1.0)}",
            f"Like for like: polyfn / Powertools with its Logger's line = {logged:.2f}",
        ]
    )


def main() -> int:
    print(http_bench())
    print()
    print(sqs_bench())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
