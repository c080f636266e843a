"""The local twins of the resources: what a `Bucket`, `Queue`, `Topic`, `Table` or `Secret` is
under `polyfn serve` and `polyfn.testing`, all in the state folder (``.polyfn`` by default).

Where things live (``<state>`` is the state folder, ``<storage>`` the storage folder, by default
``<state>/storage``):

- a bucket is the folder ``<storage>/<bucket>``, an object the file at its key (``/`` makes
  subfolders), the same folder `polyfn serve` watches, so a write fires the storage functions.
  Writes go to a temporary file under ``<storage>/<bucket>/.polyfn/tmp/`` and are renamed into
  place (a reader never sees half an object); content type and metadata live in a sidecar under
  ``<storage>/<bucket>/.polyfn/meta/<key>.json``. The watcher skips folders starting with ``.``, so
  neither fires anything; keys under ``.polyfn/`` are refused.
- a queue is a queue in the durable SQLite file ``<state>/queues.db`` that `polyfn serve` consumes.
- a topic fans a publish out to its subscription queues, listed in ``<state>/topics.db``; a
  subscription of function F to topic T is the queue ``T~F`` (`subscription_queue`). A publish
  with no subscription is accepted and logged, as SNS accepts it.
- tables are SQLite tables in ``<state>/tables.db``; versions are integers counting writes.
- secrets are ``<state>/secrets.json``, one JSON object of name -> value.

Which state folder: the one bound to the running app by `polyfn serve` or a `polyfn.testing.Client`
(`bind_state`), else ``$POLYFN_STATE_DIR`` (``$POLYFN_STORAGE_DIR`` for the storage folder), else
``./.polyfn``. ``polyfn serve`` sets both variables for its process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import mimetypes
import os
import sqlite3
import threading
import uuid
import weakref
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from polyfn._resources import Conflict, NotFound, ObjectInfo, ResourceError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from datetime import timedelta

    from polyfn._app import App
    from polyfn._events import StorageEvent
    from polyfn._local._queue import LocalQueue
    from polyfn._resources import OutgoingMessage

STATE_ENV = "POLYFN_STATE_DIR"
STORAGE_ENV = "POLYFN_STORAGE_DIR"
DEFAULT_STATE_DIR = ".polyfn"
# The bucket folder's own corner, which the watcher skips (it starts with a dot): temporary files
# of writes in progress and the metadata sidecars.
RESERVED = ".polyfn"
# The local twin refuses a message above SQS's limit (256 KiB), so a message that fits locally
# fits on AWS and Pub/Sub; Azure Storage queues hold less (64 KiB of base64), which the Azure
# backend checks itself.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
MAX_MESSAGE_BYTES = 256 * 1024
SUBSCRIPTION_SEPARATOR = "~"
LIST_PAGE = 1000

log = logging.getLogger("polyfn.local")


def subscription_queue(topic: str, function: str) -> str:
    """The queue that carries topic `topic` to the subscriber function `function`: ``T~F``."""
    return f"{topic}{SUBSCRIPTION_SEPARATOR}{function}"


# -- which state folder ----------------------------------------------------------------------------


class LocalState:
    """One state folder (and its storage folder) with the stores opened in it.

    `on_write`, when set, is told of every object a bucket twin writes or deletes (the test
    client fires the storage functions from it; `polyfn serve` has its folder watcher instead).
    """

    def __init__(
        self,
        state_dir: Path | str,
        storage_dir: Path | str | None = None,
        *,
        on_write: Callable[[StorageEvent], None] | None = None,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.storage_dir = Path(storage_dir) if storage_dir else self.state_dir / "storage"
        self.on_write = on_write
        self._lock = threading.Lock()
        self._queue: LocalQueue | None = None
        self.tables = _Tables(self.state_dir / "tables.db")  # no file until the first write

    @property
    def queue(self) -> LocalQueue:
        """The queue file, opened (and its schema made) on first use."""
        with self._lock:
            if self._queue is None:
                from polyfn._local._queue import LocalQueue

                self._queue = LocalQueue(self.state_dir / "queues.db")
            return self._queue

    @property
    def secrets_file(self) -> Path:
        return self.state_dir / "secrets.json"

    @property
    def topics_db(self) -> Path:
        return self.state_dir / "topics.db"

    def subscribe(self, topic: str, queue: str) -> None:
        """Register `queue` as a subscription of `topic` (kept in ``<state>/topics.db``)."""
        with _transaction(self.topics_db, _TOPICS_SCHEMA) as db:
            db.execute(
                "INSERT OR IGNORE INTO subscriptions (topic, queue) VALUES (?, ?)", (topic, queue)
            )

    def subscriptions(self, topic: str) -> list[str]:
        """The queues subscribed to `topic`, in name order."""
        if not self.topics_db.exists():
            return []
        with _transaction(self.topics_db, _TOPICS_SCHEMA) as db:
            rows = db.execute(
                "SELECT queue FROM subscriptions WHERE topic = ? ORDER BY queue", (topic,)
            ).fetchall()
        return [r[0] for r in rows]

    def __repr__(self) -> str:
        return f"LocalState({str(self.state_dir)!r}, storage={str(self.storage_dir)!r})"


_CURRENT_STATE: ContextVar[LocalState | None] = ContextVar("polyfn_local_state", default=None)
# app -> its state folder, for the invocations of that app; weak, so an app a test dropped
# neither stays alive nor lends its folder to a new app that reuses its id.
_BOUND: weakref.WeakKeyDictionary[App, LocalState] = weakref.WeakKeyDictionary()
_FROM_ENV: dict[tuple[str, str], LocalState] = {}
_ENV_LOCK = threading.Lock()


def current_state() -> LocalState:
    """The state folder of the running local invocation, else the environment's."""
    state = _CURRENT_STATE.get()
    if state is not None:
        return state
    root = os.environ.get(STATE_ENV) or DEFAULT_STATE_DIR
    storage = os.environ.get(STORAGE_ENV) or ""
    with _ENV_LOCK:
        found = _FROM_ENV.get((root, storage))
        if found is None:
            found = _FROM_ENV[(root, storage)] = LocalState(root, storage or None)
        return found


