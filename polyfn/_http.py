"""The neutral HTTP model: `HttpRequest`, `HttpResponse` and the handler-result conversions."""

from __future__ import annotations

import json
import re  # already loaded by json; costs nothing more
from collections.abc import Iterable, Mapping

from polyfn._multidict import Headers, QueryParams

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from polyfn._auth import Principal

# RFC 9110 reason phrases, for the clouds (ALB) that want a status line, and for logs.
REASON_PHRASES: dict[int, str] = {
    100: "Continue", 101: "Switching Protocols", 200: "OK", 201: "Created", 202: "Accepted",
    203: "Non-Authoritative Information", 204: "No Content", 205: "Reset Content",
    206: "Partial Content", 300: "Multiple Choices", 301: "Moved Permanently", 302: "Found",
    303: "See Other", 304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable", 408: "Request Timeout",
    409: "Conflict", 410: "Gone", 411: "Length Required", 412: "Precondition Failed",
    413: "Content Too Large", 414: "URI Too Long", 415: "Unsupported Media Type",
    416: "Range Not Satisfiable", 417: "Expectation Failed", 418: "I'm a teapot",
    421: "Misdirected Request", 422: "Unprocessable Content", 425: "Too Early",
    426: "Upgrade Required", 428: "Precondition Required", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons",
    500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
}  # fmt: skip


def reason_phrase(status: int) -> str:
    """The reason phrase for `status` ("Unknown" for codes RFC 9110 does not name)."""
    return REASON_PHRASES.get(status, "Unknown")


def parse_cookie_header(values: Iterable[str]) -> dict[str, str]:
    """Parse one or more ``Cookie`` header values into name -> value (the first one wins)."""
    cookies: dict[str, str] = {}
    for value in values:
        for part in value.split(";"):
            name, sep, val = part.strip().partition("=")
            if not sep or not name:
                continue
            name = name.strip()
            val = val.strip()
            if len(val) >= 2 and val[0] == val[-1] == '"':
                val = val[1:-1]
            cookies.setdefault(name, val)
    return cookies


def stripped_prefix(full: Any, path: str) -> str:
    """What an adapter dropped from `full` to leave `path`: the stage, base path or route prefix
    the client's URL has ("" when nothing was dropped, or when `full` does not end with `path`)."""
    if type(full) is not str or full == path or not full.startswith("/"):
        return ""
    if path == "/":
        return full.rstrip("/")
    return full[: -len(path)] if full.endswith(path) else ""


