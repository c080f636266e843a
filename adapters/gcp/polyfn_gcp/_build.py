"""`build`: Cloud Functions (gen2, Cloud Run functions) deployment specs for a polyfn app.

One `google.cloud.functions_v2.CreateFunctionRequest` per polyfn function (a storage function that
listens to several kinds of change gets one per kind: an event trigger has one event type), built
with google-cloud-functions' own types; one `google.cloud.scheduler_v1.Job` per schedule, an HTTP
target on the schedule function's path (`polyfn_gcp.schedule_path`); both written as JSON, with
``deploy.sh`` holding the equivalent ``gcloud`` commands and ``main.py`` the entry points.

Settings map to ServiceConfig and EventTrigger; limits are `ConfigError`s, settings GCP cannot
honour as declared are returned warnings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from polyfn._app import HttpTrigger, QueueTrigger, ScheduleTrigger, StorageTrigger
from polyfn._errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from polyfn._app import App, Function

ADAPTER_PACKAGE = "polyfn_gcp"
ADAPTER_DISTRIBUTION = "polyfn-gcp"
# What polyfn's commands need on GCP beyond polyfn-gcp itself: command -> (its extra in
# adapters/gcp/pyproject.toml, the modules that prove the extra is installed). build, and package
# for its warnings, make the specs with google-cloud-functions' and -scheduler's own types.
_SPEC_TYPES = ("google.cloud.functions_v2", "google.cloud.scheduler_v1")
COMMAND_EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "build": ("build", _SPEC_TYPES),
    "package": ("build", _SPEC_TYPES),
    "deploy": ("deploy", ("google.auth", *_SPEC_TYPES)),
}
RUNTIME = "python311"
DEFAULT_PROJECT = "PROJECT_ID"
DEFAULT_REGION = "us-central1"
# The account Cloud Scheduler signs its OIDC tokens with; deploy.sh creates it and lets it invoke
# the schedule functions (which are not public).
SCHEDULER_ACCOUNT = "polyfn-scheduler"

# Function IDs: lower-case letters, digits and hyphens, starting with a letter, at most 63.
# https://cloud.google.com/functions/docs/reference/rest/v2/projects.locations.functions#Function
FUNCTION_ID_MAX = 63

# Memory 128 MiB - 32 GiB; above 4 GiB a minimum number of CPUs is required (more than 4 GiB: 2,
# more than 8: 4, more than 16: 6, more than 24: 8).
# https://cloud.google.com/functions/docs/configuring/memory
MEMORY_MIN_MB = 128
MEMORY_MAX_MB = 32768
CPU_FOR_MEMORY = ((24576, "8"), (16384, "6"), (8192, "4"), (4096, "2"))

# Timeouts: HTTP functions up to 60 minutes, event-driven functions up to 9 minutes.
# https://cloud.google.com/functions/docs/configuring/timeout
HTTP_TIMEOUT_MAX_S = 3600
EVENT_TIMEOUT_MAX_S = 540

# Cloud Scheduler: an HTTP target's attempt deadline is 15 s - 30 min; retry_count 0-5.
# https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs
SCHEDULER_DEADLINE_MIN_S = 15
SCHEDULER_DEADLINE_MAX_S = 1800
SCHEDULER_RETRIES_MAX = 5

# Pub/Sub dead-letter topics: max delivery attempts 5-100, default 5.
# https://cloud.google.com/pubsub/docs/handling-failures#dead_letter_topic
DELIVERY_ATTEMPTS_MIN = 5
DELIVERY_ATTEMPTS_MAX = 100

# Environment variables Cloud Run functions sets itself (and the container contract's K_*/PORT);
# keys may not start with X_GOOGLE_ nor contain "=".
# https://cloud.google.com/run/docs/configuring/services/overview-environment-variables
RESERVED_ENV = frozenset(
    {"FUNCTION_TARGET", "FUNCTION_SIGNATURE_TYPE", "K_SERVICE", "K_REVISION", "K_CONFIGURATION",
     "PORT"}
)  # fmt: skip
RESERVED_ENV_PREFIX = "X_GOOGLE_"

# polyfn storage kinds -> Cloud Storage event types (Eventarc, direct events).
# https://cloud.google.com/eventarc/docs/reference/supported-events#cloud-storage
STORAGE_EVENT_TYPES = {
    "created": "google.cloud.storage.object.v1.finalized",
    "deleted": "google.cloud.storage.object.v1.deleted",
    "archived": "google.cloud.storage.object.v1.archived",
    "metadata_updated": "google.cloud.storage.object.v1.metadataUpdated",
}
PUBSUB_EVENT_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"

# How `polyfn package` ships third-party code: Cloud Functions always builds the source and
# installs requirements.txt; --deps vendor puts Linux wheels next to main.py instead.
# https://cloud.google.com/functions/docs/writing/specifying-dependencies-python
DEFAULT_DEPS = "remote"
DEPS_MODES = ("remote", "vendor")
DEPS_MODES_WHY = ""
SITE_PACKAGES = ""


def function_id(app: App, fn: Function, suffix: str = "") -> str:
    """The Cloud Functions ID of `fn` (with a kind suffix for multi-kind storage functions)."""
    raw = f"{app.name}-{fn.name}{'-' + suffix if suffix else ''}".lower()
    name = "".join(ch if ch.isalnum() and ch.isascii() else "-" for ch in raw).strip("-")
    if not name[:1].isalpha():
        name = f"fn-{name}"
    if len(name) > FUNCTION_ID_MAX:
        import hashlib

        name = f"{name[: FUNCTION_ID_MAX - 9]}-{hashlib.sha256(raw.encode()).hexdigest()[:8]}"
    return name


def entry_point(fn: Function) -> str:
    """The attribute of main.py that serves `fn`."""
    return "polyfn_" + "".join(ch if ch.isalnum() else "_" for ch in fn.name)


# main.py must be code that `ruff format` (and black) leave unchanged in the user's repository:
# double quotes, and no line that its default line length (88) would rewrap. Lines are kept
# within PEP 8's 79 columns; a statement that would not fit is written exploded with a trailing
# comma, which the formatters keep exploded at any line length (for an entry point name too long
# for even that, as they write it at their default line length).
# https://docs.astral.sh/ruff/formatter/#style-guide
_FITS = 79
_DEFAULT_LINE_LENGTH = 88


def _entry_line(fn: Function) -> str:
    import json

    # Schedules arrive as HTTP requests from Cloud Scheduler (polyfn_gcp.schedule_path).
    kind = "cloud_event" if fn.kind in ("storage", "queue") else "http"
    line = f"{entry_point(fn)} = polyfn_gcp.{kind}(_app, function={json.dumps(fn.name)})"
    if len(line) <= _FITS:
        return line
    call = f"polyfn_gcp.{kind}(\n    _app,\n    function={json.dumps(fn.name)},\n)"
    if len(f"{entry_point(fn)} = polyfn_gcp.{kind}(") <= _DEFAULT_LINE_LENGTH:
        return f"{entry_point(fn)} = {call}"
    # A name so long that even the call's first line does not fit: the formatters put the
    # call in parentheses of its own (at their default line length).
    return f"{entry_point(fn)} = (\n    " + call.replace("\n", "\n    ") + "\n)"


def main_source(app: App, app_ref: str) -> str:
    module, _, attr = app_ref.partition(":")
    imported = f"from {module} import {attr or 'app'} as _app"
    if len(imported) > _FITS:
        imported = f"from {module} import (\n    {attr or 'app'} as _app,\n)"
    lines = [
        f'"""Cloud Functions entry points of polyfn app {app.name!r}, one per function.',
        "",
        'Generated by `polyfn build`; each function deploys with --entry-point <name below>."""',
        "",
        "import polyfn_gcp",
        imported,
        "",
    ]
    lines.extend(_entry_line(fn) for fn in app.functions)
    return "\n".join(lines) + "\n"


