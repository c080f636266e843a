"""Reading fields of a native event, with an `EventError` that names the field when one is wrong.

The translators read events on a fast path (plain indexing inside ``try``); only when that fails
do they walk the source's field table here to say which field was missing or of the wrong type.
"""

from __future__ import annotations

from polyfn._errors import EventError
from polyfn._values import arrived, kind_name, string_map, type_name

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    # (dotted path, accepted types, required)
    FieldSpec = tuple[str, type | tuple[type, ...], bool]

# Objects whose every value must be a string (checked when a fast read failed).
STRING_MAPS = frozenset(("headers", "queryStringParameters", "pathParameters"))


def all_strings(values: Iterable[Any]) -> bool:
    """Whether every item of `values` is a `str` (a header map's values, say).

    A fast path, on purpose: ``"".join`` makes the check in C and fails on the first non-string,
    several times faster than ``all(type(v) is str for v in values)`` on the dozen headers of an
    API Gateway request (bench/fast_paths.py). The joined text is thrown away.
    """
    try:
        "".join(values)
    except TypeError:
        return False
    return True


def _describe(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(kind_name(k) for k in kinds)


def get(
    obj: Any,
    path: str,
    kind: type | tuple[type, ...],
    source: str,
    *,
    required: bool = True,
    at: str = "",
) -> Any:
    """The value at dotted `path` in `obj`, checked against `kind`.

    A missing or null optional field is None; anything else wrong is an `EventError` naming the
    field (prefixed with `at`, where `obj` sits in the event) and the `source` expected.
    """
    cur = obj
    walked: list[str] = [at] if at else []
    for key in path.split("."):
        if not isinstance(cur, dict):
            where = ".".join(walked) or "the event"
            raise EventError(
                f"expected {where} to be an object, got {type_name(cur)}",
                field=".".join(walked) or None,
                source=source,
            )
        walked.append(key)
        cur = cur.get(key)
        if cur is None:
            if required:
                raise EventError("required field is missing", field=".".join(walked), source=source)
            return None
    if kind is float:
        kind = (int, float)
    if not isinstance(cur, kind) or (isinstance(cur, bool) and kind in (int, (int, float))):
        raise EventError(
            f"expected {_describe(kind)}, got {arrived(cur)}",
            field=".".join(walked),
            source=source,
        )
    return cur


def check(event: Any, specs: Iterable[FieldSpec], source: str, cause: BaseException) -> EventError:
    """The `EventError` for an event whose fast-path read failed with `cause`.

    Walks `specs` (the source's field table) and reports the first field that is wrong; when every
    listed field is fine, the error says what the read tripped on.
    """
    for path, kind, required in specs:
        try:
            value = get(event, path, kind, source, required=required)
            if kind is dict and path in STRING_MAPS:
                string_map(value, path, source)
        except EventError as exc:
            return exc
    return EventError(f"cannot read the event: {cause}", source=source)
