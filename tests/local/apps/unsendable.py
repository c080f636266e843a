"""Handlers that return responses no server may write: an injected header line, an injected
Set-Cookie line, an impossible status. `polyfn serve` must answer polyfn's own 500 instead."""

from polyfn import App, HttpResponse

app = App("unsendable")


@app.http("/header")
def header(req, ctx):
    return HttpResponse.text("x", headers={"X-Note": "ok\r\nX-Injected: yes"})


@app.http("/cookie")
def cookie(req, ctx):
    return HttpResponse.text("x").set_cookie("session", "abc\r\nSet-Cookie: admin=1")


@app.http("/status")
def status(req, ctx):
    return HttpResponse.text("x", status=1000)


@app.http("/fine")
def fine(req, ctx):
    return HttpResponse.text("fine").set_cookie("session", "abc")