def requirements(app: App) -> list[str]:
    """What the Cloud Functions build installs: functions-framework (and pydantic for models)."""
    from polyfn._package import app_extras, third_party_requirements

    return third_party_requirements([ADAPTER_DISTRIBUTION], app_extras(app))


class Spec:
    """What one app becomes on GCP: function requests, scheduler jobs, follow-up commands."""

    def __init__(self, app: App, project: str, region: str, source_bucket: str) -> None:
        self.app = app
        self.project = project
        self.region = region
        self.parent = f"projects/{project}/locations/{region}"
        self.source_bucket = source_bucket
        self.functions: list[Any] = []  # CreateFunctionRequest
        self.jobs: list[Any] = []  # scheduler_v1.Job
        self.commands: list[str] = []  # gcloud, in order
        self.after: list[str] = []  # gcloud commands that need the functions deployed first
        self.public: list[str] = []  # function IDs anyone may call
        self.warnings: list[str] = []

    def warn(self, fn: Function, message: str) -> None:
        self.warnings.append(f"gcp: function {fn.name!r}: {message}")

    @property
    def scheduler_account(self) -> str:
        return f"{SCHEDULER_ACCOUNT}@{self.project}.iam.gserviceaccount.com"

    def url(self, fid: str) -> str:
        return f"https://{self.region}-{self.project}.cloudfunctions.net/{fid}"


