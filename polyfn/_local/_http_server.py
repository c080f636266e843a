"""The local HTTP front end: a strict HTTP/1.1 reader on the stdlib's threading TCP server.

Every header value is kept (repeated headers stay repeated, each Set-Cookie is its own header),
bodies are bytes both ways, chunked request bodies are read, and ``/_polyfn/...`` is the runtime's
own control surface (fire a schedule, enqueue a message, describe the app).

Why the stdlib and not a server library: a WSGI server (waitress, gunicorn) hands the app an
environ in which repeated headers are already joined with ", " and names are upper-cased with
"-" turned into "_", so the neutral request could no longer keep them as sent; and `import
polyfn` plus `polyfn serve` stay dependency-free. What such a server brings is done here instead:

- a listen backlog of `LISTEN_BACKLOG`, and at most `max_connections` connections served at once
  (more wait in the kernel's queue, they are not refused);
- an idle timeout: a connection that sends nothing for `idle_timeout` seconds is closed, and a
  request head must arrive whole within it;
- a body limit (`max_body_bytes`, Lambda's 6 MB by default), answered 413 before the body is read;
- ``Expect: 100-continue`` answered at once, once the request head has passed every check;
- strict framing (RFC 9112): request line, header names and values, ``Content-Length`` digits
  only, ``Transfer-Encoding: chunked`` only, both together refused, hexadecimal chunk sizes. A
  request whose framing is refused is answered and its connection closed, so no leftover bytes
  are ever read as another request;
- the Host check against DNS rebinding, and on the control endpoints the cross-site check
  (`HostPolicy`).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import socketserver
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from polyfn._http import HttpRequest, HttpResponse, dump_json, reason_phrase
from polyfn._local._invoke import LOGGER_NAME

if TYPE_CHECKING:
    import socket
    from collections.abc import Callable, Sequence

CONTROL_PREFIX = "/_polyfn"
# Headers the server itself writes from the body it sends; a handler's own values would lie.
_HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})

# Lambda's quota for a synchronous invocation's request payload, the smallest of the three
# clouds' request limits (Azure Functions: 100 MB, Cloud Functions 2nd gen: 32 MB), so a
# body `serve` accepts is one every cloud accepts (the event's JSON and base64 make the real
# AWS limit a little smaller still).
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
# https://cloud.google.com/functions/quotas (2nd gen: 32 MB; 1st gen: 10 MB)
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-http-webhook#limits
DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024
DEFAULT_IDLE_TIMEOUT = 30.0
# As many connections as waitress serves at once by default (its connection_limit).
DEFAULT_MAX_CONNECTIONS = 100
# The kernel caps it at net.core.somaxconn (4096 on current Linux).
LISTEN_BACKLOG = 1024
# Limits of the request head, as common servers have them (nginx's 8 KB lines, 100 fields).
MAX_LINE = 8192
MAX_HEADERS = 100

# RFC 9110 5.6.2: a token (methods, header names).
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9112 3: request-line = method SP request-target SP HTTP-version.
_REQUEST_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) (HTTP/\d\.\d)")
_DIGITS = re.compile(rb"[0-9]{1,18}")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,15}")
# A field value: visible characters, spaces, tabs and obs-text; never NUL, CR or LF.
_FIELD_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
# RFC 3986 3.2.2-3.2.3: host (a bracketed IPv6 literal or a name) and an optional port.
_AUTHORITY = re.compile(r"(\[[0-9a-f:.]+\]|[^:\[\]]+)(?::([0-9]{1,5}))?")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")

_logger = logging.getLogger(LOGGER_NAME)


class HttpError(Exception):
    """A request refused before the app sees it: the status, and a message naming the cause."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.details = details


@dataclass(frozen=True)
class HttpLimits:
    """The front end's limits (`polyfn serve --max-body-size/--idle-timeout/--max-connections`)."""

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS


