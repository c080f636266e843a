"""`polyfn_gcp.http(app)`: the HTTP function functions-framework serves (--signature-type http).

flask.Request in, flask.Response out. The same target also takes Cloud Scheduler HTTP ticks
(POST /_polyfn/schedule/<function>) and Pub/Sub push deliveries (POST /_polyfn/queue/<topic>).

Paths: Cloud Run functions strip the function name from a cloudfunctions.net URL before the
request reaches the container ("the Cloud Functions deployment strips the function name out of
the URL before your function sees it", functions-framework-python#54), and run.app URLs carry the
path as sent, so request.path is already the app's path: nothing is stripped here.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from polyfn import ConfigError, EventError, Headers, HttpRequest, HttpResponse
from polyfn._values import json_document
from polyfn_gcp._auth import (
    REFUSALS,
    UNAUTHORIZED,
    DeliveryAuth,
    DeliveryRefused,
    request_url,
)
from polyfn_gcp._context import (
    EXECUTION_ID_HEADER,
    TRACE_HEADER,
    TRACEPARENT_HEADER,
    default_function_name,
    make_context,
    trace_id,
)
from polyfn_gcp._dispatch import NotServedError, message_function, run_all, schedule_function
from polyfn_gcp._identity import google_principal
from polyfn_gcp._names import (
    QUEUE_PATH_PREFIX,
    SCHEDULE_ATTRIBUTE,
    SCHEDULE_PATH_PREFIX,
    scheduler_job_name,
)
from polyfn_gcp._pubsub import PUSH_SOURCE, peek_attributes, read_message
from polyfn_gcp._timer import HTTP_SOURCE, PUBSUB_SOURCE, tick_from_headers, tick_from_message

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    import flask

    from polyfn import App, Context, Function

# "X-Forwarded-For: A comma-delimited list of IP addresses through which the client request has
# been routed. The first IP in this list is generally the IP of the client that created the
# request." https://cloud.google.com/functions/docs/reference/headers
FORWARDED_FOR = "X-Forwarded-For"

# Pub/Sub push acknowledges a message on 102, 200, 201, 202 or 204 and redelivers on anything
# else. https://cloud.google.com/pubsub/docs/push#receive_push
ACK_STATUS = 204

# werkzeug computes Content-Length from the body (a handler's own would be a second one), and a
# WSGI application must not send hop-by-hop headers: the server owns the connection
# (PEP 3333, "Other HTTP Features"; RFC 9110 7.6.1).
_RESPONSE_HEADERS_SKIPPED = frozenset(
    {
        "content-length",
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


def to_request(request: flask.Request) -> HttpRequest:
    """The neutral request for a flask.Request: nothing dropped.

    Repeated request headers reach a WSGI app already joined with "," (the WSGI environ has one
    value per name; RFC 9110 5.3 makes the joined value equivalent), so each arrives as one value.
    """
    headers = Headers(list(request.headers.items()))
    forwarded = headers.get(FORWARDED_FOR, "").split(",", 1)[0].strip()
    req = HttpRequest(
        request.method,
        request.path,
        # Raw: HttpRequest parses it when the handler first reads req.query.
        query=request.query_string.decode("utf-8", "replace"),
        headers=headers,
        body=request.get_data(cache=True),
        source_ip=forwarded or request.remote_addr,
        raw=request,
    )
    req.cloud_reader = google_principal
    return req


def to_flask_response(resp: HttpResponse) -> flask.Response:
    """The flask.Response for a neutral response: every header value and Set-Cookie kept apart,
    the body as bytes, no Content-Type invented when the handler set none."""
    import flask

    out = flask.Response(resp.body, status=resp.status)
    del out.headers["Content-Type"]  # Flask's default (text/html); the handler's comes below
    for name, value in resp.headers.multi_items():
        if name.lower() not in _RESPONSE_HEADERS_SKIPPED:
            out.headers.add(name, value)
    for cookie in resp.cookies:
        out.headers.add("Set-Cookie", cookie)
    return out


def http(
    app: App,
    function: str | None = None,
    *,
    functions: Iterable[str] | None = None,
    delivery_auth: DeliveryAuth | None = None,
) -> Callable[[flask.Request], flask.Response]:
    """The HTTP function for functions-framework: ``http = polyfn_gcp.http(app)`` in main.py, then
    ``functions-framework --target http``.

    With `function`, only that polyfn function is served (one Cloud Run function per polyfn
    function): its route if it is an HTTP function, its scheduler path if it is a schedule, its
    push path if it is a queue. With `functions` (names of HTTP functions), only their routes are
    served, and no scheduler or push path: the one Cloud Run function that `polyfn build`
    deploys for a group of routes, public while the schedules stay private.

    Pub/Sub push deliveries and Cloud Scheduler ticks must carry a Google-signed ID token of one
    of the configured invokers (`delivery_auth`; by default `DeliveryAuth.from_env()`, which
    reads POLYFN_GCP_INVOKERS, POLYFN_GCP_AUDIENCES and POLYFN_GCP_DELIVERY_AUTH: verify,
    cloud-run-iam or off). docs/deploy.md says how to configure them.
    """
    if function is not None and functions is not None:
        raise ConfigError("polyfn_gcp.http takes function= or functions=, not both")
    auth = delivery_auth if delivery_auth is not None else DeliveryAuth.from_env()
    only = app.function(function) if function is not None else None
    if only is not None and only.trigger_label == "storage":
        raise ConfigError(
            f"function {only.name!r} is a storage function: Cloud Storage delivers CloudEvents, "
            "serve it with polyfn_gcp.cloud_event(app)"
        )
    routes = None
    if functions is not None:
        routes = frozenset(app.function(name) for name in functions)
        for fn in routes:
            if fn.trigger_label != "http":
                raise ConfigError(
                    f"functions=: {fn.name!r} is {fn.trigger.noun}, not an HTTP function; "
                    f"serve it with polyfn_gcp.http(app, function={fn.name!r})"
                )

    def polyfn_http(request: flask.Request) -> flask.Response:
        if not hasattr(request, "environ"):
            raise ConfigError(
                f"polyfn_gcp.http(app) was called with {type(request).__name__}, not a Flask "
                "request: serve it with functions-framework --signature-type http"
            )
        return to_flask_response(serve(app, only, request, auth, routes=routes))

    polyfn_http.__qualname__ = polyfn_http.__name__ = "http"
    return polyfn_http


def serve(
    app: App,
    only: Function | None,
    request: flask.Request,
    auth: DeliveryAuth,
    *,
    routes: frozenset[Function] | None = None,
) -> HttpResponse:
    """Answer one request: the app's route, a scheduler tick or a Pub/Sub push (with `routes`,
    only those functions' routes)."""
    started = time.monotonic()
    req = to_request(request)
    ctx = make_context(
        default_function_name(app.name),
        req.headers.get(EXECUTION_ID_HEADER) or _new_id(),
        trace=trace_id(req.headers.get(TRACE_HEADER), req.headers.get(TRACEPARENT_HEADER)),
        started=started,
        raw=request,
        trace_headers=req.headers,
    )
    if routes is not None:
        return _serve_routes(app, routes, req, ctx)
    if req.path.startswith(SCHEDULE_PATH_PREFIX):
        return _deliver(app, ctx, auth, request, lambda: _schedule(app, only, req))
    if req.path.startswith(QUEUE_PATH_PREFIX):
        return _deliver(app, ctx, auth, request, lambda: _push(app, only, req))
    if only is not None and only.trigger_label != "http":
        return HttpResponse.json({"error": "not found"}, 404)
    return app.handle_http(req, ctx, function=only)


