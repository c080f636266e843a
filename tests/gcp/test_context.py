"""The GCP Context: ids from the request, the deadline from Cloud Run's timeout variable."""

from __future__ import annotations

import sys
import time
from datetime import timedelta

import pytest
from polyfn_gcp._context import deadline, make_context, trace_id


def test_trace_id_from_either_header():
    assert trace_id("105445aa7843bc8bf206b12000100000/1;o=1", None) == (
        "105445aa7843bc8bf206b12000100000"
    )
    assert trace_id(None, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") == (
        "4bf92f3577b34da6a3ce929d0e0e4736"
    )
    assert trace_id("", "garbage") is None


def test_remaining_time_counts_down_from_cloud_run_timeout():
    started = time.monotonic()
    remaining = deadline(started, {"CLOUD_RUN_TIMEOUT_SECONDS": "300"})
    assert remaining is not None
    left = remaining()
    assert timedelta(seconds=299) < left <= timedelta(seconds=300)
    assert deadline(started, {}) is None
    assert deadline(started, {"CLOUD_RUN_TIMEOUT_SECONDS": "0"}) is None
    assert deadline(started, {"CLOUD_RUN_TIMEOUT_SECONDS": "soon"}) is None


def test_context_reads_the_environment(monkeypatch):
    monkeypatch.setenv("CLOUD_RUN_TIMEOUT_SECONDS", "60")
    ctx = make_context("fn", "id-1", trace="t", started=time.monotonic(), raw=None)
    assert (ctx.provider, ctx.function_name, ctx.invocation_id, ctx.trace_id) == (
        "gcp", "fn", "id-1", "t"
    )  # fmt: skip
    left = ctx.remaining_time()
    assert left is not None and timedelta(seconds=59) < left <= timedelta(seconds=60)


def test_http_target_refuses_a_cloudevent(monkeypatch):
    import polyfn_gcp

    from polyfn import App, ConfigError

    with pytest.raises(ConfigError, match="signature-type http"):
        polyfn_gcp.http(App("t"))(object())  # type: ignore[arg-type]


def test_http_target_refuses_a_storage_function():
    import polyfn_gcp

    from polyfn import App, ConfigError

    app = App("t")
    app.storage("uploads", function_name="on_upload")(lambda event, ctx: None)
    with pytest.raises(ConfigError, match="cloud_event"):
        polyfn_gcp.http(app, function="on_upload")


def test_import_polyfn_gcp_loads_no_flask():
    import subprocess

    code = (
        "import sys; before = set(sys.modules); import polyfn_gcp; "
        "print(sorted({m.split('.')[0] for m in set(sys.modules) - before}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    for heavy in ("flask", "werkzeug", "functions_framework", "cloudevents", "google"):
        assert f"'{heavy}'" not in out.stdout, heavy
