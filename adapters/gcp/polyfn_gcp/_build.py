"""`build`: Cloud Functions (gen2, Cloud Run functions) deployment specs for a polyfn app.

One `google.cloud.functions_v2.CreateFunctionRequest` for the app's HTTP routes (one public URL;
routes split off only when their settings differ or they ask to: `polyfn._groups`) and one per
schedule, queue and storage function (a storage function that listens to several kinds of change
gets one per kind: an event trigger has one event type), built with google-cloud-functions' own
types; one `google.cloud.scheduler_v1.Job` per schedule, an HTTP target on the schedule function's
path (`polyfn_gcp.schedule_path`); both written as JSON, with ``deploy.sh`` holding the equivalent
``gcloud`` commands and ``main.py`` the entry points.

Settings map to ServiceConfig and EventTrigger; limits are `ConfigError`s, settings GCP cannot
honour as declared are returned warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, assert_never

from polyfn._app import (
    HttpTrigger,
    QueueTrigger,
    ScheduleTrigger,
    StorageTrigger,
    SubscribeTrigger,
)
from polyfn._errors import ConfigError
from polyfn._generated import write_entry
from polyfn._groups import HttpGroup, http_groups
from polyfn_gcp import _iam
from polyfn_gcp._auth import AUTH_CLOUD_RUN_IAM, AUTH_ENV, INVOKERS_ENV
from polyfn_gcp._names import entry_point, function_id

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping
    from pathlib import Path

    from polyfn._app import App, Function

RUNTIME = "python311"
# A function's description: at most 256 characters (the REST reference's Function.description).
_DESCRIPTION_MAX = 256
DEFAULT_PROJECT = "PROJECT_ID"
DEFAULT_REGION = "us-central1"
# The account Cloud Scheduler signs its OIDC tokens with; deploy.sh creates it and lets it invoke
# the schedule functions (which are not public).
SCHEDULER_ACCOUNT = "polyfn-scheduler"

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

# The Python runtime loads the entry points from main.py, or from the file the build environment
# variable GOOGLE_FUNCTION_SOURCE names (Google Cloud's buildpacks pass it to functions-framework
# as FUNCTION_SOURCE). An app that is itself main.py keeps its name: the generated entries go to
# polyfn_main.py, so they never replace the app nor import themselves.
# https://github.com/GoogleCloudPlatform/buildpacks#functions-framework-buildpacks
# https://github.com/GoogleCloudPlatform/functions-framework-python#configure-the-functions-framework
ENTRY_FILE = "main.py"
ALTERNATE_ENTRY_FILE = "polyfn_main.py"
SOURCE_ENV = "GOOGLE_FUNCTION_SOURCE"


def entry_file(app_ref: str, taken: Collection[str] = ()) -> str:
    """The file the generated entry points go to: main.py unless the app's own top-level module
    or package is called main, or the package holds a main.py of the user's (`taken`: the
    top-level names of the app's files in the package)."""
    top = app_ref.partition(":")[0].split(".")[0]
    stem = ENTRY_FILE.removesuffix(".py")
    return ALTERNATE_ENTRY_FILE if top == stem or {stem, ENTRY_FILE} & set(taken) else ENTRY_FILE


# main.py must be code that `ruff format` (and black) leave unchanged in the user's repository:
# double quotes, and no line that its default line length (88) would rewrap. Lines are kept
# within PEP 8's 79 columns; a statement that would not fit is written exploded with a trailing
# comma, which the formatters keep exploded at any line length (for an entry point name too long
# for even that, as they write it at their default line length).
# https://docs.astral.sh/ruff/formatter/#style-guide
_FITS = 79
_DEFAULT_LINE_LENGTH = 88


def _assignment(target: str, call: str, args: list[str], names: list[str] | None = None) -> str:
    """``target = call(args[, functions=[names]])`` laid out as ruff format leaves it."""
    listed = f"functions=[{', '.join(names)}]" if names is not None else None
    line = f"{target} = {call}({', '.join([*args, *([listed] if listed else [])])})"
    if len(line) <= _FITS:
        return line
    # A name so long that even the call's first line does not fit: the formatters put the
    # call in parentheses of its own (at their default line length).
    wrapped = len(f"{target} = {call}(") > _DEFAULT_LINE_LENGTH
    pad = " " * (8 if wrapped else 4)
    lines = [f"{pad}{arg}," for arg in args]
    if listed is not None and names is not None:
        if len(f"{pad}{listed},") <= _FITS:
            lines.append(f"{pad}{listed},")
        else:
            lines += [f"{pad}functions=[", *(f"{pad}    {n}," for n in names), f"{pad}],"]
    body = "\n".join(lines)
    if wrapped:
        return f"{target} = (\n    {call}(\n{body}\n    )\n)"
    return f"{target} = {call}(\n{body}\n)"


