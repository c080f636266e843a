"""Neutral subscription cases: messages published to the conformance topic, which two functions
subscribe to (`conformance.app_events.SUBSCRIBER_FUNCTIONS`).

Every subscriber gets its own copy of every message, as its own delivery (SNS invokes each
subscribed Lambda, each Service Bus subscription and each Eventarc subscription delivers on its
own), and a raise fails that subscriber's copy alone: the other subscriber's copy is handled.
A target runs the messages through each subscriber's own entry point, subscriber by subscriber,
and reports each failed copy as ``"<function>/<message id>"``; what the handlers must see and
which copies come back is computed here from the messages alone. No copy is lost: each is either
handled successfully or redelivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.app_events import SUBSCRIBER_FUNCTIONS, TOPIC, differences, iso
from conformance.cases.queue import CASES as QUEUE_CASES

if TYPE_CHECKING:
    from conformance._spec import Outcome
    from conformance.cases.queue import Message


def copy_id(function: str, message: Message) -> str:
    """How a target names the copy of `message` that subscriber `function` failed."""
    return f"{function}/{message.id}"


@dataclass(frozen=True)
class SubscribeCase:
    """`messages` published to the conformance topic, each delivered to every subscriber."""

    name: str
    messages: tuple[Message, ...]
    trigger: str = "subscribe"

    @property
    def topic(self) -> str:
        return TOPIC

    @property
    def functions(self) -> tuple[str, ...]:
        return SUBSCRIBER_FUNCTIONS

    @property
    def has_binary(self) -> bool:
        return any(m.text is None for m in self.messages)

    def expected_seen(self) -> list[dict[str, Any]]:
        return [
            {
                "fn": fn,
                "id": m.id,
                "queue": self.topic,  # QueueMessage.queue names the topic
                "body": m.body.hex(),
                "attributes": m.attrs,
                "delivery_count": m.delivery_count,
                "enqueued_time": iso(m.enqueued_time),
                "group": None,
            }
            for fn in self.functions
            for m in self.messages
        ]

    def expected_failed(self) -> list[str]:
        return [copy_id(fn, m) for fn in self.functions for m in self.messages if m.fails]

    def check(self, outcome: Outcome, target: Any = None) -> list[str]:
        """What differs between `outcome` and this case's expectations ([] = pass)."""
        problems = differences("seen", self.expected_seen(), outcome.seen)
        problems += differences("failed", sorted(self.expected_failed()), sorted(outcome.failed))
        return problems


# The queue cases whose messages a topic carries too (no FIFO groups: the three services'
# topic subscriptions here keep no order), named "topic-<queue case>".
CASES: list[SubscribeCase] = [
    SubscribeCase(f"topic-{case.name}", case.messages) for case in QUEUE_CASES if not case.fifo
]
