"""A polyfn app that uses every trigger and every setting: what the builders are tested on.

The app, bucket and queue names carry a per-process random suffix so that stacks created on one
shared moto_server (several test workers, several runs) never collide.
"""

from __future__ import annotations

import uuid

from polyfn import App, HttpRequest, QueueMessage, Schedule, StorageEvent, TimerEvent, Topic
from polyfn._context import Context

SUFFIX = uuid.uuid4().hex[:8]
UPLOADS = f"uploads-{SUFFIX}"
ORDERS = f"orders-{SUFFIX}"
EVENTS = f"events-{SUFFIX}"
FAILED = f"failed-{SUFFIX}"
NOTICES = f"notices-{SUFFIX}"

app = App(f"rich-{SUFFIX}")


@app.http("/orders/{order_id}", methods=["GET", "DELETE"], memory=256, timeout=10)
def get_order(req: HttpRequest, ctx: Context) -> dict[str, str]:
    return {"id": req.path_params["order_id"]}


@app.http("/files/{path+}", methods=["PUT"], env={"STAGE": "test"}, max_concurrency=5)
def put_file(req: HttpRequest, ctx: Context) -> None:
    return None


@app.http("/", function_name="home")
def home(req: HttpRequest, ctx: Context) -> str:
    return "ok"


@app.schedule("0 2 * * *", retries=1)
def nightly(event: TimerEvent, ctx: Context) -> None:
    return None


@app.schedule("30 8 * * 1-5", tz="Asia/Tokyo", function_name="morning")
def morning(event: TimerEvent, ctx: Context) -> None:
    return None


@app.schedule(Schedule.rate(minutes=5))
def every_five(event: TimerEvent, ctx: Context) -> None:
    return None


@app.storage(UPLOADS, on=["created"], prefix="incoming/", suffix=".csv", dead_letter=FAILED)
def on_upload(event: StorageEvent, ctx: Context) -> None:
    return None


@app.storage(UPLOADS, on=["deleted"], timeout=60)
def on_delete(event: StorageEvent, ctx: Context) -> None:
    return None


@app.queue(ORDERS, batch_size=5, retries=3, dead_letter=f"{ORDERS}-dead", max_concurrency=4)
def on_order(msg: QueueMessage, ctx: Context) -> None:
    return None


@app.queue(EVENTS, fifo=True, timeout=120, memory=512)
def on_event(msg: QueueMessage, ctx: Context) -> None:
    return None


# Two subscribers of one topic (fan-out), one by name and one by handle.
@app.subscribe(NOTICES, retries=1, dead_letter=FAILED, memory=256)
def audit(msg: QueueMessage, ctx: Context) -> None:
    return None


@app.subscribe(Topic(NOTICES), timeout=30)
def notify(msg: QueueMessage, ctx: Context) -> None:
    return None
