"""GCP test fixtures: the test app served through functions-framework's own Flask app, and (for
@pytest.mark.e2e) through a real `functions-framework` server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import functions_framework
import pytest

from tests.conftest import free_port, running

SOURCE = Path(__file__).parent / "apps" / "main.py"
EVENTS = Path(__file__).parents[1] / "events" / "gcp"
# functions-framework records its configuration in these (get_function_target & co.).
_FF_ENV = ("FUNCTION_TARGET", "FUNCTION_SIGNATURE_TYPE")


def load_event(name: str) -> dict[str, Any]:
    """A payload fixture from tests/events/gcp/, fresh for each caller to mangle."""
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


class Served:
    """One target of tests/gcp/apps/main.py (or `source`) inside functions-framework's Flask app."""

    def __init__(
        self, target: str, signature_type: str, *, propagate: bool = False, source: Path = SOURCE
    ) -> None:
        saved = {k: os.environ.get(k) for k in _FF_ENV}
        try:
            self.flask_app = functions_framework.create_app(target, str(source), signature_type)
            # create_app executes the source as a module named after its file ("main"); keep
            # ours before another test loads a different main.py under the same name.
            self.module: ModuleType = sys.modules[source.stem]
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        if propagate:  # let the function's exception reach the test instead of a 500
            self.flask_app.config["PROPAGATE_EXCEPTIONS"] = True
        self.client = self.flask_app.test_client()

    @property
    def seen(self) -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = self.module.SEEN
        return seen

    def post_binary(self, event: dict[str, Any], path: str = "/") -> Any:
        """A CloudEvent in binary content mode: attributes as ce-* headers, data as the body."""
        headers = {
            f"ce-{k}": str(v) for k, v in event.items() if k not in ("data", "datacontenttype")
        }
        headers["Content-Type"] = event.get("datacontenttype", "application/json")
        return self.client.post(path, data=json.dumps(event["data"]), headers=headers)

    def post_structured(self, event: dict[str, Any], path: str = "/") -> Any:
        """A CloudEvent in structured content mode: the whole event as the JSON body."""
        return self.client.post(
            path,
            data=json.dumps(event),
            headers={"Content-Type": "application/cloudevents+json; charset=utf-8"},
        )

    def post_legacy(self, body: dict[str, Any], path: str = "/") -> Any:
        """A legacy background event (or raw Pub/Sub push body) as plain JSON."""
        return self.client.post(path, json=body)


@pytest.fixture(scope="module")
def http_target() -> Served:
    return Served("http", "http")


@pytest.fixture(scope="module")
def event_target() -> Served:
    return Served("event", "cloudevent")


@pytest.fixture(scope="module")
def event_target_raising() -> Served:
    return Served("event", "cloudevent", propagate=True)


@pytest.fixture()
def fresh(http_target: Served, event_target: Served) -> Iterator[None]:
    http_target.seen.clear()
    event_target.seen.clear()
    yield


class Server:
    """A real functions-framework process (gunicorn, as on Cloud Run) on 127.0.0.1."""

    def __init__(self, port: int, record: Path) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.record = record

    def records(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        lines = self.record.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line]

    def send(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, Any, bytes]:
        req = urllib.request.Request(
            self.base + path, data=body or None, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            with err:
                return err.code, err.headers, err.read()


def _serve(target: str, signature_type: str, tmp: Path) -> Iterator[Server]:
    port = free_port()
    record = tmp / f"{target}.jsonl"
    env = {**os.environ, "POLYFN_GCP_RECORD": str(record), "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [
        sys.executable, "-m", "functions_framework",
        "--target", target, "--source", str(SOURCE), "--signature-type", signature_type,
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    with running(cmd, port, env=env):
        yield Server(port, record)


@pytest.fixture(scope="session")
def ff_http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve("http", "http", tmp_path_factory.mktemp("ff-http"))


@pytest.fixture(scope="session")
def ff_event_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve("event", "cloudevent", tmp_path_factory.mktemp("ff-event"))
