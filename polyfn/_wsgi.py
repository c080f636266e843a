"""The WSGI bridge behind `polyfn.wsgi`: one neutral request in, one WSGI call, one response out.

PEP 3333 is what this module follows: ``SCRIPT_NAME`` is the stage or route prefix
(`HttpRequest.root_path`) and ``PATH_INFO`` the app's path, both as "bytes-as-latin-1" strings
of the UTF-8 path; a header line the request repeats reaches the app as one ``HTTP_*`` value
joined with ", " (with "; " for Cookie, RFC 9110 section 5.3 and RFC 6265 section 5.4); the
response's iterable is read whole and closed.
"""

from __future__ import annotations

import io
import sys
from typing import TYPE_CHECKING, Any

from polyfn._web import CONTEXT_KEY, REQUEST_KEY, build_response, host_and_port, scheme_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from polyfn._context import Context
    from polyfn._http import HttpRequest, HttpResponse


def _native(text: str) -> str:
    # PEP 3333 "native strings": the bytes of the UTF-8 text, each as one latin-1 character.
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8").decode("latin-1")
    return text


def wsgi_environ(req: HttpRequest, ctx: Context) -> dict[str, Any]:
    """The WSGI environ of `req`."""
    headers = req.headers
    scheme = scheme_of(headers.get("x-forwarded-proto"))
    server, port = host_and_port(headers.get("host"), scheme)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": req.method,
        "SCRIPT_NAME": _native(req.root_path),
        "PATH_INFO": _native(req.path),
        "QUERY_STRING": req.query_string,
        "SERVER_NAME": server,
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": req.source_ip or "",
        "CONTENT_LENGTH": str(len(req.body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(req.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        REQUEST_KEY: req,
        CONTEXT_KEY: ctx,
    }
    for name, values in headers.to_multi().items():
        key = name.upper().replace("-", "_")
        joined = ("; " if key == "COOKIE" else ", ").join(_native(v) for v in values)
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if key == "CONTENT_TYPE":
                environ[key] = joined
            continue  # the body polyfn holds says its length
        environ["HTTP_" + key] = joined
    return environ


def wsgi_handler(app: Any) -> Callable[[HttpRequest, Context], HttpResponse]:
    def wsgi_app(req: HttpRequest, ctx: Context) -> HttpResponse:
        status_line: list[str] = []
        headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []

        def start_response(
            status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            if exc_info is not None and status_line and chunks:
                # PEP 3333: an error after the body began is re-raised to the server.
                raise exc_info[1].with_traceback(exc_info[2])
            status_line[:] = [status]
            headers[:] = response_headers
            return chunks.append

        result: Iterable[bytes] = app(wsgi_environ(req, ctx), start_response)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if not status_line:
            raise RuntimeError("the WSGI app returned without calling start_response")
        code = status_line[0].split(" ", 1)[0]
        if not code.isdigit():
            raise RuntimeError(f"the WSGI app answered the status {status_line[0]!r}")
        return build_response(int(code), headers, b"".join(chunks))

    return wsgi_app
