"""`ruff format --check` on a generated file, as a user's repository would run it."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def assert_ruff_formatted(path: Path, *line_lengths: int) -> None:
    """`path` is left unchanged by `ruff format` with its defaults (--isolated: no pyproject of
    ours applies) and at each of `line_lengths`."""
    ruff = [sys.executable, "-m", "ruff", "format", "--isolated", "--no-cache", "--check", "--diff"]
    for extra in [[], *(["--line-length", str(n)] for n in line_lengths)]:
        proc = subprocess.run(
            [*ruff, *extra, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, (extra, proc.stdout + proc.stderr)
