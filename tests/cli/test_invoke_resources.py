"""`polyfn invoke --provider X` on a function that uses resources never reaches a cloud by
accident: its handles use the local twins under the state folder unless
POLYFN_INVOKE_RESOURCES=provider asks for X's backend (then the SDK's endpoint settings, an
emulator's here, say where it goes), and it says on stderr which it did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polyfn._resources import reset_backends
from tests.cli._run import invoke_sample

APP = """
from polyfn import App, Bucket

app = App("notes")
notes = Bucket("notes-{suffix}")


@app.http("/note", methods=["POST"], uses=[notes.write])
def note(req, ctx):
    notes.write("n.txt", req.body)
    return {{"stored": len(req.body)}}
"""

SOURCES = [("aws", "http-api"), ("azure", "http"), ("gcp", "http")]


def _app(tmp_path: Path, suffix: str) -> str:
    path = tmp_path / f"notes_{suffix}.py"
    path.write_text(APP.format(suffix=suffix))
    return str(path)


@pytest.fixture(autouse=True)
def fresh_backends() -> object:
    reset_backends()
    yield
    reset_backends()


@pytest.mark.parametrize(("provider", "trigger"), SOURCES, ids=[p for p, _ in SOURCES])
def test_invoke_writes_to_the_local_twins_and_says_so(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    provider: str,
    trigger: str,
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("POLYFN_STATE_DIR", str(state))
    monkeypatch.delenv("POLYFN_INVOKE_RESOURCES", raising=False)
    # Were the provider's backend used, these would send it to a closed port and fail.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9")
    monkeypatch.setenv("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "polyfn-test")
    overrides = ["path=/note", "method=POST", "body=hello"]
    code, out, err = invoke_sample(
        capsys, tmp_path, _app(tmp_path, provider), "note", provider, trigger, overrides
    )
    assert code == 0, (out, err)
    assert f"resources: the local twins under {state}/" in err
    assert (state / "storage" / f"notes-{provider}" / "n.txt").read_bytes() == b"hello"


def test_invoke_uses_the_provider_backend_only_when_asked(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    moto_url: str,
) -> None:
    import boto3  # type: ignore[import-untyped]

    monkeypatch.setenv("POLYFN_INVOKE_RESOURCES", "provider")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="notes-moto")
    overrides = ["path=/note", "method=POST", "body=hello"]
    code, out, err = invoke_sample(
        capsys, tmp_path, _app(tmp_path, "moto"), "note", "aws", "http-api", overrides
    )
    assert code == 0, (out, err)
    assert json.loads(json.loads(out)["body"]) == {"stored": 5}
    assert (
        f"aws's backend (POLYFN_INVOKE_RESOURCES=provider); endpoints: AWS_ENDPOINT_URL={moto_url}"
        in err
    )
    assert s3.get_object(Bucket="notes-moto", Key="n.txt")["Body"].read() == b"hello"


def test_an_unknown_choice_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLYFN_INVOKE_RESOURCES", "cloud")
    code, _, err = invoke_sample(
        capsys, tmp_path, _app(tmp_path, "x"), "note", "gcp", "http", ["path=/note", "method=POST"]
    )
    assert code == 2 and "use 'local'" in err
