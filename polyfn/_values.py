"""Readers for the values of untrusted native input (event JSON, worker objects, headers).

Each reader takes the value, the `field` it was read from (a dotted path such as
``message.publishTime``) and the `source` that sent it, and returns the value in polyfn's terms
or raises `EventError` saying what was expected and what arrived. They know no provider: which
field holds what, and how a cloud spells it, stays in the adapters.
"""

from __future__ import annotations

from polyfn._errors import EventError

# `typing` and `datetime` cost milliseconds at import, and the HTTP path needs neither: the
# time readers bind the datetime module as `_dt` on first use (`_datetime`).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

_dt: Any = None

# How a message names the JSON type of what arrived.
_TYPE_NAMES: dict[type, str] = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
}
# At most this much of a value is quoted in a message (a body can be megabytes).
_QUOTE = 80
# RFC 4648 section 5's URL-safe alphabet, as the standard one (section 4).
_URL_SAFE_TO_STANDARD = str.maketrans("-_", "+/")
# The largest epoch millisecond a datetime holds: 9999-12-31T23:59:59.999Z.
_MAX_MILLIS = 253402300799999
# The integers a reader takes: JSON carries 64-bit integers (protobuf int64/uint64, .NET long), and
# nothing the clouds send is wider. A bound read before int() also keeps a hostile value away from
# int()'s own limit (4,300 digits, a ValueError) and from megabyte-long digit strings.
_INT_MIN = -(2**63)
_UINT_MAX = 2**64 - 1
_INT_DIGITS = 21  # "-9223372036854775808" and "18446744073709551615" fit
# An integer wider than this is named by its size in a message, never written out (str() of a
# 4,300-digit int raises ValueError).
_QUOTED_INT_BITS = 128
# Below 2**32 seconds (the year 2106) a double holds millis / 1000 to within a quarter of a
# microsecond, so datetime.fromtimestamp, which rounds to microseconds, lands on the exact
# millisecond; beyond, the slower integer arithmetic does.
_FLOAT_EXACT_MILLIS = 2**32 * 1000


def kind_name(kind: type) -> str:
    """What a value of type `kind` is, in JSON's words ("an object", "a string" ...)."""
    return _TYPE_NAMES.get(kind) or f"a {kind.__name__} value"


def type_name(value: Any) -> str:
    """What `value` is, in JSON's words ("null", "an object", "a string" ...)."""
    return "null" if value is None else kind_name(type(value))


def arrived(value: Any) -> str:
    """`value` for a message: its type and, for a scalar, its first characters. Safe for any
    value a JSON parser makes: containers are named, not printed (a deep one would exhaust the
    stack), and a huge integer is named by its size."""
    if value is None or not isinstance(value, str | int | float):
        return type_name(value)
    if isinstance(value, int) and value.bit_length() > _QUOTED_INT_BITS:
        return f"{type_name(value)} ({value.bit_length()} bits wide)"
    text = repr(value)
    if len(text) > _QUOTE:
        text = text[: _QUOTE - 3] + "..."
    return f"{type_name(value)} ({text})"


def quoted(value: Any) -> str:
    """`value` for a message that names what arrived: a string's repr (cut at 80 characters),
    else `arrived`'s description (a deep list or a 4,000-digit number is never printed)."""
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= _QUOTE else text[: _QUOTE - 3] + "..."
    return arrived(value)


def _bad(expected: str, value: Any, field: str, source: str) -> EventError:
    return EventError(f"expected {expected}, got {arrived(value)}", field=field, source=source)


def mapping(value: Any, field: str, source: str) -> dict[str, Any]:
    """`value` as an object (a JSON object, a dict a worker built)."""
    if not isinstance(value, dict):
        raise _bad("an object", value, field, source)
    return value


def required_str(value: Any, field: str, source: str) -> str:
    """A non-empty string; missing, empty or another type is an `EventError`."""
    if isinstance(value, str) and value:
        return value
    if value is None:
        raise EventError("required field is missing", field=field, source=source)
    raise _bad("a non-empty string", value, field, source)


def optional_str(value: Any, field: str, source: str) -> str | None:
    """A string, None when missing or empty. An integer reads as its decimal text: JSON carries
    64-bit ids (object generations, session ids) as numbers or strings, depending on the sender."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and _INT_MIN <= value <= _UINT_MAX:
        return str(value)
    raise _bad("a string", value, field, source)


def optional_int(value: Any, field: str, source: str, *, minimum: int | None = None) -> int | None:
    """An integer, None when missing or empty. It may arrive as a JSON number (integral) or as a
    decimal string, which is how JSON carries 64-bit integers; below `minimum`, or beyond 64 bits,
    is an error."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()):
            raise _bad("an integer", value, field, source)
        if len(text) > _INT_DIGITS:
            raise _bad("a 64-bit integer", value, field, source)
        number = int(text)
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad("an integer", value, field, source)
    elif isinstance(value, float):
        if not value.is_integer():
            raise _bad("an integer", value, field, source)
        number = int(value)
    else:
        number = value
    if not _INT_MIN <= number <= _UINT_MAX:
        raise _bad("a 64-bit integer", value, field, source)
    if minimum is not None and number < minimum:
        raise _bad(f"an integer of at least {minimum}", value, field, source)
    return number


