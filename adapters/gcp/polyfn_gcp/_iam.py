"""Per-function service accounts, resource-level IAM bindings and the resources themselves, for
`polyfn_gcp._build`.

Each deployed polyfn function (an HTTP group is one) runs as its own service account,
``pf-<hash>@<project>.iam.gserviceaccount.com``, which holds nothing project-wide: each ``uses=``
entry becomes a binding of the narrowest predefined role on that one bucket, topic or secret. The
one exception is Firestore, which has no IAM per collection: a table's role is bound on the
project with an IAM condition that limits it to the database polyfn uses (``(default)``), the
narrowest scope Firestore offers. Bindings are written with Google's own type
(`google.iam.v1.policy_pb2.Binding`, with a `google.type.expr_pb2.Expr` condition), the message a
resource's setIamPolicy carries, as ``iam.json`` and as ``gcloud ... add-iam-policy-binding``
commands in ``deploy.sh``, which also creates the buckets, topics, subscriptions (with their
dead-letter topics) and secrets the app names.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from polyfn._grants import Grant, app_resources, check_clashes, check_names
from polyfn._groups import HttpGroup
from polyfn._resources import Queue

if TYPE_CHECKING:
    from polyfn._app import App, Function
    from polyfn._resources import Resource

# The narrowest predefined role for each `uses=` token (IAM roles reference:
# https://cloud.google.com/iam/docs/understanding-roles):
# - roles/storage.objectViewer: storage.objects.get and .list (read, info, list; a signed GET URL).
# - roles/storage.objectUser: create, get, delete objects. polyfn's write replaces an object,
#   and replacing needs storage.objects.delete, which roles/storage.objectCreator lacks.
#   https://cloud.google.com/storage/docs/access-control/iam-roles
# - roles/pubsub.publisher: pubsub.topics.publish. https://cloud.google.com/pubsub/docs/access-control
# - roles/datastore.viewer / roles/datastore.user: read / read-write Firestore documents.
#   https://cloud.google.com/firestore/docs/security/iam
# - roles/secretmanager.secretAccessor: access a secret's versions.
#   https://cloud.google.com/secret-manager/docs/access-control
# A signed URL is signed through IAM's signBlob by the function's own account: it needs
# roles/iam.serviceAccountTokenCreator on itself (not on the project).
# https://cloud.google.com/storage/docs/access-control/signing-urls-with-helpers
ROLES: dict[tuple[str, str], tuple[str, ...]] = {
    ("bucket", "read"): ("roles/storage.objectViewer",),
    ("bucket", "info"): ("roles/storage.objectViewer",),
    ("bucket", "list"): ("roles/storage.objectViewer",),
    ("bucket", "write"): ("roles/storage.objectUser",),
    ("bucket", "delete"): ("roles/storage.objectUser",),
    ("bucket", "signed_url"): ("roles/storage.objectUser", "roles/iam.serviceAccountTokenCreator"),
    ("queue", "send"): ("roles/pubsub.publisher",),
    ("queue", "send_batch"): ("roles/pubsub.publisher",),
    ("topic", "publish"): ("roles/pubsub.publisher",),
    ("table", "get"): ("roles/datastore.viewer",),
    ("table", "put"): ("roles/datastore.user",),
    ("table", "delete"): ("roles/datastore.user",),
    ("secret", "value"): ("roles/secretmanager.secretAccessor",),
}
# A role that includes another on the same resource makes the other redundant.
_INCLUDES = {
    "roles/storage.objectUser": "roles/storage.objectViewer",
    "roles/datastore.user": "roles/datastore.viewer",
}

# Firestore: IAM conditions on the database's resource name are the narrowest scope.
# https://cloud.google.com/firestore/docs/security/iam#iam_conditions
FIRESTORE_DATABASE = "(default)"

# Service account IDs: 6-30 characters, lowercase letters, digits and hyphens, starting with a
# letter. https://cloud.google.com/iam/docs/service-accounts-create
ACCOUNT_PREFIX = "pf-"

# Pub/Sub dead-letter topics on the subscriptions deploy.sh creates for queues: the default of
# 5 delivery attempts (as the triggers' subscriptions).
# https://cloud.google.com/pubsub/docs/handling-failures#dead_letter_topic
DEAD_LETTER_ATTEMPTS = 5


def check(app: App) -> None:
    """Refuse names Google Cloud cannot accept and handles that would be one Pub/Sub topic."""
    from polyfn_gcp._resources import broken_name_rule

    check_names(app, "Google Cloud", broken_name_rule)
    check_clashes(
        app,
        "Google Cloud",
        lambda h: f"Pub/Sub topic {h.name!r}" if h.kind in ("queue", "topic") else None,
    )


def account_id(app: App, unit: Function | HttpGroup) -> str:
    """The service account ID of one deployed function: ``pf-`` and a hash of the app and
    function names (IDs are at most 30 characters; the display name says whose it is)."""
    digest = hashlib.sha256(f"{app.name}\0{unit.name}".encode()).hexdigest()[:16]
    return f"{ACCOUNT_PREFIX}{digest}"


def account_email(project: str, app: App, unit: Function | HttpGroup) -> str:
    return f"{account_id(app, unit)}@{project}.iam.gserviceaccount.com"


def _functions(unit: Function | HttpGroup) -> list[Function]:
    return unit.functions if isinstance(unit, HttpGroup) else [unit]


def prepare(s: Any, unit: Function | HttpGroup, service: Any) -> None:
    """Make `service` (a ServiceConfig) run as `unit`'s own account and carry the physical
    names of what it uses; record the account's bindings once."""
    email = account_email(s.project, s.app, unit)
    service.service_account_email = email
    env = dict(service.environment_variables)
    for fn in _functions(unit):
        for op in fn.uses:
            env.setdefault(op.resource.env_var, op.resource.name)
    if env:
        service.environment_variables = env
    if email not in s.accounts:
        s.accounts[email] = (unit, bindings(s.project, email, _functions(unit)))


