"""A functions-framework entry module with two subscribers of one topic (test_subscribe.py):
one entry point per subscriber, as `polyfn build` writes them, and one for the whole app."""

from __future__ import annotations

from typing import Any

import polyfn_gcp

from polyfn import App, QueueMessage, Topic

app = App("fanout")
SEEN: list[dict[str, Any]] = []
TOPIC = "order-events"


def _record(fn: str, msg: QueueMessage, ctx: Any) -> None:
    SEEN.append(
        {
            "fn": fn,
            "ctx_function": ctx.function_name,
            "queue": msg.queue,
            "body": msg.text,
            "attributes": msg.attributes,
            "delivery_count": msg.delivery_count,
        }
    )
    if msg.attributes.get("fail") == fn:
        raise ValueError(f"{fn} failed")


@app.subscribe(Topic(TOPIC))
def audit(msg: QueueMessage, ctx: Any) -> None:
    _record("audit", msg, ctx)


@app.subscribe(TOPIC)
def notify(msg: QueueMessage, ctx: Any) -> None:
    _record("notify", msg, ctx)


event = polyfn_gcp.cloud_event(app)
polyfn_audit = polyfn_gcp.cloud_event(app, function="audit")
polyfn_notify = polyfn_gcp.cloud_event(app, function="notify")
