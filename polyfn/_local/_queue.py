"""`LocalQueue`: a durable queue in one SQLite file, with the semantics of the clouds' queues.

A received message stays in the database, invisible for a visibility timeout, until it is
acknowledged (deleted) or failed; a failed message becomes visible again with its delivery count
kept, and after the last allowed delivery it moves to the dead-letter queue (``<queue>-dead``
unless the function names one). A process that dies mid-handler leaves its messages invisible:
they come back when their timeout ends, or at once when a new runtime finds their owner gone
(the owner is the `polyfn serve` holding the state directory's lock, `_statelock`). Several
processes may use the file at once (``polyfn send`` while ``polyfn serve`` runs): SQLite's WAL
journal and a busy timeout serialise the writers; a lock held past that timeout is `QueueBusyError`,
which the runtime retries. The file is created whole (schema written, then linked into place), so
an empty or unreadable ``queues.db`` is never one of ours: it is `QueueCorruptError`, whose message
names the file and the way out (``polyfn messages --reset``).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from polyfn._errors import PolyfnError
from polyfn._local._statelock import holder

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

DEAD_LETTER_SUFFIX = "-dead"
# How long one operation waits for another connection's write lock before `QueueBusyError`. The
# runtime retries past it (with backoff), so this only bounds how soon a stuck lock is reported.
BUSY_TIMEOUT = 5.0
# The attribute a dead letter carries: the queue it failed on (where --redrive sends it back).
SOURCE_ATTRIBUTE = "polyfn-dead-letter-source"

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
CREATE TABLE IF NOT EXISTS known_queues (
    name TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    role TEXT NOT NULL
);
"""
# The files SQLite keeps for one database in WAL mode.
_SIDE_FILES = ("", "-wal", "-shm")


class QueueDatabaseError(PolyfnError):
    """The local queue file cannot be used; the message names it and what to do."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        super().__init__(message)


class QueueBusyError(QueueDatabaseError):
    """Another connection held the file's write lock for longer than the busy timeout."""

    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__(
            path,
            f"the local queue file {str(path)!r} stayed locked by another connection for over "
            f"{timeout:g} s. Try again; if it persists, look for a program holding it open in "
            "a transaction (an sqlite3 shell, a backup or sync tool).",
        )


class QueueCorruptError(QueueDatabaseError):
    """The file is not a queue database polyfn can read (corrupt, foreign, or emptied)."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(
            path,
            f"the local queue file {str(path)!r} {what}. Run `polyfn messages --reset "
            f"--state-dir {str(path.parent)!r}` to move it aside (kept as "
            f"{path.name}.broken-TIME for inspection) and start with empty queues, or put back "
            "a copy you trust.",
        )


def _translate(path: Path, exc: sqlite3.Error, busy_timeout: float) -> Exception:
    """SQLite's error as the `QueueDatabaseError` a user can act on."""
    name = getattr(exc, "sqlite_errorname", "")
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in str(exc):
        return QueueBusyError(path, busy_timeout)
    if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or type(exc) is sqlite3.DatabaseError:
        return QueueCorruptError(
            path, f"is not a readable queue database ({exc}), so its messages cannot be read"
        )
    return QueueDatabaseError(path, f"cannot use the local queue file {str(path)!r}: {exc}.")


