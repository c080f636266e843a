"""The local HTTP front end: stdlib `ThreadingHTTPServer` <-> the neutral HTTP model.

Every header value is kept (repeated headers stay repeated, each Set-Cookie is its own header),
bodies are bytes both ways, chunked request bodies are read, and ``/_polyfn/...`` is the runtime's
own control surface (fire a schedule, enqueue a message, describe the app).
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from polyfn._http import HttpRequest, HttpResponse, dump_json, reason_phrase

if TYPE_CHECKING:
    from collections.abc import Callable

CONTROL_PREFIX = "/_polyfn"
# Headers the server itself writes from the body it sends; a handler's own values would lie.
_HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


class BadRequest(Exception):  # noqa: N818 - a signal inside this module
    pass


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request body: by Content-Length, or decoded from chunked transfer coding."""
    if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
        chunks: list[bytes] = []
        while True:
            line = handler.rfile.readline(65537)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadRequest("malformed chunk size") from None
            if size == 0:
                while handler.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline(3)
    length = handler.headers.get("Content-Length")
    if length is None:
        return b""
    try:
        n = int(length)
    except ValueError:
        raise BadRequest("Content-Length is not a number") from None
    if n < 0:
        raise BadRequest("negative Content-Length")
    return handler.rfile.read(n)


def to_request(handler: BaseHTTPRequestHandler, body: bytes) -> HttpRequest:
    parts = urlsplit(handler.path)
    return HttpRequest(
        handler.command,
        unquote(parts.path) or "/",
        query=parts.query,
        headers=list(handler.headers.items()),
        body=body,
        source_ip=handler.client_address[0],
        raw={"path": handler.path, "client": handler.client_address[0]},
    )


def write_response(handler: BaseHTTPRequestHandler, resp: HttpResponse) -> None:
    handler.send_response(resp.status, reason_phrase(resp.status))
    for name, value in resp.headers.multi_items():
        if name.lower() not in _HOP_HEADERS:
            handler.send_header(name, value)
    for cookie in resp.cookies:
        handler.send_header("Set-Cookie", cookie)
    bodyless = handler.command == "HEAD" or resp.status in (204, 304) or resp.status < 200
    if not bodyless or handler.command == "HEAD":
        handler.send_header("Content-Length", str(len(resp.body)))
    handler.end_headers()
    if not bodyless:
        handler.wfile.write(resp.body)


class LocalHttpServer(ThreadingHTTPServer):
    """Serves `app_handler` for the app's routes and `control` for ``/_polyfn/...``."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        app_handler: Callable[[HttpRequest], HttpResponse],
        control: Callable[[HttpRequest], HttpResponse],
    ) -> None:
        self.app_handler = app_handler
        self.control = control
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One buffered write per response (flushed by handle_one_request) and no Nagle delay:
    # headers and body in separate small segments otherwise wait out the peer's delayed ACK.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server: LocalHttpServer
    server_version = "polyfn-local"

    def _dispatch(self) -> None:
        try:
            body = read_body(self)
        except BadRequest as exc:
            self.close_connection = True
            write_response(
                self,
                HttpResponse(dump_json({"error": str(exc)}), 400, content_type="application/json"),
            )
            return
        req = to_request(self, body)
        is_control = req.path == CONTROL_PREFIX or req.path.startswith(CONTROL_PREFIX + "/")
        resp = self.server.control(req) if is_control else self.server.app_handler(req)
        write_response(self, resp)

    # BaseHTTPRequestHandler looks handlers up as do_<METHOD>.
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: each invocation writes its own JSON log line instead."""
