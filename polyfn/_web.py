"""`asgi` and `wsgi`: a FastAPI, Starlette, Flask or Django application as one polyfn HTTP handler.

This module is imported by ``import polyfn`` and so stays stdlib-only and cheap: the bridges
themselves (polyfn._asgi needs asyncio) load on the first call of `asgi` or `wsgi`, and neither
imports a web framework. What is common to both bridges (the request's parts as a web server
states them, the response's headers) lives here.
"""

from __future__ import annotations

from polyfn._errors import ConfigError
from polyfn._http import HttpResponse

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from polyfn._context import Context
    from polyfn._http import HttpRequest

    WebHandler = Callable[[HttpRequest, Context], HttpResponse]

# Response headers a server derives from the body and the connection itself (RFC 9110 section
# 8.6, RFC 9112 sections 6.1 and 9.6): the app's values describe a connection polyfn does not
# have, and each cloud's front end writes its own for the body polyfn hands over (for HEAD, the
# body is dropped after the app answered).
SERVER_OWNED_HEADERS = frozenset(
    ("content-length", "transfer-encoding", "connection", "keep-alive")
)

# The scope (ASGI) or environ (WSGI) keys that carry polyfn's own request and context, for an app
# that wants the cloud's native event (`HttpRequest.raw`) or `Context` (as Mangum's "aws.event").
REQUEST_KEY = "polyfn.request"
CONTEXT_KEY = "polyfn.context"

# The lifespan modes `asgi` takes: "auto" runs the app's startup when it has one (an app that
# raises on a lifespan scope has none, as the ASGI spec says), "on" requires one, "off" skips it.
LIFESPAN_MODES = ("auto", "on", "off")


def asgi(asgi_app: Any, *, lifespan: str = "auto") -> WebHandler:
    """A polyfn HTTP handler that serves an ASGI application (FastAPI, Starlette, Django's
    ASGI handler...). Bind it to every path and the methods the app answers::

        app.http("/{path+}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                 function_name="api")(polyfn.asgi(fastapi_app))

    The app's lifespan startup runs once per process, before its first request (`lifespan`:
    "auto", "on" or "off"); a startup that fails answers every request polyfn's 500 and logs
    why. A streaming response is buffered whole before it is returned. An exception the app
    raises is polyfn's 500, whatever the app sent before it.
    """
    if lifespan not in LIFESPAN_MODES:
        raise ConfigError(
            f"polyfn.asgi(lifespan={lifespan!r}): expected one of {', '.join(LIFESPAN_MODES)}"
        )
    if not callable(asgi_app):
        raise ConfigError(
            f"polyfn.asgi() takes an ASGI application (an async callable app(scope, receive, "
            f"send)), got {type(asgi_app).__name__}"
        )
    from polyfn._asgi import AsgiBridge

    return AsgiBridge(asgi_app, lifespan).handler()


def wsgi(wsgi_app: Any) -> WebHandler:
    """A polyfn HTTP handler that serves a WSGI application (Flask, Django's WSGI handler...).
    Bind it like `asgi`'s. An exception the app lets through is polyfn's 500: let Flask's
    propagate (``PROPAGATE_EXCEPTIONS = True``) and Django's (``DEBUG_PROPAGATE_EXCEPTIONS =
    True``) to have it, or the framework answers its own 500 page."""
    if not callable(wsgi_app):
        raise ConfigError(
            f"polyfn.wsgi() takes a WSGI application (a callable app(environ, start_response)), "
            f"got {type(wsgi_app).__name__}"
        )
    from polyfn._wsgi import wsgi_handler

    return wsgi_handler(wsgi_app)


def scheme_of(forwarded_proto: str | None) -> str:
    """The scheme the client used: the front end's X-Forwarded-Proto, else https (every cloud's
    function endpoint is served over TLS)."""
    if forwarded_proto:
        proto = forwarded_proto.split(",", 1)[0].strip().lower()
        if proto in ("http", "https"):
            return proto
    return "https"


def host_and_port(host: str | None, scheme: str) -> tuple[str, int]:
    """The server's name and port from the Host header (what a web server states as
    SERVER_NAME and SERVER_PORT)."""
    default = 443 if scheme == "https" else 80
    if not host:
        return "localhost", default
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit() and not name.endswith(":"):  # not the inside of an IPv6 literal
        return name, int(port)
    return host, default


def header_pairs(req: HttpRequest) -> Iterable[tuple[str, str]]:
    """Every header line of `req`, without building its `Headers` when the adapter handed over a
    plain dict (one value per name) that nothing has read yet."""
    raw = req._raw_headers
    if req._headers is None and raw is not None:
        return raw.items()
    return req.headers.multi_items()


def build_response(status: int, headers: list[tuple[str, str]], body: bytes) -> HttpResponse:
    """The app's answer as an `HttpResponse`: every header line kept in order (repeated names
    and several Set-Cookie too), the server-owned ones left to the serving front end.

    A value loses its leading and trailing spaces and tabs, which are no part of a field value
    (RFC 9110 section 5.5): Django's WSGI handler writes each Set-Cookie as " name=value"."""
    kept: list[tuple[str, str]] = []
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "set-cookie":
            cookies.append(value.strip(" \t"))
        elif key not in SERVER_OWNED_HEADERS:
            kept.append((name, value.strip(" \t")))
    return HttpResponse(body, status, kept, cookies)