def move_aside(path: Path) -> list[Path]:
    """Rename the queue database and its WAL side files to ``NAME.broken-TIME``; returns the new
    paths (the next `LocalQueue` starts empty). The caller makes sure no runtime uses them."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    moved = []
    for suffix in _SIDE_FILES:
        source = path.with_name(path.name + suffix)
        if source.exists():
            target = path.with_name(f"{path.name}.broken-{stamp}{suffix}")
            source.rename(target)
            moved.append(target)
    return moved


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


class LocalQueue:
    """The queues of one local runtime, in the SQLite file `path` (created on first use)."""

    def __init__(
        self, path: Path, *, clock: Any = time.time, busy_timeout: float = BUSY_TIMEOUT
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.busy_timeout = busy_timeout
        self._clock = clock
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            self._create()
        else:
            if size == 0:
                # SQLite would take an empty file for a new database and carry on with empty
                # queues. We never leave one (the file appears with its schema written), so
                # something truncated it: say so rather than lose its messages in silence.
                raise QueueCorruptError(
                    path,
                    "is empty (0 bytes). polyfn writes it whole when it creates it, so "
                    "something emptied it afterwards and the messages it held are lost",
                )
        with self._transaction() as db:  # the writer lock: two processes starting add it once
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)  # tables a file from an older polyfn lacks
            columns = {r["name"] for r in db.execute("PRAGMA table_info(messages)")}
            if "failed_deliveries" not in columns:  # a state dir from before the column
                db.execute("ALTER TABLE messages ADD COLUMN failed_deliveries INTEGER")

    def _create(self) -> None:
        """Write a new database beside `path`, then link it into place: no process ever sees a
        half-made file, and of two creating at once the first link wins."""
        partial = self.path.with_name(f"{self.path.name}.new-{os.getpid()}-{uuid.uuid4().hex}")
        try:
            db = sqlite3.connect(partial, isolation_level=None)
            try:
                db.executescript(_SCHEMA)
                db.execute("PRAGMA journal_mode=WAL")
            finally:
                db.close()
            with contextlib.suppress(FileExistsError):  # another process made it first: use it
                os.link(partial, self.path)
        finally:
            partial.unlink(missing_ok=True)

    def _connect(self) -> sqlite3.Connection:
        # One short-lived connection per operation: safe across threads and processes, and cheap
        # next to a handler call.
        db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
        except BaseException:
            db.close()
            raise
        return db

    def _transaction(self) -> _Tx:
        return _Tx(self)

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
                attributes.setdefault(SOURCE_ATTRIBUTE, message.queue)
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
        """Make visible now every in-flight message whose owner is gone (a runtime killed
        mid-handler); returns how many. Their delivery counts stand.

        The owner is alive only while it holds the state directory's lock (`_statelock`): the
        kernel drops that lock as the process dies, while its pid can linger as a zombie."""
        now = self._clock()
        live = holder(self.path.parent)
        with self._transaction() as db:
            cur = db.execute(
                "UPDATE messages SET visible_at = ?, receipt = NULL, owner = NULL"
                " WHERE receipt IS NOT NULL AND visible_at > ?"
                " AND (owner IS NULL OR owner IS NOT ?)",
                (now, now, live),
            )
            return cur.rowcount

    def redrive(self, queue: str, *, to: str | None = None) -> dict[str | None, int]:
        """Move the waiting messages of dead-letter `queue` back to the queue each failed on
        (`to` instead, when given), as new messages at the back of it: delivery count 0, no
        error, the source attribute gone. Returns target -> how many; messages with no recorded
        source and no `to` stay, counted under None. In-flight ones (a function consuming the
        dead-letter queue has them) stay too."""
        now = self._clock()
        moved: dict[str | None, int] = {}
        with self._transaction() as db:
            rows = db.execute(
                "SELECT * FROM messages WHERE queue = ? AND (receipt IS NULL OR visible_at <= ?)"
                " ORDER BY seq",
                (queue, now),
            ).fetchall()
            for row in rows:
                attributes = json.loads(row["attributes"])
                target = to or attributes.pop(SOURCE_ATTRIBUTE, None)
                if to is not None:
                    attributes.pop(SOURCE_ATTRIBUTE, None)
                moved[target] = moved.get(target, 0) + 1
                if target is None:
                    continue
                # Deleted and inserted again: a new sequence number puts it behind what waits.
                db.execute("DELETE FROM messages WHERE seq = ?", (row["seq"],))
                db.execute(
                    "INSERT INTO messages (id, queue, body, attributes, grp, enqueued,"
                    " visible_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        row["id"],
                        target,
                        row["body"],
                        json.dumps(attributes),
                        row["grp"],
                        row["enqueued"],
                        now,
                    ),
                )
        return moved

    def purge(self, queue: str) -> int:
        """Delete every message on `queue`, in flight or not (as SQS PurgeQueue); how many."""
        with self._transaction() as db:
            return db.execute("DELETE FROM messages WHERE queue = ?", (queue,)).rowcount

    def register(self, app: str, roles: Mapping[str, str]) -> None:
        """Record the queues `app` uses (name -> role, such as "consumed by on_order"), in place
        of whatever app registered before; `polyfn send` checks names against them."""
        with self._transaction() as db:
            db.execute("DELETE FROM known_queues")
            db.executemany(
                "INSERT INTO known_queues (name, app, role) VALUES (?, ?, ?)",
                [(name, app, role) for name, role in roles.items()],
            )

    def registered(self) -> dict[str, str]:
        """The queues the last `register` recorded: name -> role."""
        with self._transaction() as db:
            rows = db.execute("SELECT name, role FROM known_queues ORDER BY name").fetchall()
        return {r["name"]: r["role"] for r in rows}

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
    cannot interleave with another receiver), committed on success and closed always. SQLite's
    errors leave it as `QueueDatabaseError`s that name the file."""

    def __init__(self, queue: LocalQueue) -> None:
        self.queue = queue
        self.db: sqlite3.Connection | None = None

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.db = self.queue._connect()
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            if self.db is not None:
                self.db.close()
            raise _translate(self.queue.path, exc, self.queue.busy_timeout) from exc
        return self.db

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        assert self.db is not None
        try:
            self.db.execute("ROLLBACK" if exc_type is not None else "COMMIT")
        except sqlite3.Error as failed:
            if exc is None:
                raise _translate(self.queue.path, failed, self.queue.busy_timeout) from failed
        finally:
            self.db.close()
        if isinstance(exc, sqlite3.Error):
            raise _translate(self.queue.path, exc, self.queue.busy_timeout) from exc