class HostPolicy:
    """Which Host headers (and, for the control endpoints, which Origins) are answered.

    A page on another site can make a browser send requests to 127.0.0.1, and with DNS
    rebinding read the answers, but its requests then carry that site's name as Host. So only
    loopback names with the serving port are answered (and the listening address itself), plus
    the names given with ``--allow-host`` (``*``: any). The control
    endpoints change state with simple POSTs a cross-site form can send without a preflight, so
    there a foreign ``Origin`` or ``Sec-Fetch-Site: cross-site`` is refused as well.
    """

    def __init__(self, bound_host: str, port: int, allow_hosts: Sequence[str] = ()) -> None:
        self.port = port
        names = {*LOOPBACK_HOSTS}
        if bound_host:  # the address in serve's banner URL, even 0.0.0.0: no DNS name
            names.add(f"[{bound_host}]" if ":" in bound_host else bound_host.lower())
        self.loopback = frozenset(names)
        self.any_host = "*" in allow_hosts
        self.extra = frozenset(h.lower() for h in allow_hosts if h != "*")

    def _authority_allowed(self, authority: str) -> bool:
        authority = authority.lower()
        if authority in self.extra:
            return True
        name, port = _split_authority(authority)
        if name in self.extra:
            return True
        if name not in self.loopback:
            return False
        return port == self.port or (port is None and self.port == 80)

    def check_host(self, host: str | None) -> None:
        if host is None or self.any_host or self._authority_allowed(host):
            return
        raise HttpError(
            403,
            f"Host {host!r} is not served: polyfn serve answers requests for "
            f"127.0.0.1:{self.port}, localhost:{self.port} or [::1]:{self.port} only, so a "
            "web page cannot reach it through a DNS name of its own (DNS rebinding). To serve "
            "another name, start serve with --allow-host NAME.",
            host=host,
        )

    def check_control(self, origin: str | None, fetch_site: str | None) -> None:
        if fetch_site is not None and fetch_site.strip().lower() == "cross-site":
            raise HttpError(
                403,
                "cross-site request refused: the /_polyfn control endpoints answer only "
                "requests from this machine's tools (curl, polyfn), not from other sites' pages.",
            )
        if origin is None:
            return
        scheme, sep, authority = origin.strip().partition("://")
        if not (sep and scheme.lower() == "http" and self._authority_allowed(authority)):
            raise HttpError(
                403,
                f"Origin {origin!r} refused: the /_polyfn control endpoints answer only "
                "requests from this machine's tools (curl, polyfn) and from pages served "
                "by this server, not from other sites' pages.",
                origin=origin,
            )


def _split_authority(authority: str) -> tuple[str, int | None]:
    """``name:port`` or ``[v6]:port`` -> (name, port); port None when absent, -1 when bad."""
    match = _AUTHORITY.fullmatch(authority)
    if match is None:
        return authority, -1
    name, port = match.groups()
    return name, int(port) if port else None


class RequestHead:
    """A parsed request line and header section, before the body."""

    def __init__(
        self, method: str, target: str, version: str, fields: list[tuple[str, str]]
    ) -> None:
        self.method = method
        self.target = target
        self.version = version
        self.fields = fields

    def values(self, name: str) -> list[str]:
        return [v for n, v in self.fields if n.lower() == name]

    def one(self, name: str) -> str | None:
        """The value of a header that may appear once; a repeated one is refused."""
        found = self.values(name)
        if len(found) > 1:
            raise HttpError(400, f"the {name} header appears {len(found)} times; send it once.")
        return found[0] if found else None


def _read_line(rfile: Any, what: str, deadline: float | None = None) -> bytes | None:
    """One line without its CRLF (a bare LF is accepted, RFC 9112 2.2); None at a clean EOF."""
    line: bytes = rfile.readline(MAX_LINE + 1)
    if not line:
        return None
    if len(line) > MAX_LINE:
        raise HttpError(431, f"a {what} line is longer than {MAX_LINE} bytes.")
    if not line.endswith(b"\n"):
        raise HttpError(400, f"the connection ended inside a {what} line.")
    if deadline is not None and time.monotonic() > deadline:
        raise HttpError(408, "the request head took too long to arrive.")
    line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
    if b"\r" in line:
        raise HttpError(400, f"a bare CR in a {what} line.")
    return line


