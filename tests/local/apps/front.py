"""An app for the HTTP front-end tests: a route that reports what reached it, and a schedule
whose error carries a detail that must stay in the log."""

from polyfn import App, Schedule

app = App("front")


@app.http("/size", methods=["GET", "POST"])
def size(req, ctx):
    return {"size": len(req.body), "host": req.headers.get("host")}


@app.schedule(Schedule.rate(minutes=60))
def broken(event, ctx):
    raise RuntimeError("secret-detail-7f3a")