def _signature(fn: Function) -> str:
    """The polyfn_gcp entry point that serves `fn`: `http` or `cloud_event`."""
    match fn.trigger:
        case HttpTrigger() | ScheduleTrigger():
            # Schedules arrive as HTTP requests from Cloud Scheduler (polyfn_gcp.schedule_path).
            return "http"
        case StorageTrigger() | QueueTrigger() | SubscribeTrigger():
            return "cloud_event"
        case _:
            assert_never(fn.trigger)


def _entry_line(fn: Function) -> str:
    import json

    signature = _signature(fn)
    return _assignment(
        entry_point(fn), f"polyfn_gcp.{signature}", ["_app", f"function={json.dumps(fn.name)}"]
    )


def _group_line(group: HttpGroup) -> str:
    import json

    names = [json.dumps(fn.name) for fn in group.functions]
    return _assignment(entry_point(group), "polyfn_gcp.http", ["_app"], names)


def main_source(app: App, app_ref: str) -> str:
    module, _, attr = app_ref.partition(":")
    imported = f"from {module} import {attr or 'app'} as _app"
    if len(imported) > _FITS:
        imported = f"from {module} import (\n    {attr or 'app'} as _app,\n)"
    lines = [
        f'"""Cloud Functions entry points of polyfn app {app.name!r}.',
        "",
        "Generated by `polyfn build`; each Cloud Function deploys with --entry-point <name below>:",
        'one for the HTTP routes, one per schedule, queue and storage function."""',
        "",
        "import polyfn_gcp",
        imported,
        "",
    ]
    lines.extend(_group_line(group) for group in http_groups(app))
    lines.extend(_entry_line(fn) for fn in app.functions if not isinstance(fn.trigger, HttpTrigger))
    return "\n".join(lines) + "\n"


def requirements(app: App) -> list[str]:
    """What the Cloud Functions build installs: functions-framework (and pydantic for models)."""
    from polyfn_gcp._provider import provider

    return provider.requirements(app)


class Spec:
    """What one app becomes on GCP: function requests, scheduler jobs, follow-up commands."""

    def __init__(
        self, app: App, project: str, region: str, source_bucket: str, source_file: str
    ) -> None:
        self.app = app
        self.source_file = source_file  # the file of the entry points (main.py or another)
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
        # service account email -> (the function or HTTP group it runs, its IAM bindings)
        self.accounts: dict[str, tuple[Any, list[Any]]] = {}

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
    app_ref: str = "",
    taken: Collection[str] = (),
    source_file: str | None = None,
) -> Spec:
    """Build every request and job for `app` (no network: the types build offline). The file of
    the entry points is `source_file`, else `entry_file(app_ref, taken)`."""
    _iam.check(app)
    source_file = source_file or entry_file(app_ref, taken)
    s = Spec(app, project, region, source_bucket or f"{project}-polyfn-source", source_file)
    for group in http_groups(app):
        _http_group(s, group)
    for fn in app.functions:
        if not isinstance(fn.trigger, HttpTrigger):
            _function(s, fn)
    return s


def _service_config(s: Spec, fn: Function, timeout_max: int) -> tuple[Any, int]:
    import math

    from google.cloud import functions_v2

    st = fn.settings
    config = functions_v2.ServiceConfig()
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
    # Always written, so the deployed timeout is polyfn's documented default when none is declared.
    timeout = math.ceil(st.effective_timeout)
    if timeout > timeout_max:
        what = "HTTP" if timeout_max == HTTP_TIMEOUT_MAX_S else "event-driven"
        raise ConfigError(
            f"function {fn.name!r}: timeout={st.timeout} s exceeds the {timeout_max} s that "
            f"Cloud Functions allows {what} functions; lower it"
        )
    if timeout != st.effective_timeout:
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


