"""``polyfn translate``: one cloud's native event as the equivalent native event of another.

The way through is the neutral model, never a table of cloud pairs: the source provider reads its
event into a neutral value (`EventSamples.read_event`, the adapter's own library functions), the
value becomes the fields of a sample (`polyfn._local._sample_args` names them), and the target
provider renders them with its `sample_event`, the same builders ``polyfn events`` prints and the
tests check against each cloud's own parsers. So a provider that can be read and rendered can be
translated to and from, with no code here naming any of them.

What cannot cross is refused with `ConfigError` (exit 2) naming the part and the nearest path:
a binary body or message (samples carry text), a batch of several messages (every target trigger
delivers one), a storage change the target's sample cannot say (archived, metadata updated), a
field no trigger of the target carries (message attributes on an Azure Storage queue go to
Service Bus instead; where nothing carries them, the error says so).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from polyfn._errors import ConfigError, EventError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from polyfn._provider import EventSamples

# Request headers that belong to the hop, not to the request: the target's own front end writes
# its own (RFC 9110 section 7.6.1 connection options, the proxies' forwarding headers, and the
# body's framing, which the target sample sets for its body).
HOP_HEADERS = frozenset(
    {
        "connection",
        "content-length",
        "forwarded",
        "host",
        "keep-alive",
        "transfer-encoding",
        "upgrade",
        "via",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-port",
        "x-forwarded-proto",
    }
)


def _iso(when: datetime) -> str:
    # The samples' time field: whole seconds, UTC, "Z" (each builder adds its cloud's fraction).
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(
            f"the {what} is binary ({len(data)} bytes that are not UTF-8 text), and translated "
            "events carry text only; translate an event with a text body, or send the bytes "
            "through a Queue or Bucket handle, which carries them on every cloud"
        ) from None


def _platform(name: str, platform: tuple[str, ...]) -> bool:
    lower = name.lower()
    return lower in HOP_HEADERS or any(
        lower.startswith(p) if p.endswith("-") else lower == p for p in platform
    )


def neutral_fields(
    value: Any, platform_headers: tuple[str, ...] = ()
) -> tuple[str, dict[str, str]]:
    """The trigger kind of a neutral value and the sample fields that say it (``polyfn events
    --set`` keys). `platform_headers` are the source cloud's own request headers, left out."""
    from polyfn._events import QueueMessage, StorageEvent, TimerEvent
    from polyfn._http import HttpRequest

    if isinstance(value, HttpRequest):
        from urllib.parse import quote, urlencode

        from polyfn._local._sample_args import PATH_AS_SENT

        fields = {
            "method": value.method,
            # The decoded path, encoded again as a client sends it ("%" itself included).
            "path": quote(value.path, safe=PATH_AS_SENT.replace("%", "")),
            "query": urlencode(value.query.multi_items()),
            "body": _text(value.body, "request body"),
        }
        if value.source_ip:
            fields["source_ip"] = value.source_ip
        for name in value.headers:
            if not _platform(name, platform_headers):
                fields[f"header.{name.lower()}"] = ", ".join(value.headers.getall(name))
        return "http", fields
    if isinstance(value, StorageEvent):
        fields = {"bucket": value.bucket, "key": value.key, "kind": value.kind}
        fields["time"] = _iso(value.time)
        # What the source does not say stays out of the translated event ("" leaves a field
        # out), rather than taking the target sample's example value.
        for name in ("size", "etag", "content_type"):
            found = getattr(value, name)
            fields[name] = "" if found is None else str(found)
        return "storage", fields
    if isinstance(value, TimerEvent):
        fields = {}
        if value.name:
            fields["function"] = value.name
        # Not past_due: AWS and GCP derive it from the time and the clock of the reader, so it
        # says when the event was read, not what it is.
        if value.scheduled_time is not None:
            fields["time"] = _iso(value.scheduled_time)
        return "schedule", fields
    if isinstance(value, list) and all(isinstance(m, QueueMessage) for m in value):
        if len(value) != 1:
            raise ConfigError(
                f"the batch holds {len(value)} messages, and a translated event is one delivery "
                "of one message (a Pub/Sub push, a Storage queue or Service Bus message, an SQS "
                "batch of one); translate one record at a time (an event with one record)"
            )
        message: QueueMessage = value[0]
        fields = {"body": _text(message.body, "message body"), "id": message.id}
        if message.queue:
            fields["queue"] = message.queue
        fields["delivery_count"] = str(message.delivery_count)
        if message.enqueued_time is not None:
            fields["time"] = _iso(message.enqueued_time)
        if message.group:
            fields["group"] = message.group
        for name, attr in message.attributes.items():
            fields[f"attr.{name}"] = attr
        return "queue", fields
    raise ConfigError(f"nothing to translate: the event reads as {type(value).__name__}")


