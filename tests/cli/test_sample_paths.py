"""`polyfn events --set path=...` and the adapters agree: a path rendered into each cloud's
sample, then run through that cloud's real entry by `polyfn invoke`, reaches the handler as the
same decoded path on every source. The path is written as a client sends it, so a literal "%",
a "+", non-ASCII text and an encoded "/" (%2F) all travel."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.cli._run import invoke_sample, run

PATHS_APP = str(Path(__file__).parent / "apps" / "cli_paths.py")

# (path as the client writes it, what the handler sees)
PATHS = [
    ("/p/café ✓", "/p/café ✓"),
    ("/p/caf%C3%A9%20%E2%9C%93", "/p/café ✓"),
    ("/p/100%25/a%2541", "/p/100%/a%41"),
    ("/p/a+b/c%2Bd", "/p/a+b/c+d"),
    ("/p/a%2Fb", "/p/a/b"),
    ("/p/emoji/😀", "/p/emoji/😀"),
]


@pytest.mark.parametrize(("sent", "expected"), PATHS, ids=[p[0] for p in PATHS])
def test_the_handler_sees_the_path_the_client_sent(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    http_source: tuple[str, str],
    sent: str,
    expected: str,
) -> None:
    provider, trigger = http_source
    code, out, err = invoke_sample(
        capsys, tmp_path, PATHS_APP, "show_path", provider, trigger, [f"path={sent}"]
    )
    assert code == 0, (out, err)
    seen = sys.modules["cli_paths"].SEEN
    assert seen[-1][0] == provider
    assert seen[-1][1] == expected
    assert seen[-1][2] == {"rest": expected.removeprefix("/p/")}


def test_http_api_samples_carry_the_path_decoded_and_the_others_as_sent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What each source puts in its event (the captures polyfn_aws._http cites): HTTP APIs
    decode the path, REST APIs, function URLs and ALBs keep the client's encoding."""
    for trigger, field, expected in (
        ("http-api", ("rawPath",), "/p/a b/100%"),
        ("http-api", ("requestContext", "http", "path"), "/p/a b/100%"),
        ("http-api-v1", ("path",), "/p/a b/100%"),
        ("http-rest", ("path",), "/p/a%20b/100%25"),
        ("function-url", ("rawPath",), "/p/a%20b/100%25"),
        ("alb", ("path",), "/p/a%20b/100%25"),
    ):
        code, out, _ = run(capsys, "events", "aws", trigger, "--set", "path=/p/a b/100%25")
        assert code == 0
        value = json.loads(out)
        for key in field:
            value = value[key]
        assert value == expected, (trigger, field)
