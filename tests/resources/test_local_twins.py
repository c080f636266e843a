"""The local twins beyond the neutral cases: where things live, what the folder watcher sees,
what the SQLite queue holds, conditional writes across processes, and the errors."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from polyfn import Bucket, ConfigError, NotFound, Queue, ResourceError, Secret, Table, Topic
from polyfn._local._queue import LocalQueue
from polyfn._local._resources import current_state, subscription_queue
from polyfn._local._storage import FolderWatcher
from polyfn._resources import reset_backends

EDGE_KEYS = ["in/with space.csv", "in/plus+sign.csv", "in/100%.csv", "in/ünï 日本/x.csv"]


def settled(watcher: FolderWatcher) -> list[tuple[str, str, str | None]]:
    """The events of two polls (a change reports once it held still for one poll)."""
    events = watcher.poll() + watcher.poll()
    return [(e.kind, e.key, e.content_type) for e in events]


def test_a_write_lands_in_the_watched_folder_and_fires_once_with_the_same_key(
    state_dir: Path,
) -> None:
    bucket = Bucket("uploads")
    watcher = FolderWatcher(state_dir / "storage", ["uploads"])
    for key in EDGE_KEYS:
        bucket.write(key, b"a,b\n", content_type="text/csv; charset=utf-8")
    events = settled(watcher)
    # One event per object, its key exactly the key written, its content type the written one;
    # the temporary files and sidecars under .polyfn/ fire nothing.
    assert sorted(events) == sorted(("created", k, "text/csv; charset=utf-8") for k in EDGE_KEYS)
    assert (
        state_dir / "storage" / "uploads" / "in" / "ünï 日本" / "x.csv"
    ).read_bytes() == b"a,b\n"
    assert list((state_dir / "storage" / "uploads" / ".polyfn" / "tmp").iterdir()) == []
    bucket.delete(EDGE_KEYS[0])
    assert settled(watcher) == [("deleted", EDGE_KEYS[0], None)]


@pytest.mark.parametrize(
    "key", ["../escape", "/etc/passwd", "a/../../b", "a//b", "./a", "a/", ".polyfn/meta/x"]
)
def test_keys_that_escape_or_alias_the_folder_are_refused(state_dir: Path, key: str) -> None:
    bucket = Bucket("uploads")
    with pytest.raises(ResourceError, match="bucket 'uploads'"):
        bucket.write(key, b"x")
    with pytest.raises(ResourceError):
        bucket.read(key)
    assert not (state_dir / "escape").exists() and not (state_dir / "storage" / "b").exists()


def test_an_object_and_a_prefix_of_the_same_name_are_refused(state_dir: Path) -> None:
    bucket = Bucket("uploads")
    bucket.write("report", b"1")
    with pytest.raises(ResourceError, match="prefix of the same name"):
        bucket.write("report/2026.csv", b"2")
    bucket.write("dir/a", b"1")
    with pytest.raises(ResourceError, match="prefix of the same name"):
        bucket.write("dir", b"2")


def test_a_file_copied_in_by_hand_is_an_object_with_guessed_type(state_dir: Path) -> None:
    bucket = Bucket("uploads")
    bucket.write("data.bin", b"old", content_type="application/x-custom", metadata={"a": "1"})
    (state_dir / "storage" / "uploads" / "data.bin").write_bytes(b"copied over by hand")
    (state_dir / "storage" / "uploads" / "notes.txt").write_text("hand made")
    info = bucket.info("data.bin")
    assert info is not None and info.size == 19
    assert (info.content_type, info.metadata) == ("application/octet-stream", {})
    assert [o.key for o in bucket.list("")] == ["data.bin", "notes.txt"]
    listed = {o.key: o.content_type for o in bucket.list("")}
    assert listed["notes.txt"] == "text/plain"


def test_delete_removes_emptied_folders(state_dir: Path) -> None:
    bucket = Bucket("uploads")
    bucket.write("a/b/c.txt", b"x")
    bucket.delete("a/b/c.txt")
    assert not (state_dir / "storage" / "uploads" / "a").exists()


def test_signed_url_is_a_file_url_for_get_only(state_dir: Path) -> None:
    bucket = Bucket("uploads")
    bucket.write("a b.txt", b"x")
    url = bucket.signed_url("a b.txt")
    assert url.startswith("file://") and url.endswith("/uploads/a%20b.txt")
    with pytest.raises(ResourceError, match="GET URLs only"):
        bucket.signed_url("a b.txt", "PUT")


def test_a_send_is_in_the_durable_queue_serve_consumes(state_dir: Path) -> None:
    queue = Queue("orders")
    before = time.time()
    message_id = queue.send(b"\x00\xff raw", attributes={"k": "v"}, group="g1", delay=30)
    (stored,) = LocalQueue(state_dir / "queues.db").messages("orders")
    assert (stored.id, stored.body, stored.attributes, stored.group) == (
        message_id,
        b"\x00\xff raw",
        {"k": "v"},
        "g1",
    )
    assert stored.visible_at >= before + 30  # delayed: not visible before its delay
    with pytest.raises(ResourceError, match="fifo queue needs group="):
        Queue("ordered", fifo=True).send(b"x")


def test_publish_fans_out_to_every_subscription_queue(state_dir: Path) -> None:
    topic = Topic("order-events")
    queues = [subscription_queue("order-events", f) for f in ("audit", "mailer")]
    assert queues == ["order-events~audit", "order-events~mailer"]
    for name in queues:
        current_state().subscribe("order-events", name)
    topic.publish({"id": 1}, attributes={"type": "created"})
    store = LocalQueue(state_dir / "queues.db")
    for name in queues:
        (stored,) = store.messages(name)
        assert (stored.body, stored.attributes) == (b'{"id":1}', {"type": "created"})


def test_publish_without_subscribers_is_accepted_and_logged(
    state_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="polyfn.local"):
        assert Topic("lonely").publish(b"x")
    assert any("no subscription" in r.getMessage() for r in caplog.records)


def test_table_versions_count_writes_in_a_sqlite_file(state_dir: Path) -> None:
    table = Table("carts")
    assert [table.put("c", {"n": i}) for i in range(3)] == ["1", "2", "3"]
    assert (state_dir / "tables.db").is_file()
    with pytest.raises(ConfigError, match="letters and digits"):
        Table("my-carts")


BUMP = """
import sys
from polyfn import Conflict, Table
table = Table("counters")
for _ in range(int(sys.argv[1])):
    while True:
        doc = table.get("c")
        try:
            table.put("c", {"n": doc["n"] + 1}, if_version=doc.version)
            break
        except Conflict:
            pass
