"""Readers for the scalar fields of GCP payloads: each names the field and source when it fails."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from polyfn import EventError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

# Pub/Sub's message data is a protobuf `bytes` field, and its JSON form (push bodies, Eventarc's
# MessagePublishedData) follows the proto3 JSON mapping: "standard base64 encoding with paddings.
# Either standard or URL-safe base64 encoding with/without paddings are accepted."
# https://protobuf.dev/programming-guides/json/ (functions-framework's own tests send "10").
URL_SAFE_TO_STANDARD = str.maketrans("-_", "+/")


def mapping(value: Any, field: str, source: str) -> Mapping[str, Any]:
    """`value` as a JSON object, or an EventError naming `field`."""
    if not isinstance(value, dict):
        raise EventError(
            f"expected a JSON object, got {type(value).__name__}", field=field, source=source
        )
    return value


def required_str(obj: Mapping[str, Any], key: str, field: str, source: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        what = "missing" if value is None else f"not a non-empty string ({value!r})"
        raise EventError(f"{key} is {what}", field=field, source=source)
    return value


def optional_str(obj: Mapping[str, Any], key: str, field: str, source: str) -> str | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EventError(f"{key} must be a string, got {value!r}", field=field, source=source)
    return str(value)


def optional_int(obj: Mapping[str, Any], key: str, field: str, source: str) -> int | None:
    """An integer that GCP sends as a JSON number or, for int64 fields, a decimal string."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise EventError(f"{key} must be an integer, got {value!r}", field=field, source=source)


def timestamp(value: Any, field: str, source: str) -> datetime:
    """An RFC 3339 timestamp ("2020-05-18T12:13:19.123456789Z") as an aware UTC datetime; one
    without an offset is UTC.

    Google sends up to nine fractional digits; Python keeps six (microseconds).
    """
    from datetime import UTC, datetime

    if not isinstance(value, str) or not value:
        raise EventError(
            f"expected an RFC 3339 timestamp, got {value!r}", field=field, source=source
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise EventError(
            f"expected an RFC 3339 timestamp, got {value!r}", field=field, source=source
        ) from None
    if parsed.tzinfo is None:
        # RFC 3339 wants an offset, but CloudEvents built by hand often lack one
        # (functions-framework's own tests send "ce-time: 2020-08-16T13:58:54.471765"); Google's
        # services stamp UTC, so that is the only reading, and failing would redeliver the event
        # until it is dropped.
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def optional_timestamp(
    obj: Mapping[str, Any], key: str, field: str, source: str
) -> datetime | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    return timestamp(value, field, source)


def base64_bytes(value: Any, field: str, source: str) -> bytes:
    """Decode base64 as the proto3 JSON mapping reads it (Pub/Sub `data`, see
    URL_SAFE_TO_STANDARD); an absent field is an empty payload."""
    import base64
    import binascii

    if value is None or value == "":
        return b""
    if not isinstance(value, str):
        raise EventError(f"expected a base64 string, got {value!r}", field=field, source=source)
    digits = value.strip().translate(URL_SAFE_TO_STANDARD).rstrip("=")
    try:
        return base64.b64decode(digits + "=" * (-len(digits) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise EventError("data is not valid base64", field=field, source=source) from None


def string_map(value: Any, field: str, source: str) -> dict[str, str]:
    """Pub/Sub attributes: a JSON object of string to string (absent means none)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise EventError(
            f"expected an object of strings, got {value!r}", field=field, source=source
        )
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(v, str):
            raise EventError(
                f"attribute {k!r} must be a string, got {v!r}", field=f"{field}.{k}", source=source
            )
        out[k] = v
    return out
