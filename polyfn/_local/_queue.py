"""`LocalQueue`: a durable queue in one SQLite file, with the semantics of the clouds' queues.

A received message stays in the database, invisible for a visibility timeout, until it is
acknowledged (deleted) or failed; a failed message becomes visible again with its delivery count
kept, and after the last allowed delivery it moves to the dead-letter queue (``<queue>-dead``
unless the function names one). A process that dies mid-handler leaves its messages invisible:
they come back when their timeout ends, or at once when a new runtime finds their owner process
gone. Several processes may use the file at once (``polyfn send`` while ``polyfn serve`` runs):
SQLite's WAL journal and a busy timeout serialise the writers.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

DEAD_LETTER_SUFFIX = "-dead"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    queue TEXT NOT NULL,
    body BLOB NOT NULL,
    attributes TEXT NOT NULL,
    grp TEXT,
    enqueued REAL NOT NULL,
    visible_at REAL NOT NULL,
    delivery_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT,
    owner INTEGER,
    last_error TEXT,
    failed_deliveries INTEGER
);
CREATE INDEX IF NOT EXISTS messages_ready ON messages (queue, visible_at, seq);
"""


class StoredMessage:
    """One message as the queue holds it; `receipt` identifies this delivery."""

    __slots__ = (
        "attributes",
        "body",
        "delivery_count",
        "enqueued",
        "failed_deliveries",
        "group",
        "id",
        "last_error",
        "queue",
        "receipt",
        "visible_at",
    )

    def __init__(self, row: sqlite3.Row) -> None:
        self.id: str = row["id"]
        self.queue: str = row["queue"]
        self.body: bytes = bytes(row["body"])
        self.attributes: dict[str, str] = json.loads(row["attributes"])
        self.group: str | None = row["grp"]
        self.enqueued: float = row["enqueued"]
        self.visible_at: float = row["visible_at"]
        self.delivery_count: int = row["delivery_count"]
        self.receipt: str | None = row["receipt"]
        self.last_error: str | None = row["last_error"]
        # On a dead-letter queue: how many deliveries failed on the queue it came from (its
        # delivery count starts again at 0 here); None for a message never dead-lettered.
        self.failed_deliveries: int | None = row["failed_deliveries"]

    def __repr__(self) -> str:
        return f"StoredMessage({self.queue}/{self.id}, deliveries={self.delivery_count})"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