"""


def test_if_version_holds_across_processes(state_dir: Path) -> None:
    Table("counters").put("c", {"n": 0})
    procs = [
        subprocess.Popen([sys.executable, "-c", BUMP, "15"], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    doc = Table("counters").get("c")
    assert doc is not None and doc["n"] == 45 and doc.version == "46"


def test_secrets_come_from_secrets_json_and_say_how_to_add_one(state_dir: Path) -> None:
    secret = Secret("stripe-key", ttl=0)
    with pytest.raises(NotFound, match=r"there is no .*secrets\.json; add it as"):
        secret.value()
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "secrets.json").write_text(json.dumps({"other": "x"}))
    with pytest.raises(NotFound, match=r"'stripe-key' is not in .*secrets\.json"):
        secret.value()
    (state_dir / "secrets.json").write_text(json.dumps({"stripe-key": "sk_test_1"}))
    assert secret.value() == "sk_test_1"
    (state_dir / "secrets.json").write_text("{not json")
    with pytest.raises(ResourceError, match="cannot read"):
        secret.value()
    (state_dir / "secrets.json").write_text(json.dumps({"stripe-key": 42}))
    with pytest.raises(ResourceError, match="a secret is a str"):
        secret.value()


def test_the_state_folder_defaults_to_dot_polyfn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POLYFN_STATE_DIR", raising=False)
    monkeypatch.delenv("POLYFN_STORAGE_DIR", raising=False)
    monkeypatch.setenv("POLYFN_PROVIDER", "local")
    monkeypatch.chdir(tmp_path)
    reset_backends()
    Bucket("b").write("k", b"v")
    assert (tmp_path / ".polyfn" / "storage" / "b" / "k").read_bytes() == b"v"
    monkeypatch.setenv("POLYFN_STORAGE_DIR", str(tmp_path / "elsewhere"))
    Bucket("b").write("k", b"w")
    assert (tmp_path / "elsewhere" / "b" / "k").read_bytes() == b"w"


def test_list_never_leaves_the_bucket_nor_shows_the_twins_own_files(state_dir: Path) -> None:
    Bucket("other").write("secret.txt", b"not yours")
    bucket = Bucket("uploads")
    bucket.write("a.txt", b"x", content_type="text/plain", metadata={"m": "1"})
    for prefix in ("../other/", "../", "/", "a//", ".polyfn/", ".polyfn/meta/"):
        assert list(bucket.list(prefix)) == [], prefix
    assert [o.key for o in bucket.list("")] == ["a.txt"]


@pytest.mark.parametrize("key", ["notes.tmp", "in/.hidden", ".env", "draft~"])
def test_keys_the_watcher_skips_fire_nothing_in_serve_nor_the_client(
    state_dir: Path, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    from polyfn import App
    from polyfn.testing import Client

    app = App("skips")
    fired: list[str] = []
    bucket = Bucket("uploads")

    @app.storage(bucket)
    def on_object(event, ctx):
        fired.append(event.key)

    @app.http("/write", methods=["POST"], uses=[bucket.write])
    def write(req, ctx):
        bucket.write(req.text, b"x")

    watcher = FolderWatcher(state_dir / "storage", ["uploads"])
    with caplog.at_level(logging.WARNING, logger="polyfn.local"):
        Client(app, state_dir=state_dir).post("/write", body=key)
    assert settled(watcher) == [] and fired == []
    assert bucket.read(key) == b"x"
    assert any("fires no storage function locally" in r.getMessage() for r in caplog.records)
