"""The request -> queue -> worker app of the trace chain tests: an HTTP function sends to a queue
(and publishes to a topic), the queue function logs; every line of both must carry one trace."""

from __future__ import annotations

from typing import Any

from polyfn import App, Context, HttpRequest, Queue, QueueMessage, Topic

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


def chain_app(
    queue: str, topic: str | None = None, attributes: dict[str, str] | None = None
) -> tuple[App, list[dict[str, Any]]]:
    """The app, and what the worker saw of each message (its attributes and its ctx.trace);
    the request sends with `attributes`."""
    app = App("chain")
    orders = Queue(queue)
    uses = [orders.send]
    events = Topic(topic) if topic else None
    if events is not None:
        uses.append(events.publish)
    seen: list[dict[str, Any]] = []

    @app.http("/orders", methods=["POST"], uses=uses)
    def place(req: HttpRequest, ctx: Context) -> Any:
        ctx.log.info("placing")
        orders.send(b"order-1", attributes=attributes)
        if events is not None:
            events.publish(b"placed")
        return {"trace": ctx.trace.trace_id}

    @app.queue(orders)
    def work(msg: QueueMessage, ctx: Context) -> None:
        ctx.log.info("working")
        seen.append({"attributes": dict(msg.attributes), "trace": ctx.trace})

    return app, seen
