#!/usr/bin/env bash
# Set up everything the tests need and run them: lint, types, then the suite in parallel.
# Needs only python3, pip and npm (for Azurite). Servers bind 127.0.0.1 and stop at exit.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
cd "$ROOT"
STATE="$ROOT/.ci-state"
mkdir -p "$STATE"

echo "== installing polyfn, its adapters and the test tools"
ensure_venv
install_polyfn -r "$ROOT/requirements-dev.txt"

echo "== installing Azurite (npm)"
if ! command -v npm >/dev/null 2>&1; then
  # Azurite is an npm package; a machine without Node.js gets it from Debian's packages.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "npm is needed for Azurite (the Azure Storage emulator): install Node.js and npm" >&2
    exit 1
  fi
fi
if [ ! -x "$STATE/azurite/node_modules/.bin/azurite" ]; then
  npm install --prefix "$STATE/azurite" --no-audit --no-fund --silent azurite@3.37.0
fi

PIDS=()
GROUPS_=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  # The gcloud emulators run a JVM as a child: stop each whole process group.
  for pgid in "${GROUPS_[@]}"; do kill -- "-$pgid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}" "${GROUPS_[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  "$PY" - "$1" <<'PYEOF'
import socket, sys, time
port = int(sys.argv[1]); deadline = time.monotonic() + 180
while time.monotonic() < deadline:
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close(); sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit(f"nothing listens on 127.0.0.1:{port}")
PYEOF
}

echo "== fetching aws-sam-cli's sample events (the pinned wheel, no dependencies)"
"$PY" -c "import sys; sys.path.insert(0, '$ROOT'); from tests._sam import sam_services; sam_services()"

echo "== starting moto_server, Azurite and a functions-framework server on 127.0.0.1"
MOTO_PORT=$(free_port)
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$STATE/moto.log" 2>&1 &
PIDS+=($!)
BLOB_PORT=$(free_port); QUEUE_PORT=$(free_port); TABLE_PORT=$(free_port)
rm -rf "$STATE/azurite-data"; mkdir -p "$STATE/azurite-data"
"$STATE/azurite/node_modules/.bin/azurite" --silent --disableTelemetry --skipApiVersionCheck --loose \
  --location "$STATE/azurite-data" \
  --blobHost 127.0.0.1 --blobPort "$BLOB_PORT" --queueHost 127.0.0.1 --queuePort "$QUEUE_PORT" \
  --tableHost 127.0.0.1 --tablePort "$TABLE_PORT" >"$STATE/azurite.log" 2>&1 &
PIDS+=($!)
FF_PORT=$(free_port)
"$VENV/bin/functions-framework" --source "$ROOT/conformance/fixtures/gcp/main.py" --target http \
  --signature-type http --host 127.0.0.1 --port "$FF_PORT" >"$STATE/functions-framework.log" 2>&1 &
PIDS+=($!)

echo "== starting the Pub/Sub and Firestore emulators (Google Cloud CLI) and a Cloud Storage emulator"
if ! command -v gcloud >/dev/null 2>&1; then
  echo "the Google Cloud CLI (gcloud) with its Pub/Sub and Firestore emulators is needed" >&2
  exit 1
fi
PUBSUB_PORT=$(free_port); FIRESTORE_PORT=$(free_port); GCS_PORT=$(free_port)
setsid gcloud beta emulators pubsub start --project=polyfn-test \
  --host-port="127.0.0.1:$PUBSUB_PORT" >"$STATE/pubsub.log" 2>&1 &
GROUPS_+=($!)
setsid gcloud emulators firestore start --host-port="127.0.0.1:$FIRESTORE_PORT" \
  >"$STATE/firestore.log" 2>&1 &
GROUPS_+=($!)
"$VENV/bin/gcp-storage-emulator" start --host=127.0.0.1 --port="$GCS_PORT" --in-memory -q \
  >"$STATE/gcs.log" 2>&1 &
PIDS+=($!)
wait_port "$MOTO_PORT"; wait_port "$BLOB_PORT"; wait_port "$QUEUE_PORT"; wait_port "$FF_PORT"
wait_port "$PUBSUB_PORT"; wait_port "$FIRESTORE_PORT"; wait_port "$GCS_PORT"
export POLYFN_TEST_PUBSUB="127.0.0.1:$PUBSUB_PORT"
export POLYFN_TEST_FIRESTORE="127.0.0.1:$FIRESTORE_PORT"
export POLYFN_TEST_GCS="http://127.0.0.1:$GCS_PORT"

KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
export POLYFN_TEST_MOTO_URL="http://127.0.0.1:$MOTO_PORT"
export POLYFN_TEST_AZURITE="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$KEY;BlobEndpoint=http://127.0.0.1:$BLOB_PORT/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$QUEUE_PORT/devstoreaccount1;TableEndpoint=http://127.0.0.1:$TABLE_PORT/devstoreaccount1;"
export POLYFN_TEST_FF_URL="http://127.0.0.1:$FF_PORT"
export POLYFN_AZURITE_BIN="$STATE/azurite/node_modules/.bin/azurite"
export PATH="$VENV/bin:$PATH"

# Lint and types run first; the suite runs whatever they say, and the script fails if any failed.
status=0
echo "== ruff"
"$VENV/bin/ruff" check . || status=1
"$VENV/bin/ruff" format --check . || status=1
echo "== mypy (strict, the packages)"
"$VENV/bin/mypy" || status=1
echo "== pytest"
"$VENV/bin/pytest" -n 2 -p no:cacheprovider "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "== FAILED (exit $status)"
fi
exit "$status"
