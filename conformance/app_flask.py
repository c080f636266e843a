"""The conformance app's HTTP routes as a Flask app, served by `polyfn.wsgi` on every target.

Each view records what Flask (werkzeug's `Request`) showed it, and answers as the native handler
of the same route does (conformance/app.py), with Flask's own responses. Errors get polyfn's JSON
shape (``{"error": ...}``); ``PROPAGATE_EXCEPTIONS`` lets a crash through to polyfn, which
answers its own 500.
"""

from __future__ import annotations

import gzip
from typing import Any

import flask
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse

import polyfn
from conformance._flavours import WEB_METHODS, json_return, record_framework_view
from conformance.app import BINARY, Order
from polyfn import App

web = flask.Flask(__name__)
web.config["PROPAGATE_EXCEPTIONS"] = True

# Case name -> why Flask answers it otherwise than the native handlers.
SKIPS = {
    "method-not-allowed": (
        "Flask's Allow also lists HEAD and OPTIONS, which it answers on every route"
    ),
    "trailing-slash": (
        "werkzeug routes /echo/ apart from /echo (404: strict_slashes only redirects a "
        "rule that ends with a slash); a trailing slash is significant to it"
    ),
}


def _seen() -> dict[str, Any]:
    request = flask.request
    rule = request.url_rule
    return record_framework_view(
        request.environ["polyfn.context"],
        endpoint=request.endpoint or "",
        route=rule.rule if rule is not None else "",
        method=request.method,
        path=request.path,
        path_params=dict(request.view_args or {}),
        query=request.args.items(multi=True),
        headers=list(request.headers.items()),
        cookies=dict(request.cookies),
        body=request.get_data(),
        source_ip=request.remote_addr,
    )


def _json(obj: Any, status: int = 200) -> flask.Response:
    return flask.Response(flask.json.dumps(obj), status, mimetype="application/json")


@web.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> flask.Response:
    resp = exc.get_response()
    # polyfn's own 404 and 405 bodies say "not found" and "method not allowed".
    detail = (exc.name or "").lower() if exc.code in (404, 405) else exc.description
    out = _json({"error": detail}, exc.code or 500)
    allow = resp.headers.get("Allow")
    if allow:
        out.headers["Allow"] = allow
    return out


@web.route("/echo", methods=WEB_METHODS)
def echo() -> flask.Response:
    return _json({"echo": _seen()})


@web.route("/echo/<first>/<second>", methods=WEB_METHODS)
def echo_params(first: str, second: str) -> flask.Response:
    return _json({"echo": _seen()})


@web.route("/files/<path:path>", methods=["GET"])
def files(path: str) -> flask.Response:
    return _json({"echo": _seen()})


@web.route("/items/<item_id>", methods=["GET", "DELETE"])
def item(item_id: str) -> flask.Response:
    entry = _seen()
    if flask.request.method == "DELETE":
        return flask.Response(b"", 204)
    return _json({"echo": entry})


@web.route("/respond", methods=["GET", "POST"])
def respond() -> flask.Response:
    _seen()
    q = flask.request.args
    status = int(q.get("status", "200"))
    kind = q.get("kind", "json")
    text = q.get("text", "")
    if kind == "json":
        resp = _json({"ok": True, "text": text}, status)
    elif kind in ("text", "html"):
        resp = flask.Response(
            text, status, mimetype="text/plain" if kind == "text" else "text/html"
        )
    elif kind == "binary":
        size = int(q.get("size", str(len(BINARY))))
        data = (BINARY * (size // len(BINARY) + 1))[:size]
        resp = flask.Response(data, status, content_type=q.get("ctype", "application/octet-stream"))
    elif kind == "empty":
        resp = flask.Response(b"", status)
        del resp.headers["Content-Type"]
    elif kind == "gzip":
        resp = flask.Response(gzip.compress(text.encode(), mtime=0), status, mimetype="text/plain")
        resp.headers["Content-Encoding"] = "gzip"
    else:
        flask.abort(400, f"unknown kind {kind!r}")
    for specs in q.getlist("h"):
        for spec in specs.split("\n"):
            name, _, value = spec.partition(":")
            resp.headers.add(name, value)  # werkzeug refuses a CR or LF: polyfn's 500
    for cookie in q.getlist("c"):
        resp.headers.add("Set-Cookie", cookie)
    return resp


@web.route("/return/<kind>", methods=["GET"])
def returns(kind: str) -> flask.Response:
    _seen()
    json_value = json_return(kind)
    if json_value is not None:
        doc, status = json_value
        return _json(doc, status)
    if kind == "str":
        return flask.Response("plain text ✓", mimetype="text/plain")
    if kind == "bytes":
        return flask.Response(BINARY, content_type="application/octet-stream")
    if kind == "none":
        return flask.Response(b"", 204)
    flask.abort(404, f"no such return kind {kind!r}")


@web.route("/redirect", methods=["GET"])
def redirect() -> WerkzeugResponse:
    _seen()
    resp = flask.redirect("https://example.com/landing?from=conformance", 302)
    resp.set_data(b"")  # werkzeug writes a small HTML page; the native handler sends none
    del resp.headers["Content-Type"]
    return resp


@web.route("/fail/http/<int:status>", methods=["GET"])
def fail_http(status: int) -> flask.Response:
    _seen()
    resp = _json({"error": "refused on purpose"}, status)
    resp.headers["X-Why"] = "test"
    return resp


@web.route("/fail/crash", methods=["GET", "POST"])
def fail_crash() -> flask.Response:
    _seen()
    raise RuntimeError("secret-detail: the database password is hunter2")


@web.route("/orders", methods=["POST"])
def create_order() -> flask.Response:
    try:
        order = Order.model_validate_json(flask.request.get_data())
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            return _json({"error": "request body is not valid JSON"}, 400)
        fields = [{"loc": [str(p) for p in e["loc"]], "msg": e["msg"]} for e in exc.errors()]
        return _json({"error": "request body failed validation", "fields": fields}, 400)
    _seen()
    return _json({"sku": order.sku, "quantity": order.quantity}, 201)


app = App("conformance-flask")
app.http("/{path+}", methods=WEB_METHODS, function_name="api")(polyfn.wsgi(web))
