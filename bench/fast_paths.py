"""The fast paths polyfn keeps on purpose, each timed against the plain code it replaces.

A fast path lives in one named function (or one class) with a comment that points here; this
script shows what each one saves, so a change that makes it pay no more can drop it:

- ``polyfn_aws._fields.all_strings``: ``"".join(values)`` as the check that every header value is
  a string, against ``all(type(v) is str for v in values)``, on the headers of an API Gateway
  HTTP API request (tests/events/aws/apigw_http_v2.json).
- ``polyfn_aws._context.AwsContext``: the trace id read from the environment when a handler asks,
  against the same context with the trace id read as it is built, for an invocation that never
  logs.
- ``polyfn_aws._queue.SqsMessage``: ``attributes`` and ``enqueued_time`` read from the record
  when a handler asks, against the same message with both read as it is built, for a record with
  one message attribute whose handler reads neither (as bench/aws_invoke.py's SQS batch).
- ``SqsMessage.__init__`` takes its arguments by position and passes them on to
  ``QueueMessage.__init__`` by keyword: against the same class called with keywords (a class call
  with keywords builds a dict for them; a plain call to the parent's ``__init__`` does not).
"""

from __future__ import annotations

import copy
import sys
from os import environ
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import compare, load_event, timing_table  # noqa: E402
from aws_invoke import sqs_event  # noqa: E402
from polyfn_aws import _context, _fields, _queue  # noqa: E402

from polyfn import Context, QueueMessage  # noqa: E402


def _headers_table() -> str:
    values = load_event("aws", "apigw_http_v2.json")["headers"].values()

    def plain() -> bool:
        return all(type(v) is str for v in values)

    t = compare(
        {"all_strings (join)": lambda: _fields.all_strings(values), "all(type is str)": plain}
    )
    return timing_table(t, "all(type is str)", label=f"{len(values)} header values")


def _context_table() -> str:
    environ.setdefault(_context.TRACE_ENV, "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")

    def read_up_front() -> Context:
        # What reading it as the context is built costs: the same context, plus the read.
        ctx = _context.AwsContext("f", "req-1", None)
        _ = ctx.trace_id
        return ctx

    t = compare(
        {
            "AwsContext (lazy trace id)": lambda: _context.AwsContext("f", "req-1", None),
            "trace id read up front": read_up_front,
        }
    )
    return timing_table(t, "trace id read up front", label="context, never logs")


def _sqs_table() -> str:
    record: dict[str, Any] = copy.deepcopy(sqs_event(1)["Records"][0])
    message_id = record["messageId"]

    def lazy() -> QueueMessage:
        return _queue.sqs_message(record, message_id, "orders", 0)

    def read_up_front() -> QueueMessage:
        # What building the message with both fields read costs: the same checks, plus the reads.
        message = _queue.sqs_message(record, message_id, "orders", 0)
        _ = message.attributes, message.enqueued_time
        return message

    t = compare({"SqsMessage (lazy)": lazy, "both fields read up front": read_up_front})
    return timing_table(t, "both fields read up front", label="one SQS record, fields unread")


class _KeywordSqsMessage(QueueMessage):
    """`SqsMessage`'s constructor as it reads best: keyword arguments, `super()`."""

    __slots__ = ("_index",)

    def __init__(
        self,
        message_id: str,
        body: bytes,
        *,
        queue: str,
        delivery_count: int,
        group: str | None,
        record: dict[str, Any],
        index: int,
    ) -> None:
        super().__init__(
            message_id, body, queue=queue, delivery_count=delivery_count, group=group, raw=record
        )
        self._index = index


def _constructor_table() -> str:
    record: dict[str, Any] = {}

    def positional() -> QueueMessage:
        return _queue.SqsMessage("m-1", b"{}", "orders", 1, None, record, 0)

    def keywords() -> QueueMessage:
        return _KeywordSqsMessage(
            "m-1", b"{}", queue="orders", delivery_count=1, group=None, record=record, index=0
        )

    t = compare({"SqsMessage (positional)": positional, "keywords, super()": keywords})
    return timing_table(t, "keywords, super()", label="one message constructed")


def main() -> None:
    print("### Fast paths against plain code (bench/fast_paths.py)")
    print()
    print("Each fast path beside the plain code it replaces; `x` is the paired ratio (below 1: the")
    print("fast path pays).")
    for table in (_headers_table(), _context_table(), _sqs_table(), _constructor_table()):
        print()
        print(table)


if __name__ == "__main__":
    main()
