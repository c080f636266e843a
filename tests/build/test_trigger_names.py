"""A trigger's bucket, queue or topic name that a cloud refuses fails `polyfn build` for that
cloud, naming the function, the trigger, the cloud's rule (S3, Cloud Storage and Blob Storage
differ) and a name to use instead, as a ``uses=`` name does (test_*_permissions.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from polyfn import App, ConfigError


def _aws(app: App, out: Path) -> None:
    from polyfn_aws._build import template

    template(app)


def _azure(app: App, out: Path) -> None:
    from polyfn_azure._build import build

    build(app, out, app_ref="x:app")


def _gcp(app: App, out: Path) -> None:
    from polyfn_gcp._build import build

    build(app, out, app_ref="x:app")


BUILDS: dict[str, Callable[[App, Path], None]] = {"aws": _aws, "azure": _azure, "gcp": _gcp}


def _app(kind: str, name: str) -> App:
    app = App("names")

    def handler(*_: Any) -> None:
        return None

    if kind == "storage":
        app.storage(name, function_name="ingest")(handler)
    elif kind == "queue":
        app.queue(name, function_name="ingest")(handler)
    else:
        app.subscribe(name, function_name="ingest")(handler)
    return app


@pytest.mark.parametrize(
    ("cloud", "kind", "name", "rule"),
    [
        ("aws", "storage", "Uploads", "S3 bucket names hold only lowercase letters"),
        ("aws", "storage", "up", "S3 bucket names are 3 to 63 characters long"),
        ("aws", "queue", "orders.v2", "SQS queue names hold only letters"),
        ("aws", "subscribe", "a" * 257, "SNS topic names are 1 to 256 characters long"),
        ("azure", "storage", "my_uploads", "Blob container names hold only lowercase letters"),
        ("azure", "queue", "Orders", "Storage queue names hold only lowercase letters"),
        ("azure", "subscribe", "-events", "Service Bus entity names hold"),
        (
            "gcp",
            "storage",
            "my-google-files",
            'Cloud Storage bucket names do not begin with "goog"',
        ),
        ("gcp", "queue", "1orders", "Pub/Sub topic IDs start with a letter"),
        ("gcp", "subscribe", "goog-events", 'Pub/Sub topic IDs do not start with "goog"'),
    ],
)
def test_a_trigger_name_the_cloud_refuses_fails_its_build(
    cloud: str, kind: str, name: str, rule: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as info:
        BUILDS[cloud](_app(kind, name), tmp_path)
    message = str(info.value)
    assert rule in message
    assert "function 'ingest'" in message and f"its {_label(kind)} trigger" in message
    assert "for example" in message


def _label(kind: str) -> str:
    return _app(kind, "valid-name").function("ingest").trigger_label


@pytest.mark.parametrize("cloud", sorted(BUILDS))
def test_names_every_cloud_accepts_build(cloud: str, tmp_path: Path) -> None:
    for kind in ("storage", "queue", "subscribe"):
        BUILDS[cloud](_app(kind, "order-events"), tmp_path / kind)
