"""`QueueMessage` has one constructor; a cloud's message class reads fields lazily by overriding
its readers, never by skipping `__init__` (issue 8)."""

from __future__ import annotations

from datetime import UTC, datetime

from polyfn import QueueMessage


class _Lazy(QueueMessage):
    __slots__ = ("reads",)

    def __init__(self) -> None:
        super().__init__("m-1", b"{}", queue="orders")
        self.reads: list[str] = []

    def _read_attributes(self) -> dict[str, str]:
        self.reads.append("attributes")
        return {"tenant": "acme"}

    def _read_enqueued_time(self) -> datetime | None:
        self.reads.append("enqueued_time")
        return datetime(2026, 12, 3, tzinfo=UTC)


def test_fields_are_read_once_when_first_asked() -> None:
    message = _Lazy()
    assert message.reads == []
    assert message.attributes == {"tenant": "acme"}
    assert message.enqueued_time == datetime(2026, 12, 3, tzinfo=UTC)
    assert message.attributes == {"tenant": "acme"}
    assert message.enqueued_time == datetime(2026, 12, 3, tzinfo=UTC)
    assert message.reads == ["attributes", "enqueued_time"]


def test_a_value_set_replaces_the_reader() -> None:
    message = _Lazy()
    message.enqueued_time = None
    message.attributes = {"x": "1"}
    assert message.enqueued_time is None
    assert message.attributes == {"x": "1"}
    assert message.reads == []


def test_a_plain_message_keeps_what_it_was_given() -> None:
    given = {"a": "1"}
    message = QueueMessage("m-2", bytearray(b"hi"), queue="q", attributes=given)
    assert message.attributes == given and message.attributes is not given
    assert message.body == b"hi" and type(message.body) is bytes
    assert message.enqueued_time is None
    assert QueueMessage("m-3", b"", queue="q").attributes == {}
