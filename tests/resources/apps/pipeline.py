"""A three-function pipeline with no cloud account: HTTP -> queue -> worker writing a table and a
bucket -> a storage function indexing the receipt. Served by `polyfn serve` and tested in process
with `polyfn.testing.Client` (tests/resources/test_pipeline.py)."""

from __future__ import annotations

import json

from polyfn import AccessDenied, App, Bucket, HttpResponse, Queue, Table

app = App("pipeline")
orders = Queue("orders")
receipts = Bucket("receipts")
ledger = Table("ledger")


@app.http("/orders", methods=["POST"], uses=[orders.send])
def place(req, ctx):
    order = req.json()
    orders.send(order, attributes={"source": "api"})
    return HttpResponse.json({"queued": order["id"]}, 202)


@app.queue(orders, uses=[ledger.put, receipts.write])
def work(msg, ctx):
    order = msg.json()
    ledger.put(order["id"], {"total": order["total"], "source": msg.attributes["source"]})
    receipt = {"id": order["id"], "total": order["total"]}
    receipts.write(
        f"receipts/{order['id']}.json",
        json.dumps(receipt).encode(),
        content_type="application/json",
        metadata={"order": "yes"},
    )


@app.storage(receipts, prefix="receipts/", uses=[receipts.read, ledger.get, ledger.put])
def index(event, ctx):
    receipt = json.loads(receipts.read(event.key))
    doc = ledger.get(receipt["id"])
    if doc is None:
        raise RuntimeError(f"no ledger entry for {receipt['id']}")
    fields = {**doc, "receipt": event.key, "receipt_type": event.content_type}
    ledger.put(receipt["id"], fields, if_version=doc.version)


@app.http("/orders/{order_id}", uses=[ledger.get])
def status(req, ctx):
    doc = ledger.get(req.path_params["order_id"])
    if doc is None:
        return HttpResponse.json({"error": "no such order"}, 404)
    return {**doc, "version": doc.version}


@app.http("/sneaky", methods=["POST"], uses=[ledger.get])
def sneaky(req, ctx):
    try:
        ledger.delete("anything")
    except AccessDenied as exc:
        return HttpResponse.json({"denied": str(exc)}, 403)
    return {"denied": None}
