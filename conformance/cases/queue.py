"""Neutral queue cases: a batch of messages arrives on a conformance queue.

Batches of 1 and 10, JSON, text and binary bodies, attributes, redeliveries (delivery count above
1), and messages that ask the handler to fail (`conformance.app_events.asks_to_fail`). What the
handler must see, and which messages the cloud must get back to redeliver, is computed here from
the messages alone, by how the target delivers them (its ``delivery`` attribute, which a queue
driver also returns in ``Outcome.result["delivery"]``):

- ``"batch"``: one invocation gets the whole batch and reports each failed message on its own
  (SQS ``batchItemFailures``): every message is handled; exactly the failing ones are redelivered.
- ``"fifo"``: order within a message group is kept (SQS FIFO batches; Service Bus sessions and
  Pub/Sub ordering keys, which hand a group's messages over one at a time): after a message of a
  group fails, the later messages of that group are not handled and come back with it; other
  groups go on.
- ``"single"``: each message is its own invocation (Azure queues, Service Bus, Pub/Sub); a raise
  fails that invocation, so the failing messages are redelivered and the others are not.

Whatever the mode, no message is lost: every id is either handled successfully or redelivered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from conformance.app_events import (
    FIFO_FUNCTION,
    FIFO_QUEUE,
    QUEUE,
    QUEUE_FUNCTION,
    asks_to_fail,
    differences,
    iso,
)

if TYPE_CHECKING:
    from conformance._spec import Outcome, Target

DELIVERY_MODES = ("batch", "fifo", "single")


@dataclass(frozen=True)
class Message:
    """One message as its sender put it on the queue (`delivery_count` 1: its first delivery)."""

    id: str
    body: bytes
    enqueued_time: datetime
    attributes: tuple[tuple[str, str], ...] = ()
    delivery_count: int = 1
    group: str | None = None

    @property
    def attrs(self) -> dict[str, str]:
        return dict(self.attributes)

    @property
    def fails(self) -> bool:
        return asks_to_fail(self.body, self.attrs)

    @property
    def text(self) -> str | None:
        """The body as text, or None for a body that is not UTF-8 (binary)."""
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            return None


@dataclass(frozen=True)
class QueueCase:
    """A batch of `messages` on the conformance queue (the FIFO one when `fifo`)."""

    name: str
    messages: tuple[Message, ...]
    fifo: bool = False
    trigger: str = "queue"

    @property
    def queue(self) -> str:
        return FIFO_QUEUE if self.fifo else QUEUE

    @property
    def function(self) -> str:
        return FIFO_FUNCTION if self.fifo else QUEUE_FUNCTION

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.messages]

    @property
    def has_attributes(self) -> bool:
        return any(m.attributes for m in self.messages)

    @property
    def has_binary(self) -> bool:
        return any(m.text is None for m in self.messages)

    def _plan(self, delivery: str) -> tuple[list[Message], list[str]]:
        """(messages the handler is called with, ids the cloud redelivers) for a delivery mode."""
        if delivery not in DELIVERY_MODES:
            raise ValueError(f"delivery must be one of {DELIVERY_MODES}, got {delivery!r}")
        handled: list[Message] = []
        failed: list[str] = []
        blocked: set[str | None] = set()
        for m in self.messages:
            if delivery == "fifo" and m.group in blocked:
                failed.append(m.id)
                continue
            handled.append(m)
            if m.fails:
                failed.append(m.id)
                blocked.add(m.group)
        return handled, failed

    def expected_seen(self, delivery: str) -> list[dict[str, Any]]:
        handled, _ = self._plan(delivery)
        return [
            {
                "fn": self.function,
                "id": m.id,
                "queue": self.queue,
                "body": m.body.hex(),
                "attributes": m.attrs,
                "delivery_count": m.delivery_count,
                "enqueued_time": iso(m.enqueued_time),
                "group": m.group if delivery == "fifo" else None,
            }
            for m in handled
        ]

    def expected_failed(self, delivery: str) -> list[str]:
        return self._plan(delivery)[1]

    def check(self, outcome: Outcome, target: Target) -> list[str]:
        """What differs between `outcome` and this case's expectations ([] = pass)."""
        delivery = getattr(target, "delivery", None)
        if delivery is None and isinstance(outcome.result, dict):
            delivery = outcome.result.get("delivery")
        if delivery is None:
            return ["the driver did not say how it delivers (Outcome.result['delivery'])"]
        problems = differences("seen", self.expected_seen(delivery), outcome.seen)
        problems += differences(
            "failed", sorted(self.expected_failed(delivery)), sorted(outcome.failed)
        )
        return problems


