# Shared by scripts/demo.sh and scripts/test.sh: create .venv and install polyfn with its adapters.
# Needs only python3 (3.11+) and pip; idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${POLYFN_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

ensure_venv() {
  if [ ! -x "$PY" ]; then
    python3 -m venv "$VENV"
    "$PY" -m pip install --quiet --upgrade pip
  fi
}

install_polyfn() {
  # The core, the three adapters and the conformance suite (polyfn-conformance), editable, from
  # this checkout.
  "$PY" -m pip install --quiet -e "$ROOT" -e "$ROOT/adapters/aws" -e "$ROOT/adapters/azure" \
    -e "$ROOT/adapters/gcp" -e "$ROOT/conformance" "$@"
}
