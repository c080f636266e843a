"""The GCP HTTP target: functions-framework serving ``polyfn_gcp.http(app)``.

In process, the driver loads the entry file (conformance/fixtures/gcp/main.py) with
functions-framework's own ``create_app`` and sends each case through that Flask app's test
client; cases marked ``live`` go over the wire instead, to a real ``functions-framework`` server
the driver starts on 127.0.0.1 (and stops in `close`). Either way the request is built from the
case's raw path, query string and header lines, so Werkzeug does the decoding a Cloud Run
instance's server does, and the response is read from Flask's (or the socket's) header list.

Cloud Run behaviour rendered here: the client's address arrives in ``X-Forwarded-For``; the
socket peer is Google's front end, not the client
(https://cloud.google.com/functions/docs/reference/headers).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar

from conformance import _apps
from conformance._httpcase import HttpCase
from conformance._spec import Outcome, Skip
from conformance._wire import cookie_header

if TYPE_CHECKING:
    from polyfn import App

ENTRY = Path(__file__).resolve().parent.parent / "fixtures" / "gcp" / "main.py"
HOST = "conformance-abc123-uc.a.run.app"
FRONT_END = "169.254.1.1"  # the peer a function sees on Cloud Run: Google's front end
START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 60.0


def _lines(case: HttpCase) -> list[tuple[str, str]]:
    lines = [("Host", HOST), ("User-Agent", "polyfn-conformance/1")]
    lines.extend(case.headers)
    cookie = cookie_header(case)
    if cookie is not None:
        lines.append(("Cookie", cookie))
    lines.append(("X-Forwarded-For", case.source_ip))
    lines.append(("X-Forwarded-Proto", "https"))
    return lines


def _outcome(status: int, pairs: list[tuple[str, str]], body: bytes) -> Outcome:
    headers: dict[str, list[str]] = {}
    for name, value in pairs:
        headers.setdefault(name.lower(), []).append(value)
    cookies = headers.pop("set-cookie", [])
    return Outcome(status, headers, cookies, body)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# A functions-framework server already serving the default conformance app on 127.0.0.1
# (http://127.0.0.1:PORT), started by scripts/test.sh; without it the target starts its own.
SHARED_SERVER_ENV = "POLYFN_TEST_FF_URL"


class GcpHttpTarget:
    name = "gcp-http"
    cloud = "gcp"
    trigger = "http"
    _clients: ClassVar[dict[int, tuple[Any, Any]]] = {}

    def __init__(self) -> None:
        self._server: subprocess.Popen[bytes] | None = None
        self._server_app: int | None = None
        self._port = 0
        self._log: IO[bytes] | None = None

    # -- in process ------------------------------------------------------------------------

    def client(self, app: App) -> Any:
        cached = self._clients.get(id(app))
        if cached is None:
            import functions_framework

            create_app: Any = functions_framework.create_app
            _apps.CURRENT = app
            try:
                flask_app = create_app("http", str(ENTRY), "http")
            finally:
                _apps.CURRENT = None
            cached = self._clients[id(app)] = (app, flask_app.test_client(use_cookies=False))
        return cached[1]

    def _in_process(self, case: HttpCase, app: App) -> Outcome:
        client = self.client(app)
        resp = client.open(
            case.path,
            method=case.method,
            query_string=case.query or None,
            headers=_lines(case),
            data=case.body,
            environ_base={"REMOTE_ADDR": FRONT_END},
        )
        try:
            return _outcome(resp.status_code, list(resp.headers.items()), resp.get_data())
        finally:
            resp.close()

    # -- over the wire -----------------------------------------------------------------------

    def _start(self, app: App) -> int:
        if self._server_app == id(app):
            return self._port
        self.close()
        ref = _apps.app_ref(app)
        if ref is None:
            raise Skip("the app has no importable module:attr, so no server can load it")
        shared = os.environ.get(SHARED_SERVER_ENV)
        if shared and ref == _apps.DEFAULT_APP:
            # CI (scripts/test.sh) starts one functions-framework server for the default
            # conformance app before the tests; every worker sends its live cases there.
            port = int(shared.rsplit(":", 1)[1].rstrip("/"))
            self._server_app, self._port = id(app), port
            return port
        port = _free_port()
        env = dict(os.environ)
        env["POLYFN_CONFORMANCE_APP"] = ref
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        cmd = [
            sys.executable, "-m", "functions_framework", "--target", "http",
            "--source", str(ENTRY), "--host", "127.0.0.1", "--port", str(port),
        ]  # fmt: skip
        # The server's log goes to a file: a pipe nobody reads would fill and stall the server.
        log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=log, cwd=os.getcwd()
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                log.seek(0)
                err = log.read().decode(errors="replace")
                log.close()
                raise RuntimeError(f"functions-framework exited with {proc.returncode}: {err}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            proc.kill()
            proc.wait(5)
            log.close()
            raise RuntimeError(f"functions-framework did not listen on port {port} in time")
        self._server, self._server_app, self._port, self._log = proc, id(app), port, log
        return port

    def _over_the_wire(self, case: HttpCase, app: App) -> Outcome:
        port = self._start(app)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        try:
            target = case.path + (f"?{case.query}" if case.query else "")
            conn.putrequest(case.method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in _lines(case):
                conn.putheader(name, value.encode("latin-1"))
            conn.putheader("Content-Length", str(len(case.body)))
            conn.endheaders(case.body or None)
            resp = conn.getresponse()
            outcome = _outcome(resp.status, resp.getheaders(), resp.read())
        finally:
            conn.close()
        # The handler ran in the server's process: what it saw is in the echo it answered.
        seen: list[dict[str, Any]] = []
        try:
            doc = json.loads(outcome.body)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("echo"), dict):
            seen.append(doc["echo"])
        return Outcome(outcome.status, outcome.headers, outcome.cookies, outcome.body, seen)

    def close(self) -> None:
        proc, self._server, self._server_app = self._server, None, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def run(self, case: HttpCase, app: App) -> Outcome:
        if case.live and os.environ.get("POLYFN_CONFORMANCE_NO_SERVER") != "1":
            return self._over_the_wire(case, app)
        outcome = self._in_process(case, app)
        return Outcome(outcome.status, outcome.headers, outcome.cookies, outcome.body)


TARGETS = [GcpHttpTarget()]