def _request(
    s: Spec, fn: Function | HttpGroup, fid: str, service: Any, trigger: Any | None = None
) -> Any:
    from google.cloud import functions_v2

    _iam.prepare(s, fn, service)
    if isinstance(fn, HttpGroup):
        description = f"polyfn {s.app.name}: HTTP {', '.join(f.name for f in fn.functions)}"
    else:
        description = f"polyfn {s.app.name}: {fn.name} ({fn.trigger_label})"
    function = functions_v2.Function(
        name=f"{s.parent}/functions/{fid}",
        description=description[:_DESCRIPTION_MAX],
        environment=functions_v2.Environment.GEN_2,
        build_config=functions_v2.BuildConfig(
            runtime=RUNTIME,
            entry_point=entry_point(fn),
            environment_variables=(
                {SOURCE_ENV: s.source_file} if s.source_file != ENTRY_FILE else {}
            ),
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


def _http_group(s: Spec, group: HttpGroup) -> None:
    """One public Cloud Function for a group of HTTP functions (they share their settings)."""
    service, _ = _service_config(s, group.first, HTTP_TIMEOUT_MAX_S)
    for fn in group.functions[1:]:
        _service_config(s, fn, HTTP_TIMEOUT_MAX_S)  # each function's own limits and warnings
    fid = function_id(s.app, group)
    s.functions.append(_request(s, group, fid, service))
    s.commands.append(_gcloud_deploy(s, group, fid, service, None))
    s.public.append(fid)
    for fn in group.functions:
        if fn.settings.retries is not None or fn.settings.dead_letter is not None:
            s.warn(
                fn,
                "retries/dead_letter have no meaning for HTTP (the caller gets the error "
                "response and decides whether to retry); ignored",
            )


def _function(s: Spec, fn: Function) -> None:
    trigger = fn.trigger
    match trigger:
        case ScheduleTrigger():
            service, timeout = _service_config(s, fn, HTTP_TIMEOUT_MAX_S)
            # The function is private: Cloud Run checks the scheduler's OIDC token (and strips
            # its signature), so polyfn checks only that the caller is the scheduler's account
            # (polyfn_gcp._auth, "cloud-run-iam"). Without these the tick would be refused.
            service.environment_variables.update(
                {AUTH_ENV: AUTH_CLOUD_RUN_IAM, INVOKERS_ENV: s.scheduler_account}
            )
            fid = function_id(s.app, fn)
            s.functions.append(_request(s, fn, fid, service))
            s.commands.append(_gcloud_deploy(s, fn, fid, service, None))
            _job(s, fn, fid, timeout)
        case StorageTrigger():
            service, _ = _service_config(s, fn, EVENT_TIMEOUT_MAX_S)
            kinds = list(trigger.events)
            for kind in kinds:
                fid = function_id(s.app, fn, kind if len(kinds) > 1 else "")
                event = _event_trigger(
                    s, fn, STORAGE_EVENT_TYPES[kind], filters={"bucket": trigger.bucket}
                )
                s.functions.append(_request(s, fn, fid, service, event))
                s.commands.append(_gcloud_deploy(s, fn, fid, service, event))
                _dead_letter(s, fn, fid)
        case QueueTrigger():
            service, _ = _service_config(s, fn, EVENT_TIMEOUT_MAX_S)
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
                    "with message ordering enabled, which the trigger's Eventarc subscription "
                    "is not; messages of one key may arrive out of order",
                )
        case SubscribeTrigger():
            # One function per subscriber, each with its own Eventarc trigger on the topic:
            # Eventarc makes one Pub/Sub subscription per trigger, so every subscriber gets every
            # message.
            service, _ = _service_config(s, fn, EVENT_TIMEOUT_MAX_S)
            _pubsub_function(s, fn, service, trigger.topic)
            if trigger.batch_size != 1:
                s.warn(
                    fn,
                    f"batch_size={trigger.batch_size}: Eventarc delivers one Pub/Sub message per "
                    "invocation",
                )
        case HttpTrigger():
            # Deployed with its HTTP group (_http_group): spec() never passes one here.
            raise AssertionError(f"{fn.name!r} is an HTTP function")
        case _:
            assert_never(trigger)


def _pubsub_function(s: Spec, fn: Function, service: Any, topic: str) -> None:
    """The function of `fn` with a messagePublished trigger on Pub/Sub topic `topic`."""
    fid = function_id(s.app, fn)
    event = _event_trigger(s, fn, PUBSUB_EVENT_TYPE, topic=f"projects/{s.project}/topics/{topic}")
    s.functions.append(_request(s, fn, fid, service, event))
    s.commands.append(_gcloud_deploy(s, fn, fid, service, event))
    _dead_letter(s, fn, fid)


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


def _job(s: Spec, fn: Function, fid: str, timeout: int) -> None:
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
        + f" --attempt-deadline={job.attempt_deadline.total_seconds():.0f}s"
        + (f" --max-retry-attempts={job.retry_config.retry_count}" if st.retries else ""),
    ]


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _gcloud_deploy(
    s: Spec, fn: Function | HttpGroup, fid: str, service: Any, event: Any | None
) -> str:
    from google.cloud import functions_v2

    parts = [
        f"gcloud functions deploy {fid} --gen2 --region={s.region} --runtime={RUNTIME}",
        f'--source="$SOURCE" --entry-point={entry_point(fn)}',
    ]
    if s.source_file != ENTRY_FILE:
        parts.append(f"--set-build-env-vars={SOURCE_ENV}={s.source_file}")
    if event is None:
        parts.append("--trigger-http")
        public = isinstance(fn, HttpGroup)
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
    if service.service_account_email:
        parts.append(f"--service-account={service.service_account_email}")
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
    lines += ["", *_iam.setup_commands(s), "", *s.commands, "", *s.after]
    return "\n".join(lines) + "\n"


