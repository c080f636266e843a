"""Run the `polyfn` command as a user does: a process of its own, in a given folder."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def run_polyfn(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`polyfn ARGS...` run in `cwd` (with `env`, else this process's environment)."""
    return subprocess.run(
        [sys.executable, "-m", "polyfn._cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=180,
        check=False,
    )