def spec(
    app: App,
    *,
    project: str = DEFAULT_PROJECT,
    region: str = DEFAULT_REGION,
    source_bucket: str | None = None,
) -> Spec:
    """Build every request and job for `app` (no network: the types build offline)."""
    s = Spec(app, project, region, source_bucket or f"{project}-polyfn-source")
    for fn in app.functions:
        _function(s, fn)
    return s


def _service_config(s: Spec, fn: Function, timeout_max: int) -> tuple[Any, int | None]:
    import math

    from google.cloud import functions_v2

    st = fn.settings
    config = functions_v2.ServiceConfig()
    timeout = None
    if st.memory is not None:
        if not MEMORY_MIN_MB <= st.memory <= MEMORY_MAX_MB:
            raise ConfigError(
                f"function {fn.name!r}: memory={st.memory} MB is outside Cloud Functions' "
                f"{MEMORY_MIN_MB}-{MEMORY_MAX_MB} MiB; choose a value in that range"
            )
        config.available_memory = f"{st.memory}Mi"
        for above, cpus in CPU_FOR_MEMORY:
            if st.memory > above:
                config.available_cpu = cpus
                break
    if st.timeout is not None:
        timeout = math.ceil(st.timeout)
        if timeout > timeout_max:
            what = "HTTP" if timeout_max == HTTP_TIMEOUT_MAX_S else "event-driven"
            raise ConfigError(
                f"function {fn.name!r}: timeout={st.timeout} s exceeds the {timeout_max} s that "
                f"Cloud Functions allows {what} functions; lower it"
            )
        if timeout != st.timeout:
            s.warn(fn, f"timeout {st.timeout} s rounded up to {timeout} s (whole seconds)")
        config.timeout_seconds = timeout
    if st.env:
        for key in st.env:
            if key in RESERVED_ENV or key.startswith(RESERVED_ENV_PREFIX) or "=" in key or not key:
                raise ConfigError(
                    f"function {fn.name!r}: env {key!r} is reserved by Cloud Functions; "
                    "choose another name"
                )
        config.environment_variables = dict(st.env)
    if st.max_concurrency is not None:
        # One request at a time per instance (the gen2 default), so instances = executions.
        config.max_instance_count = st.max_concurrency
        config.max_instance_request_concurrency = 1
    return config, timeout


def _request(s: Spec, fn: Function, fid: str, service: Any, trigger: Any | None = None) -> Any:
    from google.cloud import functions_v2

    function = functions_v2.Function(
        name=f"{s.parent}/functions/{fid}",
        description=f"polyfn {s.app.name}: {fn.name} ({fn.kind})",
        environment=functions_v2.Environment.GEN_2,
        build_config=functions_v2.BuildConfig(
            runtime=RUNTIME,
            entry_point=entry_point(fn),
            source=functions_v2.Source(
                storage_source=functions_v2.StorageSource(
                    bucket=s.source_bucket, object_=f"{s.app.name}-gcp.zip"
                )
            ),
        ),
        service_config=service,
    )
    if trigger is not None:
        function.event_trigger = trigger
    return functions_v2.CreateFunctionRequest(parent=s.parent, function=function, function_id=fid)


