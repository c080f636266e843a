"""One trace context in W3C terms, read from whatever header a cloud gives and written back out.

The neutral form is W3C Trace Context's `traceparent`: a 32-hex trace id, a 16-hex span id and a
sampled flag (https://www.w3.org/TR/trace-context/#traceparent-header). The clouds' own headers
convert to and from it exactly:

- AWS X-Ray ``Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1``: the
  root's 8-hex epoch and 24-hex random part are the W3C trace id's 32 hex digits, in order;
  Parent is the span id (https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader).
- Google's ``X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1``: the same 32-hex trace id, the span id
  as an unsigned 64-bit *decimal* (https://cloud.google.com/trace/docs/trace-context#legacy-http-header).
- Azure Functions hands the worker a W3C traceparent (``context.trace_context.trace_parent``).

A header that does not parse starts a new trace: tracing never fails an invocation.
"""

from __future__ import annotations

import os

_HEX = frozenset("0123456789abcdef")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


def _is_hex(value: str, length: int) -> bool:
    return len(value) == length and _HEX.issuperset(value)


def new_trace_id() -> str:
    return os.urandom(16).hex()


def new_span_id() -> str:
    return os.urandom(8).hex()


class Trace:
    """The invocation's place in a trace: `trace_id` (32 hex), `span_id` (16 hex: this
    invocation's own span), `parent_id` (the caller's span, or None at a trace's root) and
    `sampled`."""

    __slots__ = ("_span_id", "parent_id", "sampled", "trace_id")

    def __init__(
        self,
        trace_id: str,
        span_id: str | None = None,
        *,
        parent_id: str | None = None,
        sampled: bool = False,
    ) -> None:
        self.trace_id = trace_id
        # None: made on first use (a random id costs a system call; an AWS invocation whose lines
        # carry only the trace id never needs its own span id).
        self._span_id = span_id
        self.parent_id = parent_id
        self.sampled = sampled

    @property
    def span_id(self) -> str:
        span_id = self._span_id
        if span_id is None:
            span_id = self._span_id = new_span_id()
        return span_id

    @classmethod
    def start(cls, *, sampled: bool = False) -> Trace:
        """A new trace whose root span is this invocation."""
        return cls(new_trace_id(), sampled=sampled)

    @classmethod
    def continue_from(cls, parent: Trace | None) -> Trace:
        """This invocation's span as a child of `parent` (a new trace when there is none)."""
        if parent is None:
            return cls.start()
        return cls(parent.trace_id, parent_id=parent.span_id, sampled=parent.sampled)

    def traceparent(self) -> str:
        """The W3C ``traceparent`` naming this span as the parent of what it calls."""
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"

    @property
    def xray_trace_id(self) -> str:
        """The trace id as X-Ray writes it: ``1-5759e988-bd862e3fe1be46a994272793``."""
        return f"1-{self.trace_id[:8]}-{self.trace_id[8:]}"

    def xray_header(self) -> str:
        return f"Root={self.xray_trace_id};Parent={self.span_id};Sampled={int(self.sampled)}"

    def cloud_trace_context(self) -> str:
        """Google's legacy ``X-Cloud-Trace-Context`` value (span id in decimal)."""
        return f"{self.trace_id}/{int(self.span_id, 16)};o={int(self.sampled)}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Trace) and (
            self.trace_id,
            self.span_id,
            self.parent_id,
            self.sampled,
        ) == (other.trace_id, other.span_id, other.parent_id, other.sampled)

    def __hash__(self) -> int:
        return hash((self.trace_id, self.span_id))

    def __repr__(self) -> str:
        return f"Trace({self.traceparent()!r}, parent_id={self.parent_id!r})"


