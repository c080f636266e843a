"""`polyfn deploy --provider gcp`: upload the source and create or update each Cloud Function
(gen2) with google-cloud-functions, then the Cloud Scheduler jobs with google-cloud-scheduler.

The requests are the ones `polyfn_gcp._build.spec` builds offline; credentials are Application
Default Credentials (``gcloud auth application-default login``, a service-account key in
GOOGLE_APPLICATION_CREDENTIALS, or the metadata server), needed only to send.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from polyfn._errors import ConfigError, PolyfnError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from polyfn._app import App
    from polyfn_gcp._build import GcpOptions

# Creating a function builds a container: minutes. Give each operation up to 15 minutes.
OPERATION_TIMEOUT_S = 900
UPLOAD_TIMEOUT_S = 300

_NO_CREDENTIALS = (
    "no Google Cloud credentials found. polyfn deploy uses Application Default Credentials: run "
    "`gcloud auth application-default login`, or point GOOGLE_APPLICATION_CREDENTIALS at a "
    "service-account key file; then run the command again."
)


class DeployError(PolyfnError):
    """Google Cloud refused the deployment; the message says what to check."""


def connect(options: GcpOptions) -> tuple[Any, str]:
    """(credentials, project), or a `ConfigError` that says what to set."""

    try:
        import google.auth
        import google.auth.exceptions
    except ModuleNotFoundError as exc:
        raise ConfigError(
            "polyfn deploy --provider gcp needs google-cloud-functions and "
            "google-cloud-scheduler: pip install google-cloud-functions google-cloud-scheduler"
        ) from exc
    try:
        credentials, adc_project = google.auth.default(
            scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
    except google.auth.exceptions.GoogleAuthError as exc:
        raise ConfigError(_NO_CREDENTIALS) from exc
    project = options.project or adc_project
    if not project:
        raise ConfigError(
            "no Google Cloud project: pass --project PROJECT_ID or set GOOGLE_CLOUD_PROJECT"
        )
    return credentials, str(project)


def deploy(
    session: tuple[Any, str],
    app: App,
    package: Path,
    options: GcpOptions,
    *,
    app_ref: str,
    log: Callable[[str], object],
) -> dict[str, str]:
    """Create or update every function and scheduler job; the functions' URLs."""
    from google.api_core import exceptions

    try:
        return _deploy(session, app, package, options, log, app_ref=app_ref)
    except exceptions.GoogleAPICallError as exc:
        raise DeployError(
            f"Google Cloud refused the deployment: {exc.message or exc}. Check that the Cloud "
            "Functions, Cloud Build, Eventarc and Cloud Scheduler APIs are enabled and that your "
            "account may deploy to the project."
        ) from exc


def _deploy(
    session: tuple[Any, str],
    app: App,
    package: Path,
    options: GcpOptions,
    log: Callable[[str], object],
    *,
    app_ref: str,
) -> dict[str, str]:
    import zipfile

    from google.api_core import exceptions
    from google.cloud import functions_v2, scheduler_v1

    from polyfn_gcp._build import ALTERNATE_ENTRY_FILE, spec

    credentials, project = session
    with zipfile.ZipFile(package) as zf:
        # The package decided where the entry points are (polyfn_gcp._build.entry_file).
        source_file = ALTERNATE_ENTRY_FILE if ALTERNATE_ENTRY_FILE in zf.namelist() else None
    s = spec(app, project=project, region=options.region, app_ref=app_ref, source_file=source_file)
    client = functions_v2.FunctionServiceClient(credentials=credentials)
    data = package.read_bytes()
    outputs: dict[str, str] = {}
    for request in s.functions:
        upload = client.generate_upload_url(
            request=functions_v2.GenerateUploadUrlRequest(
                parent=s.parent, environment=functions_v2.Environment.GEN_2
            )
        )
        _put(upload.upload_url, data)
        function = request.function
        function.build_config.source = functions_v2.Source(storage_source=upload.storage_source)
        try:
            client.get_function(name=function.name)
        except exceptions.NotFound:
            operation = client.create_function(request=request)
            log(f"creating {request.function_id} ...")
        else:
            operation = client.update_function(function=function)
            log(f"updating {request.function_id} ...")
        deployed: Any = operation.result(timeout=OPERATION_TIMEOUT_S)  # type: ignore[no-untyped-call]
        outputs[request.function_id] = deployed.service_config.uri or deployed.url
    scheduler = scheduler_v1.CloudSchedulerClient(credentials=credentials)
    for job in s.jobs:
        try:
            scheduler.create_job(parent=s.parent, job=job)
            log(f"created scheduler job {job.name}")
        except exceptions.AlreadyExists:
            scheduler.update_job(job=job)
            log(f"updated scheduler job {job.name}")
    if s.after or s.public:
        # IAM bindings (public HTTP functions, the scheduler's invoker) and dead-letter topics on
        # Eventarc's subscriptions are other APIs (Cloud Run IAM, Pub/Sub): gcloud does them.
        steps = [
            f"gcloud functions add-invoker-policy-binding {fid} --region={s.region} "
            "--member=allUsers"
            for fid in s.public
        ] + s.after
        log("to finish, run (also in deploy.sh from polyfn build):\n  " + "\n  ".join(steps))
    return outputs


def _put(url: str, data: bytes) -> None:
    """Upload the source zip to the signed URL generate_upload_url returned."""
    import urllib.request

    req = urllib.request.Request(
        url, data=data, method="PUT", headers={"Content-Type": "application/zip"}
    )
    with urllib.request.urlopen(req, timeout=UPLOAD_TIMEOUT_S) as resp:
        resp.read()
