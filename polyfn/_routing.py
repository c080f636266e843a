"""Path templates and the router: ``/orders/{order_id}`` and a greedy ``/files/{path+}``.

Parameters must fill whole segments and a greedy parameter must be the last segment: that is what
API Gateway, Azure Functions route templates and Flask can all express, so a route declared once
means the same on every cloud.
"""

from __future__ import annotations

import re

from polyfn._errors import ConfigError

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from polyfn._app import Function

HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")

_PARAM = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$")


class Segment:
    """One segment of a path template: static text, a parameter, or a greedy parameter."""

    __slots__ = ("greedy", "name", "text")

    def __init__(self, text: str, name: str | None = None, greedy: bool = False) -> None:
        self.text = text
        self.name = name
        self.greedy = greedy

    @property
    def is_param(self) -> bool:
        return self.name is not None


def parse_template(template: str) -> list[Segment]:
    """Split a path template into segments; `ConfigError` names what is not portable."""
    if not template.startswith("/"):
        raise ConfigError(f"route {template!r} must start with '/'")
    body = template.strip("/")
    if not body:
        return []
    segments: list[Segment] = []
    seen: set[str] = set()
    parts = body.split("/")
    for i, part in enumerate(parts):
        if not part:
            raise ConfigError(f"route {template!r} has an empty segment")
        match = _PARAM.match(part)
        if match is None:
            if "{" in part or "}" in part:
                raise ConfigError(
                    f"route {template!r}: segment {part!r} mixes text and a parameter; "
                    "a parameter must fill a whole segment, as {name} or a last {name+}"
                )
            segments.append(Segment(part))
            continue
        name, plus = match.group(1), bool(match.group(2))
        if name in seen:
            raise ConfigError(f"route {template!r} names parameter {name!r} twice")
        if plus and i != len(parts) - 1:
            raise ConfigError(f"route {template!r}: greedy {{{name}+}} must be the last segment")
        seen.add(name)
        segments.append(Segment(part, name, plus))
    return segments


def normalize_path(path: str) -> str:
    """The path that routing compares: a trailing slash is not significant."""
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


class Route:
    """One path template with the targets (functions) bound to each of its methods."""

    __slots__ = ("_regex", "methods", "names", "segments", "shape", "specificity", "template")

    def __init__(self, template: str) -> None:
        self.template = template
        self.segments = parse_template(template)
        self.methods: dict[str, Function] = {}
        self.names = [s.name for s in self.segments if s.name]
        pattern = "".join(
            "/" + ("(.+)" if s.greedy else "([^/]+)" if s.is_param else re.escape(s.text))
            for s in self.segments
        )
        self._regex = re.compile("^" + (pattern or "/") + "$")
        # Static segments outrank parameters, which outrank a greedy tail.
        self.specificity = tuple(2 if s.greedy else 1 if s.is_param else 0 for s in self.segments)
        # Two templates with the same shape match the same paths: /a/{x} and /a/{y}.
        self.shape = tuple(
            "{+}" if s.greedy else "{}" if s.is_param else s.text for s in self.segments
        )

    @property
    def is_static(self) -> bool:
        return not self.names

    def match(self, path: str) -> dict[str, str] | None:
        m = self._regex.match(path)
        if m is None:
            return None
        return dict(zip(self.names, m.groups(), strict=True))


class NoRoute(Exception):  # noqa: N818 - a signal, not an error callers see
    """No template matches the path (404)."""


class MethodNotAllowed(Exception):  # noqa: N818
    """Templates match the path but none accepts the method (405); `allow` lists those that do."""

    def __init__(self, allow: list[str]) -> None:
        super().__init__(", ".join(allow))
        self.allow = allow


class Router:
    """Finds the target bound to a method and path."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._static: dict[str, Route] = {}
        self._dynamic: list[Route] = []

    def add(self, template: str, methods: list[str], target: Function) -> Route:
        route = self._routes.get(template)
        if route is None:
            route = Route(template)
            for other in self._routes.values():
                if (
                    other.specificity == route.specificity
                    and [s.text for s in other.segments if not s.is_param]
                    == [s.text for s in route.segments if not s.is_param]
                    and all(
                        a.is_param == b.is_param
                        for a, b in zip(other.segments, route.segments, strict=True)
                    )
                ):
                    raise ConfigError(
                        f"route {template!r} is the same path as {other.template!r} "
                        "with other parameter names"
                    )
            self._routes[template] = route
            if route.is_static:
                self._static[normalize_path(template)] = route
            else:
                self._dynamic.append(route)
                self._dynamic.sort(key=lambda r: r.specificity)
        for method in methods:
            if method in route.methods:
                raise ConfigError(f"{method} {template} is declared twice")
            route.methods[method] = target
        return route

    @property
    def routes(self) -> list[Route]:
        return list(self._routes.values())

    def route_for(self, path: str) -> Route | None:
        """The most specific route whose template matches `path`, whatever the method."""
        path = normalize_path(path)
        static = self._static.get(path)
        if static is not None:
            return static
        for route in self._dynamic:
            if route.match(path) is not None:
                return route
        return None

    def match(self, method: str, path: str) -> tuple[Route, Function, dict[str, str]]:
        """The route, target and path parameters for a request; raises NoRoute/MethodNotAllowed."""
        path = normalize_path(path)
        allowed: set[str] = set()
        static = self._static.get(path)
        if static is not None:
            target = _target(static, method)
            if target is not None:
                return static, target, {}
            allowed.update(_allowed(static))
        for route in self._dynamic:
            params = route.match(path)
            if params is None:
                continue
            target = _target(route, method)
            if target is not None:
                return route, target, params
            allowed.update(_allowed(route))
        if allowed:
            raise MethodNotAllowed(sorted(allowed))
        raise NoRoute(path)


def _target(route: Route, method: str) -> Function | None:
    """The function bound to `method`; HEAD falls back to GET (RFC 9110 section 9.3.2: a server
    that answers GET must answer HEAD, with the same headers and no body)."""
    target = route.methods.get(method)
    if target is None and method == "HEAD":
        target = route.methods.get("GET")
    return target


def _allowed(route: Route) -> list[str]:
    # Allow advertises the methods declared (RFC 9110 section 10.2.1 lets it be a subset); the
    # implicit HEAD of a GET route is served but not listed, so Allow reads as the app says.
    return list(route.methods)
