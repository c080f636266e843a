#!/usr/bin/env bash
# Run every benchmark and print its tables (Markdown), headed by the date and the machine.
# A copy goes to bench/results/<UTC time>.md (git-ignored).
#
#   bash bench/run.sh            # full run (about 3-5 minutes on 2 idle cores)
#   bash bench/run.sh --quick    # few rounds: a smoke test of the scripts, not numbers to quote
#   bash bench/run.sh --profile  # full run, then where polyfn's time goes (bench/hotspots.py)
#
# PYTHON names the interpreter of the environment polyfn and the reference libraries are
# installed in (default: .venv/bin/python, which scripts/test.sh and scripts/demo.sh set up,
# else python).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${PYTHON:-}" ]]; then
    PYTHON=python
    [[ -x .venv/bin/python ]] && PYTHON=.venv/bin/python
fi
profile=""
case "${1:-}" in
    --quick) export BENCH_ROUNDS=5 BENCH_COLD_RUNS=5 BENCH_BREAKDOWN_RUNS=3 ;;
    --profile) profile=1 ;;
    "") ;;
    *) echo "usage: bash bench/run.sh [--quick|--profile]" >&2; exit 2 ;;
esac
mkdir -p bench/results
out="bench/results/$(date -u +%Y%m%dT%H%M%SZ).md"
{
    echo "## Benchmark run $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //' || uname -m)), $(uname -sr)"
    echo "- python: $("$PYTHON" -c 'import sys; print(sys.version.split()[0])')"
    echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
    echo "- code: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- polyfn adapters 2>/dev/null || echo ' + uncommitted changes in polyfn/ or adapters/')"
    echo "- rounds per table: ${BENCH_ROUNDS:-41}; cold-start runs per variant: ${BENCH_COLD_RUNS:-40}"
    echo
    "$PYTHON" bench/cold_start.py
    echo
    "$PYTHON" bench/cold_start.py --breakdown --runs "${BENCH_BREAKDOWN_RUNS:-15}"
    echo
    "$PYTHON" bench/aws_invoke.py
    echo
    "$PYTHON" bench/asgi.py
    echo
    "$PYTHON" bench/resources.py
    echo
    "$PYTHON" bench/azure_gcp.py
    echo
    "$PYTHON" bench/events.py
    echo
    "$PYTHON" bench/observability.py
    echo
    "$PYTHON" bench/fast_paths.py
    echo
    if [[ -n "$profile" ]]; then
        echo "### Where polyfn's time goes (cProfile, bench/hotspots.py)"
        echo
        "$PYTHON" bench/hotspots.py aws-http aws-sqs aws-s3 aws-schedule azure-http gcp-http gcp-tick
        echo
    fi
    echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
} | tee "$out"