class HttpRequest:
    """An HTTP request, as every cloud delivers it to a polyfn handler.

    `path` is percent-decoded and carries no stage or base-path prefix; `root_path` is that
    prefix as the client's URL has it ("/prod" for an API Gateway stage, "/api" for Azure's
    route prefix, "" where there is none), so a web framework can build the client's URLs;
    `body` is the raw bytes (base64 transport encodings already removed); `raw` is the native
    event, as an escape hatch.
    """

    __slots__ = (
        "_cookies",
        "_headers",
        "_principal",
        "_query",
        "_raw_headers",
        "_raw_query",
        "_state",
        "body",
        "cloud_reader",
        "method",
        "model",
        "path",
        "path_params",
        "raw",
        "root_path",
        "route",
        "source_ip",
    )
    # Set only when used (see __init__): an adapter's reader of the caller its cloud verified,
    # the Principal an authentication hook established, middleware's per-request values.
    cloud_reader: Callable[[HttpRequest], Principal | None] | None
    _principal: Principal | None
    _state: dict[str, Any]

    def __init__(
        self,
        method: str,
        path: str,
        *,
        query: QueryParams | Iterable[tuple[str, str]] | Mapping[str, str] | str | None = None,
        headers: Headers | Iterable[tuple[str, str]] | Mapping[str, str] | None = None,
        body: bytes = b"",
        cookies: Mapping[str, str] | None = None,
        path_params: Mapping[str, str] | None = None,
        source_ip: str | None = None,
        raw: Any = None,
        root_path: str = "",
    ) -> None:
        self.method = method.upper()
        self.path = path or "/"
        # A raw query string is parsed on first use: most handlers never read the query.
        self._raw_query: str | None = None
        self._query: QueryParams | None = None
        if isinstance(query, QueryParams):
            self._query = query
        elif isinstance(query, str):
            self._raw_query = query
        else:
            self._query = QueryParams(query)
        # A plain dict of headers becomes `Headers` on first use, like the raw query string.
        self._raw_headers: dict[str, str] | None = None
        self._headers: Headers | None = None
        if isinstance(headers, Headers):
            self._headers = headers
        elif type(headers) is dict:
            self._raw_headers = headers
        else:
            self._headers = Headers(headers)
        if not isinstance(body, bytes):
            body = bytes(body)
        self.body = body
        self._cookies = dict(cookies) if cookies is not None else None
        self.path_params: dict[str, str] = dict(path_params or {})
        self.source_ip = source_ip
        self.raw = raw
        self.root_path = root_path
        self.route: str | None = None
        self.model: Any = None
        # `_principal`, `_state` and `cloud_reader` are left unset here, so a request that never
        # uses them costs nothing more to build (the HTTP budget): the properties below read an
        # unset slot as None (or a new dict).

    @property
    def principal(self) -> Principal | None:
        """Who sent the request, once an authentication hook (polyfn._auth) established it."""
        try:
            return self._principal
        except AttributeError:
            return None

    @principal.setter
    def principal(self, value: Principal | None) -> None:
        self._principal = value

    @property
    def cloud_principal(self) -> Principal | None:
        """The caller as the cloud's front end verified it (an API Gateway authorizer's claims,
        App Service authentication's client principal, IAP or Cloud Run IAM), read from the
        native request by the adapter's `cloud_reader` when asked; None where there is none."""
        try:
            reader = self.cloud_reader
        except AttributeError:
            return None
        return reader(self) if reader is not None else None

    @property
    def state(self) -> dict[str, Any]:
        """A dict for middleware to hand values to the handler, per request."""
        try:
            return self._state
        except AttributeError:
            self._state = {}
            return self._state

    @property
    def query(self) -> QueryParams:
        """The query parameters, in order, repeated keys and blank values kept."""
        if self._query is None:
            self._query = QueryParams.parse(self._raw_query or "")
        return self._query

    @query.setter
    def query(self, value: QueryParams) -> None:
        self._query = value

    @property
    def query_string(self) -> str:
        """The query as a query string: as the cloud delivered it where it did (percent-encoded),
        else encoded from the parsed parameters (repeated keys and blank values kept)."""
        if self._raw_query is not None:
            return self._raw_query
        from urllib.parse import quote, urlencode

        return urlencode(self.query.multi_items(), quote_via=quote)

    @property
    def headers(self) -> Headers:
        """The request headers: case-insensitive, every value of a repeated header kept."""
        if self._headers is None:
            self._headers = Headers(self._raw_headers)
        return self._headers

    @headers.setter
    def headers(self, value: Headers) -> None:
        self._headers = value

    def header(self, name: str) -> str | None:
        """The first value of header `name` (lower case). While the headers are still the
        adapter's dict, a header that is absent (the common case: polyfn looks for a
        ``traceparent`` on every request) is known absent without building `headers`."""
        raw = self._raw_headers
        if self._headers is None and raw is not None:
            value = raw.get(name)
            if value is not None:
                return value
            if name not in "\n".join(raw).lower():
                return None
        return self.headers.get(name)

    @property
    def cookies(self) -> dict[str, str]:
        """Request cookies, name -> value, from the Cookie header(s) or the cloud's cookie list."""
        if self._cookies is None:
            self._cookies = parse_cookie_header(self.headers.getall("cookie"))
        return self._cookies

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (or the charset the Content-Type names)."""
        charset = "utf-8"
        ctype = self.headers.get("content-type")
        if ctype and "charset=" in ctype:
            charset = ctype.split("charset=", 1)[1].split(";", 1)[0].strip().strip('"') or charset
        try:
            return self.body.decode(charset)
        except LookupError:
            return self.body.decode("utf-8")

    def json(self) -> Any:
        """The body parsed as JSON; raises `ValueError` (json.JSONDecodeError) if it is not."""
        return json.loads(self.body) if self.body else None

    def __repr__(self) -> str:
        return f"HttpRequest({self.method} {self.path!r}, {len(self.body)} bytes)"


def _json_default(obj: Any) -> Any:
    import datetime as _dt

    if isinstance(obj, _dt.datetime | _dt.date | _dt.time):
        return obj.isoformat()
    model_dump: Callable[..., Any] | None = getattr(obj, "model_dump", None)
    if model_dump is not None:  # pydantic v2 model
        return model_dump(mode="json")
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    import decimal
    import uuid

    if isinstance(obj, decimal.Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    if isinstance(obj, uuid.UUID):
        return str(obj)
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


# One encoder for every response: json.dumps with options builds a new JSONEncoder per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_json_default)
# For text UTF-8 cannot hold (a lone surrogate, as Python keeps an undecodable byte): JSON's own
# \uXXXX escapes say it in ASCII (RFC 8259 section 7), where UTF-8 would raise.
_ASCII_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, default=_json_default)


def dump_json(obj: Any) -> bytes:
    """Compact UTF-8 JSON, with datetimes, Decimals, UUIDs and pydantic models handled."""
    text = _ENCODER.encode(obj)
    try:
        return text.encode()
    except UnicodeEncodeError:
        return _ASCII_ENCODER.encode(obj).encode()


_TEXT_TYPES = (
    "application/json",
    "application/javascript",
    "application/ecmascript",
    "application/xml",
    "application/xhtml+xml",
    "application/x-www-form-urlencoded",
    "application/graphql",
    "application/x-ndjson",
    "application/problem+json",
    "image/svg+xml",
)


def is_text_content(content_type: str | None, content_encoding: str | None = None) -> bool:
    """Whether a body with these headers is text that may travel unencoded.

    A body with a Content-Encoding (gzip, br) is binary whatever its type.
    """
    if content_encoding and content_encoding.strip().lower() not in ("identity", ""):
        return False
    if not content_type:
        return False
    if content_type == "application/json":  # what HttpResponse.json sets: the common case
        return True
    ctype = content_type.split(";", 1)[0].strip().lower()
    return (
        ctype.startswith("text/")
        or ctype in _TEXT_TYPES
        or ctype.endswith("+json")
        or ctype.endswith("+xml")
    )


class HttpResponse:
    """An HTTP response: a status, a header multi-map, Set-Cookie values and a body of bytes.

    `cookies` holds whole Set-Cookie values; several are allowed and each reaches the client as its
    own header on every cloud.
    """

    __slots__ = ("body", "cookies", "headers", "status")

    def __init__(
        self,
        body: bytes | str = b"",
        status: int = 200,
        headers: Headers | Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        cookies: Iterable[str] | None = None,
        content_type: str | None = None,
    ) -> None:
        self.status = int(status)
        self.headers = headers.copy() if isinstance(headers, Headers) else Headers(headers)
        self.cookies: list[str] = list(cookies or ())
        if isinstance(body, str):
            body = body.encode()
            if content_type is None and "content-type" not in self.headers:
                content_type = "text/plain; charset=utf-8"
        self.body: bytes = bytes(body)
        if content_type is not None:
            self.headers.set("Content-Type", content_type)

    @classmethod
    def json(
        cls,
        obj: Any,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        return cls(dump_json(obj), status, headers, content_type="application/json")

    @classmethod
    def text(
        cls,
        text: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str = "text/plain; charset=utf-8",
    ) -> HttpResponse:
        return cls(text.encode(), status, headers, content_type=content_type)

    @classmethod
    def html(cls, html: str, status: int = 200) -> HttpResponse:
        return cls.text(html, status, content_type="text/html; charset=utf-8")

    @classmethod
    def binary(
        cls, data: bytes, content_type: str = "application/octet-stream", status: int = 200
    ) -> HttpResponse:
        return cls(data, status, content_type=content_type)

    @classmethod
    def redirect(cls, url: str, status: int = 302) -> HttpResponse:
        if status not in (301, 302, 303, 307, 308):
            raise ValueError(f"redirect status must be 301, 302, 303, 307 or 308, got {status}")
        return cls(b"", status, {"Location": url})

    @classmethod
    def empty(cls, status: int = 204) -> HttpResponse:
        return cls(b"", status)

    def set_cookie(
        self,
        name: str,
        value: str,
        *,
        max_age: int | None = None,
        expires: str | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        http_only: bool = False,
        same_site: str | None = None,
    ) -> HttpResponse:
        """Append one Set-Cookie value; returns self so calls chain."""
        parts = [f"{name}={value}"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if expires is not None:
            parts.append(f"Expires={expires}")
        if path is not None:
            parts.append(f"Path={path}")
        if domain is not None:
            parts.append(f"Domain={domain}")
        if secure:
            parts.append("Secure")
        if http_only:
            parts.append("HttpOnly")
        if same_site is not None:
            parts.append(f"SameSite={same_site}")
        self.cookies.append("; ".join(parts))
        return self

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def text_body(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def text_or_none(self) -> str | None:
        """The body as text if it may travel as text (a text type, no Content-Encoding, valid
        UTF-8), else None. Adapters whose cloud wants the rest base64 ask this, decoding once."""
        body = self.body
        if not body:
            return ""
        headers = self.headers
        if not is_text_content(headers.get("content-type"), headers.get("content-encoding")):
            return None
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def is_text(self) -> bool:
        """Whether the body may travel as text (a text type, no Content-Encoding, valid UTF-8)."""
        return self.text_or_none() is not None

    def normalized(self) -> HttpResponse:
        """Move any Set-Cookie headers into `cookies`, so adapters have one place to read them."""
        extra = self.headers.pop("set-cookie")
        if extra:
            self.cookies.extend(extra)
        return self

    def __repr__(self) -> str:
        return f"HttpResponse({self.status}, {len(self.body)} bytes)"


def internal_error(request_id: str) -> HttpResponse:
    """polyfn's own 500: no detail for the client, the id that finds the log line."""
    return HttpResponse(
        dump_json({"error": "internal error", "request_id": request_id}),
        500,
        content_type="application/json",
    )