_T0 = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


def _msg(
    n: int,
    body: bytes | dict[str, Any] | str,
    *,
    attributes: dict[str, str] | None = None,
    delivery_count: int = 1,
    group: str | None = None,
    prefix: str = "m",
) -> Message:
    if isinstance(body, dict):
        raw = json.dumps(body, separators=(",", ":")).encode()
    elif isinstance(body, str):
        raw = body.encode("utf-8")
    else:
        raw = body
    return Message(
        id=f"{prefix}-{n:02d}-4e1f-9a7c-{n:012d}",
        body=raw,
        # whole seconds: Storage queue insertion times carry no more (RFC 1123 dates)
        enqueued_time=_T0 + timedelta(seconds=7 * n),
        attributes=tuple(sorted((attributes or {}).items())),
        delivery_count=delivery_count,
        group=group,
    )


def _order(n: int, **extra: Any) -> dict[str, Any]:
    return {"order": n, "sku": f"SKU-{n:03d}", "qty": n % 4 + 1, **extra}


def _batch(
    n: int, failing: frozenset[int] = frozenset(), by_attribute: frozenset[int] = frozenset()
) -> tuple[Message, ...]:
    return tuple(
        _msg(
            i,
            _order(i, fail=True) if i in failing else _order(i),
            attributes={"fail": "yes"} if i in by_attribute else None,
        )
        for i in range(1, n + 1)
    )


_BINARY = bytes(range(256))[::-1] + b"\x00\xff\xfe"
_FIFO_GROUPS = ("customer-a", "customer-b")

CASES: list[QueueCase] = [
    QueueCase("json-1", (_msg(1, _order(1)),)),
    QueueCase("json-10", _batch(10)),
    QueueCase("json-1-fails", _batch(1, failing=frozenset({1}))),
    QueueCase("json-10-one-fails", _batch(10, failing=frozenset({4}))),
    QueueCase("json-10-several-fail", _batch(10, failing=frozenset({1, 5, 10}))),
    QueueCase("json-10-all-fail", _batch(10, failing=frozenset(range(1, 11)))),
    QueueCase("text-unicode", (_msg(1, "Grüße aus Zürich, 東京 ✓ \u2028 line"),)),
    # 200 kB: under SQS's and Service Bus standard's 256 KiB, over a Storage queue's 64 KiB
    QueueCase("json-large", (_msg(1, _order(1, blob="x" * 200_000)),)),
    QueueCase("binary-1", (_msg(1, _BINARY),)),
    QueueCase(
        "binary-10-two-fail",
        tuple(
            _msg(i, _BINARY[i:] + bytes([i]), attributes={"fail": "yes"} if i in (3, 7) else None)
            for i in range(1, 11)
        ),
    ),
    QueueCase(
        "attributes",
        (
            _msg(
                1,
                _order(1),
                attributes={"tenant": "acme", "trace": "abc-123", "unicode": "Zürich ✓"},
            ),
            _msg(2, _order(2), attributes={"tenant": "globex"}),
        ),
    ),
    QueueCase("attribute-fails", _batch(10, by_attribute=frozenset({2, 9}))),
    QueueCase(
        "redelivered",
        (
            _msg(1, _order(1), delivery_count=2),
            _msg(2, _order(2), delivery_count=5),
            _msg(3, _order(3, fail=True), delivery_count=3),
        ),
    ),
    QueueCase(
        "fifo-10",
        tuple(_msg(i, _order(i), group=_FIFO_GROUPS[i % 2], prefix="f") for i in range(1, 11)),
        fifo=True,
    ),
    QueueCase(
        "fifo-10-one-fails",
        tuple(
            _msg(i, _order(i, fail=i == 3), group=_FIFO_GROUPS[i % 2], prefix="f")
            for i in range(1, 11)
        ),
        fifo=True,
    ),
    QueueCase(
        "fifo-10-both-groups-fail",
        tuple(
            _msg(i, _order(i, fail=i in (2, 7, 9)), group=_FIFO_GROUPS[i % 2], prefix="f")
            for i in range(1, 11)
        ),
        fifo=True,
    ),
    QueueCase(
        "fifo-1-fails",
        (_msg(1, _order(1, fail=True), group="customer-a", prefix="f"),),
        fifo=True,
    ),
]
