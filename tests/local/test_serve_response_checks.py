"""`polyfn serve` writes no response line a handler could inject: the bytes on the socket hold
polyfn's own 500 (with its request id) and no header or Set-Cookie line of the handler's."""

from __future__ import annotations

import json
import socket
import urllib.parse
from typing import TYPE_CHECKING

import pytest

from tests.local._serve import Served

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served("unsendable.py", tmp_path)
    try:
        yield server
    finally:
        server.stop()


def raw_get(url: str, path: str) -> bytes:
    """The exact bytes the server writes for GET `path` (HTTP/1.0: it closes when done)."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("path", ["/header", "/cookie", "/status"])
def test_an_unsendable_response_is_written_as_polyfns_500(served: Served, path: str) -> None:
    raw = raw_get(served.url, path)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0].split(b" ")[1] == b"500", raw
    names = [line.split(b":", 1)[0].lower() for line in lines[1:]]
    assert b"x-injected" not in names and b"set-cookie" not in names and b"x-note" not in names
    payload = json.loads(body)
    assert payload["error"] == "internal error" and payload["request_id"]
    logged = [e for e in served.log_lines() if e.get("level") == "ERROR"]
    assert any("cannot be sent" in e["message"] for e in logged), served.stderr()


def test_a_sendable_response_is_written_as_it_is(served: Served) -> None:
    raw = raw_get(served.url, "/fine")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0].split(b" ")[1] == b"200"
    assert b"\r\nSet-Cookie: session=abc; Path=/" in head and body == b"fine"
