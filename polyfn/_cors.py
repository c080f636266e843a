"""`CORSConfig`: cross-origin resource sharing, declared app-wide or per route, answered by polyfn.

The rules are the Fetch standard's CORS protocol (https://fetch.spec.whatwg.org/#http-cors-protocol):

- A preflight is an OPTIONS request carrying ``Origin`` and ``Access-Control-Request-Method``.
  polyfn answers it itself, before any middleware (a browser sends no credentials with a
  preflight, so an authentication hook would refuse it): 204 with the ``Access-Control-Allow-*``
  headers when the origin, the method and every requested header are allowed, 403 naming what is
  not allowed otherwise.
- Any other request from an allowed origin gets ``Access-Control-Allow-Origin`` (and
  ``-Allow-Credentials``, ``-Expose-Headers``) on whatever it is answered with, errors included, so
  a page can read a 401 or a 500. A request from an origin not allowed runs as usual and gets no
  CORS headers: the browser then withholds the answer from the page.
- ``Vary: Origin`` is added to every answer whose headers depend on the origin (every answer of a
  route whose origins are a list, whether the request carried an Origin or not), so a shared cache
  never hands one origin's answer to another.
- ``Origin`` must be an origin as RFC 6454 section 6.2 serialises it (``scheme://host[:port]``, or
  ``null``); anything else is answered 400 (no browser sends it).

The wildcard origin with credentials is refused when declared: the Fetch standard forbids
``Access-Control-Allow-Origin: *`` on a credentialed answer, and echoing every origin with
credentials would let any site act as the user.
"""

from __future__ import annotations

import re

from polyfn._errors import ConfigError
from polyfn._http import HttpResponse, dump_json
from polyfn._routing import HTTP_METHODS

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from polyfn._http import HttpRequest

WILDCARD = "*"

# RFC 6454 section 6.2: scheme "://" host [ ":" port ]; a host is a registered name or an IP
# literal in brackets. Lower-case is how browsers serialise an origin, and how it is compared.
_ORIGIN = re.compile(
    r"[a-z][a-z0-9+.-]*://(?:[a-z0-9_~!$&'()*+,;=%.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?"
)
# The most of an Origin header polyfn reads: longer than any real origin (DNS names stop at 253).
ORIGIN_MAX_LENGTH = 512
# RFC 9110 section 5.6.2: a method and a header name are tokens.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")

PREFLIGHT_STATUS = 204
REFUSED_STATUS = 403
MALFORMED_STATUS = 400


def is_origin(value: str) -> bool:
    """Whether `value` is a serialised origin (``https://example.com:8443``) or ``null``."""
    if value == "null":
        return True
    return len(value) <= ORIGIN_MAX_LENGTH and _ORIGIN.fullmatch(value.lower()) is not None


def _names(what: str, values: str | Iterable[str], *, token: bool = True) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    out: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"CORS {what}: expected non-empty strings, got {value!r}")
        if token and value != WILDCARD and _TOKEN.fullmatch(value) is None:
            raise ConfigError(f"CORS {what}: {value!r} is not an HTTP token")
        out.append(value)
    return tuple(dict.fromkeys(out))


def _refused(message: str, status: int = REFUSED_STATUS) -> HttpResponse:
    return HttpResponse(dump_json({"error": message}), status, content_type="application/json")


def add_vary(resp: HttpResponse, *names: str) -> None:
    """Add `names` to the answer's Vary header, keeping what the handler put there."""
    present = {v.strip().lower() for value in resp.headers.getall("vary") for v in value.split(",")}
    if "*" in present:
        return
    missing = [n for n in names if n.lower() not in present]
    if missing:
        resp.headers.add("Vary", ", ".join(missing))