def string_map(value: Any, field: str, source: str) -> dict[str, str]:
    """An object whose every value is a string (headers, query parameters, attributes); {} when
    missing. The object itself is returned, not a copy."""
    if value is None:
        return {}
    if type(value) is not dict:
        raise _bad("an object of strings", value, field, source)
    for k, v in value.items():
        if type(v) is not str:
            raise _bad("a string", v, f"{field}.{k}", source)
    return value


def string_lists(value: Any, field: str, source: str) -> dict[str, list[str]]:
    """An object whose every value is an array of strings (multi-value headers or query
    parameters); {} when missing. The object itself is returned, not a copy."""
    if value is None:
        return {}
    if type(value) is not dict:
        raise _bad("an object of string arrays", value, field, source)
    for k, vs in value.items():
        if type(vs) is not list or any(type(v) is not str for v in vs):
            raise _bad("an array of strings", vs, f"{field}.{k}", source)
    return value


def _datetime() -> Any:
    """The datetime module, imported once: an `import` in each call costs 0.2 µs a call."""
    global _dt  # noqa: PLW0603 - bound once, on first use
    import datetime

    _dt = datetime
    return datetime


def timestamp(value: Any, field: str, source: str) -> datetime:
    """An ISO 8601 / RFC 3339 time (or a datetime a worker parsed) as an aware UTC datetime.

    A time without an offset is UTC: the clouds stamp UTC, and a reader that refused it would
    only get the event redelivered until it is dropped. Fractions beyond microseconds (Google
    sends nine digits, .NET seven) are cut; a lower-case ``z`` (RFC 3339 section 5.6) and
    surrounding blanks are accepted.
    """
    dt = _dt or _datetime()
    parsed: datetime
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            text = value.strip()
            if text[-1:] == "z":
                text = text[:-1] + "Z"
            try:
                parsed = dt.datetime.fromisoformat(text)
            except ValueError:
                raise _bad("an ISO 8601 time", value, field, source) from None
    else:
        raise _bad("an ISO 8601 time", value, field, source)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is year 0 in UTC, 9999-12-31T23:59-01:00 10000
        raise _bad("a time within the years 1 to 9999 in UTC", value, field, source) from None


def optional_timestamp(value: Any, field: str, source: str) -> datetime | None:
    """`timestamp`, or None when the value is missing or empty."""
    if value is None or value == "":
        return None
    return timestamp(value, field, source)


def epoch_millis(value: Any, field: str, source: str) -> datetime:
    """Milliseconds since 1970-01-01T00:00Z (a decimal string or a JSON number) as an aware UTC
    datetime, exact to the millisecond."""
    if type(value) is str and value.isdecimal() and len(value) <= _INT_DIGITS:
        millis = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        millis = value
    else:
        raise _bad("epoch milliseconds", value, field, source)
    if not 0 <= millis <= _MAX_MILLIS:
        raise _bad("epoch milliseconds from 1970 to 9999", value, field, source)
    return from_epoch_millis(millis)


def from_epoch_millis(millis: int) -> datetime:
    """The aware UTC datetime of `millis`, already checked to lie in 0.._MAX_MILLIS (a reader
    that checked its input cheaply itself converts here)."""
    dt = _dt or _datetime()
    when: datetime
    if millis < _FLOAT_EXACT_MILLIS:
        when = dt.datetime.fromtimestamp(millis / 1000, dt.UTC)
    else:
        when = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=millis)
    return when


def json_document(data: str | bytes, field: str, source: str, *, hint: str = "") -> Any:
    """`data` parsed as JSON; text that is not JSON, or nests deeper than the parser's recursion
    limit (a RecursionError, not a ValueError), is an `EventError` (`hint` ends its message)."""
    import json

    try:
        return json.loads(data)
    except ValueError:
        problem = "is not JSON"
    except RecursionError:
        problem = "nests JSON too deeply to read"
    raise EventError(f"the {field} {problem}{hint}", field=field, source=source)


def base64_bytes(
    value: Any, field: str, source: str, *, url_safe: bool = False, padded: bool = True
) -> bytes:
    """The bytes of base64 text: RFC 4648 section 4 (standard alphabet, padded), strictly.

    With `url_safe` the URL-safe alphabet's ``-`` and ``_`` (section 5) are read as well; without
    `padded` the ``=`` padding may be left out. Anything else is an `EventError`.
    """
    import binascii

    if type(value) is not str:
        raise _bad("base64 text", value, field, source)
    text = value
    if url_safe:
        text = text.translate(_URL_SAFE_TO_STANDARD)
    if not padded:
        text = text.rstrip("=")
        text += "=" * (-len(text) % 4)
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except ValueError:
        raise _bad("base64 text", value, field, source) from None
