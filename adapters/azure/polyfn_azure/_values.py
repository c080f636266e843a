"""Readers for what the Azure worker hands a function: each names the field and the source when
the value is not what the host sends, so a mangled input is an `EventError`, never a bare
KeyError, TypeError or AttributeError."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from polyfn import EventError

if TYPE_CHECKING:
    from collections.abc import Mapping


def attribute(obj: Any, name: str, field: str, source: str) -> Any:
    """`obj.name`; azure-functions' properties compute on read (``method.upper()``), so a value of
    the wrong type surfaces here as AttributeError or TypeError."""
    try:
        return getattr(obj, name)
    except (AttributeError, TypeError, ValueError) as exc:
        raise EventError(f"cannot read {name}: {exc}", field=field, source=source) from None


def string(value: Any, field: str, source: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not value and not allow_empty):
        what = "missing" if value is None else f"not a non-empty string ({value!r:.80})"
        raise EventError(f"{field} is {what}", field=field, source=source)
    return value


def optional_string(value: Any, field: str, source: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EventError(f"{field} must be a string, got {value!r:.80}", field=field, source=source)
    return str(value)


def mapping(value: Any, field: str, source: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise EventError(
            f"{field} must be a JSON object, got {type(value).__name__}", field=field, source=source
        )
    return value


def optional_int(value: Any, field: str, source: str) -> int | None:
    """An integer that the host may send as a number or a numeric string (blob ContentLength)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise EventError(f"{field} must be an integer, got {value!r}", field=field, source=source)
    if isinstance(value, int):
        number = value
    elif (isinstance(value, str) and value.strip().isascii() and value.strip().isdigit()) or (
        isinstance(value, float) and value.is_integer()
    ):
        number = int(value)
    else:
        raise EventError(
            f"{field} must be an integer, got {value!r:.80}", field=field, source=source
        )
    if number < 0:
        raise EventError(f"{field} must not be negative, got {number}", field=field, source=source)
    return number


def utc(value: Any, field: str, source: str) -> datetime | None:
    """A timezone-aware UTC datetime from a datetime or an ISO 8601 string.

    The host writes .NET timestamps with seven fractional digits; Python reads at most six, so the
    seventh is dropped. A naive value is taken as UTC: the Functions host runs in UTC unless the app
    sets WEBSITE_TIME_ZONE, and every time the converters parse with an offset comes back aware.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        head, dot, rest = text.partition(".")
        if dot:
            digits = len(rest) - len(rest.lstrip("0123456789"))
            if digits > 6:
                rest = rest[:6] + rest[digits:]
            text = f"{head}.{rest}"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise EventError(
                f"{field} is not an ISO 8601 time: {value!r:.80}", field=field, source=source
            ) from None
    else:
        raise EventError(
            f"{field} must be a time, got {type(value).__name__}", field=field, source=source
        )
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
