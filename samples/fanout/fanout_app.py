"""Fan-out: an HTTP endpoint publishes each order event to the `order-events` topic, and two
functions subscribe to it, each getting every event: `notify` records a notification per event,
`tally` keeps a count per event type with conditional writes.

On AWS the topic is SNS (each subscriber a Lambda it invokes), on Azure a Service Bus topic (a
subscription per function), on Google Cloud a Pub/Sub topic (a subscription per function), and
under `polyfn serve` a local topic that enqueues every publish once per subscriber.
"""

from __future__ import annotations

from polyfn import App, Conflict, Context, HttpRequest, HttpResponse, QueueMessage, Table, Topic

app = App("fanout")
events = Topic("order-events")
notifications = Table("notifications")
tallies = Table("tallies")

ATTEMPTS = 10


@app.http("/events", methods=["POST"], uses=[events.publish])
def publish_event(req: HttpRequest, ctx: Context) -> HttpResponse:
    event = req.json()
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return HttpResponse.json({"error": 'an event is a JSON object with a "type"'}, status=400)
    message_id = events.publish(event, attributes={"type": event["type"]})
    return HttpResponse.json({"published": message_id}, status=202)


@app.subscribe(events, uses=[notifications.put])
def notify(msg: QueueMessage, ctx: Context) -> None:
    # Keyed by the message id: a redelivered event writes the same document again.
    notifications.put(msg.id, {"type": msg.attributes.get("type"), "event": msg.json()})


@app.subscribe(events, uses=[tallies.get, tallies.put])
def tally(msg: QueueMessage, ctx: Context) -> None:
    kind = msg.attributes.get("type") or "unknown"
    for _ in range(ATTEMPTS):
        current = tallies.get(kind)
        try:
            if current is None:
                tallies.put(kind, {"count": 1}, if_absent=True)
            else:
                tallies.put(kind, {"count": current["count"] + 1}, if_version=current.version)
            return
        except Conflict:
            continue  # another subscriber instance counted meanwhile
    raise Conflict(f"tally {kind!r}: {ATTEMPTS} writers in a row changed it first")
