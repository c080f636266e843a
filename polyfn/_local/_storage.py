"""`FolderWatcher`: a storage bucket as a local folder, polled for changes (stdlib only).

Each bucket is the folder ``<root>/<bucket>``; an object's key is its path below that folder with
``/`` separators. A file that appears or changes is an object "created" (as an S3 PUT that
overwrites is ObjectCreated), a file that disappears is "deleted". A change is reported once the
file's size and modification time held still for one poll, so a file still being written is not
reported half-way. Files that exist when watching starts are not reported, as a new bucket
notification does not replay old objects.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from polyfn._events import StorageEvent
from polyfn._local._resources import stored_content_type

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

# Editors and downloaders write through temporary files first; those are not objects.
_IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", ".swp", "~")

Stat = tuple[int, int]  # (mtime_ns, size)


def is_watched(key: str) -> bool:
    """Whether the watcher reports the object `key`: not under a folder or named with a leading
    '.', nor ending like a temporary file."""
    parts = key.split("/")
    return not any(p.startswith(".") for p in parts) and not key.endswith(_IGNORED_SUFFIXES)


def _scan(folder: Path) -> dict[str, Stat]:
    found: dict[str, Stat] = {}
    if not folder.is_dir():
        return found
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for filename in filenames:
            if filename.startswith(".") or filename.endswith(_IGNORED_SUFFIXES):
                continue
            path = os.path.join(dirpath, filename)
            try:
                st = os.stat(path)
            except FileNotFoundError:  # removed between listing and stat
                continue
            key = os.path.relpath(path, folder).replace(os.sep, "/")
            found[key] = (st.st_mtime_ns, st.st_size)
    return found


def local_raw(kind: str, bucket: str, key: str, path: Path) -> dict[str, str]:
    """`event.raw` of a local storage event, the same under `polyfn serve` and
    `polyfn.testing.Client`: ``{"provider": "local", "kind", "bucket", "key", "path"}``, where
    `path` is the object's file (gone for a deletion). Like every `raw` it is the platform's own
    shape: on AWS it is the S3 record, on Azure the blob or Event Grid event, on GCP the
    CloudEvent, none of which has a "path"; check ``ctx.provider == "local"`` before reading it.
    """
    return {"provider": "local", "kind": kind, "bucket": bucket, "key": key, "path": str(path)}


def object_event(
    kind: str, bucket: str, key: str, path: Path, *, content_type: str | None = None
) -> StorageEvent:
    """The StorageEvent for `path` (the object's current content for creations)."""
    now = datetime.now(UTC)
    if kind == "deleted":
        return StorageEvent(kind, bucket, key, time=now, raw=local_raw(kind, bucket, key, path))
    try:
        data = path.read_bytes()
        st = path.stat()
    except FileNotFoundError:
        gone = local_raw("deleted", bucket, key, path)
        return StorageEvent("deleted", bucket, key, time=now, raw=gone)
    return StorageEvent(
        kind,
        bucket,
        key,
        time=datetime.fromtimestamp(st.st_mtime, UTC),
        size=len(data),
        # S3's ETag of a single-part upload is the MD5 of the content; the same here.
        etag=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        # What the caller or a bucket write declared (its sidecar), else a guess from the name.
        content_type=content_type
        or stored_content_type(path, key)
        or mimetypes.guess_type(key)[0]
        or "application/octet-stream",
        version=str(st.st_mtime_ns),
        raw=local_raw(kind, bucket, key, path),
    )


def object_path(folder: Path, key: str) -> Path:
    """The file of object `key` in a bucket's `folder`; ConfigError for a key that is no
    relative file path inside it (``../x``, ``a/``, an absolute path)."""
    from polyfn._errors import ConfigError

    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ConfigError(
            f"object key {key!r} is not a file path inside the bucket's folder locally: "
            "use '/'-separated names without empty, '.' or '..' parts"
        )
    return folder.joinpath(*parts)


class FolderWatcher:
    """Polls the folders of `buckets` under `root`; `poll()` returns the events since last time."""

    def __init__(
        self, root: Path, buckets: Iterable[str], prefixes: Iterable[tuple[str, str]] = ()
    ) -> None:
        self.root = root
        self.buckets = sorted(set(buckets))
        for bucket in self.buckets:
            (root / bucket).mkdir(parents=True, exist_ok=True)
        # A function's prefix "incoming/" is the folder users copy into (`cp report.csv
        # .polyfn/storage/uploads/incoming/`): make it exist. An empty folder is no object.
        for bucket, prefix in prefixes:
            folder = prefix.rpartition("/")[0]
            parts = folder.split("/")
            if folder and ".." not in parts and "" not in parts:
                (root / bucket / folder).mkdir(parents=True, exist_ok=True)
        self._known: dict[str, dict[str, Stat]] = {b: _scan(root / b) for b in self.buckets}
        self._pending: dict[str, dict[str, Stat]] = {b: {} for b in self.buckets}

    def folder(self, bucket: str) -> Path:
        return self.root / bucket

    def poll(self) -> list[StorageEvent]:
        events: list[StorageEvent] = []
        for bucket in self.buckets:
            folder = self.root / bucket
            now = _scan(folder)
            known, pending = self._known[bucket], self._pending[bucket]
            for key, stat in now.items():
                if known.get(key) == stat:
                    pending.pop(key, None)
                    continue
                if pending.get(key) == stat:  # unchanged since the last poll: settled
                    pending.pop(key)
                    known[key] = stat
                    events.append(object_event("created", bucket, key, folder / key))
                else:
                    pending[key] = stat
            for key in [k for k in known if k not in now]:
                del known[key]
                pending.pop(key, None)
                events.append(object_event("deleted", bucket, key, folder / key))
            for key in [k for k in pending if k not in now]:
                del pending[key]  # appeared and vanished between polls: never settled
        return events
