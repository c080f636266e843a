"""`LocalQueue`: visibility, redelivery, dead-letter, FIFO groups and orphaned deliveries."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from polyfn import PolyfnError
from polyfn._cli import main
from polyfn._local._queue import LocalQueue, QueueBusyError, QueueCorruptError
from polyfn._local._statelock import StateDirLock, holder


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def make(tmp_path: Path) -> tuple[LocalQueue, Clock]:
    clock = Clock()
    return LocalQueue(tmp_path / "q.db", clock=clock), clock


def test_a_received_message_is_hidden_until_acked_or_its_timeout_ends(tmp_path: Path) -> None:
    queue, clock = make(tmp_path)
    first = queue.send("orders", b"\x00one", attributes={"k": "v"})
    queue.send("orders", b"two")
    queue.send("other", b"elsewhere")
    [m] = queue.receive("orders", 1, 30)
    assert (m.id, m.body, m.attributes, m.delivery_count) == (first, b"\x00one", {"k": "v"}, 1)
    [m2] = queue.receive("orders", 10, 30)
    assert m2.body == b"two"
    assert queue.receive("orders", 10, 30) == []
    clock.now += 31  # the visibility timeout passes without an ack: both come back
    again = queue.receive("orders", 10, 30)
    assert [(x.body, x.delivery_count) for x in again] == [(b"\x00one", 2), (b"two", 2)]
    assert not queue.ack(m)  # the first receipt expired: acking it no longer deletes
    assert all(queue.ack(x) for x in again)
    assert queue.queues() == {"other": 1}


def test_failures_retry_then_dead_letter_with_the_error(tmp_path: Path) -> None:
    queue, _ = make(tmp_path)
    queue.send("orders", b"bad", attributes={"source": "test"})
    outcomes = []
    for _ in range(3):
        [m] = queue.receive("orders", 1, 30)
        outcomes.append(queue.fail(m, max_deliveries=3, error="ValueError('bad')"))
    assert outcomes == ["retry", "retry", "dead-lettered"]
    assert queue.receive("orders", 1, 30) == []
    [dead] = queue.messages("orders-dead")
    assert dead.body == b"bad" and dead.delivery_count == 0
    assert dead.failed_deliveries == 3  # what its count was when it moved
    assert dead.attributes == {"source": "test", "polyfn-dead-letter-source": "orders"}
    assert dead.last_error == "ValueError('bad')"
    queue.send("jobs", b"x")
    [m] = queue.receive("jobs", 1, 30)
    assert queue.fail(m, max_deliveries=1, dead_letter="graveyard") == "dead-lettered"
    assert [x.body for x in queue.messages("graveyard")] == [b"x"]


def test_fifo_hands_out_one_message_per_group_in_order(tmp_path: Path) -> None:
    queue, _ = make(tmp_path)
    for body, group in [(b"a1", "a"), (b"a2", "a"), (b"b1", "b"), (b"a3", "a")]:
        queue.send("orders", body, group=group)
    batch = queue.receive("orders", 10, 30, fifo=True)
    assert [m.body for m in batch] == [b"a1", b"b1"]
    assert queue.receive("orders", 10, 30, fifo=True) == []  # both groups busy
    queue.ack(batch[0])
    [next_a] = queue.receive("orders", 10, 30, fifo=True)
    assert next_a.body == b"a2"
    queue.fail(next_a, max_deliveries=5)
    [retry] = queue.receive("orders", 10, 30, fifo=True)
    assert (retry.body, retry.delivery_count) == (b"a2", 2)  # a3 waits behind it


def test_release_puts_back_without_counting_and_orphans_of_dead_processes_return(
    tmp_path: Path,
) -> None:
    queue, _ = make(tmp_path)
    # This process plays the runtime: it holds the state directory's lock, as `serve` does.
    lock = StateDirLock(tmp_path)
    lock.acquire()
    queue.send("orders", b"one")
    [m] = queue.receive("orders", 1, 300)
    queue.release(m)
    [m] = queue.receive("orders", 1, 300)
    assert m.delivery_count == 1
    # Another process receives a message and dies without acking it.
    code = (
        "import sys; from pathlib import Path; from polyfn._local._queue import LocalQueue; "
        "q = LocalQueue(Path(sys.argv[1])); q.send('jobs', b'job'); "
        "assert q.receive('jobs', 1, 300)"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "q.db")], check=True, timeout=60)
    assert queue.receive("jobs", 1, 300) == []  # still invisible: its timeout has not ended
    assert queue.release_orphans() == 1  # its owner is gone; ours (this process) is alive
    [job] = queue.receive("jobs", 1, 300)
    assert (job.body, job.delivery_count) == (b"job", 2)
    lock.release()


def test_concurrent_receivers_never_share_a_message(tmp_path: Path) -> None:
    queue, _ = make(tmp_path)
    for i in range(60):
        queue.send("orders", str(i).encode())
    taken: list[bytes] = []
    lock = threading.Lock()

    def worker() -> None:
        own = LocalQueue(tmp_path / "q.db")
        while batch := own.receive("orders", 3, 300):
            with lock:
                taken.extend(m.body for m in batch)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(taken, key=int) == [str(i).encode() for i in range(60)]


def test_polyfn_messages_lists_how_many_deliveries_a_dead_letter_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    queue = LocalQueue(tmp_path / "queues.db")
    queue.send("orders", b"poison")
    queue.send("orders", b"fine")
    outcomes = []
    for _ in range(5):  # Azure's default: dead-lettered after the fifth failed delivery
        [m] = queue.receive("orders", 1, 30)
        outcomes.append(queue.fail(m, max_deliveries=5, error="ValueError('poison')"))
    assert outcomes[-1] == "dead-lettered"
    assert main(["messages", "orders-dead", "--state-dir", str(tmp_path)]) == 0
    [line] = capsys.readouterr().out.splitlines()
    entry = json.loads(line)
    assert (entry["body"], entry["deliveries"], entry["failed_deliveries"]) == ("poison", 0, 5)
    assert entry["last_error"] == "ValueError('poison')"
    # A message that was never dead-lettered has no such count.
    assert main(["messages", "orders", "--state-dir", str(tmp_path)]) == 0
    entry = json.loads(capsys.readouterr().out)
    assert entry["body"] == "fine" and "failed_deliveries" not in entry


OLD_SCHEMA = """
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, queue TEXT NOT NULL,
    body BLOB NOT NULL, attributes TEXT NOT NULL, grp TEXT, enqueued REAL NOT NULL,
    visible_at REAL NOT NULL, delivery_count INTEGER NOT NULL DEFAULT 0, receipt TEXT,
    owner INTEGER, last_error TEXT
);
INSERT INTO messages (id, queue, body, attributes, enqueued, visible_at, delivery_count)
VALUES ('m1', 'orders-dead', x'6f6c64', '{}', 1.0, 1.0, 0);
"""


def test_a_state_dir_from_before_failed_deliveries_still_opens(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "q.db")
    db.executescript(OLD_SCHEMA)
    db.close()
    queue, _ = make(tmp_path)
    [old] = queue.messages("orders-dead")
    assert (old.body, old.failed_deliveries) == (b"old", None)
    queue.send("jobs", b"x")
    [m] = queue.receive("jobs", 1, 30)
    assert queue.fail(m, max_deliveries=1) == "dead-lettered"
    assert [x.failed_deliveries for x in queue.messages("jobs-dead")] == [1]


def _zombie_state(pid: int) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("State:"):
            return line.split()[1]
    return "?"


def test_the_messages_of_a_killed_runtime_come_back_at_once_even_while_it_is_a_zombie(
    tmp_path: Path,
) -> None:
    queue, _ = make(tmp_path)
    queue.send("jobs", b"job")
    # A runtime (it holds the state directory's lock) takes the message and hangs in its handler.
    code = (
        "import sys, time; from pathlib import Path; "
        "from polyfn._local._queue import LocalQueue; "
        "from polyfn._local._statelock import StateDirLock; "
        "StateDirLock(Path(sys.argv[1]).parent).acquire(); "
        "assert LocalQueue(Path(sys.argv[1])).receive('jobs', 1, 300); "
        "print('taken', flush=True); time.sleep(60)"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "q.db")], stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == b"taken\n"
        assert holder(tmp_path) == child.pid
        assert queue.release_orphans() == 0  # its owner is alive: the message stays hidden
        child.send_signal(signal.SIGKILL)  # killed, and not reaped: a zombie keeps its pid
        deadline = time.monotonic() + 10
        while _zombie_state(child.pid) != "Z":
            assert time.monotonic() < deadline, "the child never died"
            time.sleep(0.01)
        os.kill(child.pid, 0)  # the pid still answers, which fooled the old liveness check
        assert holder(tmp_path) is None  # but the kernel dropped its lock as it died
        assert queue.release_orphans() == 1
        [job] = queue.receive("jobs", 1, 300)
        assert (job.body, job.delivery_count) == (b"job", 2)
    finally:
        child.kill()
        child.wait(10)
        if child.stdout is not None:
            child.stdout.close()


def test_a_corrupt_queue_file_names_itself_and_the_way_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "queues.db"
    db.write_bytes(b"this is no database, " * 200)
    with pytest.raises(QueueCorruptError) as exc:
        LocalQueue(db)
    message = str(exc.value)
    assert str(db) in message and "polyfn messages --reset" in message
    assert isinstance(exc.value, PolyfnError)  # one paragraph from the CLI, not "unexpected"

    state = ["--state-dir", str(tmp_path)]
    assert main(["messages", *state]) == 2
    err = capsys.readouterr().err
    assert "queues.db" in err and "--reset" in err and "unexpected" not in err
    assert main(["messages", "--reset", *state]) == 0
    out = capsys.readouterr().out
    [kept] = tmp_path.glob("queues.db.broken-*")
    assert kept.read_bytes().startswith(b"this is no database") and str(kept) in out
    assert not db.exists()
    assert main(["messages", *state]) == 2  # nothing there now: no queues yet
    assert "no local queues" in capsys.readouterr().err
    LocalQueue(db).send("orders", b"fresh")  # and a new file starts empty
    assert LocalQueue(db).queues() == {"orders": 1}


def test_an_emptied_queue_file_is_reported_lost_not_silently_restarted(tmp_path: Path) -> None:
    db = tmp_path / "queues.db"
    LocalQueue(db).send("orders", b"precious")
    # polyfn never leaves a 0-byte file: a new one is written whole, then linked into place.
    assert db.stat().st_size > 0 and not list(tmp_path.glob("*.new-*"))
    for side in tmp_path.glob("queues.db-*"):
        side.unlink()
    db.write_bytes(b"")  # truncated by something else
    with pytest.raises(QueueCorruptError) as exc:
        LocalQueue(db)
    assert "0 bytes" in str(exc.value) and "lost" in str(exc.value)
    assert db.stat().st_size == 0  # refused before SQLite could take it for a new database


def test_a_lock_held_past_the_busy_timeout_is_queue_busy_naming_the_file(tmp_path: Path) -> None:
    queue = LocalQueue(tmp_path / "queues.db", busy_timeout=0.1)
    other = sqlite3.connect(tmp_path / "queues.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(QueueBusyError) as exc:
            queue.send("orders", b"x")
        assert str(tmp_path / "queues.db") in str(exc.value) and "0.1 s" in str(exc.value)
    finally:
        other.execute("ROLLBACK")
        other.close()
    queue.send("orders", b"x")  # free again
    assert queue.queues() == {"orders": 1}


def test_redrive_moves_dead_letters_back_as_new_messages_and_purge_deletes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    queue = LocalQueue(tmp_path / "queues.db")
    queue.send("orders", b"first", attributes={"k": "v"})
    for _ in range(2):
        [m] = queue.receive("orders", 1, 30)
        queue.fail(m, max_deliveries=2, error="ValueError('x')")
    queue.send("orders", b"second")  # waits on the source queue already
    queue.send("orders-dead", b"stray")  # put there by hand: no source recorded
    state = ["--state-dir", str(tmp_path)]
    assert main(["messages", "orders-dead", "--redrive", *state]) == 1
    out, err = capsys.readouterr()
    assert out == "polyfn: moved 1 message to 'orders'\n"
    assert "1 message of 'orders-dead' carries no source" in err and "--to" in err
    moved = queue.messages("orders")
    assert [m.body for m in moved] == [b"second", b"first"]  # at the back of the queue
    back = moved[1]
    assert (back.delivery_count, back.failed_deliveries, back.last_error) == (0, None, None)
    assert back.attributes == {"k": "v"}
    [first] = queue.receive("orders", 2, 30)[1:]
    assert first.delivery_count == 1  # its deliveries count from 1 again

    assert main(["messages", "orders-dead", "--redrive", "--to", "elsewhere", *state]) == 2
    assert "not a known queue" in capsys.readouterr().err
    assert main(["messages", "orders-dead", "--redrive", "--to", "orders", *state]) == 0
    assert capsys.readouterr().out == "polyfn: moved 1 message to 'orders'\n"
    assert [m.body for m in queue.messages("orders")][-1] == b"stray"
    assert main(["messages", "orders", "--purge", *state]) == 0
    assert capsys.readouterr().out == "polyfn: purged 3 messages from 'orders'\n"
    assert queue.queues() == {}
    assert main(["messages", "--purge", *state]) == 2
    assert "--purge needs a QUEUE" in capsys.readouterr().err


def said(capsys: pytest.CaptureFixture[str]) -> str:
    """What the command wrote to stderr, its paragraph unwrapped."""
    return " ".join(capsys.readouterr().err.split())


SHOP = "from polyfn import App\napp = App('shop')\n@app.queue('orders')\ndef on_order(m, c): ...\n"


def test_send_refuses_unknown_queues_and_a_folder_without_queues(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = tmp_path / "shop_send_app.py"
    app.write_text(SHOP)
    state = tmp_path / "state"
    # The wrong folder (nothing ever ran here): refused, and nothing is created.
    assert main(["send", "orders", "x", "--state-dir", str(state)]) == 2
    assert "no local queues" in said(capsys) and not state.exists()
    # Before serve ever ran, the app names its queues.
    assert main(["send", "ordres", "x", "--app", str(app), "--state-dir", str(state)]) == 2
    err = said(capsys)
    assert "no queue 'ordres'" in err and "orders (consumed by on_order)" in err
    assert "orders-dead (dead letters of orders)" in err and not state.exists()
    assert main(["send", "orders", "x", "--app", str(app), "--state-dir", str(state)]) == 0
    assert "created" in said(capsys)
    # Afterwards the names serve registered (here: as serve does) are the known ones.
    queue = LocalQueue(state / "queues.db")
    queue.register("shop", {"orders": "consumed by on_order"})
    assert main(["send", "orders", "y", "--state-dir", str(state)]) == 0
    assert main(["send", "invoices", "y", "--state-dir", str(state)]) == 2
    assert "the known queues are: orders (consumed by on_order)" in said(capsys)
    assert [m.body for m in queue.messages("orders")] == [b"x", b"y"]
    assert "invoices" not in queue.queues()