def _to_json(message: Any) -> Any:
    import json

    # Enum names, not numbers; only the fields that are set: what the REST API documents.
    text = type(message).to_json(
        message, use_integers_for_enums=False, always_print_fields_with_no_presence=False
    )
    return json.loads(text)


def package_files(
    app: App, app_ref: str, *, taken: Collection[str] = (), **options: Any
) -> tuple[dict[str, str], list[str]]:
    """The generated files a Cloud Functions source zip holds (the entry points' file: main.py
    unless the app has one of its own), and the warnings."""
    files = {entry_file(app_ref, taken): main_source(app, app_ref)}
    return files, spec(app, app_ref=app_ref, taken=taken, **options).warnings


def build(
    app: App,
    out_dir: Path,
    *,
    app_ref: str,
    project: str = DEFAULT_PROJECT,
    region: str = DEFAULT_REGION,
    source_bucket: str | None = None,
    taken: Collection[str] = (),
    explain: bool = False,
) -> list[str]:
    """Write functions/<id>.json (CreateFunctionRequest), scheduler/<job>.json (Job), deploy.sh,
    main.py (polyfn_main.py when the app has a main.py: `taken`, `entry_file`) and
    requirements.txt into `out_dir`. Returns the warnings."""
    import json

    s = spec(
        app,
        project=project,
        region=region,
        source_bucket=source_bucket,
        app_ref=app_ref,
        taken=taken,
    )
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
    bindings = [
        _iam.binding_json(resource, binding)
        for _, granted in s.accounts.values()
        for resource, binding, _ in granted
    ]
    (out_dir / "iam.json").write_text(json.dumps(bindings, indent=2) + "\n")
    if explain:
        from polyfn._grants import explain as explain_text

        print(explain_text("gcp", _iam.explain_units(s)), end="")
    script = out_dir / "deploy.sh"
    script.write_text(deploy_script(s))
    script.chmod(0o755)
    write_entry(out_dir / s.source_file, main_source(app, app_ref))
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


@dataclass(frozen=True)
class GcpOptions:
    """`polyfn build/package/deploy --provider gcp`'s options: the project (--project, else
    $GOOGLE_CLOUD_PROJECT; None leaves it to the builder's placeholder or to the credentials)
    and the region (--region, else us-central1)."""

    project: str | None = None
    region: str = DEFAULT_REGION

    @classmethod
    def of(cls, options: Mapping[str, Any]) -> GcpOptions:
        """From the options mapping the CLI fills (absent or None: the default)."""
        import os

        project = options.get("project") or os.environ.get(PROJECT_ENV) or None
        return cls(project=project, region=options.get("region") or DEFAULT_REGION)

    def build_kwargs(self) -> dict[str, Any]:
        """`build`'s and `spec`'s keyword options."""
        kwargs: dict[str, Any] = {"region": self.region}
        if self.project:
            kwargs["project"] = self.project
        return kwargs