# Fields a target may leave out when none of its triggers carries them: they describe the
# delivery (where it came from, its id, when and how often it was delivered), not what happened.
OPTIONAL_FIELDS = frozenset({"source_ip", "id", "delivery_count", "etag", "content_type"})
OPTIONAL_BY_KIND = {"queue": frozenset({"time"})}


def _accepts(overrides: Mapping[str, str], key: str) -> bool:
    prefix, dot, _ = key.partition(".")
    return key in overrides or (bool(dot) and f"{prefix}.NAME" in overrides)


def _missing(samples: EventSamples, trigger: str, fields: Mapping[str, str]) -> list[str]:
    """The fields of the event that `trigger` cannot carry (an empty one says nothing)."""
    overrides = samples.OVERRIDES[trigger]
    optional = OPTIONAL_FIELDS | OPTIONAL_BY_KIND.get(samples.KINDS[trigger], frozenset())
    return [k for k, v in fields.items() if v and k not in optional and not _accepts(overrides, k)]


def choose_trigger(
    samples: EventSamples, target: str, kind: str, fields: Mapping[str, str], wanted: str | None
) -> str:
    """The target trigger that carries every field: `wanted`, or the first of `kind` that does."""
    candidates = [t for t, k in samples.KINDS.items() if k == kind]
    if not candidates:
        raise ConfigError(
            f"{target} has no {kind} trigger to translate to (its triggers: "
            f"{', '.join(samples.TRIGGERS)})"
        )
    if wanted is not None:
        if wanted not in candidates:
            raise ConfigError(
                f"{target} trigger {wanted!r} is no {kind} trigger; the event is {kind}: choose "
                f"one of {', '.join(candidates)}"
            )
        candidates = [wanted]
    misses = {t: _missing(samples, t, fields) for t in candidates}
    for trigger, missing in misses.items():
        if not missing:
            return trigger
    nearest = min(candidates, key=lambda t: len(misses[t]))
    lost = ", ".join(f"{k}={fields[k]!r}" for k in misses[nearest])
    others = [t for t in samples.KINDS if samples.KINDS[t] == kind and t != nearest]
    raise ConfigError(
        f"{target} {nearest!r} cannot carry {lost} (it has no such field"
        f"{'; nor do ' + ', '.join(others) if others and wanted is None else ''}); "
        f"translate an event without them, or to another trigger of {target} "
        f"({', '.join(t for t in samples.KINDS if samples.KINDS[t] == kind)})"
    )


def detect_source(event: dict[str, Any], readers: Mapping[str, EventSamples]) -> str:
    """The one provider whose sample triggers `event` looks like."""
    found = {name: s.trigger_of(event) for name, s in readers.items()}
    matches = {name: t for name, t in found.items() if t is not None}
    if len(matches) == 1:
        return next(iter(matches))
    if not matches:
        raise ConfigError(
            "the event looks like no trigger of "
            f"{', '.join(readers) or 'any installed provider'}; pass --from PROVIDER, and see "
            "`polyfn events PROVIDER` for the shapes each reads"
        )
    said = ", ".join(f"{t!r} of {name}" for name, t in matches.items())
    raise ConfigError(f"the event looks like {said}; say which with --from PROVIDER")


def translate(
    event: dict[str, Any],
    source: EventSamples,
    target: EventSamples,
    *,
    source_name: str,
    target_name: str,
    trigger: str | None = None,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`event`, a native event of `source`, as a native event of `target`."""
    found = source.trigger_of(event)
    if found is None:
        raise ConfigError(
            f"the event is none of {source_name}'s triggers "
            f"({', '.join(source.TRIGGERS)}); `polyfn events {source_name}` shows each shape"
        )
    try:
        value = source.read_event(event)
    except EventError as exc:
        raise ConfigError(f"{source_name} cannot read this {found!r} event: {exc}") from None
    if value is None:
        raise ConfigError(
            f"this {source_name} {found!r} event has no neutral meaning (polyfn skips it: a "
            "test event, a restore or replication event), so nothing translates; translate "
            "an object created or deleted event"
        )
    kind, fields = neutral_fields(value, tuple(source.PLATFORM_HEADERS))
    fields.update(overrides or {})
    chosen = choose_trigger(target, target_name, kind, fields, trigger)
    accepted = target.OVERRIDES[chosen]
    carried = {k: v for k, v in fields.items() if _accepts(accepted, k)}
    try:
        return target.sample_event(chosen, **carried)
    except ConfigError as exc:
        raise ConfigError(
            f"{source_name} {found!r} cannot translate to {target_name} {chosen!r}: {exc}"
        ) from None
