"""Run the `polyfn` CLI in process and capture what it printed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from polyfn._cli import main

SHOP = str(Path(__file__).parent / "apps" / "cli_shop.py")


def run(capsys: Any, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def seen() -> list[tuple[object, ...]]:
    return sys.modules["cli_shop"].SEEN  # type: ignore[no-any-return]


def write_event(tmp_path: Path, event: object) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return str(path)


def invoke_sample(
    capsys: Any,
    tmp_path: Path,
    app: str,
    function: str,
    provider: str,
    trigger: str,
    overrides: list[str] | tuple[str, ...] = (),
) -> tuple[int, str, str]:
    """`polyfn events PROVIDER TRIGGER --set ...` written to a file, then `polyfn invoke` of it."""
    args = [a for o in overrides for a in ("--set", o)]
    code, out, err = run(capsys, "events", provider, trigger, *args)
    assert code == 0, err
    event_file = write_event(tmp_path, json.loads(out))
    return run(capsys, "invoke", app, function, "--provider", provider, "--event", event_file)
