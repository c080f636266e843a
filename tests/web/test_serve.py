"""FastAPI and Flask apps under `polyfn serve`, over a real socket on 127.0.0.1."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.local._serve import Served
from tests.local.test_serve import request

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e

APP = __file__.rsplit("/", 1)[0] + "/apps/both.py"


def test_fastapi_and_flask_under_polyfn_serve(tmp_path: Path) -> None:
    served = Served(APP, tmp_path)
    try:
        for _ in range(2):
            resp = request(served.url, "GET", "/a/hello?tag=x&tag=y")
            assert resp.status == 200, resp.read_body  # type: ignore[attr-defined]
            assert resp.read_body == b"\x00\x01\xfe\xff"  # type: ignore[attr-defined]
            assert sorted(c.split(";")[0] for c in resp.headers.get_all("Set-Cookie") or []) == [
                "a=1",
                "b=2",
            ]
            assert resp.headers["x-tags"] == "x,y"
            assert resp.headers["x-starts"] == "1"  # lifespan startup ran once
        body = bytes(range(256))
        resp = request(served.url, "POST", "/w/hello", body=body)
        assert resp.status == 200
        assert resp.read_body == body[::-1]  # type: ignore[attr-defined]
        assert sorted(c.split(";")[0] for c in resp.headers.get_all("Set-Cookie") or []) == [
            "c=3",
            "d=4",
        ]
    finally:
        served.kill()
