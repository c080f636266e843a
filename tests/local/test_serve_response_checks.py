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
    from pathlib import Path

pytestmark = pytest.mark.e2e


def raw_get(url: str, path: str) -> bytes:
    """The exact bytes the server writes for GET `path` (HTTP/1.0: it closes when done)."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {parts.netloc}\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_unsendable_responses_are_written_as_polyfns_500_and_the_rest_as_they_are(
    tmp_path: Path,
) -> None:
    served = Served("unsendable.py", tmp_path)
    try:
        for path in ("/header", "/cookie", "/status"):
            raw = raw_get(served.url, path)
            head, _, body = raw.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            assert lines[0].split(b" ")[1] == b"500", raw
            names = [line.split(b":", 1)[0].lower() for line in lines[1:]]
            assert not {b"x-injected", b"set-cookie", b"x-note"} & set(names), raw
            payload = json.loads(body)
            assert payload["error"] == "internal error" and payload["request_id"]
        raw = raw_get(served.url, "/fine")
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.split(b"\r\n")[0].split(b" ")[1] == b"200"
        assert b"\r\nSet-Cookie: session=abc; Path=/" in head and body == b"fine"
    finally:
        served.stop()
    refused = [e for e in served.log_lines() if "cannot be sent" in e.get("message", "")]
    assert len(refused) == 3, served.stderr()
