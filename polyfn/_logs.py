"""The `logging` side of `ctx.log`: the ``polyfn`` logger, its formatters (each cloud's shape from
`polyfn._observe`, or text for ``polyfn serve --log-format text``), and the adapters that put the
invocation's fields on each record. Imported on an invocation's first log line."""

from __future__ import annotations

import logging
import sys
import time

from polyfn._observe import DROPPED, INVOCATION_FIELDS, SHAPES, dumps, local_entry, write

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from polyfn._context import Context

LOGGER_NAME = "polyfn"
# Azure's worker forwards the records that reach the root logger; this logger is outside the
# "polyfn" tree (which does not propagate) so that its records do.
AZURE_LOGGER_NAME = "polyfn_azure.invocations"

# The attributes every LogRecord has; none is written as a user field.
_RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_CONTEXT_KEY = "_polyfn_ctx"


def user_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _RESERVED and key[0] != "_" and key not in INVOCATION_FIELDS
    }


def _exc_info(record: logging.LogRecord) -> Any:
    info = record.exc_info
    return info if info and info[0] is not None else None


class JsonFormatter(logging.Formatter):
    """One JSON object a line in the shape of the record's provider (see `polyfn._observe`); a
    record from outside an invocation is written in the local shape."""

    def format(self, record: logging.LogRecord) -> str:
        values = record.__dict__
        ctx = values.get(_CONTEXT_KEY)
        shape = SHAPES.get(values.get("provider"), local_entry)
        line = (
            record.levelname,
            record.getMessage(),
            record.name,
            record.created,
            user_fields(record),
            _exc_info(record),
        )
        entry = shape(line, ctx)
        if ctx is None:
            for key in INVOCATION_FIELDS:
                if values.get(key) is not None:
                    entry[key] = values[key]
        return dumps(entry)


class TextFormatter(logging.Formatter):
    """Human-readable lines for ``polyfn serve --log-format text``:
    ``12:00:01.234 INFO    orders  message  key=value ...``."""

    def format(self, record: logging.LogRecord) -> str:
        import time
        import traceback

        ctx = record.__dict__.get(_CONTEXT_KEY)
        millis = int(record.created * 1000) % 1000
        when = time.strftime("%H:%M:%S", time.localtime(record.created)) + f".{millis:03d}"
        name = record.__dict__.get("function_name") or record.__dict__.get("function") or "-"
        fields = user_fields(record)
        if ctx is not None:
            fields["trace"] = ctx.trace.trace_id
        pairs = " ".join(f"{key}={_text(value)}" for key, value in fields.items())
        line = f"{when} {record.levelname:<7} {name}  {record.getMessage()}"
        if pairs:
            line += f"  {pairs}"
        if record.exc_info:
            line += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        return line


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value if value and " " not in value else dumps({"": value})[5:-1]
    if isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, dict):
        return dumps(value)
    return repr(value)


# The handler `ensure_logging` gave the ``polyfn`` logger (None until it did).
_OWN_HANDLER: list[logging.Handler | None] = [None]


