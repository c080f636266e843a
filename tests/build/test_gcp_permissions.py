"""Least privilege on Google Cloud: one service account per deployed function, bound with the
narrowest predefined role on each bucket, topic or secret it uses (Firestore: the database,
by condition); the resources created by deploy.sh; names and clashes refused at build time."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from google.cloud import functions_v2
from google.iam.v1 import policy_pb2
from google.protobuf import json_format
from polyfn_gcp._build import build

from polyfn import App, Bucket, ConfigError, Queue, Topic
from polyfn._cli import main
from tests.build import usesapp

PROJECT = "demo"
USES_REF = f"{Path(usesapp.__file__).resolve()}:app"
# Roles that reach beyond one resource's data: never granted.
BROAD_ROLES = re.compile(r"roles/(owner|editor|viewer|.*admin|.*Admin)$")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gcp-iam")
    build(usesapp.app, out, app_ref="tests.build.usesapp:app", project=PROJECT)
    return out


def _accounts(out: Path) -> dict[str, str]:
    """Cloud Function ID -> its service account, read back with Google's own type."""
    found = {}
    for path in (out / "functions").glob("*.json"):
        req = functions_v2.CreateFunctionRequest.from_json(path.read_text())
        found[req.function_id] = req.function.service_config.service_account_email
    return found


def _bindings(out: Path) -> list[tuple[str, policy_pb2.Binding]]:
    entries = json.loads((out / "iam.json").read_text())
    assert entries
    out_ = []
    for entry in entries:
        assert set(entry) == {"resource", "binding"}
        # setIamPolicy's Binding, parsed by Google's own type: unknown fields fail.
        binding = json_format.ParseDict(entry["binding"], policy_pb2.Binding())
        out_.append((entry["resource"], binding))
    return out_


def test_each_deployed_function_runs_as_its_own_account(out: Path) -> None:
    accounts = _accounts(out)
    name = usesapp.app.name
    assert set(accounts) == {f"{name}-http", f"{name}-pay", f"{name}-on-upload", f"{name}-on-order"}
    assert len(set(accounts.values())) == len(accounts)
    for email in accounts.values():
        account, _, domain = email.partition("@")
        assert domain == f"{PROJECT}.iam.gserviceaccount.com"
        # Service account IDs: 6-30 characters, [a-z][a-z0-9-]*[a-z0-9].
        assert re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", account)


def test_bindings_are_the_narrowest_role_on_each_resource(out: Path) -> None:
    accounts = _accounts(out)
    name, u = usesapp.app.name, usesapp
    sa = {fid.removeprefix(f"{name}-"): f"serviceAccount:{e}" for fid, e in accounts.items()}
    bucket = "//storage.googleapis.com/projects/_/buckets/"
    topic = f"//pubsub.googleapis.com/projects/{PROJECT}/topics/"
    secret = f"//secretmanager.googleapis.com/projects/{PROJECT}/secrets/"
    project = f"//cloudresourcemanager.googleapis.com/projects/{PROJECT}"
    expected = {
        (sa["http"], project, "roles/datastore.user"),  # get (viewer) is included in user
        (sa["http"], topic + u.events.name, "roles/pubsub.publisher"),
        (sa["pay"], secret + u.stripe.name, "roles/secretmanager.secretAccessor"),
        (sa["pay"], topic + u.billing.name, "roles/pubsub.publisher"),
        (sa["on-upload"], bucket + u.uploads.name, "roles/storage.objectViewer"),
        (sa["on-upload"], bucket + u.reports.name, "roles/storage.objectUser"),
        (sa["on-upload"], topic + u.orders.name, "roles/pubsub.publisher"),
        (sa["on-order"], bucket + u.reports.name, "roles/storage.objectUser"),
        (sa["on-order"], project, "roles/datastore.user"),
    }
    found = set()
    for resource, binding in _bindings(out):
        assert not BROAD_ROLES.match(binding.role)
        (member,) = binding.members
        found.add((member, resource, binding.role))
        if resource == project:
            # Firestore has no IAM per collection: the role holds on polyfn's database only.
            assert binding.role.startswith("roles/datastore.")
            assert binding.condition.expression == (
                f'resource.name == "projects/{PROJECT}/databases/(default)"'
            )
        else:
            assert not binding.HasField("condition")
    assert found == expected


def test_deploy_sh_creates_the_resources_and_binds_each_account(out: Path) -> None:
    script = (out / "deploy.sh").read_text()
    done = subprocess.run(["bash", "-n", str(out / "deploy.sh")], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    u = usesapp
    for line in (
        f"gcloud storage buckets create gs://{u.uploads.name}",
        f"gcloud storage buckets create gs://{u.reports.name}",
        f"gcloud pubsub topics create {u.events.name}",
        f"gcloud pubsub topics create {u.orders.name}",
        # A queue no function of this app consumes keeps its messages in a subscription, with a
        # dead-letter topic.
        f"gcloud pubsub subscriptions create {u.billing.name} --topic={u.billing.name} "
        f"--dead-letter-topic={u.billing.name}-dlq",
        f"gcloud secrets create {u.stripe.name}",
        "gcloud firestore databases create",
    ):
        assert line in script, line
    assert f"gcloud pubsub subscriptions create {u.orders.name} " not in script  # its trigger's
    bindings = [ln for ln in script.splitlines() if "add-iam-policy-binding" in ln]
    ours = [ln for ln in bindings if "serviceAccount:pf-" in ln]
    assert len(ours) == len(_bindings(out))
    for email in _accounts(out).values():
        assert f"--service-account={email}" in script
        assert f"gcloud iam service-accounts create {email.split('@')[0]} " in script


def test_each_function_s_environment_names_what_it_uses(out: Path) -> None:
    u = usesapp
    for path in (out / "functions").glob("*-pay.json"):
        req = functions_v2.CreateFunctionRequest.from_json(path.read_text())
        assert dict(req.function.service_config.environment_variables) == {
            u.stripe.env_var: u.stripe.name,
            u.billing.env_var: u.billing.name,
        }


def test_a_queue_and_a_topic_of_one_name_are_refused_on_gcp(tmp_path: Path) -> None:
    app = App("clash")
    orders, events = Queue("orders"), Topic("orders")

    @app.schedule("0 1 * * *", uses=[orders.send, events.publish])
    def nightly(event: Any, ctx: Any) -> None: ...

    with pytest.raises(ConfigError, match="would both be Pub/Sub topic 'orders'") as info:
        build(app, tmp_path, app_ref="x:app")
    assert "nightly" in str(info.value) and "rename one" in str(info.value)


def test_a_bucket_name_google_refuses_is_refused(tmp_path: Path) -> None:
    app = App("bad")
    files = Bucket("my-google-files")

    @app.schedule("0 1 * * *", uses=[files.read])
    def nightly(event: Any, ctx: Any) -> None: ...

    with pytest.raises(ConfigError, match=r"function 'nightly': uses= entry .* contain \"google\""):
        build(app, tmp_path, app_ref="x:app")


def test_explain_prints_each_binding_and_its_declaration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["build", USES_REF, "-p", "gcp", "--out", str(tmp_path / "o"), "--project", PROJECT]
    assert main([*argv, "--explain"]) == 0
    text = capsys.readouterr().out
    assert "serves get_cart, put_cart: the union of their uses=" in text
    # (The CLI loads the app again, with names of its own suffix.)
    assert re.search(
        rf"roles/secretmanager.secretAccessor on //secretmanager.googleapis.com/projects/{PROJECT}"
        r"/secrets/stripe-key-(\w+)  <- uses=stripe_key_\1.value in pay\n",
        text,
    )
