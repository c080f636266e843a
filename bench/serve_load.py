"""Load on `polyfn serve`'s HTTP front end: many clients, every request on a new connection.

Starts `polyfn serve` on a free port of 127.0.0.1 with the small app below, then CLIENTS threads
share REQUESTS requests; each request opens its own TCP connection (connect, one GET, read to
the end, close), the way a burst of browsers or a load balancer without keep-alive arrives. It
prints the latency percentiles (connect to last byte), the failures, and how often the kernel's
accept queue overflowed meanwhile (TcpExt ListenOverflows, read from /proc/net/netstat where
there is one; a too small listen backlog shows up there and as 1 s SYN retransmits in the p99).

Bounded: REQUESTS requests and a wall-clock limit (--max-seconds), to 127.0.0.1 only.

    python bench/serve_load.py                        # 2,000 requests from 32 clients
    python bench/serve_load.py --requests 400 --json  # what tests/local/test_http_front.py runs
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import polyfn

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent

# The app `polyfn serve` runs for this benchmark: one route with trivial work.
app = polyfn.App("load")


@app.http("/orders/{order_id}", methods=["GET"])
def get_order(req: polyfn.HttpRequest, ctx: polyfn.Context) -> dict[str, str]:
    return {"id": req.path_params["order_id"]}


def listen_overflows() -> int | None:
    """The kernel's count of connections dropped because an accept queue was full."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return None
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(table.get("ListenOverflows", 0))
    return None


def one_request(port: int, request: bytes, timeout: float) -> tuple[float, str | None]:
    """Seconds from connect to the last byte of the answer, and what went wrong (or None)."""
    started = time.perf_counter()
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.sendall(request)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError as exc:
        return time.perf_counter() - started, type(exc).__name__
    answer = b"".join(chunks)
    if not answer.startswith(b"HTTP/1.1 200 "):
        return time.perf_counter() - started, repr(answer[:40])
    return time.perf_counter() - started, None


def run_load(
    port: int, *, requests: int, clients: int, max_seconds: float, timeout: float = 10.0
) -> dict[str, Any]:
    """REQUESTS requests from CLIENTS threads, each on a new connection; the percentiles."""
    request = (
        f"GET /orders/42 HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    failures: dict[str, int] = {}
    lock = threading.Lock()
    remaining = [requests]
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] == 0:
                    return
                remaining[0] -= 1
            took, failure = one_request(port, request, timeout)
            with lock:
                latencies.append(took)
                if failure is not None:
                    failures[failure] = failures.get(failure, 0) + 1

    overflows_before = listen_overflows()
    started = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()) + timeout)
    wall = time.perf_counter() - started
    overflows_after = listen_overflows()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if latencies else [0.0] * 99
    return {
        "requests": len(latencies),
        "clients": clients,
        "failures": failures,
        "p50_ms": round(cuts[49] * 1000, 2),
        "p90_ms": round(cuts[89] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
        "max_ms": round(max(latencies, default=0.0) * 1000, 2),
        "requests_per_s": round(len(latencies) / wall, 1) if wall else 0.0,
        "listen_overflows": (
            None
            if overflows_before is None or overflows_after is None
            else overflows_after - overflows_before
        ),
    }


class Serve:
    """`polyfn serve` of this file's app on a free port of 127.0.0.1, stopped on exit."""

    def __init__(self, state: Path) -> None:
        self.out = state / "serve.out"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path[1:]])}
        with self.out.open("wb") as out:
            command = [sys.executable, "-m", "polyfn._cli", "serve", f"{__file__}:app"]
            self.proc = subprocess.Popen(
                [*command, "--port", "0", "--state-dir", str(state / "state"), "--no-schedules"],
                stdout=out,
                stderr=subprocess.DEVNULL,  # one JSON line per invocation: not measured here
                env=env,
            )
        self.port = self._wait_for_port()

    def _wait_for_port(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(r"on http://127\.0\.0\.1:(\d+)", self.out.read_text())
            if match:
                return int(match.group(1))
            if self.proc.poll() is not None:
                raise SystemExit(f"polyfn serve exited {self.proc.returncode}")
            time.sleep(0.05)
        raise SystemExit(f"polyfn serve printed no URL within {timeout} s")

    def __enter__(self) -> Serve:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests in all (2000)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (32)")
    parser.add_argument("--max-seconds", type=float, default=120, help="wall-clock limit (120)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Serve(Path(tmp)) as served:
        # Warm up: the first requests import the handler's path and fill the caches.
        run_load(served.port, requests=20, clients=2, max_seconds=30)
        result = run_load(
            served.port,
            requests=args.requests,
            clients=args.clients,
            max_seconds=args.max_seconds,
        )
    if args.json:
        print(json.dumps(result))
    else:
        print("### polyfn serve: requests on new connections (bench/serve_load.py)")
        print()
        print("| requests | clients | p50 ms | p90 ms | p99 ms | max ms | req/s | failures |")
        print("|---|---|---|---|---|---|---|---|")
        print(
            f"| {result['requests']} | {result['clients']} | {result['p50_ms']} | "
            f"{result['p90_ms']} | {result['p99_ms']} | {result['max_ms']} | "
            f"{result['requests_per_s']} | {sum(result['failures'].values())} |"
        )
        print()
        print(f"- kernel accept-queue overflows meanwhile: {result['listen_overflows']}")
        if result["failures"]:
            print(f"- failures: {result['failures']}")
    return 1 if result["failures"] or result["requests"] < args.requests else 0


if __name__ == "__main__":
    sys.exit(main())
