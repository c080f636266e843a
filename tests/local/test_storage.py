"""`FolderWatcher`: files in a bucket folder become created/deleted StorageEvents."""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

from polyfn._local._storage import FolderWatcher

if TYPE_CHECKING:
    from pathlib import Path


def settle(watcher: FolderWatcher) -> list[tuple[str, str, str, int | None]]:
    events = watcher.poll() + watcher.poll()  # a change is reported once it held still a poll
    return [(e.kind, e.bucket, e.key, e.size) for e in events]


def test_create_change_delete_and_ignored_files(tmp_path: Path) -> None:
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "old.txt").write_text("there before")
    watcher = FolderWatcher(tmp_path, ["uploads", "images"])
    assert (tmp_path / "images").is_dir()
    assert settle(watcher) == []  # files present at start are not replayed

    target = tmp_path / "uploads" / "sub dir" / "ünï+code.csv"
    target.parent.mkdir()
    target.write_bytes(b"a,b\n")
    (tmp_path / "uploads" / "draft.tmp").write_text("temporary")
    (tmp_path / "uploads" / ".hidden").write_text("dotfile")
    assert watcher.poll() == []  # seen once: not settled yet
    [event] = watcher.poll()
    assert (event.kind, event.bucket, event.key, event.size) == (
        "created",
        "uploads",
        "sub dir/ünï+code.csv",
        4,
    )
    assert event.content_type == "text/csv"
    assert event.etag == hashlib.md5(b"a,b\n").hexdigest()  # S3-style ETag of one part
    assert event.raw == {
        "provider": "local",
        "kind": "created",
        "bucket": "uploads",
        "key": "sub dir/ünï+code.csv",
        "path": str(target),
    }

    target.write_bytes(b"a,b\n1,2\n")
    os.utime(target, ns=(1, 2_000_000_000))
    assert settle(watcher) == [("created", "uploads", "sub dir/ünï+code.csv", 8)]
    (tmp_path / "uploads" / "old.txt").unlink()
    target.unlink()
    assert sorted(settle(watcher)) == [
        ("deleted", "uploads", "old.txt", None),
        ("deleted", "uploads", "sub dir/ünï+code.csv", None),
    ]
    assert settle(watcher) == []


def test_prefix_folders_are_made_to_copy_into_and_are_not_objects(tmp_path: Path) -> None:
    watcher = FolderWatcher(
        tmp_path,
        ["uploads"],
        [("uploads", "incoming/"), ("uploads", "a/b/r-"), ("uploads", "x"), ("uploads", "../")],
    )
    assert (tmp_path / "uploads" / "incoming").is_dir()
    assert (tmp_path / "uploads" / "a" / "b").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uploads"]  # nothing outside the bucket
    assert sorted(p.name for p in (tmp_path / "uploads").iterdir()) == ["a", "incoming"]
    assert settle(watcher) == []  # empty folders are no objects
    (tmp_path / "uploads" / "incoming" / "r.csv").write_bytes(b"x")
    assert settle(watcher) == [("created", "uploads", "incoming/r.csv", 1)]
