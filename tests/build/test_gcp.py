"""`polyfn build --provider gcp`: CreateFunctionRequests and scheduler Jobs built with the Google
libraries' own types, read back from the JSON with those types; deploy without credentials."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from google.cloud import functions_v2, scheduler_v1
from polyfn_gcp._build import build, function_id, main_source, spec
from polyfn_gcp._names import schedule_path, scheduler_job_name

from polyfn import App, ConfigError
from polyfn._app import DEFAULT_TIMEOUT_SECONDS
from polyfn._groups import http_groups
from tests.build import richapp
from tests.build._cli import run_polyfn
from tests.build._ruff import assert_ruff_formatted

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gcp")
    build(
        richapp.app, out, app_ref="tests.build.richapp:app", project="demo", region="europe-west1"
    )
    return out


def _requests(out: Path) -> dict[str, Any]:
    found = {}
    for path in sorted((out / "functions").glob("*.json")):
        req = functions_v2.CreateFunctionRequest.from_json(path.read_text())
        found[req.function_id] = req
    return found


def _fid(name: str) -> str:
    """The Cloud Function that serves `name`: its group's for an HTTP function, else its own."""
    fn = richapp.app.function(name)
    group = next((g for g in http_groups(richapp.app) if fn in g.functions), None)
    return function_id(richapp.app, group or fn)


def test_one_create_function_request_per_function_and_http_group(out: Path) -> None:
    reqs = _requests(out)
    assert set(reqs) == {_fid(fn.name) for fn in richapp.app.functions}
    assert _fid("get_order") == f"{richapp.app.name}-http"
    assert len(reqs) == len(richapp.app.functions) - 3 + len(http_groups(richapp.app))
    for req in reqs.values():
        # No declared timeout: polyfn's default, written out.
        declared = {_fid(f.name): f.settings.effective_timeout for f in richapp.app.functions}
        assert req.function.service_config.timeout_seconds == declared[req.function_id]
        assert not req.function.build_config.environment_variables  # entries in main.py
    assert reqs[_fid("home")].function.service_config.timeout_seconds == DEFAULT_TIMEOUT_SECONDS
    for req in reqs.values():
        assert req.parent == "projects/demo/locations/europe-west1"
        assert req.function.environment == functions_v2.Environment.GEN_2
        assert req.function.build_config.runtime == "python311"
    get_order = reqs[_fid("get_order")].function
    assert not get_order.event_trigger.event_type  # HTTP
    assert get_order.service_config.available_memory == "256Mi"
    assert get_order.service_config.timeout_seconds == 10
    put_file = reqs[_fid("put_file")].function.service_config
    assert put_file.environment_variables == {"STAGE": "test"}
    assert put_file.max_instance_count == 5

    upload = reqs[_fid("on_upload")].function.event_trigger
    assert upload.event_type == "google.cloud.storage.object.v1.finalized"
    assert [(f.attribute, f.value) for f in upload.event_filters] == [("bucket", richapp.UPLOADS)]
    assert upload.retry_policy == functions_v2.EventTrigger.RetryPolicy.RETRY_POLICY_RETRY
    delete = reqs[_fid("on_delete")].function.event_trigger
    assert delete.event_type == "google.cloud.storage.object.v1.deleted"
    order = reqs[_fid("on_order")].function.event_trigger
    assert order.event_type == "google.cloud.pubsub.topic.v1.messagePublished"
    assert order.pubsub_topic == f"projects/demo/topics/{richapp.ORDERS}"


def test_main_py_names_each_entry_point(out: Path) -> None:
    main_py = (out / "main.py").read_text()
    for req in _requests(out).values():
        assert f"\n{req.function.build_config.entry_point} = polyfn_gcp." in main_py
    assert 'polyfn_on_order = polyfn_gcp.cloud_event(_app, function="on_order")' in main_py
    assert 'polyfn_nightly = polyfn_gcp.http(_app, function="nightly")' in main_py
    assert 'polyfn_http = polyfn_gcp.http(_app, functions=["get_order"])' in main_py
    assert_ruff_formatted(out / "main.py", 79, 120)


def test_http_routes_share_one_public_cloud_function(tmp_path: Path) -> None:
    app = App("api")
    names = [f"route_number_{i}_with_a_long_name" for i in range(6)]
    for name in names:
        app.http(f"/{name}", function_name=name)(lambda req, ctx: "ok")
    app.http("/big", memory=1024, function_name="big")(lambda req, ctx: "ok")
    app.schedule("0 1 * * *", function_name="tick")(lambda e, c: None)
    build(app, tmp_path, app_ref="api:app", project="demo", region="europe-west1")
    reqs = _requests(tmp_path)
    assert set(reqs) == {"api-http", "api-big", "api-tick"}
    assert reqs["api-http"].function.build_config.entry_point == "polyfn_http"
    script = (tmp_path / "deploy.sh").read_text()
    public = [c for c in script.split("gcloud functions deploy ")[1:] if "allow-unauth" in c]
    assert {c.split()[0] for c in public if "--allow-unauthenticated" in c} == {
        "api-http",
        "api-big",
    }
    assert "api-tick" in [c.split()[0] for c in public if "--no-allow-unauthenticated" in c]
    main_py = tmp_path / "main.py"
    assert_ruff_formatted(main_py, 79, 120)
    namespace: dict[str, Any] = {}

    class Record:
        @staticmethod
        def http(*args: Any, **kwargs: Any) -> Any:
            return args, kwargs

    exec(
        main_py.read_text().split("\n\n")[-1],  # the entry points, not the imports
        {"polyfn_gcp": Record, "_app": "A"},
        namespace,
    )
    assert namespace["polyfn_http"] == (("A",), {"functions": names})
    assert namespace["polyfn_big"] == (("A",), {"functions": ["big"]})
    assert namespace["polyfn_tick"] == (("A",), {"function": "tick"})