class LocalQueue:
    """The queues of one local runtime, in the SQLite file `path` (created on first use)."""

    def __init__(self, path: Path, *, clock: Any = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._clock = clock
        with self._connect() as db:
            db.executescript(_SCHEMA)
        with self._transaction() as db:  # the writer lock: two processes starting add it once
            columns = {r["name"] for r in db.execute("PRAGMA table_info(messages)")}
            if "failed_deliveries" not in columns:  # a state dir from before the column
                db.execute("ALTER TABLE messages ADD COLUMN failed_deliveries INTEGER")

    def _connect(self) -> sqlite3.Connection:
        # One short-lived connection per operation: safe across threads and processes, and cheap
        # next to a handler call.
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        return db

    def _transaction(self) -> _Tx:
        return _Tx(self._connect())

    def send(
        self,
        queue: str,
        body: bytes,
        *,
        attributes: Mapping[str, str] | None = None,
        group: str | None = None,
        delay: float = 0.0,
    ) -> str:
        """Enqueue one message; returns its id. Durable when this returns."""
        message_id = str(uuid.uuid4())
        now = self._clock()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO messages (id, queue, body, attributes, grp, enqueued, visible_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    message_id,
                    queue,
                    body,
                    json.dumps(dict(attributes or {})),
                    group,
                    now,
                    now + delay,
                ),
            )
        return message_id

    def receive(
        self, queue: str, max_messages: int, visibility_timeout: float, *, fifo: bool = False
    ) -> list[StoredMessage]:
        """Take up to `max_messages` visible messages, oldest first, hiding them for
        `visibility_timeout` seconds. With `fifo`, a group with a message in flight is skipped
        and at most one message per group is taken, so each group is handled in order."""
        now = self._clock()
        receipt_owner = os.getpid()
        with self._transaction() as db:
            rows = db.execute(
                "SELECT * FROM messages WHERE queue = ? AND visible_at <= ? ORDER BY seq",
                (queue, now),
            ).fetchall()
            if fifo:
                busy = {
                    r["grp"]
                    for r in db.execute(
                        "SELECT grp FROM messages WHERE queue = ? AND visible_at > ?"
                        " AND receipt IS NOT NULL",
                        (queue, now),
                    )
                }
                picked, seen = [], set(busy)
                for row in rows:
                    if row["grp"] not in seen:
                        seen.add(row["grp"])
                        picked.append(row)
                rows = picked
            taken: list[StoredMessage] = []
            for row in rows[:max_messages]:
                receipt = uuid.uuid4().hex
                db.execute(
                    "UPDATE messages SET visible_at = ?, delivery_count = delivery_count + 1,"
                    " receipt = ?, owner = ? WHERE seq = ?",
                    (now + visibility_timeout, receipt, receipt_owner, row["seq"]),
                )
                taken.extend(
                    StoredMessage(r)
                    for r in db.execute("SELECT * FROM messages WHERE seq = ?", (row["seq"],))
                )
        return taken

    def ack(self, message: StoredMessage) -> bool:
        """Delete a handled message; False if its receipt expired and someone else has it."""
        with self._transaction() as db:
            cur = db.execute(
                "DELETE FROM messages WHERE id = ? AND receipt = ?", (message.id, message.receipt)
            )
            return cur.rowcount == 1

    def fail(
        self,
        message: StoredMessage,
        *,
        max_deliveries: int,
        dead_letter: str | None = None,
        error: str = "",
        retry_delay: float = 0.0,
    ) -> str:
        """Record a failed delivery: back on the queue, or onto the dead-letter queue when this
        was delivery number `max_deliveries`. Returns "retry", "dead-lettered" or "lost-receipt"
        (the timeout had passed and the message was already handed out again)."""
        target = dead_letter or message.queue + DEAD_LETTER_SUFFIX
        now = self._clock()
        with self._transaction() as db:
            row = db.execute(
                "SELECT delivery_count FROM messages WHERE id = ? AND receipt = ?",
                (message.id, message.receipt),
            ).fetchone()
            if row is None:
                return "lost-receipt"
            if row["delivery_count"] >= max_deliveries:
                # A new message on the dead-letter queue, as SQS moves it: body and attributes
                # kept, delivery count reset; the source queue is recorded for whoever reads it,
                # and how many deliveries failed there for whoever inspects it.
                attributes = dict(message.attributes)
                attributes.setdefault("polyfn-dead-letter-source", message.queue)
                db.execute(
                    "UPDATE messages SET queue = ?, visible_at = ?, delivery_count = 0,"
                    " failed_deliveries = ?, receipt = NULL, owner = NULL, last_error = ?,"
                    " attributes = ? WHERE id = ?",
                    (
                        target,
                        now,
                        row["delivery_count"],
                        error[:2000],
                        json.dumps(attributes),
                        message.id,
                    ),
                )
                return "dead-lettered"
            db.execute(
                "UPDATE messages SET visible_at = ?, receipt = NULL, owner = NULL,"
                " last_error = ? WHERE id = ?",
                (now + retry_delay, error[:2000], message.id),
            )
            return "retry"

    def release(self, message: StoredMessage) -> None:
        """Put back a message received but never handed to its handler (the runtime stopping):
        visible now, and this delivery not counted."""
        with self._transaction() as db:
            db.execute(
                "UPDATE messages SET visible_at = ?, receipt = NULL, owner = NULL,"
                " delivery_count = MAX(delivery_count - 1, 0) WHERE id = ? AND receipt = ?",
                (self._clock(), message.id, message.receipt),
            )

    def release_orphans(self) -> int:
        """Make visible now every in-flight message whose owner process no longer runs (a
        runtime killed mid-handler); returns how many. Their delivery counts stand."""
        now = self._clock()
        released = 0
        with self._transaction() as db:
            rows = db.execute(
                "SELECT seq, owner FROM messages WHERE receipt IS NOT NULL AND visible_at > ?",
                (now,),
            ).fetchall()
            for row in rows:
                if row["owner"] is None or not _pid_alive(row["owner"]):
                    db.execute(
                        "UPDATE messages SET visible_at = ?, receipt = NULL, owner = NULL"
                        " WHERE seq = ?",
                        (now, row["seq"]),
                    )
                    released += 1
        return released

    def messages(self, queue: str) -> list[StoredMessage]:
        """Every message on `queue`, oldest first, in flight or not (for inspection)."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT * FROM messages WHERE queue = ? ORDER BY seq", (queue,)
            ).fetchall()
        return [StoredMessage(r) for r in rows]

    def queues(self) -> dict[str, int]:
        """Queue name -> number of messages it holds."""
        with self._transaction() as db:
            rows = db.execute("SELECT queue, COUNT(*) AS n FROM messages GROUP BY queue")
            return {r["queue"]: r["n"] for r in rows}


class _Tx:
    """A write transaction (BEGIN IMMEDIATE: the writer lock up front, so a read-then-update
    cannot interleave with another receiver), committed on success and closed always."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            self.db.execute("ROLLBACK" if exc_type is not None else "COMMIT")
        finally:
            self.db.close()
