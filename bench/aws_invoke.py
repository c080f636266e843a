"""Warm invocations on AWS: one API Gateway HTTP API GET and one SQS batch of 10, through
polyfn_aws.handler, a raw handler, aws-lambda-powertools (APIGatewayHttpResolver, BatchProcessor)
and Mangum, on the same events in the same run. Medians of repeated timeit runs.

Budgets (DESIGN.md): HTTP at most half of Powertools' time; SQS no more per record than
Powertools' BatchProcessor.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import polyfn_aws  # noqa: E402
from _common import per_call_us, table  # noqa: E402
from awslambdaric.lambda_context import LambdaContext  # noqa: E402
from cold_start import EVENT as HTTP_EVENT  # noqa: E402

import polyfn  # noqa: E402

CONTEXT = LambdaContext("req-1", None, None, 4102444800000, "arn:aws:lambda:us-east-1:1:function:f")


def sqs_event(n: int = 10) -> dict[str, Any]:
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


def http_rows() -> tuple[list[list[str]], dict[str, float]]:
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
    asyncio.set_event_loop(asyncio.new_event_loop())

    # Each call gets its own copy of the event, as each Lambda invocation does.
    events = [copy.deepcopy(HTTP_EVENT) for _ in range(4)]
    assert polyfn_handler(events[0], CONTEXT)["statusCode"] == 200
    results = {
        "raw handler": per_call_us(lambda: raw_handler(events[0], CONTEXT)),
        "polyfn_aws.handler": per_call_us(lambda: polyfn_handler(events[1], CONTEXT)),
        "Powertools APIGatewayHttpResolver": per_call_us(lambda: pt.resolve(events[2], CONTEXT)),
        "Mangum + minimal ASGI app": per_call_us(lambda: mangum(events[3], CONTEXT), number=500),
    }
    base = results["Powertools APIGatewayHttpResolver"]
    rows = [[name, f"{us:.2f}", f"{us / base:.2f}"] for name, us in results.items()]
    return rows, results


def sqs_rows() -> tuple[list[list[str]], dict[str, float]]:
    app = polyfn.App("worker")
    seen: list[int] = []

    @app.queue("orders")
    def on_order(msg: polyfn.QueueMessage, ctx: polyfn.Context) -> None:
        seen.append(len(msg.body))

    polyfn_handler = polyfn_aws.handler(app)
    event = sqs_event(10)

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

    assert polyfn_handler(event, CONTEXT) == {"batchItemFailures": []}
    results = {
        "raw loop": per_call_us(lambda: raw_handler(event, CONTEXT), number=1000) / 10,
        "polyfn_aws.handler": per_call_us(lambda: polyfn_handler(event, CONTEXT), number=500) / 10,
        "Powertools BatchProcessor": per_call_us(pt_handler, number=500) / 10,
    }
    base = results["Powertools BatchProcessor"]
    rows = [[name, f"{us:.2f}", f"{us / base:.2f}"] for name, us in results.items()]
    return rows, results


def main() -> int:
    rows, http = http_rows()
    print("API Gateway HTTP API GET, warm, per invocation")
    print(table(["handler", "median us", "vs Powertools"], rows))
    ratio = http["polyfn_aws.handler"] / http["Powertools APIGatewayHttpResolver"]
    print(
        f"polyfn / Powertools = {ratio:.2f} (budget <= 0.50: {'met' if ratio <= 0.5 else 'MISSED'})"
    )
    rows, sqs = sqs_rows()
    print("\nSQS batch of 10, warm, per record")
    print(table(["handler", "median us/record", "vs Powertools"], rows))
    ok = sqs["polyfn_aws.handler"] <= sqs["Powertools BatchProcessor"]
    print(f"polyfn per record <= Powertools per record: {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
