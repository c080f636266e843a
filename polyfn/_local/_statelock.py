"""`StateDirLock`: one `polyfn serve` per state directory, and how others tell whether it lives.

`serve` holds an exclusive ``flock`` on ``<state_dir>/serve.lock`` for its whole life and writes
its pid into the file. A second `serve` on the same folder is refused, naming the first's pid
(two would run every storage event and tick twice and share one queue's consumers). The kernel
drops the lock when the holder's last descriptor closes, which happens at exit, even a
``kill -9`` and even while the dead process is an unreaped zombie whose pid still answers
``kill(pid, 0)``. So "is the runtime that received this message still alive?" is asked of the
lock, not of the pid (`holder`).
"""

from __future__ import annotations

import fcntl
import os
from typing import TYPE_CHECKING

from polyfn._errors import PolyfnError

if TYPE_CHECKING:
    from pathlib import Path

LOCK_FILE = "serve.lock"
# The lock is held but its holder has not written its pid yet (a few microseconds after flock).
UNKNOWN_PID = -1


class StateDirInUseError(PolyfnError):
    """Another live process holds the state directory's lock."""

    def __init__(self, state_dir: Path, pid: int) -> None:
        self.state_dir = state_dir
        self.pid = pid
        known = pid != UNKNOWN_PID
        super().__init__(
            f"the state directory {str(state_dir)!r} is in use by another `polyfn serve` "
            f"({f'pid {pid}' if known else 'a process still starting'}): two runtimes on one "
            "folder would run every storage event and schedule twice. "
            f"{f'Stop it (kill {pid})' if known else 'Stop it'}, or give this one its own "
            "--state-dir."
        )


def _read_pid(fd: int) -> int:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
        return int(text) if text else UNKNOWN_PID
    except (OSError, ValueError):
        return UNKNOWN_PID


def holder(state_dir: Path) -> int | None:
    """The pid of the live process holding `state_dir`'s lock (this process's own pid when it
    holds it), `UNKNOWN_PID` if one holds it but has not written its pid yet, or None when no
    process holds it."""
    try:
        fd = os.open(state_dir / LOCK_FILE, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            # A shared lock is refused only while someone holds the exclusive one. flock locks
            # belong to the open file, so this is refused in the holding process too.
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class StateDirLock:
    """The exclusive lock on `state_dir`, taken by `acquire` and held until `release` (or exit)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, or raise `StateDirInUseError` naming the live holder's pid."""
        if self._fd is not None:
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise StateDirInUseError(self.state_dir, pid) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # no stale pid for whoever reads the file next
        finally:
            os.close(fd)  # closing drops the flock