def _serve_routes(
    app: App, routes: frozenset[Function], req: HttpRequest, ctx: Context
) -> HttpResponse:
    """A request for a group of routes: another function's route (or a scheduler or push path)
    is not found here, whatever the app serves elsewhere."""
    from polyfn._routing import MethodNotAllowed, NoRoute

    try:
        _, fn, _ = app.router.match(req.method, req.path)
    except (NoRoute, MethodNotAllowed):
        return app.handle_http(req, ctx)  # the app's own 404 or 405
    if fn not in routes:
        return HttpResponse.json({"error": "not found"}, 404)
    return app.handle_http(req, ctx, function=fn)


Delivery = tuple["Function", Any]


def _schedule(app: App, only: Function | None, req: HttpRequest) -> Delivery:
    name = unquote(req.path[len(SCHEDULE_PATH_PREFIX) :])
    fn = schedule_function(app, only, name, HTTP_SOURCE)
    return fn, tick_from_headers(fn, req.headers, scheduler_job_name(app, fn), raw=req.raw)


def _push(app: App, only: Function | None, req: HttpRequest) -> Delivery:
    if req.method != "POST":
        raise _MethodNotAllowedError
    queue = unquote(req.path[len(QUEUE_PATH_PREFIX) :])
    envelope = json_document(
        req.body,
        "body",
        PUSH_SOURCE,
        hint=': polyfn reads the wrapped push format {"message": {...}, "subscription": ...}, '
        "not unwrapped payloads",
    )
    tick = peek_attributes(envelope, source=PUSH_SOURCE).get(SCHEDULE_ATTRIBUTE)
    if tick is not None:
        fn = schedule_function(app, only, tick, PUBSUB_SOURCE)
        return fn, tick_from_message(fn, read_message(envelope, queue=queue, source=PUSH_SOURCE))
    fn = message_function(app, only, queue, PUSH_SOURCE)
    return fn, read_message(envelope, queue=queue, source=PUSH_SOURCE)


