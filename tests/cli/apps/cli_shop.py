"""The docs' example app, for `polyfn invoke` tests: the sample events' default names (bucket
"uploads", queue "orders", schedule "nightly") reach these functions. Handlers append what they
saw to SEEN."""

from polyfn import App, HttpResponse

app = App("shop")
SEEN: list[tuple[object, ...]] = []


@app.http("/orders/{order_id}", methods=["GET", "POST"])
def get_order(req, ctx):
    SEEN.append(
        (
            "http",
            ctx.provider,
            req.method,
            req.path_params["order_id"],
            req.query.getall("tag"),
            req.body,
        )
    )
    resp = HttpResponse.json({"id": req.path_params["order_id"]})
    resp.set_cookie("a", "1")
    resp.set_cookie("b", "2")
    return resp


@app.schedule("0 2 * * *")
def nightly(event, ctx):
    SEEN.append(("schedule", ctx.provider, event.name, event.scheduled_time))


@app.storage("uploads", on=["created"], prefix="incoming/")
def on_created(event, ctx):
    SEEN.append(("storage", ctx.provider, event.kind, event.bucket, event.key))


@app.storage("uploads", on=["created", "deleted"], prefix="incoming/")
def on_change(event, ctx):
    SEEN.append(("storage", ctx.provider, event.kind, event.bucket, event.key))


@app.queue("orders")
def on_order(msg, ctx):
    SEEN.append(("queue", ctx.provider, msg.text, msg.attributes, msg.delivery_count))
    if msg.text == "boom":
        raise RuntimeError("boom")


@app.queue("tickets", fifo=True)
def on_ticket(msg, ctx):
    SEEN.append(("queue", ctx.provider, msg.text, msg.group))


@app.subscribe("notices")
def on_notice(msg, ctx):
    SEEN.append(("subscribe", ctx.provider, msg.queue, msg.text, msg.attributes))
