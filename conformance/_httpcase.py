"""`HttpCase`: one HTTP request as a client sends it, and what the handler and the client must see.

A case is neutral: the request is written as it leaves the client (the path and query string
percent-encoded as on the wire, header lines in order with repeated names, a body of bytes); each
target's driver renders it into its cloud's native input. The expectations are compared with the
`Outcome` the driver reads back, in HTTP's own terms:

- several field lines of one header are the same as one line with the values joined by commas
  (RFC 9110 section 5.3), so ``["a", "b"]`` matches ``["a, b"]`` (except Set-Cookie, which is
  compared cookie by cookie);
- Set-Cookie values are compared by name, value and attributes (attribute names are
  case-insensitive, their order is not significant).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance._spec import Outcome, Target

# RFC 5737 documentation address (TEST-NET-3): the client every case comes from.
SOURCE_IP = "203.0.113.7"


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


@dataclass(frozen=True)
class HttpCase:
    """One HTTP request and its expectations.

    Request: `method`, `path` and `query` exactly as on the wire (percent-encoded), `headers` as
    ordered field lines (a name may repeat), `cookies` sent in one Cookie header, `body` bytes,
    `source_ip` the client's address.

    Expectations (each optional): `status`; `response_headers` (name -> every value);
    `absent_headers`; `set_cookies` (every Set-Cookie, in any order); `response_body` (exact
    bytes) or `response_json` (the parsed body equals) or `json_subset` (these keys of the
    parsed body equal); `body_excludes` (text that must not appear in the body); `seen` (these
    keys of what the handler recorded equal; ``headers`` compared per header by its values);
    `calls` (how many handler calls were recorded). `same_everywhere`: the runner also checks
    that every target answered with the same status, body and cookies (useful for a user's own
    cases that carry no expectations).

    `live`: a target that can also serve over a real local server (gcp-http) sends this case
    over the wire instead of through the in-process test client.
    """

    name: str
    method: str = "GET"
    path: str = "/"
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    cookies: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    source_ip: str = SOURCE_IP
    status: int | None = 200
    response_headers: dict[str, list[str]] = field(default_factory=dict)
    absent_headers: tuple[str, ...] = ()
    set_cookies: tuple[str, ...] | None = None
    response_body: bytes | None = None
    response_json: Any = UNSET
    json_subset: dict[str, Any] | None = None
    body_excludes: tuple[str, ...] = ()
    seen: dict[str, Any] | None = None
    calls: int | None = None
    same_everywhere: bool = False
    live: bool = False
    description: str = ""
    trigger: str = field(default="http", init=False)

    @property
    def header_names(self) -> list[str]:
        """Distinct request header names, lower-cased, in first-seen order."""
        names: list[str] = []
        for name, _ in self.headers:
            if name.lower() not in names:
                names.append(name.lower())
        return names

    def header_values(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n.lower() == name.lower()]

    @property
    def has_repeated_headers(self) -> bool:
        names = [n.lower() for n, _ in self.headers]
        return len(names) != len(set(names))

    def check(self, outcome: Outcome, target: Target) -> list[str]:
        """Every way `outcome` differs from this case's expectations (empty: it passed)."""
        problems: list[str] = []
        if self.status is not None and outcome.status != self.status:
            problems.append(f"status {outcome.status}, expected {self.status}")
        for name, expected in self.response_headers.items():
            actual = outcome.headers.get(name.lower(), [])
            if field_values(actual) != field_values(expected):
                problems.append(f"header {name}: {actual!r}, expected {expected!r}")
        for name in self.absent_headers:
            if name.lower() in outcome.headers:
                problems.append(f"header {name} present: {outcome.headers[name.lower()]!r}")
        if self.set_cookies is not None:
            got = sorted(map(cookie_key, outcome.cookies))
            want = sorted(map(cookie_key, self.set_cookies))
            if got != want:
                problems.append(
                    f"Set-Cookie {list(outcome.cookies)!r}, expected {list(self.set_cookies)!r}"
                )
        if self.response_body is not None and outcome.body != self.response_body:
            problems.append(f"body {_short(outcome.body)}, expected {_short(self.response_body)}")
        if self.response_json is not UNSET or self.json_subset is not None:
            problems.extend(self._check_json(outcome.body))
        text = outcome.body.decode("utf-8", "replace")
        for needle in self.body_excludes:
            if needle in text:
                problems.append(f"body contains {needle!r}: {_short(outcome.body)}")
        if self.calls is not None and len(outcome.seen) != self.calls:
            problems.append(f"handler called {len(outcome.seen)} time(s), expected {self.calls}")
        cloud = target.cloud
        for entry in outcome.seen:
            # Every handler call knows which cloud it runs on and its invocation's id.
            if cloud is not None and entry.get("provider", cloud) != cloud:
                problems.append(f"ctx.provider {entry['provider']!r}, expected {cloud!r}")
            if entry.get("has_invocation_id") is False:
                problems.append("ctx.invocation_id is empty")
        if self.seen is not None:
            if not outcome.seen:
                problems.append("the handler recorded nothing")
            else:
                problems.extend(compare_seen(self.seen, outcome.seen[-1]))
        return problems

    def _check_json(self, body: bytes) -> list[str]:
        try:
            parsed = json.loads(body)
        except ValueError:
            return [f"body is not JSON: {_short(body)}"]
        problems = []
        if self.response_json is not UNSET and parsed != self.response_json:
            problems.append(f"JSON body {parsed!r}, expected {self.response_json!r}")
        if self.json_subset is not None:
            if not isinstance(parsed, dict):
                return [f"JSON body {parsed!r} is not an object"]
            for key, want in self.json_subset.items():
                if key not in parsed:
                    problems.append(f"JSON body has no {key!r}: {parsed!r}")
                elif want is not ANY and want != parsed[key]:
                    problems.append(f"JSON body {key!r}: {parsed[key]!r}, expected {want!r}")
        return problems

    def same(self, first: Outcome, other: Outcome) -> list[str]:
        """How `other` differs from `first` in what a client sees (status, body, cookies)."""
        problems = []
        if other.status != first.status:
            problems.append(f"status {other.status} where another target gave {first.status}")
        if other.body != first.body:
            problems.append(
                f"body {_short(other.body)} where another target gave {_short(first.body)}"
            )
        if sorted(map(cookie_key, other.cookies)) != sorted(map(cookie_key, first.cookies)):
            problems.append(f"Set-Cookie {other.cookies!r} where another gave {first.cookies!r}")
        return problems


