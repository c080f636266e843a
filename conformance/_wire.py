"""Helpers every driver may use to read a case as a client sends it (no cloud knowledge here).

These are plain HTTP facts (RFC 3986 percent-encoding, the Cookie header, what a text body is),
written for the suite so that no driver borrows a line from an adapter.
"""

from __future__ import annotations

import uuid
from urllib.parse import unquote

from conformance._httpcase import HttpCase

# Media types a gateway treats as text (the rest travels base64-encoded where a cloud wants text).
_TEXT_TYPES = ("application/json", "application/x-www-form-urlencoded", "application/xml")


def decoded_path(case: HttpCase) -> str:
    """The path with percent-escapes decoded as UTF-8 (``+`` stays a plus in a path)."""
    return unquote(case.path, encoding="utf-8", errors="strict")


def query_pairs(raw: str) -> list[tuple[str, str]]:
    """Decoded (name, value) pairs of a raw query string; a name without ``=`` has value ``""``."""
    pairs = []
    for part in raw.split("&") if raw else []:
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def raw_query_pairs(raw: str) -> list[tuple[str, str]]:
    """(name, value) pairs of a raw query string, still percent-encoded."""
    pairs = []
    for part in raw.split("&") if raw else []:
        if part:
            name, _, value = part.partition("=")
            pairs.append((name, value))
    return pairs


def cookie_header(case: HttpCase) -> str | None:
    """The Cookie header a browser would send for the case's cookies (RFC 6265 section 5.4)."""
    if not case.cookies:
        return None
    return "; ".join(f"{name}={value}" for name, value in case.cookies)


def is_text_content(content_type: str | None, content_encoding: str | None = None) -> bool:
    """Whether a body with these headers is text that may travel unencoded (a text media type and
    no Content-Encoding: a gzip or br body is binary whatever its type)."""
    if content_encoding and content_encoding.strip().lower() not in ("identity", ""):
        return False
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    return bool(ctype) and (
        ctype.startswith("text/")
        or ctype in _TEXT_TYPES
        or ctype.endswith("+json")
        or ctype.endswith("+xml")
    )


def is_text_body(case: HttpCase) -> bool:
    """Whether the request body is text (a text media type and valid UTF-8)."""
    ctype = ""
    for name, value in case.headers:
        if name.lower() == "content-type":
            ctype = value.split(";")[0].strip().lower()
    if not (ctype.startswith("text/") or ctype in _TEXT_TYPES or ctype.endswith("+json")):
        return False
    try:
        case.body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def request_id() -> str:
    return str(uuid.uuid4())


def group_headers(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Field lines grouped by lower-cased name, values in order."""
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name.lower(), []).append(value)
    return grouped
