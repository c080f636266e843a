"""A FastAPI app on AWS, warm: `polyfn.asgi` through polyfn_aws.handler against Mangum, on the
same API Gateway HTTP API event and the same FastAPI app in the same run (interleaved rounds,
medians; see _common).

Mangum runs with ``lifespan="off"`` (its fastest) and with its default ``"auto"``, which runs
the app's lifespan startup and shutdown around every invocation; polyfn runs startup once per
process. The event is checked once with Powertools' parser model, so it has the shape Lambda
sends. Target (issue 11): polyfn faster than Mangum.
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
from _common import compare, timing_table, verdict  # noqa: E402
from aws_invoke import CONTEXT  # noqa: E402
from cold_start import EVENT as HTTP_EVENT  # noqa: E402

import polyfn  # noqa: E402

POLYFN = "polyfn.asgi via polyfn_aws.handler"
MANGUM = 'Mangum(lifespan="off")'
MANGUM_AUTO = 'Mangum(lifespan="auto"), its default'


def fastapi_app() -> Any:
    from fastapi import FastAPI

    api = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @api.get("/orders/{order_id}")
    async def get_order(order_id: str, expand: str = "") -> dict[str, str]:
        return {"id": order_id, "expand": expand}

    return api


def asgi_bench() -> str:
    from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
    from mangum import Mangum

    APIGatewayProxyEventV2Model.model_validate(HTTP_EVENT)
    api = fastapi_app()

    app = polyfn.App("shop")
    app.http("/{path+}", methods=["GET"], function_name="api")(polyfn.asgi(api))
    polyfn_handler = polyfn_aws.handler(app)
    mangum = Mangum(api, lifespan="off")
    mangum_auto = Mangum(api)
    asyncio.set_event_loop(asyncio.new_event_loop())

    # Each handler gets its own copy of the event, as each Lambda invocation does.
    events = [copy.deepcopy(HTTP_EVENT) for _ in range(3)]
    for out in (
        polyfn_handler(events[0], CONTEXT),
        mangum(events[1], CONTEXT),
        mangum_auto(events[2], CONTEXT),
    ):
        assert out is not None and out["statusCode"] == 200, out
        assert json.loads(out["body"]) == {"id": "42", "expand": "items"}, out
    t = compare(
        {
            POLYFN: lambda: polyfn_handler(events[0], CONTEXT),
            MANGUM: lambda: mangum(events[1], CONTEXT),
            MANGUM_AUTO: lambda: mangum_auto(events[2], CONTEXT),
        }
    )
    ratio = t.ratio(POLYFN, MANGUM)
    return "\n".join(
        [
            "### AWS: a FastAPI app, API Gateway HTTP API GET, warm, per invocation",
            "",
            timing_table(t, MANGUM, label="handler"),
            "",
            f"Target: polyfn.asgi / Mangum = {ratio:.2f} (below 1.00): {verdict(ratio < 1.0)}",
        ]
    )


if __name__ == "__main__":
    print(asgi_bench())
