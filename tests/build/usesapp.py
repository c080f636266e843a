"""A polyfn app whose functions declare what they use: what the permission builders are tested on.

Names carry a per-process random suffix so that stacks on one shared moto_server never collide.
"""

from __future__ import annotations

import uuid

from polyfn import App, Bucket, HttpRequest, Queue, QueueMessage, Secret, StorageEvent, Table, Topic
from polyfn._context import Context

SUFFIX = uuid.uuid4().hex[:8]

app = App(f"uses-{SUFFIX}")
uploads = Bucket(f"uploads-{SUFFIX}")
reports = Bucket(f"reports-{SUFFIX}")
orders = Queue(f"orders-{SUFFIX}")
billing = Queue(f"billing-{SUFFIX}", fifo=True)
events = Topic(f"order-events-{SUFFIX}")
carts = Table(f"carts{SUFFIX}")
stripe = Secret(f"stripe-key-{SUFFIX}")


@app.http("/carts/{cart}", methods=["GET"], uses=[carts.get])
def get_cart(req: HttpRequest, ctx: Context) -> dict[str, str]:
    return {}


@app.http("/carts/{cart}", methods=["PUT"], uses=[carts.put, events.publish])
def put_cart(req: HttpRequest, ctx: Context) -> None:
    return None


@app.http("/pay", methods=["POST"], memory=512, uses=[stripe.value, billing.send])
def pay(req: HttpRequest, ctx: Context) -> None:
    return None


@app.storage(uploads, on=["created"], uses=[uploads.read, reports.write, orders.send])
def on_upload(event: StorageEvent, ctx: Context) -> None:
    return None


@app.queue(orders, retries=2, uses=[reports.list, reports.delete, carts.delete])
def on_order(msg: QueueMessage, ctx: Context) -> None:
    return None
