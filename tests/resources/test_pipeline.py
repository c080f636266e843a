"""The three-function pipeline (tests/resources/apps/pipeline.py) developed locally with no cloud
account: in process through `polyfn.testing.Client`, and for real under `polyfn serve`."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from polyfn.testing import Client
from tests.local._serve import Served
from tests.resources.apps import pipeline

if TYPE_CHECKING:
    from collections.abc import Iterator

ORDER_ID = "ä b+1%"  # a key with a space, '+', '%' and unicode, in the table and the bucket
APP = Path(pipeline.__file__)


def test_pipeline_under_the_test_client(tmp_path: Path) -> None:
    with Client(pipeline.app, state_dir=tmp_path / "state") as client:
        resp = client.post("/orders", json={"id": ORDER_ID, "total": 12.5})
        assert resp.status == 202
        # Delivered before post() returned: the worker ran, its bucket write fired the indexer.
        doc = pipeline.ledger.get(ORDER_ID)
        assert doc is not None
        assert dict(doc) == {
            "total": 12.5,
            "source": "api",
            "receipt": f"receipts/{ORDER_ID}.json",
            "receipt_type": "application/json",
        }
        assert doc.version == "2"
        stored = tmp_path / "state" / "storage" / "receipts" / "receipts" / f"{ORDER_ID}.json"
        assert json.loads(stored.read_bytes()) == {"id": ORDER_ID, "total": 12.5}
        info = pipeline.receipts.info(f"receipts/{ORDER_ID}.json")
        assert info is not None and info.metadata == {"order": "yes"}
        got = client.get(f"/orders/{ORDER_ID}")
        assert got.status == 200 and client.json(got)["receipt"] == f"receipts/{ORDER_ID}.json"
        assert client.messages("orders") == []


def test_undeclared_operation_is_denied_under_the_test_client(tmp_path: Path) -> None:
    client = Client(pipeline.app, state_dir=tmp_path)
    resp = client.post("/sneaky")
    assert resp.status == 403
    denied = client.json(resp)["denied"]
    assert "ledger.delete" in denied and "uses=" in denied and "'sneaky'" in denied


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(str(APP), tmp_path)
    try:
        yield server
    finally:
        server.kill()


def _call(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.e2e
def test_pipeline_under_polyfn_serve(served: Served) -> None:
    quoted = urllib.parse.quote(ORDER_ID)
    status, body = _call(served.url + "/orders", "POST", {"id": ORDER_ID, "total": 3})
    assert (status, body) == (202, {"queued": ORDER_ID})
    deadline = time.monotonic() + 20
    doc: Any = None
    while time.monotonic() < deadline:
        status, doc = _call(f"{served.url}/orders/{quoted}")
        if status == 200 and "receipt" in doc:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the pipeline never finished: {doc}\n{served.stderr()}")
    # The queue carried the body and attribute; the bucket write landed in the watched folder
    # and fired the storage function with the same key and the written content type.
    assert doc == {
        "total": 3,
        "source": "api",
        "receipt": f"receipts/{ORDER_ID}.json",
        "receipt_type": "application/json",
        "version": "2",
    }
    receipt = served.state / "storage" / "receipts" / "receipts" / f"{ORDER_ID}.json"
    assert json.loads(receipt.read_bytes()) == {"id": ORDER_ID, "total": 3}
    status, denied = _call(served.url + "/sneaky", "POST", {})
    assert status == 403 and "ledger.delete" in denied["denied"]
    invocations = [line for line in served.log_lines() if line.get("message") == "invocation"]
    assert {line["function"] for line in invocations} >= {"place", "work", "index", "status"}
    assert all(line["outcome"] == "ok" for line in invocations)
