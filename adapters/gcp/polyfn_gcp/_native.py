"""`from_functions_framework(function)`: a functions-framework HTTP function (a Flask view
``def f(request): ...``) served as a polyfn HTTP function on any cloud and under `polyfn serve`.

The polyfn handler it returns builds the `flask.Request` functions-framework would pass (a WSGI
environ from the neutral request, inside a Flask request context, so ``flask.request``,
``flask.jsonify`` and ``flask.abort`` work), calls the function, and turns what it returned into
the neutral response the way Flask does (`Flask.make_response`: a string, bytes, a dict or list
as JSON, a ``(body, status, headers)`` tuple, a `Response`). A streamed response is read to its
end: every cloud's function answer is buffered.

On GCP, under `polyfn_gcp.http`, the function gets the request functions-framework received,
untouched, inside functions-framework's own Flask app. Elsewhere each wrapped function has a
Flask app of its own (created on its first request), as functions-framework gives each target.

A raise is polyfn's 500 contract (no traceback to the client); an `werkzeug` HTTP exception
(``flask.abort(404)``) is the answer it stands for, as Flask makes it. A return value Flask cannot
turn into a response (None, say) raises `ViewAnswerError`, which names it and the nearest
supported return: the client gets the same 500.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from polyfn import ConfigError, HttpRequest, HttpResponse, PolyfnError

if TYPE_CHECKING:
    from collections.abc import Callable

    import flask

    from polyfn import Context

# The attribute of a wrapped native handler that names the adapter it runs on: `polyfn package`
# (polyfn/_cli_build.py) puts that adapter into the zip of any cloud.
PROVIDER_MARK = "__polyfn_provider__"
# RFC 3986 section 3.3: the characters a path segment carries unescaped ("pchar").
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
# A WSGI server computes these from the body and the connection (PEP 3333, "Other HTTP
# Features"); the neutral response leaves them to the cloud's front end.
_SKIPPED = frozenset(("content-length", "connection", "transfer-encoding"))


class ViewAnswerError(PolyfnError, TypeError):
    """A Flask view run by `from_functions_framework` returned something Flask cannot make a
    response of. The message names it and what to return instead."""


def _environ(req: HttpRequest) -> dict[str, Any]:
    """The WSGI environ of `req`, as a WSGI server builds it (werkzeug's own builder)."""
    from werkzeug.test import EnvironBuilder

    headers = req.headers
    builder = EnvironBuilder(
        path=quote(req.path, safe=_PATH_SAFE),
        base_url=f"http://{headers.get('host') or 'localhost'}/",
        method=req.method,
        query_string=urlencode(req.query.multi_items(), quote_via=quote),
        headers=[(k, v) for k, v in headers.multi_items() if k.lower() != "host"],
        data=req.body,
        environ_base={"REMOTE_ADDR": req.source_ip or "127.0.0.1"},
    )
    try:
        return builder.get_environ()
    finally:
        builder.close()


def _call(function: Callable[[flask.Request], Any], flask_app: flask.Flask) -> flask.Response:
    """Run the view on the current request; its answer as Flask makes it."""
    import flask
    from werkzeug.exceptions import HTTPException

    try:
        answer = function(flask.request._get_current_object())  # type: ignore[attr-defined]
    except HTTPException as exc:
        answer = exc.get_response()
    try:
        made = flask_app.make_response(answer)
    except TypeError as exc:
        raise ViewAnswerError(
            f"the functions-framework function {getattr(function, '__name__', function)!r} "
            f"returned {type(answer).__name__}, which Flask cannot answer with ({exc}); return "
            "a str, bytes, dict, list, flask.Response or a (body, status[, headers]) tuple; the "
            "client got polyfn's 500"
        ) from None
    made.make_sequence()  # a streamed body, read to its end inside the request context
    return made


def to_response(made: flask.Response) -> HttpResponse:
    """The neutral response for a Flask response: every header and Set-Cookie value kept."""
    resp = HttpResponse(made.get_data(), made.status_code)
    for name, value in made.headers.items():
        if name.lower() in _SKIPPED:
            continue
        if name.lower() == "set-cookie":
            resp.cookies.append(value)
        else:
            resp.headers.add(name, value)
    return resp


def _served_by_functions_framework(req: HttpRequest) -> bool:
    """Whether `req` is functions-framework's own, and its Flask request is the current one."""
    import flask

    raw = req.raw
    return (
        raw is not None
        and hasattr(raw, "environ")
        and flask.has_request_context()
        and flask.request._get_current_object() is raw  # type: ignore[attr-defined]
    )


def from_functions_framework(
    function: Callable[[flask.Request], Any],
) -> Callable[[HttpRequest, Context], HttpResponse]:
    """A polyfn HTTP handler that runs functions-framework HTTP function `function` (a Flask
    view ``def f(request): ...``) on any cloud: bind it with ``app.http("/{path+}",
    methods=[...])(polyfn_gcp.from_functions_framework(f))``."""
    if not callable(function):
        raise ConfigError(
            "from_functions_framework: function must be a functions-framework HTTP function "
            f"(request) -> response, got {type(function).__name__}"
        )
    own: list[flask.Flask] = []  # this function's Flask app, made on its first request

    def polyfn_view(req: HttpRequest, ctx: Context) -> HttpResponse:
        import flask

        if _served_by_functions_framework(req):
            return to_response(_call(function, flask.current_app))
        if not own:
            own.append(flask.Flask(getattr(function, "__module__", None) or "polyfn_gcp"))
        with own[0].request_context(_environ(req)):
            return to_response(_call(function, own[0]))

    name = getattr(function, "__name__", None)
    polyfn_view.__name__ = polyfn_view.__qualname__ = name if isinstance(name, str) else "view"
    polyfn_view.__doc__ = getattr(function, "__doc__", None)
    # `polyfn package` puts this adapter into another cloud's zip for it.
    setattr(polyfn_view, PROVIDER_MARK, "gcp")
    return polyfn_view