class _Any:
    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "ANY"


# In `json_subset` or `seen`: the key must be present, any value.
ANY: Any = _Any()


class _Present:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other.strip())

    def __hash__(self) -> int:
        return 1

    def __repr__(self) -> str:
        return "PRESENT"


# In `json_subset` or `seen`: a non-empty string.
PRESENT: Any = _Present()


def field_values(values: list[str]) -> list[str]:
    """A header's values as a list of list elements: field lines split on commas (RFC 9110 5.3)."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def cookie_key(set_cookie: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """A Set-Cookie value as (name, value, sorted attributes with lower-cased names)."""
    first, *attrs = [p.strip() for p in set_cookie.split(";")]
    name, _, value = first.partition("=")
    parsed = []
    for attr in attrs:
        if not attr:
            continue
        key, sep, val = attr.partition("=")
        parsed.append((key.strip().lower(), val.strip() if sep else ""))
    return name.strip(), value.strip(), tuple(sorted(parsed))


def compare_seen(expected: dict[str, Any], seen: dict[str, Any]) -> list[str]:
    """How the handler's record `seen` differs from the `expected` keys."""
    problems = []
    for key, want in expected.items():
        if key not in seen:
            problems.append(f"handler saw no {key!r}")
            continue
        got = seen[key]
        if key == "headers":
            for name, values in want.items():
                have = got.get(name.lower())
                if values is None:
                    if have is not None:
                        problems.append(f"handler saw header {name}: {have!r}, expected none")
                elif field_values(have or []) != field_values(values):
                    problems.append(f"handler saw header {name}: {have!r}, expected {values!r}")
        elif want is not ANY and got != want:
            problems.append(f"handler saw {key}={_short(got)}, expected {_short(want)}")
    return problems


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"