def _function(s: Spec, fn: Function) -> None:
    trigger = fn.trigger
    st = fn.settings
    if isinstance(trigger, HttpTrigger | ScheduleTrigger):
        service, timeout = _service_config(s, fn, HTTP_TIMEOUT_MAX_S)
        fid = function_id(s.app, fn)
        s.functions.append(_request(s, fn, fid, service))
        s.commands.append(_gcloud_deploy(s, fn, fid, service, None))
        if isinstance(trigger, HttpTrigger):
            s.public.append(fid)
            if st.retries is not None or st.dead_letter is not None:
                s.warn(
                    fn,
                    "retries/dead_letter have no meaning for HTTP (the caller gets the error "
                    "response and decides whether to retry); ignored",
                )
        else:
            _job(s, fn, fid, timeout)
        return
    service, _ = _service_config(s, fn, EVENT_TIMEOUT_MAX_S)
    if isinstance(trigger, StorageTrigger):
        kinds = list(trigger.events)
        for kind in kinds:
            fid = function_id(s.app, fn, kind if len(kinds) > 1 else "")
            event = _event_trigger(
                s, fn, STORAGE_EVENT_TYPES[kind], filters={"bucket": trigger.bucket}
            )
            s.functions.append(_request(s, fn, fid, service, event))
            s.commands.append(_gcloud_deploy(s, fn, fid, service, event))
            _dead_letter(s, fn, fid)
    else:
        assert isinstance(trigger, QueueTrigger)
        fid = function_id(s.app, fn)
        topic = f"projects/{s.project}/topics/{trigger.queue}"
        event = _event_trigger(s, fn, PUBSUB_EVENT_TYPE, topic=topic)
        s.functions.append(_request(s, fn, fid, service, event))
        s.commands.append(_gcloud_deploy(s, fn, fid, service, event))
        _dead_letter(s, fn, fid)
        if trigger.fifo:
            s.warn(
                fn,
                "fifo: Pub/Sub keeps order only per ordering key and only on a subscription "
                "with message ordering enabled, which the trigger's Eventarc subscription is not; "
                "messages of one key may arrive out of order",
            )


def _event_trigger(
    s: Spec,
    fn: Function,
    event_type: str,
    *,
    filters: dict[str, str] | None = None,
    topic: str = "",
) -> Any:
    from google.cloud import functions_v2

    retry = functions_v2.EventTrigger.RetryPolicy
    st = fn.settings
    # A raise must not lose the event: retry unless the app asked for no retries at all.
    policy = retry.RETRY_POLICY_DO_NOT_RETRY if st.retries == 0 else retry.RETRY_POLICY_RETRY
    if st.retries and st.dead_letter is None:
        s.warn(
            fn,
            f"retries={st.retries}: Cloud Functions retries a failed event until it succeeds or "
            "expires, with no count; a count needs a dead-letter topic (set dead_letter)",
        )
    event = functions_v2.EventTrigger(
        event_type=event_type,
        event_filters=[
            functions_v2.EventFilter(attribute=k, value=v) for k, v in (filters or {}).items()
        ],
        retry_policy=policy,
    )
    if topic:
        event.pubsub_topic = topic
    if filters is None and not topic:
        raise ConfigError(f"function {fn.name!r}: an event trigger needs a filter or a topic")
    return event


def _dead_letter(s: Spec, fn: Function, fid: str) -> None:
    """Attach a dead-letter topic to the Pub/Sub subscription Eventarc made for the trigger."""
    st = fn.settings
    if st.dead_letter is None:
        return
    attempts = DELIVERY_ATTEMPTS_MIN if st.retries is None else st.retries + 1
    if not DELIVERY_ATTEMPTS_MIN <= attempts <= DELIVERY_ATTEMPTS_MAX:
        clamped = min(max(attempts, DELIVERY_ATTEMPTS_MIN), DELIVERY_ATTEMPTS_MAX)
        s.warn(
            fn,
            f"retries={st.retries}: a Pub/Sub dead-letter topic takes {DELIVERY_ATTEMPTS_MIN}-"
            f"{DELIVERY_ATTEMPTS_MAX} delivery attempts; using {clamped}",
        )
        attempts = clamped
    r = s.region
    s.after += [
        f"gcloud pubsub topics describe {st.dead_letter} >/dev/null 2>&1 || "
        f"gcloud pubsub topics create {st.dead_letter}",
        f"TRIGGER=$(gcloud functions describe {fid} --region={r} "
        "--format='value(eventTrigger.trigger)')",
        'SUBSCRIPTION=$(gcloud eventarc triggers describe "$TRIGGER" '
        f"--location={r} --format='value(transport.pubsub.subscription)')",
        f'gcloud pubsub subscriptions update "$SUBSCRIPTION" --dead-letter-topic={st.dead_letter} '
        f"--max-delivery-attempts={attempts}",
    ]