# RFC 9110 section 5.1: a field name is a token (section 5.6.2). Section 5.5: CR, LF and NUL are
# invalid in a field value; a CR or LF would end the field line and start another (header or
# Set-Cookie injection), and servers refuse them (werkzeug raises ValueError).
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Names already found to be tokens (the few every app sends), so most checks are one set lookup.
_TOKENS_SEEN: set[str] = set()
_TOKENS_SEEN_MAX = 256


def _is_token(name: object) -> bool:
    if type(name) is not str or _TOKEN.fullmatch(name) is None:
        return False
    if len(_TOKENS_SEEN) < _TOKENS_SEEN_MAX:
        _TOKENS_SEEN.add(name)
    return True


def _why_bad(value: object) -> str:
    if type(value) is not str:
        return f"of type {type(value).__name__}, not str"
    return f"with CR, LF or NUL: {value!r}"


def response_problem(resp: HttpResponse) -> str | None:
    """Why `resp` cannot be sent, or None: a status that is not an int in 100-599 (a bool is no
    status), a header name that is not a token, a header value or Set-Cookie value that is not a
    string or holds CR, LF or NUL, a body that is not bytes. Runs on every response: the common
    case is a set lookup and three substring scans per header."""
    status = resp.status
    if type(status) is not int or not 100 <= status <= 599:
        return f"status {status!r} is not an int from 100 to 599"
    seen = _TOKENS_SEEN
    for name, value in resp.headers.multi_items():
        if name not in seen and not _is_token(name):
            return f"header name {name!r} is not an HTTP token (RFC 9110 section 5.1)"
        if type(value) is not str or "\r" in value or "\n" in value or "\x00" in value:
            return f"header {name} has a value {_why_bad(value)}"
    for cookie in resp.cookies:
        if type(cookie) is not str or "\r" in cookie or "\n" in cookie or "\x00" in cookie:
            return f"a Set-Cookie value {_why_bad(cookie)}"
    if type(resp.body) is not bytes:
        return f"body of type {type(resp.body).__name__}, not bytes"
    return None


def to_response(result: Any) -> HttpResponse:
    """Turn what a handler returned into an `HttpResponse`.

    HttpResponse as is; None -> 204; dict or list -> JSON 200; str -> text 200;
    bytes -> application/octet-stream 200; a pydantic model -> JSON 200;
    a (body, status) or (body, status, headers) tuple -> that body with that status.
    """
    if isinstance(result, HttpResponse):
        return result
    if result is None:
        return HttpResponse(b"", 204)
    if isinstance(result, dict | list):
        return HttpResponse.json(result)
    if isinstance(result, str):
        return HttpResponse.text(result)
    if isinstance(result, bytes | bytearray | memoryview):
        return HttpResponse(bytes(result), 200, content_type="application/octet-stream")
    if isinstance(result, tuple) and 2 <= len(result) <= 3 and isinstance(result[1], int):
        resp = to_response(result[0])
        resp.status = result[1]
        if len(result) == 3:
            for name, value in dict(result[2]).items():
                resp.headers.set(name, value)
        return resp
    if hasattr(result, "model_dump"):
        return HttpResponse.json(result)
    raise TypeError(
        f"handler returned {type(result).__name__}; return an HttpResponse, dict, list, str, "
        "bytes or None"
    )