def parse_traceparent(value: object) -> Trace | None:
    """The span a W3C ``traceparent`` names, or None when it is not a valid one.

    Version 00 is exactly ``00-<32 hex>-<16 hex>-<2 hex>``; a later version may append fields
    after a dash, which are ignored; version ``ff``, upper-case hex and all-zero ids are invalid
    (W3C Trace Context, section 3.2 and 4.3).
    """
    if not isinstance(value, str):
        return None
    value = value.strip()
    parts = value.split("-")
    if len(parts) < 4:
        return None
    version, trace_id, span_id, flags = parts[:4]
    if not _is_hex(version, 2) or version == "ff":
        return None
    if version == "00" and len(parts) != 4:
        return None
    if not (_is_hex(trace_id, 32) and _is_hex(span_id, 16) and _is_hex(flags, 2)):
        return None
    if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    return Trace(trace_id, span_id, sampled=bool(int(flags, 16) & 1))


def parse_xray(value: object) -> Trace | None:
    """The span an X-Ray trace header names (``Root=1-...;Parent=...;Sampled=1``), or None.

    Without Parent (a header a client started) the root alone gives the trace; its span id is
    then new. ``Sampled=?`` (the decision deferred) reads as not sampled.
    """
    if not isinstance(value, str):
        return None
    if (
        len(value) >= 74
        and value.startswith("Root=1-")
        and value[15] == "-"
        and value[40:48] == ";Parent="
        and value[64:73] == ";Sampled="
        and (len(value) == 74 or value[74] == ";")
    ):
        # The exact form Lambda sets in _X_AMZN_TRACE_ID (fixed offsets), read without splitting.
        trace_id, parent = value[7:15] + value[16:40], value[48:64]
        if (
            _HEX.issuperset(trace_id)
            and _HEX.issuperset(parent)
            and trace_id != _ZERO_TRACE
            and parent != _ZERO_SPAN
        ):
            return Trace(trace_id, parent, sampled=value[73] == "1")
    fields: dict[str, str] = {}
    for part in value.split(";"):
        key, sep, item = part.strip().partition("=")
        if sep:
            fields[key.strip()] = item.strip()
    root = fields.get("Root", "")
    pieces = root.split("-")
    if len(pieces) != 3 or pieces[0] != "1":
        return None
    epoch, rest = pieces[1].lower(), pieces[2].lower()
    if not (_is_hex(epoch, 8) and _is_hex(rest, 24)):
        return None
    trace_id = epoch + rest
    if trace_id == _ZERO_TRACE:
        return None
    parent = fields.get("Parent", "").lower()
    span_id = parent if _is_hex(parent, 16) and parent != _ZERO_SPAN else new_span_id()
    return Trace(trace_id, span_id, sampled=fields.get("Sampled") == "1")


def xray_root(value: str) -> str | None:
    """The X-Ray trace id of a header whose Root comes first, in lower case, as `parse_xray`
    reads it (``1-5759e988-bd862e3fe1be46a994272793``); None for any other header, which
    `parse_xray` then reads whole. No span id is made: a line that names only the trace needs
    none."""
    if (
        value.startswith("Root=1-")
        and len(value) >= 40
        and value[15] == "-"
        and (len(value) == 40 or value[40] == ";")
    ):
        hex_digits = value[7:15] + value[16:40]
        if _HEX.issuperset(hex_digits) and hex_digits != _ZERO_TRACE:
            return value[5:40]
    return None


def parse_cloud_trace(value: object) -> Trace | None:
    """The span Google's ``X-Cloud-Trace-Context: TRACE/SPAN;o=1`` names, or None."""
    if not isinstance(value, str):
        return None
    head, _, options = value.strip().partition(";")
    trace_id, _, span = head.partition("/")
    trace_id = trace_id.lower()
    if not _is_hex(trace_id, 32) or trace_id == _ZERO_TRACE:
        return None
    span_id = new_span_id()
    if span.isdigit() and span.isascii():
        number = int(span)
        if 0 < number < 2**64:
            span_id = f"{number:016x}"
    return Trace(trace_id, span_id, sampled=options.strip() == "o=1")


def from_headers(
    *, traceparent: object = None, xray: object = None, cloud_trace: object = None
) -> Trace | None:
    """The caller's span from whichever header is valid, W3C first (the standard, and what
    polyfn's own messages carry), then X-Ray, then Google's legacy header."""
    return parse_traceparent(traceparent) or parse_xray(xray) or parse_cloud_trace(cloud_trace)
