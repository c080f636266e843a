"""The invocation `Context` and its JSON-lines logger."""

from __future__ import annotations

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from collections.abc import Callable
    from datetime import timedelta
    from typing import Any

_LOGGER_NAME = "polyfn"


def _ensure_logging() -> logging.Logger:
    """The ``polyfn`` logger, with a handler that writes one JSON object a line.

    Checked on every use, not once: the handler is added whenever the logger has none, and INFO
    is set whenever no level is, so code that swaps handlers or levels for a while (a test
    harness, a runner capturing logs) cannot leave invocation logs silenced afterwards. The logger
    does not propagate, so a runtime's root handler (awslambdaric installs one) does not print
    each line twice. A user who configures ``polyfn`` themselves keeps their handlers and level.
    """
    import logging

    logger = logging.getLogger(_LOGGER_NAME)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    return logger


def _json_formatter_class() -> type[logging.Formatter]:
    import json
    import logging
    from datetime import UTC, datetime

    reserved = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

    class _JsonFormatter(logging.Formatter):
        """One JSON object a line: time, level, logger, message, the invocation's fields, extras."""

        def format(self, record: logging.LogRecord) -> str:
            entry: dict[str, Any] = {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                    timespec="milliseconds"
                ),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            }
            for key, value in record.__dict__.items():
                if key not in reserved and not key.startswith("_"):
                    entry[key] = value
            if record.exc_info:
                entry["exception"] = self.formatException(record.exc_info)
            return json.dumps(entry, default=str, ensure_ascii=False)

    return _JsonFormatter


_ADAPTER: type[logging.LoggerAdapter[logging.Logger]] | None = None


def _adapter_class() -> type[logging.LoggerAdapter[logging.Logger]]:
    """A LoggerAdapter that merges a call's ``extra`` with the invocation's fields.

    Python 3.11's LoggerAdapter replaces the call's ``extra``; users expect both.
    """
    global _ADAPTER  # noqa: PLW0603 - built once per process
    if _ADAPTER is None:
        import logging
        from collections.abc import MutableMapping

        class _InvocationLogger(logging.LoggerAdapter[logging.Logger]):
            def process(
                self, msg: Any, kwargs: MutableMapping[str, Any]
            ) -> tuple[Any, MutableMapping[str, Any]]:
                kwargs["extra"] = {**(self.extra or {}), **(kwargs.get("extra") or {})}
                return msg, kwargs

        _ADAPTER = _InvocationLogger
    return _ADAPTER


def JsonFormatter() -> logging.Formatter:  # noqa: N802 - reads as a class at call sites
    """A `logging.Formatter` that writes one JSON object per record."""
    return _json_formatter_class()()


class Context:
    """What every handler gets beside its event: who called, when it must finish, how to log."""

    __slots__ = (
        "_log",
        "_remaining",
        "function_name",
        "invocation_id",
        "provider",
        "raw",
        "trace_id",
    )

    def __init__(
        self,
        provider: str,
        function_name: str,
        invocation_id: str,
        *,
        trace_id: str | None = None,
        remaining: Callable[[], timedelta | None] | None = None,
        raw: Any = None,
    ) -> None:
        self.provider = provider
        self.function_name = function_name
        self.invocation_id = invocation_id
        self.trace_id = trace_id
        self._remaining = remaining
        self.raw = raw
        self._log: logging.LoggerAdapter[logging.Logger] | None = None

    def remaining_time(self) -> timedelta | None:
        """Time left before the cloud stops this invocation; None where there is no deadline."""
        return self._remaining() if self._remaining is not None else None

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        """A logger whose every line is a JSON object carrying this invocation's id and function."""
        if self._log is None:
            fields = {
                "invocation_id": self.invocation_id,
                "function_name": self.function_name,
                "provider": self.provider,
            }
            if self.trace_id:
                fields["trace_id"] = self.trace_id
            self._log = _adapter_class()(_ensure_logging(), fields)
            return self._log
        _ensure_logging()
        return self._log

    def with_function(self, function_name: str) -> Context:
        """A copy naming another function (one Lambda serving several polyfn functions)."""
        return Context(
            self.provider,
            function_name,
            self.invocation_id,
            trace_id=self.trace_id,
            remaining=self._remaining,
            raw=self.raw,
        )

    def __repr__(self) -> str:
        return (
            f"Context(provider={self.provider!r}, function_name={self.function_name!r}, "
            f"invocation_id={self.invocation_id!r})"
        )