def test_an_app_in_main_py_keeps_its_file_and_the_entries_go_elsewhere(tmp_path: Path) -> None:
    app = App("m")
    app.http("/", function_name="home")(lambda req, ctx: "ok")
    build(app, tmp_path, app_ref="main:app", project="demo")
    assert not (tmp_path / "main.py").exists()
    assert "from main import app as _app" in (tmp_path / "polyfn_main.py").read_text()
    (req,) = _requests(tmp_path).values()
    assert dict(req.function.build_config.environment_variables) == {
        "GOOGLE_FUNCTION_SOURCE": "polyfn_main.py"
    }
    script = (tmp_path / "deploy.sh").read_text()
    assert "--set-build-env-vars=GOOGLE_FUNCTION_SOURCE=polyfn_main.py" in script


def test_main_py_with_long_names_passes_ruff_format(tmp_path: Path) -> None:
    app = App("long")
    # Entry lines longer than 79 columns, and one whose `name = polyfn_gcp.x(` alone is over 88.
    names = ["process_uploaded_invoice_documents", "a" * 60]
    for name in names:
        app.queue(f"q-{len(name)}", function_name=name)(lambda msg, ctx: None)
    module = "company.platform.services.orders.fulfilment.handlers.entrypoints"
    path = tmp_path / "main.py"
    path.write_text(main_source(app, f"{module}:application"))
    assert_ruff_formatted(path)
    namespace: dict[str, Any] = {}
    calls = path.read_text().split("\n\n")[-1]  # the entry points, without the imports

    class Record:
        @staticmethod
        def cloud_event(*args: Any, **kwargs: Any) -> Any:
            return args, kwargs

    exec(calls, {"polyfn_gcp": Record, "_app": "APP"}, namespace)
    assert namespace == {f"polyfn_{n}": (("APP",), {"function": n}) for n in names}


def test_scheduler_jobs_target_the_schedule_path(out: Path) -> None:
    jobs = {
        p.stem: scheduler_v1.Job.from_json(p.read_text())
        for p in (out / "scheduler").glob("*.json")
    }
    app = richapp.app
    morning_fn = app.function("morning")
    morning = jobs[scheduler_job_name(app, morning_fn)]
    assert (morning.schedule, morning.time_zone) == ("30 8 * * 1-5", "Asia/Tokyo")
    base = f"https://europe-west1-demo.cloudfunctions.net/{_fid('morning')}"
    assert morning.http_target.uri == base + schedule_path(morning_fn)
    assert morning.http_target.http_method == scheduler_v1.HttpMethod.POST
    assert morning.http_target.oidc_token.audience == base
    nightly = jobs[scheduler_job_name(app, app.function("nightly"))]
    assert nightly.retry_config.retry_count == 1
    every = jobs[scheduler_job_name(app, app.function("every_five"))]
    assert (every.schedule, every.time_zone) == ("*/5 * * * *", "UTC")