def bind_state(app: App, state: LocalState) -> None:
    """Make `state` the state folder of every local invocation of `app` (the last bound wins)."""
    _BOUND[app] = state


def bound_state(app: App) -> LocalState | None:
    return _BOUND.get(app)


@contextlib.contextmanager
def using_state(state: LocalState | None) -> Iterator[None]:
    """Run the block with `state` as the current state folder (None: leave it as it is)."""
    if state is None:
        yield
        return
    token = _CURRENT_STATE.set(state)
    try:
        yield
    finally:
        _CURRENT_STATE.reset(token)


_TOPICS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS subscriptions (topic TEXT NOT NULL, queue TEXT NOT NULL,"
    " PRIMARY KEY (topic, queue))"
)
_TABLES_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS documents (tbl TEXT NOT NULL, key TEXT NOT NULL,"
    " fields TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (tbl, key))"
)


@contextlib.contextmanager
def _transaction(path: Path, schema: str) -> Iterator[sqlite3.Connection]:
    """A short-lived SQLite connection in one write transaction: BEGIN IMMEDIATE takes the
    writer lock up front, so a read-then-write cannot interleave with another process's (the
    queue file does the same)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(schema)
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    finally:
        db.close()


# -- the backend -----------------------------------------------------------------------------------


class LocalBackend:
    """The resource backend of provider ``"local"``: each client finds its state folder per call,
    so one process can serve several (a test client per test)."""

    def bucket(self, name: str) -> LocalBucket:
        return LocalBucket(name)

    def queue(self, name: str, fifo: bool) -> LocalQueueClient:
        return LocalQueueClient(name, fifo)

    def topic(self, name: str) -> LocalTopic:
        return LocalTopic(name)

    def table(self, name: str) -> LocalTable:
        return LocalTable(name)

    def secret(self, name: str) -> LocalSecret:
        return LocalSecret(name)


# -- buckets ---------------------------------------------------------------------------------------


def _etag(data: bytes) -> str:
    # S3's ETag of a single-part upload is the MD5 of the content; the watcher's events use it too.
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _read_sidecar(meta_path: Path, path: Path) -> dict[str, Any]:
    """The sidecar at `meta_path` if it still describes the file at `path` (a copy made by hand
    over the object makes it stale: then the object has no stored content type or metadata)."""
    try:
        st = path.stat()
        meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(meta, dict) or meta.get("stat") != [st.st_mtime_ns, st.st_size]:
        return {}
    return meta


def stored_content_type(path: Path, key: str) -> str | None:
    """The content type a bucket write gave the object at `path` (`key` in its bucket), if any."""
    folder = path.parents[key.count("/")]
    found = _read_sidecar(folder / RESERVED / "meta" / (key + ".json"), path).get("content_type")
    return found if isinstance(found, str) else None


class LocalBucket:
    """A bucket as the folder ``<storage>/<name>``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _error(self, message: str, operation: str, cls: type[ResourceError] = ResourceError) -> Any:
        return cls(
            f"bucket {self.name!r} (local folder {self.folder()}): {message}",
            resource=f"bucket:{self.name}",
            operation=operation,
        )

    def folder(self) -> Path:
        return current_state().storage_dir / self.name

    def _path(self, key: str, operation: str) -> Path:
        """The file of `key`; refuses a key the folder cannot hold or that would leave it."""
        parts = key.split("/")
        if key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise self._error(
                f"key {key!r} has an empty, '.' or '..' path segment or starts with '/'; the local "
                "folder twin cannot hold it (and it would escape or alias the bucket folder)",
                operation,
            )
        if parts[0] == RESERVED:
            raise self._error(f"keys under {RESERVED}/ are the local twin's own", operation)
        if "\x00" in key or "\\" in key:
            raise self._error(f"key {key!r} holds NUL or '\\', which a folder cannot", operation)
        return self.folder().joinpath(*parts)

    def _meta_path(self, key: str) -> Path:
        return self.folder() / RESERVED / "meta" / (key + ".json")

    def _sidecar(self, key: str, path: Path) -> dict[str, Any]:
        return _read_sidecar(self._meta_path(key), path)

    def read(self, key: str) -> bytes:
        path = self._path(key, "read")
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise self._error(f"no object {key!r}", "read", NotFound) from exc
        except OSError as exc:
            raise self._error(f"cannot read {key!r}: {exc}", "read") from exc

    def write(
        self, key: str, data: bytes, content_type: str | None, metadata: dict[str, str]
    ) -> None:
        path = self.store(key, data, content_type, metadata)
        self._notify("created", key, path)

    def _notify(self, kind: str, key: str, path: Path) -> None:
        """Tell the test client (if any) of the change, as the folder watcher tells `serve`:
        both skip what the watcher skips, and say so."""
        from polyfn._local._storage import is_watched, object_event

        if not is_watched(key):
            log.warning(
                "object key %r fires no storage function locally: the folder watcher skips "
                "names starting with '.' and temporary-file endings (.tmp, .part, ~ ...)",
                key,
                extra={"bucket": self.name, "key": key},
            )
            return
        state = current_state()
        if state.on_write is not None:
            state.on_write(object_event(kind, self.name, key, path))

    def store(
        self, key: str, data: bytes, content_type: str | None, metadata: dict[str, str]
    ) -> Path:
        """Write the object's file and sidecar (atomically, each by a rename); returns the file.
        Tells no one: `write` does, and `polyfn serve`'s watcher sees the file itself."""
        path = self._path(key, "write")
        folder = self.folder()
        tmp_dir = folder / RESERVED / "tmp"
        tmp = tmp_dir / uuid.uuid4().hex
        meta_path = self._meta_path(key)
        try:
            tmp_dir.mkdir(parents=True, exist_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                raise self._error(
                    f"key {key!r} is a folder of other objects here; the local twin cannot hold "
                    "an object and a prefix of the same name",
                    "write",
                )
            tmp.write_bytes(data)
            os.replace(tmp, path)
            if content_type is None and not metadata:
                # Nothing to keep beyond the bytes (type guessed, etag computed on demand): one
                # file per object keeps writing a thousand of them quick.
                meta_path.unlink(missing_ok=True)
            else:
                st = path.stat()
                meta_path.parent.mkdir(parents=True, exist_ok=True)
                sidecar = {
                    "content_type": content_type,
                    "metadata": metadata,
                    "etag": _etag(data),
                    "stat": [st.st_mtime_ns, st.st_size],
                }
                meta_tmp = tmp_dir / (uuid.uuid4().hex + ".json")
                meta_tmp.write_text(json.dumps(sidecar), encoding="utf-8")
                os.replace(meta_tmp, meta_path)
        except ResourceError:
            raise
        except (NotADirectoryError, FileExistsError) as exc:
            raise self._error(
                f"key {key!r} needs a folder where an object of a shorter key is; the local "
                "twin cannot hold an object and a prefix of the same name",
                "write",
            ) from exc
        except OSError as exc:
            raise self._error(f"cannot write {key!r}: {exc}", "write") from exc
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
        return path

    def delete(self, key: str) -> None:
        path = self._path(key, "delete")
        if self.remove(key):
            self._notify("deleted", key, path)

    def remove(self, key: str) -> bool:
        """Delete the object's file and sidecar; False when there was none (not an error)."""
        path = self._path(key, "delete")
        try:
            path.unlink()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return False
        except OSError as exc:
            raise self._error(f"cannot delete {key!r}: {exc}", "delete") from exc
        with contextlib.suppress(OSError):
            self._meta_path(key).unlink(missing_ok=True)
        self._prune(path.parent)
        return True

    def _prune(self, folder: Path) -> None:
        """Remove folders a delete left empty (a prefix with no objects does not exist)."""
        top = self.folder()
        while folder != top and top in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def _info(self, key: str, path: Path, st: os.stat_result) -> ObjectInfo:
        meta = self._sidecar(key, path)
        etag = meta.get("etag")
        if etag is None:
            try:
                etag = _etag(path.read_bytes())
            except OSError:
                etag = None
        return ObjectInfo(
            key,
            size=st.st_size,
            etag=etag,
            content_type=meta.get("content_type")
            or mimetypes.guess_type(key)[0]
            or "application/octet-stream",
            updated=datetime.fromtimestamp(st.st_mtime, UTC),
            metadata=meta.get("metadata") or {},
        )

    def info(self, key: str) -> ObjectInfo | None:
        path = self._path(key, "info")
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise self._error(f"cannot stat {key!r}: {exc}", "info") from exc
        if not path.is_file():
            return None
        return self._info(key, path, st)

    def _keys(self, prefix: str) -> list[str]:
        folder = self.folder()
        # Walk only the folder the prefix can be in, not the whole bucket; a prefix whose folder
        # part no key can have (it would walk outside the bucket, or into the twin's own
        # corner) matches nothing.
        directories = prefix.split("/")[:-1]
        if directories and (
            any(d in ("", ".", "..") for d in directories) or directories[0] == RESERVED
        ):
            return []
        start = folder.joinpath(*directories)
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(start):
            if Path(dirpath) == folder:
                dirnames[:] = [d for d in dirnames if d != RESERVED]
            rel = os.path.relpath(dirpath, folder).replace(os.sep, "/")
            base = "" if rel == "." else rel + "/"
            keys.extend(base + f for f in filenames if (base + f).startswith(prefix))
        # Code point order is UTF-8 byte order: S3's and Cloud Storage's listing order.
        keys.sort()
        return keys

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        keys = self._keys(prefix)
        folder = self.folder()
        for start in range(0, len(keys), LIST_PAGE):
            for key in keys[start : start + LIST_PAGE]:
                path = folder / key
                try:
                    st = path.stat()
                except FileNotFoundError:  # deleted since the listing
                    continue
                yield self._info(key, path, st)

    def signed_url(self, key: str, method: str, expires: timedelta) -> str:
        """A ``file://`` URL of the object's file: GET only, and the expiry is not enforced
        (there is no server to refuse it); `polyfn serve` needs none to read a file."""
        path = self._path(key, "signed_url")
        if method != "GET":
            raise self._error(
                "the local twin signs GET URLs only (a file:// URL cannot take a PUT); write "
                "the object with bucket.write instead",
                "signed_url",
            )
        return path.resolve().as_uri()


# -- queues and topics -----------------------------------------------------------------------------


def _check_size(message: OutgoingMessage, kind: str, name: str, operation: str) -> None:
    if len(message.body) > MAX_MESSAGE_BYTES:
        raise ResourceError(
            f"{kind} {name!r}: a {len(message.body)}-byte message is over the "
            f"{MAX_MESSAGE_BYTES}-byte limit (SQS's 256 KiB, which the local twin applies); "
            "store the payload in a Bucket and send its key",
            resource=f"{kind}:{name}",
            operation=operation,
        )


class LocalQueueClient:
    """A queue in ``<state>/queues.db``, consumed by `polyfn serve` and the test client."""

    def __init__(self, name: str, fifo: bool) -> None:
        self.name = name
        self.fifo = fifo

    def send(self, message: OutgoingMessage) -> str:
        _check_size(message, "queue", self.name, "send")
        return current_state().queue.send(
            self.name,
            message.body,
            attributes=message.attributes,
            group=message.group,
            delay=float(message.delay or 0),
        )

    def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[str | ResourceError]:
        outcomes: list[str | ResourceError] = []
        for message in messages:
            try:
                outcomes.append(self.send(message))
            except ResourceError as exc:
                outcomes.append(exc)
            except sqlite3.Error as exc:
                error = ResourceError(
                    f"queue {self.name!r}: the local queue refused the message: {exc}",
                    resource=f"queue:{self.name}",
                    operation="send_batch",
                )
                error.__cause__ = exc
                outcomes.append(error)
        return outcomes


class LocalTopic:
    """A topic: each publish is enqueued once on every subscription queue."""

    def __init__(self, name: str) -> None:
        self.name = name

    def publish(self, message: OutgoingMessage) -> str:
        _check_size(message, "topic", self.name, "publish")
        state = current_state()
        queues = state.subscriptions(self.name)
        message_id = str(uuid.uuid4())
        attributes = {**message.attributes}
        if not queues:
            log.info(
                "published to a topic with no subscription: the message is dropped, as SNS does",
                extra={"topic": self.name, "message_id": message_id},
            )
        for queue in queues:
            state.queue.send(queue, message.body, attributes=attributes)
        return message_id


# -- tables ----------------------------------------------------------------------------------------


class _Tables:
    """Every table's documents in one SQLite file; each write is one IMMEDIATE transaction, so a
    conditional write is atomic across threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, table: str, key: str) -> tuple[dict[str, Any], str] | None:
        with _transaction(self.path, _TABLES_SCHEMA) as db:
            row = db.execute(
                "SELECT fields, version FROM documents WHERE tbl = ? AND key = ?", (table, key)
            ).fetchone()
        if row is None:
            return None
        fields: dict[str, Any] = json.loads(row[0])
        return fields, str(row[1])

    def put(
        self, table: str, key: str, fields: dict[str, Any], if_absent: bool, if_version: str | None
    ) -> str:
        data = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        with _transaction(self.path, _TABLES_SCHEMA) as db:
            row = db.execute(
                "SELECT version FROM documents WHERE tbl = ? AND key = ?", (table, key)
            ).fetchone()
            current = None if row is None else str(row[0])
            if if_absent and current is not None:
                raise _conflict(table, key, "put", f"exists (version {current})")
            if if_version is not None and current != if_version:
                found = "is absent" if current is None else f"is at version {current}"
                raise _conflict(table, key, "put", f"{found}, not {if_version}")
            version = 1 if row is None else row[0] + 1
            db.execute(
                "INSERT OR REPLACE INTO documents (tbl, key, fields, version) VALUES (?, ?, ?, ?)",
                (table, key, data, version),
            )
        return str(version)

    def delete(self, table: str, key: str, if_version: str | None) -> None:
        with _transaction(self.path, _TABLES_SCHEMA) as db:
            if if_version is not None:
                row = db.execute(
                    "SELECT version FROM documents WHERE tbl = ? AND key = ?", (table, key)
                ).fetchone()
                current = None if row is None else str(row[0])
                if current != if_version:
                    found = "is absent" if current is None else f"is at version {current}"
                    raise _conflict(table, key, "delete", f"{found}, not {if_version}")
            db.execute("DELETE FROM documents WHERE tbl = ? AND key = ?", (table, key))


def _conflict(table: str, key: str, operation: str, what: str) -> Conflict:
    return Conflict(
        f"table {table!r}: conditional {operation} of {key!r} lost: the document {what}",
        resource=f"table:{table}",
        operation=operation,
    )


class LocalTable:
    """A table in ``<state>/tables.db``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _guard(self, operation: str) -> Any:
        return _sqlite_errors(f"table:{self.name}", operation)

    def get(self, key: str) -> tuple[dict[str, Any], str] | None:
        with self._guard("get"):
            return current_state().tables.get(self.name, key)

    def put(self, key: str, fields: dict[str, Any], if_absent: bool, if_version: str | None) -> str:
        with self._guard("put"):
            return current_state().tables.put(self.name, key, fields, if_absent, if_version)

    def delete(self, key: str, if_version: str | None) -> None:
        with self._guard("delete"):
            current_state().tables.delete(self.name, key, if_version)


@contextlib.contextmanager
def _sqlite_errors(resource: str, operation: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise ResourceError(
            f"{resource}: the local SQLite store failed: {exc}",
            resource=resource,
            operation=operation,
        ) from exc


# -- secrets ---------------------------------------------------------------------------------------


class LocalSecret:
    """A secret in ``<state>/secrets.json`` (an object of name -> value)."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def cache_scope(self) -> str:
        """`Secret` caches a value per scope: per secrets file here, so a test's own folder
        never sees the value cached from another's."""
        return str(current_state().secrets_file)

    def value(self) -> str:
        path = current_state().secrets_file
        how = f'add it as {{"{self.name}": "..."}} to {path}'
        try:
            secrets = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise NotFound(
                f"secret {self.name!r}: there is no {path}; {how}",
                resource=f"secret:{self.name}",
                operation="value",
            ) from exc
        except (OSError, ValueError) as exc:
            raise ResourceError(
                f"secret {self.name!r}: cannot read {path} as a JSON object of name -> value: "
                f"{exc}",
                resource=f"secret:{self.name}",
                operation="value",
            ) from exc
        if not isinstance(secrets, dict) or self.name not in secrets:
            raise NotFound(
                f"secret {self.name!r} is not in {path}; {how}",
                resource=f"secret:{self.name}",
                operation="value",
            )
        value = secrets[self.name]
        if not isinstance(value, str):
            raise ResourceError(
                f"secret {self.name!r} in {path} is a {type(value).__name__}; a secret is a str",
                resource=f"secret:{self.name}",
                operation="value",
            )
        return value
