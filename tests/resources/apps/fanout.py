"""Fan-out with no cloud account: an HTTP function publishes to a topic with two subscribers, each
recording its copy in a table. Served by `polyfn serve` and tested in process with
`polyfn.testing.Client` (tests/resources/test_fanout.py)."""

from __future__ import annotations

import base64

from polyfn import App, HttpResponse, Table, Topic

app = App("fanout")
events = Topic("order-events")
seen = Table("seen")


@app.http("/events", methods=["POST"], uses=[events.publish])
def publish(req, ctx):
    attributes = dict(req.query.items())
    return HttpResponse.json({"id": events.publish(req.body, attributes=attributes)}, 202)


def _record(name, msg):
    if msg.attributes.get("fail") == name:
        raise RuntimeError(f"{name} failed on purpose")
    seen.put(
        f"{name}-{msg.attributes.get('n', '0')}",
        {
            "body_b64": base64.b64encode(msg.body).decode(),
            "attributes": msg.attributes,
            "queue": msg.queue,
            "delivery_count": msg.delivery_count,
        },
    )


@app.subscribe(events, uses=[seen.put])
def audit(msg, ctx):
    _record("audit", msg)


@app.subscribe("order-events", retries=1, uses=[seen.put])
def mailer(msg, ctx):
    _record("mailer", msg)


@app.http("/seen/{key}", uses=[seen.get])
def lookup(req, ctx):
    doc = seen.get(req.path_params["key"])
    return HttpResponse.json({"error": "not yet"}, 404) if doc is None else dict(doc)