class CORSConfig:
    """Which cross-origin requests a route answers, and what a browser may read of the answer.

    `origins`: ``"*"`` (any origin, no credentials) or the exact origins allowed
    (``"https://shop.example"``); `methods`: the methods a preflight allows (default: the methods
    the route declares); `headers`: the request headers a page may send (``"*"``: whatever it asks
    for; the CORS-safelisted ones are always allowed); `credentials`: whether cookies and
    Authorization may be sent; `max_age`: seconds a browser may cache a preflight answer;
    `expose_headers`: response headers a page may read beyond the safelisted ones.

    Pass it as ``App(name, cors=CORSConfig(...))`` for every route, or
    ``app.http(..., cors=CORSConfig(...))`` for one route (``cors=False`` opts a route out).
    """

    __slots__ = ("credentials", "expose_headers", "headers", "max_age", "methods", "origins")

    def __init__(
        self,
        origins: str | Iterable[str] = WILDCARD,
        *,
        methods: str | Iterable[str] | None = None,
        headers: str | Iterable[str] = (),
        credentials: bool = False,
        max_age: int | None = None,
        expose_headers: str | Iterable[str] = (),
    ) -> None:
        declared = _names("origins", origins, token=False)
        if not declared:
            raise ConfigError("CORS origins: name at least one origin, or '*' for any")
        if WILDCARD in declared and len(declared) > 1:
            raise ConfigError(
                f"CORS origins: '*' allows every origin; do not list others too: {declared}"
            )
        for origin in declared:
            if origin != WILDCARD and (origin == "null" or not is_origin(origin)):
                raise ConfigError(
                    f"CORS origins: {origin!r} is not an origin; write scheme://host[:port] with "
                    "no path or trailing slash, such as 'https://shop.example'"
                )
        if not isinstance(credentials, bool):
            raise ConfigError(f"CORS credentials must be True or False, got {credentials!r}")
        if credentials and WILDCARD in declared:
            raise ConfigError(
                "CORSConfig: credentials=True with origins='*' is refused: browsers reject a "
                "credentialed answer to any origin (Fetch standard, CORS protocol), and "
                "echoing every origin would let any site call the API as the user; list the "
                "origins that may send credentials"
            )
        if max_age is not None and (
            not isinstance(max_age, int) or isinstance(max_age, bool) or max_age < 0
        ):
            raise ConfigError(
                f"CORS max_age must be a non-negative number of seconds, got {max_age!r}"
            )
        self.origins = tuple(o.lower() for o in declared)
        self.methods: tuple[str, ...] | None = None
        if methods is not None:
            wanted = tuple(m.upper() for m in _names("methods", methods))
            for m in wanted:
                if m not in HTTP_METHODS:
                    raise ConfigError(
                        f"CORS methods: unknown HTTP method {m!r}; expected some of "
                        f"{', '.join(HTTP_METHODS)}"
                    )
            self.methods = wanted
        self.headers = tuple(h.lower() for h in _names("headers", headers))
        self.credentials = credentials
        self.max_age = max_age
        self.expose_headers = _names("expose_headers", expose_headers)

    @property
    def any_origin(self) -> bool:
        return self.origins == (WILDCARD,)

    def allows_origin(self, origin: str) -> bool:
        return self.any_origin or origin.lower() in self.origins

    def allowed_methods(self, declared: Iterable[str]) -> tuple[str, ...]:
        """The methods a preflight allows, given those the route declares."""
        return self.methods if self.methods is not None else tuple(declared)

    def preflight(self, req: HttpRequest, declared: Iterable[str]) -> HttpResponse:
        """The answer to a preflight (OPTIONS with Origin and Access-Control-Request-Method)."""
        origin = req.headers.get("origin") or ""
        method = (req.headers.get("access-control-request-method") or "").strip()
        if not is_origin(origin):
            resp = _refused("malformed Origin header", MALFORMED_STATUS)
        elif _TOKEN.fullmatch(method) is None:
            resp = _refused("malformed Access-Control-Request-Method header", MALFORMED_STATUS)
        elif not self.allows_origin(origin):
            resp = _refused(f"CORS: origin {origin[:100]!r} is not allowed")
        else:
            resp = self._preflight_allowed(req, origin, method.upper(), tuple(declared))
        add_vary(resp, "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers")
        return resp

    def _preflight_allowed(
        self, req: HttpRequest, origin: str, method: str, declared: tuple[str, ...]
    ) -> HttpResponse:
        methods = self.allowed_methods(declared)
        if method not in methods and not (method == "HEAD" and "GET" in methods):
            return _refused(
                f"CORS: method {method[:20]!r} is not allowed; allowed: {', '.join(methods)}"
            )
        requested = [
            h.strip().lower()
            for value in req.headers.getall("access-control-request-headers")
            for h in value.split(",")
            if h.strip()
        ]
        for name in requested:
            if _TOKEN.fullmatch(name) is None:
                return _refused("malformed Access-Control-Request-Headers header", MALFORMED_STATUS)
        if WILDCARD not in self.headers:
            refused = [h for h in requested if h not in self.headers]
            if refused:
                return _refused(
                    f"CORS: request header{'s' if len(refused) > 1 else ''} "
                    f"{', '.join(refused)[:200]} not allowed"
                )
        resp = HttpResponse(b"", PREFLIGHT_STATUS)
        self._allow_origin(resp, origin)
        resp.headers.set("Access-Control-Allow-Methods", ", ".join(methods))
        if requested:
            # Echoed rather than '*': a credentialed preflight reads '*' as a header named '*'.
            resp.headers.set("Access-Control-Allow-Headers", ", ".join(dict.fromkeys(requested)))
        if self.max_age is not None:
            resp.headers.set("Access-Control-Max-Age", str(self.max_age))
        return resp

    def _allow_origin(self, resp: HttpResponse, origin: str) -> None:
        resp.headers.set("Access-Control-Allow-Origin", WILDCARD if self.any_origin else origin)
        if self.credentials:
            resp.headers.set("Access-Control-Allow-Credentials", "true")

    def apply(self, req: HttpRequest, resp: HttpResponse) -> None:
        """Add the CORS headers of an actual (not preflight) request's answer."""
        origin = req.headers.get("origin")
        if not self.any_origin:
            add_vary(resp, "Origin")
        if origin is None or not self.allows_origin(origin):
            return
        self._allow_origin(resp, origin)
        if self.expose_headers:
            resp.headers.set("Access-Control-Expose-Headers", ", ".join(self.expose_headers))

    def __repr__(self) -> str:
        return f"CORSConfig(origins={list(self.origins)!r}, credentials={self.credentials})"