def _job(s: Spec, fn: Function, fid: str, timeout: int | None) -> None:
    from google.cloud import scheduler_v1
    from google.protobuf import duration_pb2

    from polyfn_gcp._names import schedule_path, scheduler_job_name
    from polyfn_gcp._schedule import to_cloud_scheduler

    trigger = fn.trigger
    assert isinstance(trigger, ScheduleTrigger)
    st = fn.settings
    cron, tz = to_cloud_scheduler(trigger.schedule)
    name = scheduler_job_name(s.app, fn)
    uri = s.url(fid) + schedule_path(fn)
    job = scheduler_v1.Job(
        name=f"{s.parent}/jobs/{name}",
        description=f"polyfn {s.app.name}: {fn.name}",
        schedule=cron,
        time_zone=tz,
        http_target=scheduler_v1.HttpTarget(
            uri=uri,
            http_method=scheduler_v1.HttpMethod.POST,
            oidc_token=scheduler_v1.OidcToken(
                service_account_email=s.scheduler_account, audience=s.url(fid)
            ),
        ),
    )
    if timeout is not None:
        deadline = min(max(timeout, SCHEDULER_DEADLINE_MIN_S), SCHEDULER_DEADLINE_MAX_S)
        if deadline != timeout:
            s.warn(
                fn,
                f"Cloud Scheduler waits {SCHEDULER_DEADLINE_MIN_S} s - "
                f"{SCHEDULER_DEADLINE_MAX_S} s for an HTTP target; the job waits {deadline} s",
            )
        job.attempt_deadline = duration_pb2.Duration(seconds=deadline)
    if st.retries is not None:
        count = min(st.retries, SCHEDULER_RETRIES_MAX)
        if count != st.retries:
            s.warn(
                fn,
                f"retries={st.retries}: Cloud Scheduler retries a job at most "
                f"{SCHEDULER_RETRIES_MAX} times; using {SCHEDULER_RETRIES_MAX}",
            )
        job.retry_config = scheduler_v1.RetryConfig(retry_count=count)
    if st.dead_letter is not None:
        s.warn(fn, "dead_letter: a Cloud Scheduler job has no dead letter; a failed tick is logged")
    s.jobs.append(job)
    s.after += [
        f"gcloud functions add-invoker-policy-binding {fid} --region={s.region} "
        f"--member=serviceAccount:{s.scheduler_account}",
        f"gcloud scheduler jobs create http {name} --location={s.region} "
        f"--schedule={_quote(cron)} --time-zone={_quote(tz)} --uri={_quote(uri)} "
        f"--http-method=POST --oidc-service-account-email={s.scheduler_account} "
        f"--oidc-token-audience={_quote(s.url(fid))}"
        + (f" --attempt-deadline={job.attempt_deadline.total_seconds():.0f}s" if timeout else "")
        + (f" --max-retry-attempts={job.retry_config.retry_count}" if st.retries else ""),
    ]


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _gcloud_deploy(s: Spec, fn: Function, fid: str, service: Any, event: Any | None) -> str:
    from google.cloud import functions_v2

    parts = [
        f"gcloud functions deploy {fid} --gen2 --region={s.region} --runtime={RUNTIME}",
        f'--source="$SOURCE" --entry-point={entry_point(fn)}',
    ]
    if event is None:
        parts.append("--trigger-http")
        public = isinstance(fn.trigger, HttpTrigger)
        parts.append("--allow-unauthenticated" if public else "--no-allow-unauthenticated")
    elif event.pubsub_topic:
        parts.append(f"--trigger-topic={event.pubsub_topic.rsplit('/', 1)[-1]}")
    else:
        parts.append(f"--trigger-event-filters=type={event.event_type}")
        for f in event.event_filters:
            parts.append(f"--trigger-event-filters={f.attribute}={f.value}")
    if event is not None:
        retry = event.retry_policy == functions_v2.EventTrigger.RetryPolicy.RETRY_POLICY_RETRY
        parts.append("--retry" if retry else "--no-retry")
    if service.available_memory:
        parts.append(f"--memory={service.available_memory}")
    if service.available_cpu:
        parts.append(f"--cpu={service.available_cpu}")
    if service.timeout_seconds:
        parts.append(f"--timeout={service.timeout_seconds}s")
    if service.max_instance_count:
        parts.append(f"--max-instances={service.max_instance_count} --concurrency=1")
    if service.environment_variables:
        pairs = ",".join(f"{k}={v}" for k, v in sorted(service.environment_variables.items()))
        parts.append(f"--set-env-vars={_quote(pairs)}")
    return " \\\n    ".join(parts)


