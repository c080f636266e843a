"""An app for the local-runtime tests: every handler appends one JSON line to the file named by
POLYFN_TEST_RECORD, so a test in another process sees what ran, in order."""

import json
import os
import time

from polyfn import App, HttpResponse, Schedule

app = App("recorder")


def record(**entry: object) -> None:
    with open(os.environ["POLYFN_TEST_RECORD"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, default=str) + "\n")


@app.http("/echo/{name}", methods=["GET", "POST"])
def echo(req, ctx):
    resp = HttpResponse.json(
        {
            "name": req.path_params["name"],
            "query": req.query.multi_items(),
            "multi": req.headers.getall("x-multi"),
            "cookies": req.cookies,
            "provider": ctx.provider,
        }
    )
    resp.set_cookie("first", "1")
    resp.set_cookie("second", "2", http_only=True)
    resp.headers.add("X-Several", "a")
    resp.headers.add("X-Several", "b")
    return resp


@app.http("/bytes", methods=["POST"])
def raw_bytes(req, ctx):
    return HttpResponse.binary(req.body[::-1], "application/octet-stream")


@app.http("/fail")
def fail(req, ctx):
    raise RuntimeError("secret detail")


@app.schedule(Schedule.rate(minutes=60))
def hourly(event, ctx):
    record(fn="hourly", scheduled=event.scheduled_time, provider=ctx.provider)


@app.storage("uploads", on=["created", "deleted"], prefix="in/")
def on_upload(event, ctx):
    record(
        fn="on_upload",
        kind=event.kind,
        bucket=event.bucket,
        key=event.key,
        size=event.size,
        etag=event.etag,
    )


@app.queue("orders", retries=2)
def on_order(msg, ctx):
    text = msg.text
    record(fn="on_order", body=text, delivery=msg.delivery_count, attrs=msg.attributes)
    if text == "poison":
        raise ValueError("cannot handle poison")
    if text == "slow" and msg.delivery_count == 1:
        time.sleep(60)  # killed mid-handler by the test
