"""The error hierarchy. Every error polyfn raises derives from `PolyfnError`."""

from __future__ import annotations

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any


class PolyfnError(Exception):
    """Root of every error polyfn raises."""


class ConfigError(PolyfnError, ValueError):
    """An app declaration polyfn cannot honour (a bad route template, an unknown trigger kind)."""


class EventError(PolyfnError, ValueError):
    """A native input the adapter cannot read.

    `field` names the part of the input that was wrong (a dotted path such as
    ``requestContext.http.method``) and `source` the trigger the adapter expected there.
    """

    def __init__(self, message: str, *, field: str | None = None, source: str | None = None):
        # The message and the field quote untrusted input, and go to logs and HTTP answers as
        # UTF-8: a lone surrogate (JSON's "\ud800" reads as one) is written as its escape.
        self.field = _encodable(field) if field else field
        self.source = source
        where = []
        if source:
            where.append(f"source {source}")
        if field:
            where.append(f"field {self.field!r}")
        text = f"{message} ({', '.join(where)})" if where else message
        super().__init__(_encodable(text))


def _encodable(text: str) -> str:
    """`text` with every character UTF-8 cannot encode (a lone surrogate) backslash-escaped."""
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class MessagesFailedError(PolyfnError):
    """Raised to fail an invocation because these queue messages failed (`ids`), where the cloud
    has no per-message answer: the queue then redelivers the invocation's messages (the adapters'
    ``batch_response`` raises it on Azure and GCP)."""

    def __init__(self, ids: list[str], detail: str) -> None:
        self.ids = ids
        shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        super().__init__(f"{len(ids)} message(s) failed ({_encodable(shown)}): {detail}")


def fail_messages(failed: Iterable[str], detail: str) -> None:
    """Raise `MessagesFailedError` for the message ids in `failed`, unless there are none;
    `detail` says what the cloud does with a failed invocation's messages."""
    ids = list(failed)
    if ids:
        raise MessagesFailedError(ids, detail)


class MetricError(PolyfnError, ValueError):
    """A metric the cloud would reject: a bad name or unit, too many dimensions, a value that is
    not a finite number."""


class ScheduleError(PolyfnError, ValueError):
    """A schedule that is invalid, or that a target cloud cannot express. The message says why."""


class HTTPError(PolyfnError):
    """Raised by a handler to answer with `status`; `detail` becomes the JSON body's ``error``."""

    def __init__(
        self,
        status: int,
        detail: Any = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        if not 400 <= status <= 599:
            raise ConfigError(f"HTTPError status must be 4xx or 5xx, got {status}")
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})
        super().__init__(f"{status}: {detail}")