def deploy_script(s: Spec) -> str:
    lines = [
        "#!/usr/bin/env bash",
        f"# Deploy polyfn app {s.app.name!r} to Cloud Functions gen2 in {s.parent}.",
        "# Generated by `polyfn build`. SOURCE is the folder (or gs:// zip) of",
        f"# `polyfn package ... --provider gcp`, unzipped: unzip dist/{s.app.name}-gcp.zip -d src",
        "set -euo pipefail",
        'SOURCE="${SOURCE:-.}"',
        f"gcloud config set project {s.project}",
    ]
    if s.jobs:
        lines += [
            f"gcloud iam service-accounts describe {s.scheduler_account} >/dev/null 2>&1 || "
            f"gcloud iam service-accounts create {SCHEDULER_ACCOUNT} "
            "--display-name='polyfn Cloud Scheduler invoker'",
        ]
    lines += ["", *s.commands, "", *s.after]
    return "\n".join(lines) + "\n"


def _to_json(message: Any) -> Any:
    import json

    # Enum names, not numbers; only the fields that are set: what the REST API documents.
    text = type(message).to_json(
        message, use_integers_for_enums=False, always_print_fields_with_no_presence=False
    )
    return json.loads(text)


def package_files(app: App, app_ref: str, **options: Any) -> tuple[dict[str, str], list[str]]:
    """The generated files a Cloud Functions source zip holds (main.py), and the warnings."""
    return {"main.py": main_source(app, app_ref)}, spec(app, **options).warnings


def build(
    app: App,
    out_dir: Path,
    *,
    app_ref: str,
    project: str = DEFAULT_PROJECT,
    region: str = DEFAULT_REGION,
    source_bucket: str | None = None,
) -> list[str]:
    """Write functions/<id>.json (CreateFunctionRequest), scheduler/<job>.json (Job), deploy.sh,
    main.py and requirements.txt into `out_dir`. Returns the warnings."""
    import json

    s = spec(app, project=project, region=region, source_bucket=source_bucket)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "functions").mkdir(exist_ok=True)
    for req in s.functions:
        path = out_dir / "functions" / f"{req.function_id}.json"
        path.write_text(json.dumps(_to_json(req), indent=2) + "\n")
    if s.jobs:
        (out_dir / "scheduler").mkdir(exist_ok=True)
        for job in s.jobs:
            path = out_dir / "scheduler" / f"{job.name.rsplit('/', 1)[-1]}.json"
            path.write_text(json.dumps(_to_json(job), indent=2) + "\n")
    script = out_dir / "deploy.sh"
    script.write_text(deploy_script(s))
    script.chmod(0o755)
    (out_dir / "main.py").write_text(main_source(app, app_ref))
    (out_dir / "requirements.txt").write_text("\n".join(requirements(app)) + "\n")
    warnings = list(s.warnings)
    if project == DEFAULT_PROJECT:
        warnings.append(
            f"gcp: no project given; the specs name {DEFAULT_PROJECT!r}: pass --project (or set "
            "GOOGLE_CLOUD_PROJECT) to build for your project"
        )
    return warnings


# The environment variable Google's tools read the default project from.
# https://cloud.google.com/docs/authentication/application-default-credentials
PROJECT_ENV = "GOOGLE_CLOUD_PROJECT"


def cli_options(args: Any) -> dict[str, Any]:
    """`build`'s keyword options from --project (else $GOOGLE_CLOUD_PROJECT) and --region."""
    import os

    options: dict[str, Any] = {}
    project = getattr(args, "project", None) or os.environ.get(PROJECT_ENV)
    if project:
        options["project"] = project
    if getattr(args, "region", None):
        options["region"] = args.region
    return options