class _MethodNotAllowedError(Exception):
    pass


def _deliver(
    app: App,
    ctx: Context,
    auth: DeliveryAuth,
    request: flask.Request,
    read: Callable[[], Delivery],
) -> HttpResponse:
    """Authenticate, read and run a scheduler or push delivery: 2xx only if the handler finished,
    so Cloud Scheduler and Pub/Sub retry everything else.

    A caller that is not a configured invoker gets 401/403 before anything is read. A delivery
    polyfn cannot read is a 400 naming what was wrong; one for a schedule or queue no function
    here serves is a bare 404 (what the app serves goes to the log, never to the client); a raise
    is a 500 without traceback."""
    try:
        if auth.enabled:
            auth.check(request.headers, request_url(request))
    except DeliveryRefused as refused:
        ctx.log.warning("refused delivery to %s: %s", request.path, refused.reason)
        resp = HttpResponse.json({"error": REFUSALS[refused.status]}, refused.status)
        if refused.status == UNAUTHORIZED:
            resp.headers.set("WWW-Authenticate", "Bearer")
        return resp
    try:
        fn, event = read()
    except _MethodNotAllowedError:
        resp = HttpResponse.json({"error": "method not allowed"}, 405)
        resp.headers.set("Allow", "POST")
        return resp
    except NotServedError as exc:
        ctx.log.warning("rejected delivery: %s", exc)
        return HttpResponse.json({"error": "not found"}, 404)
    except EventError as exc:
        ctx.log.warning("rejected delivery: %s", exc)
        return HttpResponse.json({"error": str(exc), "field": exc.field, "source": exc.source}, 400)
    try:
        run_all(app, [fn], event, ctx)
    except Exception:  # app.invoke logged it with its traceback
        return HttpResponse.json({"error": "internal error", "request_id": ctx.invocation_id}, 500)
    return HttpResponse(b"", ACK_STATUS)


def _new_id() -> str:
    import uuid

    return uuid.uuid4().hex
