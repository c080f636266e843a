"""The source functions-framework loads for the GCP benchmarks (create_app(target, this file)).

The same trivial work behind every target: a GET answered with the order id as JSON, a storage
event and a scheduler tick recorded in SEEN. The ``raw_*`` targets are what one would write
against functions-framework directly; ``polyfn_http`` and ``polyfn_event`` serve the polyfn app.
"""

from __future__ import annotations

import json
from typing import Any

import polyfn_gcp
from _apps import seen_box, shop_app

SEEN = seen_box()
SCHEDULE_PREFIX = "/_polyfn/schedule/"

app = shop_app(SEEN)

# The tick is timed without the OIDC check (a signature verification, ~0.1 ms, plus the
# certificates' fetch): the benchmark compares reading and dispatch with a raw function's.
polyfn_http = polyfn_gcp.http(app, delivery_auth=polyfn_gcp.DeliveryAuth.disabled())
polyfn_event = polyfn_gcp.cloud_event(app)


def raw_http(request: Any) -> Any:
    """A hand-written HTTP function: route by path, answer JSON, ticks acknowledged with 204."""
    path = request.path
    if path.startswith(SCHEDULE_PREFIX):
        SEEN.append(request.headers.get("X-CloudScheduler-ScheduleTime"))
        return "", 204
    order_id = path.rsplit("/", 1)[-1]
    return json.dumps({"id": order_id}), 200, {"Content-Type": "application/json"}


def raw_event(event: Any) -> None:
    """A hand-written CloudEvent function for Cloud Storage's finalized events."""
    data = event.data
    SEEN.append(int(data["size"]))
