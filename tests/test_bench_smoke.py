"""The benchmark scripts still run end to end (quick mode: a smoke run, no numbers judged).

Timings are not asserted here: benchmarks are scripts under bench/ (docs/performance.md), and a
timed test on a shared CI machine would measure the machine, not polyfn.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_run_quick_prints_every_table():
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(ROOT / "bench" / "run.sh"), "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"bench/run.sh --quick failed:\n{done.stderr[-4000:]}"
    out = done.stdout
    for title in ("cold start", "HTTP API", "SQS", "Azure", "GCP", "tick", "Resource handles"):
        assert title.lower() in out.lower(), f"no {title!r} table in bench/run.sh --quick"