def resource_name(project: str, handle: Resource) -> str:
    """The full resource name a binding is set on (setIamPolicy's resource)."""
    if handle.kind == "bucket":
        return f"//storage.googleapis.com/projects/_/buckets/{handle.name}"
    if handle.kind in ("queue", "topic"):
        return f"//pubsub.googleapis.com/projects/{project}/topics/{handle.name}"
    if handle.kind == "secret":
        return f"//secretmanager.googleapis.com/projects/{project}/secrets/{handle.name}"
    return f"//cloudresourcemanager.googleapis.com/projects/{project}"


def bindings(project: str, email: str, functions: list[Function]) -> list[tuple[str, Any, Grant]]:
    """(resource name, `policy_pb2.Binding`, why) for each role the account needs."""
    from google.iam.v1 import policy_pb2
    from google.type import expr_pb2

    wanted: dict[tuple[str, str], tuple[Resource | None, list[str]]] = {}
    for fn in functions:
        for op in fn.uses:
            for role in ROLES[(op.resource.kind, op.name)]:
                if role == "roles/iam.serviceAccountTokenCreator":
                    key = (f"//iam.googleapis.com/projects/{project}/serviceAccounts/{email}", role)
                    entry = wanted.setdefault(key, (None, []))
                else:
                    key = (resource_name(project, op.resource), role)
                    entry = wanted.setdefault(key, (op.resource, []))
                cause = f"uses={op} in {fn.name}"
                if cause not in entry[1]:
                    entry[1].append(cause)
    out = []
    for (resource, role), (handle, causes) in wanted.items():
        if any(_INCLUDES.get(other) == role and r == resource for r, other in wanted):
            continue  # a role on the same resource that includes this one is granted
        binding = policy_pb2.Binding(role=role, members=[f"serviceAccount:{email}"])
        if handle is not None and handle.kind == "table":
            database = f"projects/{project}/databases/{FIRESTORE_DATABASE}"
            binding.condition.CopyFrom(
                expr_pb2.Expr(
                    title="polyfn-firestore-database",
                    description="Only polyfn's Firestore database",
                    expression=f'resource.name == "{database}"',
                )
            )
        out.append((resource, binding, Grant(role, resource, "; ".join(causes))))
    return out


def binding_json(resource: str, binding: Any) -> dict[str, Any]:
    from google.protobuf import json_format

    return {"resource": resource, "binding": json_format.MessageToDict(binding)}


