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