def read_head(rfile: Any, idle_timeout: float) -> RequestHead | None:
    """The request line and headers, checked; None if the client closed between requests."""
    line = _read_line(rfile, "request")
    for _ in range(4):  # RFC 9112 2.2: empty lines before a request line are ignored
        if line != b"":
            break
        line = _read_line(rfile, "request")
    if line is None:
        return None
    try:
        return _read_rest_of_head(rfile, line, time.monotonic() + idle_timeout)
    except TimeoutError:
        raise HttpError(408, "the request head did not arrive within the idle timeout.") from None


def _read_rest_of_head(rfile: Any, line: bytes, deadline: float) -> RequestHead:
    match = _REQUEST_LINE.fullmatch(line)
    if match is None:
        raise HttpError(400, f"malformed request line {line[:100]!r}.")
    method, target, version = (part.decode("ascii") for part in match.groups())
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise HttpError(505, f"{version} is not supported; send HTTP/1.1.")
    fields: list[tuple[str, str]] = []
    while True:
        field = _read_line(rfile, "header", deadline)
        if field is None:
            raise HttpError(400, "the connection ended inside the request head.")
        if not field:
            break
        if len(fields) == MAX_HEADERS:
            raise HttpError(431, f"more than {MAX_HEADERS} header fields.")
        if field[:1] in (b" ", b"\t"):
            raise HttpError(400, "obsolete line folding in the header section (RFC 9112 5.2).")
        name, colon, value = field.partition(b":")
        if not colon or _TOKEN.fullmatch(name) is None:
            raise HttpError(400, f"malformed header line {field[:100]!r}.")
        value = value.strip(b" \t")
        if _FIELD_VALUE.fullmatch(value) is None:
            raise HttpError(400, f"a control character in the value of header {name.decode()!r}.")
        fields.append((name.decode("ascii"), value.decode("latin-1")))
    return RequestHead(method, target, version, fields)


def split_target(target: str) -> tuple[str, str, str | None]:
    """RFC 9112 3.2: (path, query, authority) of an origin-form (``/p?q``), absolute-form
    (``http://host/p?q``, whose authority is checked like a Host) or asterisk-form target."""
    if target.startswith("/") or target == "*":
        path, _, query = target.partition("?")
        return unquote(path), query, None
    parts = urlsplit(target)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise HttpError(400, f"request target {target[:100]!r} is neither a path nor a URL.")
    return unquote(parts.path) or "/", parts.query, parts.netloc


@dataclass(frozen=True)
class Framing:
    """How the request body is delimited: chunked, or `length` bytes."""

    chunked: bool
    length: int


def body_framing(head: RequestHead, max_body_bytes: int) -> Framing:
    """RFC 9112 6: Content-Length (digits only) or Transfer-Encoding chunked, never both."""
    te = head.values("transfer-encoding")
    cl = head.values("content-length")
    if te:
        if head.version == "HTTP/1.0":
            raise HttpError(400, "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 6.1).")
        if cl:
            raise HttpError(
                400,
                "both Content-Length and Transfer-Encoding: send one of them (RFC 9112 6.1).",
            )
        codings = [c.strip(" \t").lower() for c in ",".join(te).split(",")]
        if codings != ["chunked"]:
            raise HttpError(
                501,
                f"Transfer-Encoding {', '.join(te)!r} is not supported; only chunked is.",
            )
        return Framing(chunked=True, length=0)
    if not cl:
        return Framing(chunked=False, length=0)
    if len(cl) > 1:
        raise HttpError(400, f"Content-Length appears {len(cl)} times; send it once.")
    if _DIGITS.fullmatch(cl[0].encode("latin-1")) is None:
        raise HttpError(400, f"Content-Length {cl[0]!r} is not a decimal number of bytes.")
    length = int(cl[0])
    if length > max_body_bytes:
        raise _too_large(max_body_bytes)
    return Framing(chunked=False, length=length)