def _gcloud_binding(resource: str, binding: Any) -> str:
    from polyfn_gcp._build import _quote

    member = binding.members[0]
    tail = f"--member={member} --role={binding.role}"
    if binding.HasField("condition"):
        c = binding.condition
        tail += " --condition=" + _quote(f"expression={c.expression},title={c.title}")
    path = resource.split("/")
    if resource.startswith("//storage.googleapis.com/"):
        return f"gcloud storage buckets add-iam-policy-binding gs://{path[-1]} {tail}"
    if resource.startswith("//pubsub.googleapis.com/"):
        return f"gcloud pubsub topics add-iam-policy-binding {path[-1]} {tail}"
    if resource.startswith("//secretmanager.googleapis.com/"):
        return f"gcloud secrets add-iam-policy-binding {path[-1]} {tail}"
    if resource.startswith("//iam.googleapis.com/"):
        return f"gcloud iam service-accounts add-iam-policy-binding {path[-1]} {tail}"
    return f"gcloud projects add-iam-policy-binding {path[-1]} {tail}"


def setup_commands(s: Any) -> list[str]:
    """deploy.sh's lines before the functions: the resources, the accounts and their bindings."""
    lines = ["# Resources the app names (created when missing)."]
    consumed = {
        fn.trigger.queue for fn in s.app.functions if getattr(fn.trigger, "queue", None) is not None
    }
    for handle in app_resources(s.app).values():
        n = handle.name
        if handle.kind == "bucket":
            lines.append(
                f"gcloud storage buckets describe gs://{n} >/dev/null 2>&1 || "
                f"gcloud storage buckets create gs://{n} --location={s.region} "
                "--uniform-bucket-level-access"
            )
        elif handle.kind in ("queue", "topic"):
            lines.append(_topic(n))
            if isinstance(handle, Queue) and n not in consumed:
                # A Pub/Sub topic keeps nothing without a subscription: the queue's messages
                # wait in one for their consumer, failures go to <queue>-dlq.
                lines += [
                    _topic(f"{n}-dlq"),
                    f"gcloud pubsub subscriptions describe {n} >/dev/null 2>&1 || "
                    f"gcloud pubsub subscriptions create {n} --topic={n} "
                    f"--dead-letter-topic={n}-dlq "
                    f"--max-delivery-attempts={DEAD_LETTER_ATTEMPTS}",
                    *_dead_letter_agent(n, f"{n}-dlq"),
                ]
        elif handle.kind == "secret":
            lines.append(
                f"gcloud secrets describe {n} >/dev/null 2>&1 || gcloud secrets create {n} "
                f"--replication-policy=automatic  # then: gcloud secrets versions add {n} "
                "--data-file=-"
            )
        elif handle.kind == "table":
            lines.append(
                f"# table {n!r}: a collection of Firestore's {FIRESTORE_DATABASE} database, "
                "made on first write; the database itself once per project: "
                f"gcloud firestore databases create --location={s.region}"
            )
    lines.append("# One service account per function, bound to each resource it uses.")
    for email, (unit, granted) in s.accounts.items():
        account = email.split("@")[0]
        names = ", ".join(fn.name for fn in _functions(unit))
        lines.append(
            f"gcloud iam service-accounts describe {email} >/dev/null 2>&1 || "
            f"gcloud iam service-accounts create {account} "
            f"--display-name={_quote_text(f'polyfn {s.app.name}: {names}')}"
        )
        lines += [_gcloud_binding(resource, binding) for resource, binding, _ in granted]
    return lines


def _quote_text(text: str) -> str:
    from polyfn_gcp._build import _quote

    return _quote(text)


def _topic(name: str) -> str:
    exists = f"gcloud pubsub topics describe {name} >/dev/null 2>&1"
    return f"{exists} || gcloud pubsub topics create {name}"


def _dead_letter_agent(subscription: str, dead_letter: str) -> list[str]:
    """The Pub/Sub service agent must publish to the dead-letter topic and subscribe to the
    source subscription. https://cloud.google.com/pubsub/docs/handling-failures#grant_forwarding_permissions"""
    agent = "serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"
    return [
        'PROJECT_NUMBER="$(gcloud projects describe "$(gcloud config get-value project)" '
        "--format='value(projectNumber)')\"",
        f"gcloud pubsub topics add-iam-policy-binding {dead_letter} --member={agent} "
        "--role=roles/pubsub.publisher",
        f"gcloud pubsub subscriptions add-iam-policy-binding {subscription} --member={agent} "
        "--role=roles/pubsub.subscriber",
    ]


def explain_units(s: Any) -> list[tuple[str, list[Grant]]]:
    out = []
    for email, (unit, granted) in s.accounts.items():
        fns = _functions(unit)
        label = f"{unit.name} (service account {email}"
        if len(fns) > 1:
            label += f"; serves {', '.join(f.name for f in fns)}: the union of their uses="
        out.append((label + ")", [g for _, _, g in granted]))
    return out
