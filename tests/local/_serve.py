"""Run `polyfn serve` as a subprocess on a free port of 127.0.0.1, for the e2e tests."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

APPS = Path(__file__).parent / "apps"
CLI = [sys.executable, "-m", "polyfn._cli"]


class Served:
    """A running `polyfn serve`: its URL, its state folder and the lines its handlers record."""

    def __init__(self, app: str, tmp: Path, *extra: str) -> None:
        self.tmp = tmp
        self.state = tmp / "state"
        self.record = tmp / "record.jsonl"
        self.record.touch()
        self.stdout_path = tmp / "serve.out"
        self.stderr_path = tmp / "serve.err"
        env = {**os.environ, "POLYFN_TEST_RECORD": str(self.record), "PYTHONUNBUFFERED": "1"}
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [
                    *CLI,
                    "serve",
                    str(APPS / app),
                    "--port",
                    "0",
                    "--state-dir",
                    str(self.state),
                    "--poll-interval",
                    "0.05",
                    "--retry-delay",  # retries back off from 1 s by default; tests keep it short
                    "0.05",
                    *extra,
                ],
                stdout=out,
                stderr=err,
                env=env,
                cwd=tmp,
            )
        self.url = self._wait_for_url()

    def _wait_for_url(self, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(r"on (http://127\.0\.0\.1:\d+)", self.stdout_path.read_text())
            if match:
                return match.group(1)
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited {self.proc.returncode}: {self.stderr()}")
            time.sleep(0.05)
        raise RuntimeError(f"serve printed no URL within {timeout} s: {self.stderr()}")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.record.read_text().splitlines() if line]

    def wait_records(self, predicate: Any, timeout: float = 15) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.records()
            if predicate(found):
                return found
            time.sleep(0.05)
        raise AssertionError(f"records never matched: {self.records()}\n{self.stderr()}")

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stderr().splitlines() if line.startswith("{")]

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(15)


def cli(
    *args: str, cwd: Path | None = None, input: bytes | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        input=input.decode() if input is not None else None,
    )