def _too_large(max_body_bytes: int) -> HttpError:
    return HttpError(
        413,
        f"the request body is larger than {max_body_bytes} bytes (Lambda's limit); "
        "polyfn serve --max-body-size BYTES changes the limit.",
        limit=max_body_bytes,
    )


def read_body(rfile: Any, framing: Framing, max_body_bytes: int) -> bytes:
    """The request body: `length` bytes, or decoded from chunked transfer coding."""
    if not framing.chunked:
        body: bytes = rfile.read(framing.length) if framing.length else b""
        if len(body) < framing.length:
            raise HttpError(400, "the connection ended before Content-Length bytes arrived.")
        return body
    chunks: list[bytes] = []
    total = 0
    while True:
        line = _read_line(rfile, "chunk size")
        if line is None:
            raise HttpError(400, "the connection ended inside a chunked body.")
        size_text = line.split(b";", 1)[0].rstrip(b" \t")
        if _HEX.fullmatch(size_text) is None:
            raise HttpError(400, f"malformed chunk size {size_text[:20]!r}.")
        size = int(size_text, 16)
        if size == 0:
            for _ in range(MAX_HEADERS + 1):  # trailer fields, ignored
                trailer = _read_line(rfile, "trailer")
                if trailer is None:
                    raise HttpError(400, "the connection ended inside the chunked trailer.")
                if not trailer:
                    return b"".join(chunks)
            raise HttpError(431, f"more than {MAX_HEADERS} trailer fields.")
        total += size
        if total > max_body_bytes:
            raise _too_large(max_body_bytes)
        chunk = rfile.read(size)
        if len(chunk) < size or _read_line(rfile, "chunk end") != b"":
            raise HttpError(400, "a chunk is not followed by CRLF where its size says.")
        chunks.append(chunk)


def write_response(handler: BaseHTTPRequestHandler, resp: HttpResponse) -> None:
    handler.send_response(resp.status, reason_phrase(resp.status))
    for name, value in resp.headers.multi_items():
        if name.lower() not in _HOP_HEADERS:
            handler.send_header(name, value)
    for cookie in resp.cookies:
        handler.send_header("Set-Cookie", cookie)
    if handler.close_connection:
        handler.send_header("Connection", "close")
    bodyless = handler.command == "HEAD" or resp.status in (204, 304) or resp.status < 200
    if not bodyless or handler.command == "HEAD":
        handler.send_header("Content-Length", str(len(resp.body)))
    handler.end_headers()
    if not bodyless:
        handler.wfile.write(resp.body)


