#!/usr/bin/env bash
# polyfn's main job, on a fresh machine with python3 (3.11+) and pip only, no cloud account:
# sets up .venv (polyfn, its three adapters and the clouds' own libraries that check every
# native input), then runs scripts/demo.py: the orders sample through the real AWS, Azure and GCP
# entry files, an SQS batch with one failure, and the conformance matrix. Exit status 0 = all good.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
cd "$ROOT"

LOG="$VENV/polyfn-install.log"
echo "== installing polyfn, its adapters and the clouds' libraries into $VENV"
echo "   (the first run downloads them: a few minutes; pip's output goes to $LOG)"
ensure_venv
if ! install_polyfn -r "$ROOT/requirements-dev.txt" >"$LOG" 2>&1; then
  cat "$LOG" >&2
  echo "demo: installing failed (above)" >&2
  exit 1
fi

echo "== running the demo"
exec "$PY" "$ROOT/scripts/demo.py" "$@"
