"""Override handling shared by the adapters' sample-event generators (``polyfn events``).

Neutral on purpose: the defaults name the example app of the docs (app "shop", bucket
"uploads", queue "orders", schedule "nightly"); each adapter's ``_samples`` module turns these
values into its cloud's native shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from polyfn._errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

# A fixed instant and ids, so a sample prints the same every time.
SAMPLE_TIME = "2026-01-15T02:00:00Z"
SAMPLE_EPOCH_MS = 1768442400000  # SAMPLE_TIME in milliseconds since the epoch

COMMON: dict[str, dict[str, str]] = {
    "http": {
        "method": "GET",
        "path": "/orders/42",
        "query": "",
        "body": "",
        "source_ip": "203.0.113.7",
        "time": SAMPLE_TIME,
    },
    "schedule": {"app": "shop", "function": "nightly", "time": SAMPLE_TIME},
    "storage": {
        "bucket": "uploads",
        "key": "incoming/report 2026+q1.csv",
        "size": "1024",
        "kind": "created",
        "etag": "d41d8cd98f00b204e9800998ecf8427e",
        "content_type": "text/csv",
        "time": SAMPLE_TIME,
    },
    "queue": {
        "queue": "orders",
        "body": '{"order_id": 42}',
        "id": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "delivery_count": "1",
        "time": SAMPLE_TIME,
    },
}

HELP: dict[str, str] = {
    "method": "HTTP method",
    "path": (
        "request path as a client sends it: %-escapes kept as written (a%2Fb is one segment), "
        "spaces and non-ASCII encoded for you; each sample carries it as its cloud does"
    ),
    "query": "raw query string, e.g. a=1&a=2",
    "body": "the body text",
    "source_ip": "client address",
    "header.NAME": "a request header (repeat --set for several)",
    "app": "polyfn app name",
    "function": "polyfn function name",
    "time": "event or request time, ISO 8601 UTC",
    "bucket": "bucket / container name",
    "key": "object key, decoded (the sample encodes it where the cloud does)",
    "size": "object size in bytes",
    "kind": "created or deleted",
    "etag": "object ETag",
    "content_type": "object content type",
    "queue": "queue or topic name",
    "id": "message id",
    "delivery_count": "which delivery this is (1 = first)",
    "attr.NAME": "a message attribute (repeat --set for several)",
    "group": "message group / ordering key",
}


# What a client leaves as it is in a URL path: RFC 3986's pchar (unreserved, sub-delims, ":" and
# "@"), the "/" between segments, and "%" so that an escape written by the user stays one.
_PATH_AS_SENT = "/%!$&'()*+,;=:@~"


def wire_path(path: str) -> str:
    """`path` as a client puts it on the wire: %-escapes as written; spaces, non-ASCII, "?" and
    "#" percent-encoded (they cannot stand in a URL path)."""
    from urllib.parse import quote

    return quote(path, safe=_PATH_AS_SENT)


class SampleValues:
    """The values of one sample: defaults overlaid with the user's ``--set`` overrides.

    Plain keys read with ``values[key]``; prefixed keys (``header.X``, ``attr.X``) come back
    from `prefixed`. An unknown key is a `ConfigError` that lists the known ones.
    """

    def __init__(
        self,
        trigger: str,
        defaults: Mapping[str, str],
        overrides: Mapping[str, object],
        prefixes: tuple[str, ...] = (),
    ) -> None:
        self.values = dict(defaults)
        self.extra: dict[str, dict[str, str]] = {p: {} for p in prefixes}
        for key, value in overrides.items():
            prefix, dot, rest = key.partition(".")
            if dot and prefix in self.extra and rest:
                self.extra[prefix][rest] = str(value)
            elif key in self.values:
                self.values[key] = str(value)
            else:
                known = sorted(self.values) + [f"{p}.NAME" for p in prefixes]
                raise ConfigError(
                    f"sample {trigger!r} has no field {key!r} to set; it has: {', '.join(known)}"
                )

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def integer(self, key: str) -> int:
        try:
            return int(self.values[key])
        except ValueError:
            raise ConfigError(f"{key}={self.values[key]!r} must be a whole number") from None

    def prefixed(self, prefix: str) -> dict[str, str]:
        return self.extra[prefix]

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.values[key]
        if value not in allowed:
            raise ConfigError(f"{key}={value!r} must be one of: {', '.join(allowed)}")
        return value


def overrides_help(defaults: Mapping[str, str], prefixes: tuple[str, ...]) -> dict[str, str]:
    """Key -> help text (with its default) for ``polyfn events PROVIDER TRIGGER --set help``."""
    entries = {key: f"{HELP.get(key, key)} (default {value!r})" for key, value in defaults.items()}
    for prefix in prefixes:
        entries[f"{prefix}.NAME"] = HELP.get(f"{prefix}.NAME", prefix)
    return entries


# The ``--set PREFIX.NAME=VALUE`` families each trigger kind takes (headers, message attributes).
PREFIXES: dict[str, tuple[str, ...]] = {"http": ("header",), "queue": ("attr",)}


class Catalog:
    """One cloud's sample triggers: each trigger's kind, its defaults (the kind's COMMON values,
    plus the trigger's `extra`, less what `drop` names) and its override prefixes (the kind's,
    less what `drop` names)."""

    def __init__(
        self,
        kinds: Mapping[str, str],
        *,
        extra: Mapping[str, Mapping[str, str]] | None = None,
        drop: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.kinds = dict(kinds)
        self._extra = dict(extra or {})
        self._drop = dict(drop or {})

    def defaults(self, trigger: str) -> dict[str, str]:
        values = {**COMMON[self.kinds[trigger]], **self._extra.get(trigger, {})}
        for key in self._drop.get(trigger, ()):
            values.pop(key, None)
        return values

    def prefixes(self, trigger: str) -> tuple[str, ...]:
        dropped = self._drop.get(trigger, ())
        return tuple(p for p in PREFIXES.get(self.kinds[trigger], ()) if p not in dropped)

    def overrides(self) -> dict[str, dict[str, str]]:
        """Trigger -> key -> help text, for ``polyfn events PROVIDER TRIGGER --set help``."""
        return {t: overrides_help(self.defaults(t), self.prefixes(t)) for t in self.kinds}


def render(
    cloud: str,
    trigger: str,
    overrides: Mapping[str, object],
    *,
    builders: Mapping[str, Callable[[SampleValues], dict[str, Any]]],
    catalog: Catalog,
) -> dict[str, Any]:
    """Build `cloud`'s sample for `trigger` from its defaults and the user's overrides."""
    if trigger not in builders:
        raise ConfigError(
            f"{cloud} has no sample trigger {trigger!r}; choose one of: {', '.join(builders)}"
        )
    values = SampleValues(trigger, catalog.defaults(trigger), overrides, catalog.prefixes(trigger))
    return builders[trigger](values)