def direct_stream(level: int) -> Any:
    """The stream a line of `level` is written to straight away (no LogRecord, no handler lock):
    the ``polyfn`` logger's own handler's stream while that logger is as `ensure_logging` set it
    up (that one handler with `JsonFormatter`, no filters, not disabled). `DROPPED` when the
    logger's level drops `level` (checked before anything is formatted); None when the app
    configured the logger its own way, so the line goes through `logging` and its setup holds."""
    logger = ensure_logging()
    if not logger.isEnabledFor(level):
        return DROPPED
    handler = _OWN_HANDLER[0]
    handlers = logger.handlers
    if (
        len(handlers) != 1
        or handlers[0] is not handler
        or logger.filters
        or handler.filters
        or handler.level > level
        or type(handler.formatter) is not JsonFormatter
    ):
        return None
    return handler.stream  # type: ignore[attr-defined]


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A StreamHandler on whatever ``sys.stderr`` is at each line (as `logging.lastResort` does),
    unless a stream was set on it: a stderr replaced after the handler was made (a test's
    capture, a runtime's redirect) and closed since would otherwise lose every later line."""

    def __init__(self) -> None:
        self._set_stream: object = None
        super().__init__()

    @property
    def stream(self) -> object:
        return sys.stderr if self._set_stream is None else self._set_stream

    @stream.setter
    def stream(self, value: object) -> None:
        self._set_stream = None if value is None or value is sys.stderr else value


def ensure_logging() -> logging.Logger:
    """The ``polyfn`` logger, with a handler writing `JsonFormatter` lines to stderr.

    Checked on every use, not once: the handler is added whenever the logger has none, and INFO
    is set whenever no level is, so code that swaps handlers or levels for a while (a test
    harness, a runner capturing logs) cannot leave invocation logs silenced afterwards. The logger
    does not propagate, so a runtime's root handler (awslambdaric installs one) does not print
    each line twice. A user who configures ``polyfn`` themselves keeps their handlers and level.
    """
    logger = _LOGGER
    if not logger.handlers:
        handler = StderrHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
        _OWN_HANDLER[0] = handler
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    return logger


# The ``polyfn`` logger (a logger of a name is the same object for the life of the process).
_LOGGER = logging.getLogger(LOGGER_NAME)


def azure_logger() -> logging.Logger:
    """The logger of Azure invocations: no handler of its own, so its records reach the root
    logger, whose handler the Python worker installs to send them to the host with the
    invocation id (and from there to Application Insights)."""
    logger = logging.getLogger(AZURE_LOGGER_NAME)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    return logger


def use_text_format() -> None:
    """Human-readable lines on the ``polyfn`` logger (``polyfn serve --log-format text``)."""
    for handler in ensure_logging().handlers:
        handler.setFormatter(TextFormatter())


def _no_clash(extra: Any) -> dict[str, Any]:
    # logging refuses an `extra` key that names a LogRecord attribute (KeyError "Attempt to
    # overwrite 'message'"): such a key is renamed with a trailing "_", so the line is not lost.
    if _RESERVED.isdisjoint(extra):
        return dict(extra)
    return {(f"{key}_" if key in _RESERVED else key): value for key, value in extra.items()}


class InvocationLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A LoggerAdapter that merges a call's ``extra`` with the invocation's fields (Python 3.11's
    LoggerAdapter replaces the call's ``extra``; users expect both), and hands the formatter the
    Context for the fields it reads lazily (trace, cold start)."""

    def __init__(self, logger: logging.Logger, ctx: Context) -> None:
        fields: dict[str, Any] = {
            "invocation_id": ctx.invocation_id,
            "function_name": ctx.function_name,
            "provider": ctx.provider,
            _CONTEXT_KEY: ctx,
        }
        super().__init__(logger, fields)
        self.ctx = ctx

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        extra = kwargs.get("extra")
        kwargs["extra"] = {**self.extra, **_no_clash(extra)} if extra else self.extra  # type: ignore[dict-item]
        return msg, kwargs

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        """The line written straight to the stream while the ``polyfn`` logger is as polyfn set
        it up (`direct_stream`); through `logging` otherwise, or when the call asks for what
        only `logging` does (``stack_info``)."""
        stream = direct_stream(level) if self.logger is _LOGGER else None
        if stream is None or kwargs.get("stack_info"):
            super().log(level, msg, *args, **kwargs)
            return
        if stream is DROPPED:
            return
        extra = kwargs.get("extra")
        fields = _no_clash(extra) if extra else {}
        message = str(msg)
        if args:
            # As logging: "%(key)s" formats from one mapping.
            values = args[0] if len(args) == 1 and isinstance(args[0], dict) and args[0] else args
            try:
                message = message % values
            except (TypeError, ValueError):  # as logging would: the line is not lost
                message = f"{message} {args!r}"
        entry = SHAPES.get(self.ctx.provider, local_entry)(
            (
                logging.getLevelName(level),
                message,
                LOGGER_NAME,
                time.time(),
                fields,
                _call_exc_info(kwargs.get("exc_info")),
            ),
            self.ctx,
        )
        write(stream, dumps(entry))


def _call_exc_info(exc_info: Any) -> Any:
    """A log call's ``exc_info`` as `logging` reads it: True for the exception being handled,
    an exception, or the (type, value, traceback) tuple; None for no exception."""
    if not exc_info:
        return None
    if isinstance(exc_info, BaseException):
        return (type(exc_info), exc_info, exc_info.__traceback__)
    if not isinstance(exc_info, tuple):
        exc_info = sys.exc_info()
    return exc_info if exc_info[0] is not None else None


class AzureLogger(InvocationLogger):
    """Records for the Azure worker: the fields as record attributes (the OpenTelemetry and
    Azure Monitor log handlers export those as customDimensions) and as one `custom_dimensions`
    dict (what OpenCensus' AzureLogHandler reads)."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        msg, kwargs = super().process(msg, kwargs)
        extra = kwargs["extra"]
        ctx = self.ctx
        trace = ctx.trace
        dimensions: dict[str, Any] = {
            "invocation_id": ctx.invocation_id,
            "function_name": ctx.function_name,
            "trace_id": trace.trace_id,
            "span_id": trace.span_id,
            "cold_start": ctx.cold_start,
        }
        for key, value in extra.items():
            if key not in INVOCATION_FIELDS and key[0] != "_":
                dimensions[key] = value
        kwargs["extra"] = {**extra, **dimensions, "custom_dimensions": dimensions}
        return msg, kwargs


def logger_for(provider: str) -> logging.Logger:
    return azure_logger() if provider == "azure" else ensure_logging()


def invocation_logger(ctx: Context, logger: logging.Logger) -> logging.LoggerAdapter:  # type: ignore[type-arg]
    if ctx.provider == "azure":
        return AzureLogger(logger, ctx)
    return InvocationLogger(logger, ctx)
