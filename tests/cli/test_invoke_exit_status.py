"""`polyfn invoke` exits with the same status on every cloud for the same outcome of an HTTP
function: 0 for a 1xx-3xx answer, 3 for a 4xx (no route, wrong method, refused), 1 for a 5xx
(polyfn's 500 for a raise, or one the handler chose), 2 for an event the adapter cannot read."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from polyfn._cli_local import invoke_exit_status
from tests.cli._run import invoke_sample, run, write_event

from .test_sample_paths import PATHS_APP

if TYPE_CHECKING:
    from pathlib import Path

# (function, --set overrides, exit status, the HTTP status in the printed answer)
OUTCOMES = [
    ("show_path", ["path=/p/x"], 0, 200),
    ("show_path", ["path=/nowhere"], 3, 404),
    ("show_path", ["path=/p/x", "method=POST"], 3, 405),
    ("refuse", ["path=/refuse/409"], 3, 409),
    ("boom", ["path=/boom"], 1, 500),
    ("refuse", ["path=/refuse/503"], 1, 503),
]


def _status(provider: str, result: dict[str, object]) -> int:
    if provider == "aws":
        return int(result["statusCode"])  # type: ignore[call-overload]
    if provider == "azure":
        return int(result["returnValue"]["http"]["statusCode"])  # type: ignore[index]
    return int(result["status"])  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("function", "overrides", "exit_status", "http_status"),
    OUTCOMES,
    ids=[f"{o[3]}" for o in OUTCOMES],
)
def test_the_exit_status_of_an_http_invocation_is_the_same_on_every_cloud(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    http_source: tuple[str, str],
    function: str,
    overrides: list[str],
    exit_status: int,
    http_status: int,
) -> None:
    provider, trigger = http_source
    code, out, err = invoke_sample(
        capsys, tmp_path, PATHS_APP, function, provider, trigger, overrides
    )
    assert _status(provider, json.loads(out)) == http_status
    assert code == exit_status, (out, err)


@pytest.mark.parametrize("provider", ["aws", "azure", "gcp"])
def test_an_event_the_adapter_cannot_read_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, provider: str
) -> None:
    trigger = "http-api" if provider == "aws" else "http"
    code, out, _ = run(capsys, "events", provider, trigger)
    event = json.loads(out)
    if provider == "aws":
        event["requestContext"]["http"]["method"] = 7
    elif provider == "azure":
        event["inputData"][0]["data"] = {"http": "not an object"}
    else:
        event["headers"] = ["not", "an", "object"]
    code, _, err = run(
        capsys,
        "invoke",
        PATHS_APP,
        "show_path",
        "--provider",
        provider,
        "--event",
        write_event(tmp_path, event),
    )
    assert code == 2, err


def test_the_rule() -> None:
    assert [invoke_exit_status(True, s) for s in (None, 100, 204, 302, 400, 499, 500, 599)] == [
        0, 0, 0, 0, 3, 3, 1, 1,
    ]  # fmt: skip
    assert invoke_exit_status(False, None) == 1 and invoke_exit_status(False, 200) == 1
