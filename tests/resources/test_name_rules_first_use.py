"""A handle whose name a cloud refuses fails at its first use on that cloud, before any request,
with a ResourceError naming the cloud's rule and where the name came from (the handle itself, or
the POLYFN_<KIND>_<NAME> variable that mapped it). AWS: tests/aws/test_resources.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from polyfn import Bucket, Queue, ResourceError, Secret, Table, Topic
from polyfn._resources import reset_backends

CALLS: dict[str, Callable[[Any], object]] = {
    "bucket": lambda h: h.read("k"),
    "queue": lambda h: h.send(b"x", group="g") if h.fifo else h.send(b"x"),
    "topic": lambda h: h.publish(b"x"),
    "table": lambda h: h.get("k"),
    "secret": lambda h: h.value(),
}


@pytest.fixture(params=["azure", "gcp"])
def cloud(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    import polyfn_azure  # noqa: F401 - registers the backends
    import polyfn_gcp  # noqa: F401

    monkeypatch.setenv("POLYFN_PROVIDER", request.param)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "polyfn-test")
    monkeypatch.setenv("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    reset_backends()
    yield request.param
    reset_backends()


CASES = {
    "azure": [
        (Bucket("My_Uploads"), "Blob container names hold only lowercase letters"),
        (Queue("Orders"), "Storage queue names hold only lowercase letters"),
        (Queue("-orders", fifo=True), "Service Bus entity names hold"),
        (Topic("events-"), "Service Bus entity names hold"),
        (Table("ab"), "Table Storage table names are 3 to 63 letters and digits"),
        (Secret("stripe_key"), "Key Vault secret names hold 1 to 127 letters, digits and hyphens"),
    ],
    "gcp": [
        (Bucket("my-google-files"), 'nor contain "google"'),
        (Queue("1orders"), "Pub/Sub topic IDs start with a letter"),
        (Topic("goog-events"), 'Pub/Sub topic IDs do not start with "goog"'),
        (Secret("stripe.key"), "Secret Manager secret IDs hold 1 to 255 letters"),
    ],
}


def test_an_invalid_name_fails_the_first_use_naming_the_rule(cloud: str) -> None:
    for handle, rule in CASES[cloud]:
        with pytest.raises(ResourceError) as info:
            CALLS[handle.kind](handle)
        message = str(info.value)
        assert rule in message, message
        assert f"{handle.env_var} is not set" in message
        assert info.value.resource == f"{handle.kind}:{handle.name}"


def test_an_invalid_mapped_name_names_the_variable(
    cloud: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLYFN_BUCKET_UPLOADS", "Uploads_2026")
    with pytest.raises(ResourceError, match="from POLYFN_BUCKET_UPLOADS") as info:
        Bucket("uploads").read("k")
    assert "set POLYFN_BUCKET_UPLOADS to a name" in str(info.value)
