"""samples/fanout: a publish reaches both subscribers, through polyfn.testing's local twins."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from polyfn import App

pytestmark = pytest.mark.skipif(not hasattr(App, "subscribe"), reason="needs app.subscribe")

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "fanout"


@pytest.fixture
def fanout() -> object:
    sys.path.insert(0, str(SAMPLE))
    try:
        import fanout_app

        return fanout_app
    finally:
        sys.path.remove(str(SAMPLE))


def test_every_event_reaches_both_subscribers(fanout: object, tmp_path: Path) -> None:
    from polyfn.testing import Client

    module: object = fanout
    with Client(module.app, state_dir=tmp_path) as client:  # type: ignore[attr-defined]
        for kind in ("created", "created", "shipped"):
            answer = client.post("/events", json={"type": kind, "order": 7})
            assert answer.status == 202
        assert module.tallies.get("created")["count"] == 2  # type: ignore[attr-defined]
        assert module.tallies.get("shipped")["count"] == 1  # type: ignore[attr-defined]
        assert client.post("/events", json=["no type"]).status == 400
