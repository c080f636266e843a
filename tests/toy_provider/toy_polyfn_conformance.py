"""The conformance target of the toy provider, found through the ``polyfn.conformance`` entry
point: renders each HTTP case as a WSGI environ of its own (sharing no code with toy_polyfn),
calls the provider's public runtime entry ``toy_polyfn.wsgi(app)`` and reads the response back."""

from __future__ import annotations

import io
from typing import Any

from conformance._spec import Outcome, Recorder


class ToyWsgiTarget:
    name = "toy-wsgi"
    cloud = "toy"
    trigger = "http"

    def run(self, case: Any, app: Any) -> Outcome:
        from toy_polyfn import wsgi

        environ: dict[str, Any] = {
            "REQUEST_METHOD": case.method,
            "PATH_INFO": _unquote(case.path),
            "QUERY_STRING": case.query,
            "CONTENT_LENGTH": str(len(case.body)),
            "REMOTE_ADDR": case.source_ip,
            "SERVER_NAME": "toy.example",
            "SERVER_PORT": "443",
            "wsgi.url_scheme": "https",
            "wsgi.input": io.BytesIO(case.body),
        }
        for name, value in case.headers:
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
            else:
                key = "HTTP_" + key
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        if case.cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in case.cookies)
        started: list[Any] = []
        Recorder.reset()
        body = b"".join(
            wsgi(app)(environ, lambda status, headers: started.extend([status, headers]))
        )
        headers: dict[str, list[str]] = {}
        for name, value in started[1]:
            headers.setdefault(name.lower(), []).append(value)
        cookies = headers.pop("set-cookie", [])
        return Outcome(int(started[0].split()[0]), headers, cookies, body, seen=Recorder.take())


def _unquote(path: str) -> str:
    """PATH_INFO as PEP 3333 gives it: percent-decoded bytes, as latin-1 text."""
    from urllib.parse import unquote_to_bytes

    return unquote_to_bytes(path).decode("latin-1")


TARGETS = [ToyWsgiTarget()]