def is_control_path(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


class LocalHttpServer(HTTPServer):
    """Serves `app_handler` for the app's routes and `control` for ``/_polyfn/...``.

    Each connection is served by a thread of a pool that grows to `max_connections` threads and
    keeps them: starting a thread per connection cost more than the rest of a small request.
    """

    request_queue_size = LISTEN_BACKLOG

    def __init__(
        self,
        address: tuple[str, int],
        app_handler: Callable[[HttpRequest], HttpResponse],
        control: Callable[[HttpRequest], HttpResponse],
        limits: HttpLimits | None = None,
        allow_hosts: Sequence[str] = (),
    ) -> None:
        self.app_handler = app_handler
        self.control = control
        self.limits = limits or HttpLimits()
        self._slots = threading.BoundedSemaphore(self.limits.max_connections)
        self._stopping = threading.Event()
        self._accepted: queue.SimpleQueue[tuple[Any, Any] | None] = queue.SimpleQueue()
        self._pool_lock = threading.Lock()
        self._idle_workers = 0  # workers waiting on `_accepted` and not promised a connection
        self._workers: list[threading.Thread] = []
        super().__init__(address, _Handler)
        self.hosts = HostPolicy(address[0], self.server_address[1], allow_hosts)

    def server_bind(self) -> None:
        # HTTPServer.server_bind also looks up the host's FQDN, which can wait on DNS; only
        # the port is needed.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "localhost", self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        # Past `max_connections`, stop accepting: new connections wait in the kernel's queue
        # until one ends (an idle one ends after `idle_timeout`).
        while not self._slots.acquire(timeout=0.2):
            if self._stopping.is_set():
                self.shutdown_request(request)
                return
        with self._pool_lock:
            if self._idle_workers:
                self._idle_workers -= 1  # that worker takes this connection
            else:
                worker = threading.Thread(
                    target=self._serve_connections, name="polyfn-http", daemon=True
                )
                worker.start()
                self._workers.append(worker)
        self._accepted.put((request, client_address))

    def _serve_connections(self) -> None:
        while (item := self._accepted.get()) is not None:
            request, client_address = item
            try:
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)
                self._slots.release()
            with self._pool_lock:
                self._idle_workers += 1

    def shutdown(self) -> None:
        self._stopping.set()
        super().shutdown()

    def server_close(self) -> None:
        super().server_close()
        with self._pool_lock:
            for _ in self._workers:
                self._accepted.put(None)  # each worker ends after its current connection


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One buffered write per response (flushed by handle_one_request) and no Nagle delay:
    # headers and body in separate small segments otherwise wait out the peer's delayed ACK.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server: LocalHttpServer
    connection: socket.socket
    server_version = "polyfn-local"

    def setup(self) -> None:
        super().setup()
        # Bounds each read and write on the socket: an idle or stalled client is let go.
        self.connection.settimeout(self.server.limits.idle_timeout)

    def handle_one_request(self) -> None:
        self.close_connection = True  # until a request is read whole
        self.command, self.request_version, self.requestline = "", "HTTP/1.1", ""
        try:
            self._one_request()
        except HttpError as exc:
            self._refuse(exc)
        except TimeoutError:
            # Idle between requests, or a body or an answer stalled: the connection ends.
            self.close_connection = True
        except OSError:
            self.close_connection = True  # the client went away
            return
        except Exception:
            _logger.exception("the local HTTP front end failed on a request")
            self._refuse(HttpError(500, "internal error"))
        try:
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _one_request(self) -> None:
        limits = self.server.limits
        head = read_head(self.rfile, limits.idle_timeout)
        if head is None:
            return
        self.command, self.request_version = head.method, head.version
        self.requestline = f"{head.method} {head.target} {head.version}"
        host = head.one("host")
        if host is None and head.version == "HTTP/1.1":
            raise HttpError(400, "an HTTP/1.1 request without a Host header (RFC 9112 3.2).")
        framing = body_framing(head, limits.max_body_bytes)
        path, query, authority = split_target(head.target)
        self.server.hosts.check_host(host)
        if authority is not None:
            self.server.hosts.check_host(authority)
        if is_control_path(path):
            self.server.hosts.check_control(head.one("origin"), head.one("sec-fetch-site"))
        expect = head.one("expect")
        if expect is not None:
            if expect.lower() != "100-continue":
                raise HttpError(417, f"Expect {expect!r} is not supported; only 100-continue.")
            if head.version == "HTTP/1.1" and (framing.chunked or framing.length):
                # Every check passed: let the client send the body now, not after a timeout.
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                self.wfile.flush()
        body = read_body(self.rfile, framing, limits.max_body_bytes)
        options = {o.strip(" \t").lower() for v in head.values("connection") for o in v.split(",")}
        self.close_connection = "close" in options or (
            head.version == "HTTP/1.0" and "keep-alive" not in options
        )
        req = HttpRequest(
            head.method,
            path,
            query=query,
            headers=head.fields,
            body=body,
            source_ip=self.client_address[0],
            raw={"path": head.target, "client": self.client_address[0]},
        )
        resp = self.server.control(req) if is_control_path(path) else self.server.app_handler(req)
        write_response(self, resp)

    def _refuse(self, exc: HttpError) -> None:
        """Answer a refused request and close: its body (if any) was not read."""
        self.close_connection = True
        self._headers_buffer: list[bytes] = []  # drop the head of an answer that failed midway
        payload = {"error": str(exc), **exc.details}
        with contextlib.suppress(OSError):  # the client may be gone
            write_response(
                self, HttpResponse(dump_json(payload), exc.status, content_type="application/json")
            )

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: each invocation writes its own JSON log line instead."""
