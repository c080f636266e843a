"""`uses=`: a function may call only the resource operations it declared, while it runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from polyfn import (
    AccessDenied,
    App,
    Bucket,
    ConfigError,
    HttpResponse,
    Queue,
    QueueMessage,
    Secret,
    Table,
    idempotent,
)
from polyfn.testing import Client

uploads = Bucket("uploads")
jobs = Queue("jobs")
notes = Table("notes")
token = Secret("token")


def make_app() -> App:
    app = App("guarded")

    @app.http("/declared", methods=["POST"], uses=[notes.put, notes.get])
    def declared(req, ctx):
        notes.put("n1", {"text": "hi"})
        return {"text": notes.get("n1")["text"]}

    @app.http("/undeclared", methods=["POST"], uses=[notes.get])
    def undeclared(req, ctx):
        try:
            notes.put("n1", {"text": "sneaky"})
        except AccessDenied as exc:
            return HttpResponse.json(
                {"error": str(exc), "resource": exc.resource, "operation": exc.operation}, 403
            )
        return {"error": None}

    @app.queue(jobs)
    def consumer(msg: QueueMessage, ctx):
        uploads.write("x", b"x")  # nothing declared at all

    return app


def test_a_declared_operation_runs(state_dir: Path) -> None:
    resp = Client(make_app(), state_dir=state_dir).post("/declared")
    assert resp.status == 200 and Client.json(resp) == {"text": "hi"}


def test_an_undeclared_operation_is_denied_naming_the_token(state_dir: Path) -> None:
    resp = Client(make_app(), state_dir=state_dir).post("/undeclared")
    assert resp.status == 403
    body = Client.json(resp)
    assert (body["resource"], body["operation"]) == ("table:notes", "put")
    assert "add notes.put to uses=" in body["error"] and "'undeclared'" in body["error"]
    assert notes.get("n1") is None  # nothing was written


def test_a_queue_function_with_no_uses_is_denied_and_its_message_fails(state_dir: Path) -> None:
    client = Client(make_app(), state_dir=state_dir)
    with pytest.raises(AccessDenied, match=r"uploads\.write"):
        client.send("jobs", b"go")
    assert uploads.info("x") is None


def test_outside_an_invocation_every_operation_is_allowed(state_dir: Path) -> None:
    notes.put("free", {"ok": True})
    assert notes.get("free") == {"ok": True}
    jobs.send(b"from a script")
    uploads.write("script.txt", "made by a script")
    assert uploads.read("script.txt") == b"made by a script"


def test_the_check_is_per_function_and_ends_with_the_invocation(state_dir: Path) -> None:
    app = make_app()
    client = Client(app, state_dir=state_dir)
    assert client.post("/declared").status == 200
    assert client.post("/undeclared").status == 403
    notes.put("after", {"ok": 1})  # the invocation is over: no check applies


def test_uses_lists_the_functions_operations() -> None:
    app = make_app()
    fn = app.function("declared")
    assert [str(op) for op in fn.uses] == ["notes.put", "notes.get"]
    assert fn.allowed == {("table", "notes", "put"), ("table", "notes", "get")}


@pytest.mark.parametrize(
    ("uses", "message"),
    [
        ("notes.get", "must be a list of operations"),
        ([notes], "lists the table 'notes' itself"),
        (["notes.get"], "is not a resource operation"),
        ([print], "is not a resource operation"),
        (42, "must be a list of operations"),
    ],
)
def test_bad_uses_entries_are_config_errors(uses: object, message: str) -> None:
    app = App("bad")
    with pytest.raises(ConfigError, match=message):
        app.http("/x", uses=uses)(lambda req, ctx: None)  # type: ignore[arg-type]


def test_a_wrapper_declares_its_own_operations() -> None:
    app = App("wrapped")

    @app.queue(jobs, uses=[uploads.read])
    @idempotent(notes, key="id")
    def handle(msg, ctx):
        return None

    declared = {str(op) for op in app.function("handle").uses}
    assert declared == {"uploads.read", "notes.get", "notes.put", "notes.delete"}