def test_deploy_sh_has_the_equivalent_gcloud_commands(out: Path) -> None:
    script = (out / "deploy.sh").read_text()
    assert os.access(out / "deploy.sh", os.X_OK)
    done = subprocess.run(["bash", "-n", str(out / "deploy.sh")], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert f"gcloud functions deploy {_fid('on_order')} --gen2 --region=europe-west1" in script
    assert f"--trigger-topic={richapp.ORDERS}" in script
    assert "--trigger-event-filters=type=google.cloud.storage.object.v1.finalized" in script
    assert f"--trigger-event-filters=bucket={richapp.UPLOADS}" in script
    nightly = scheduler_job_name(richapp.app, richapp.app.function("nightly"))
    assert f"gcloud scheduler jobs create http {nightly}" in script
    # dead_letter: the Eventarc subscription gets a dead-letter topic with max delivery attempts.
    assert f"--dead-letter-topic={richapp.ORDERS}-dead --max-delivery-attempts=5" in script


def test_settings_limits_and_warnings() -> None:
    app = App("lim")
    app.storage("b", on=["created", "deleted"], timeout=600, function_name="big")(lambda e, c: None)
    with pytest.raises(ConfigError, match="exceeds the 540 s"):
        spec(app)
    app2 = App("mem")
    app2.http("/", memory=65536, function_name="huge")(lambda r, c: None)
    with pytest.raises(ConfigError, match="128-32768 MiB"):
        spec(app2)
    app3 = App("ok")
    app3.storage("b", on=["created", "deleted"], memory=8192, function_name="both")(
        lambda e, c: None
    )
    app3.http("/", retries=2, function_name="web")(lambda r, c: None)
    app3.schedule("0 * * * *", retries=9, function_name="tick")(lambda e, c: None)
    s = spec(app3)
    ids = [r.function_id for r in s.functions]
    assert ids == ["ok-http", "ok-both-created", "ok-both-deleted", "ok-tick"]
    assert s.functions[1].function.service_config.available_cpu == "2"  # more than 4 GiB
    joined = "\n".join(s.warnings)
    assert "'web': retries/dead_letter have no meaning for HTTP" in joined
    assert "'tick': retries=9: Cloud Scheduler retries a job at most 5 times" in joined


def test_deploy_without_credentials_is_a_clear_message(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "CLOUDSDK_"))}
    env.update(
        CLOUDSDK_CONFIG=str(tmp_path),  # no gcloud login
        NO_GCE_CHECK="true",  # no metadata server probe
        GCE_METADATA_HOST="127.0.0.1:9",
        GCE_METADATA_IP="127.0.0.1:9",
    )
    app_ref = f"{Path(richapp.__file__).resolve()}:app"
    done = run_polyfn("deploy", app_ref, "--provider", "gcp", "--project", "p", cwd=ROOT, env=env)
    assert done.returncode == 2, done.stderr
    assert "no Google Cloud credentials found" in done.stderr
    assert "application-default login" in done.stderr
    assert "Traceback" not in done.stderr


def test_options_read_the_project_flag_then_the_environment(monkeypatch) -> None:
    from polyfn_gcp._build import DEFAULT_REGION, GcpOptions

    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "from-env")
    unset = {"project": None, "region": None}
    assert GcpOptions.of(unset) == GcpOptions("from-env", DEFAULT_REGION)
    flags = {"project": "from-flag", "region": "europe-west1"}
    assert GcpOptions.of(flags).build_kwargs() == {
        "project": "from-flag",
        "region": "europe-west1",
    }
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT")
    assert GcpOptions.of(unset).build_kwargs() == {"region": DEFAULT_REGION}


def test_each_subscriber_is_a_function_with_its_own_trigger_on_the_topic(out: Path) -> None:
    reqs = _requests(out)
    main_py = (out / "main.py").read_text()
    retry = functions_v2.EventTrigger.RetryPolicy
    for name in ("audit", "notify"):
        function = reqs[_fid(name)].function
        trigger = function.event_trigger
        assert trigger.event_type == "google.cloud.pubsub.topic.v1.messagePublished"
        assert trigger.pubsub_topic == f"projects/demo/topics/{richapp.NOTICES}"
        assert trigger.retry_policy == retry.RETRY_POLICY_RETRY
        # each deployment serves only its own subscriber
        entry = function.build_config.entry_point
        assert f'{entry} = polyfn_gcp.cloud_event(_app, function="{name}")' in main_py
    deploy = (out / "deploy.sh").read_text()
    # audit's retries=1 and dead_letter: its own Eventarc subscription gets the dead-letter topic
    assert f"--dead-letter-topic={richapp.FAILED} --max-delivery-attempts=5" in deploy


def test_schedule_functions_accept_exactly_their_schedulers_ticks(out: Path) -> None:
    """polyfn_gcp refuses unauthenticated ticks by default; the private schedule function is
    built to accept its Cloud Scheduler account (Cloud Run has checked the token), and only it."""
    import base64
    import json

    from polyfn_gcp._auth import DeliveryAuth

    app = richapp.app
    fn = app.function("morning")
    request = functions_v2.CreateFunctionRequest.from_json(
        (out / "functions" / f"{_fid('morning')}.json").read_text()
    )
    env = dict(request.function.service_config.environment_variables)
    job = scheduler_v1.Job.from_json(
        (out / "scheduler" / f"{scheduler_job_name(app, fn)}.json").read_text()
    )
    account = job.http_target.oidc_token.service_account_email
    assert env["POLYFN_GCP_DELIVERY_AUTH"] == "cloud-run-iam"
    assert env["POLYFN_GCP_INVOKERS"] == account
    auth = DeliveryAuth.from_env(env)

    def stripped(email: str) -> dict[str, str]:
        # What Cloud Run forwards from a private function's caller: the token, signature removed.
        def part(obj: object) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

        claims = {"email": email, "email_verified": True, "aud": job.http_target.uri}
        token = f"{part({'alg': 'RS256'})}.{part(claims)}.SIGNATURE_REMOVED_BY_GOOGLE"
        return {"Authorization": f"Bearer {token}"}

    assert auth.check(stripped(account), job.http_target.uri) is not None
    with pytest.raises(Exception, match="not one of the configured invokers"):
        auth.check(stripped("someone@else.iam.gserviceaccount.com"), job.http_target.uri)
