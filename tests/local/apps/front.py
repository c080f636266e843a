"""An app for the HTTP front-end tests: a route that reports what reached it, and a schedule
whose error carries a detail that must stay in the log."""

from polyfn import App, HttpResponse, Schedule

app = App("front")


@app.http("/size", methods=["GET", "POST"])
def size(req, ctx):
    return {"size": len(req.body), "host": req.headers.get("host")}


@app.schedule(Schedule.rate(minutes=60))
def broken(event, ctx):
    raise RuntimeError("secret-detail-7f3a")


@app.http("/euro")
def euro(req, ctx):
    # A header value HTTP/1.1 cannot carry (not Latin-1): the answer must still be a clean 500.
    return HttpResponse("price", headers={"X-Price": "5 €"})


@app.queue("q")
def consume(msg, ctx):
    # The queue the control-endpoint tests send to (send refuses queues no function consumes).
    return None
