"""The neutral resource cases (conformance/resources.py) on the Azure backend: blobs, Storage
queues and tables on Azurite; Key Vault over a fake azure-core transport that answers as its REST
reference shows (those cells say "fake transport"); Service Bus (fifo queues, topics) has no
broker here, so those cases skip and say so. A queue is read the way its consumer function is
served: each Storage queue message goes through polyfn_azure's function app, with
azure-functions' converter over the Datum the host would send (conformance/resource_harnesses.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conformance._spec import Skip
from conformance.resource_harnesses import (
    FAKE_TRANSPORT_CASES,
    FAKE_VAULT_URL,
    NO_BROKER,
    AzureHarness,
    FakeKeyVault,
    fake_key_vault,
)
from conformance.resources import CASES
from polyfn._resources import reset_backends

pytestmark = pytest.mark.e2e


@pytest.fixture
def make_handles(
    azurite: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], AzureHarness]]:
    import polyfn_azure  # noqa: F401 - registers the azure backend

    monkeypatch.setenv("AzureWebJobsStorage", azurite)
    monkeypatch.setenv("POLYFN_PROVIDER", "azure")
    monkeypatch.setenv("POLYFN_KEYVAULT_URL", FAKE_VAULT_URL)
    reset_backends()
    with fake_key_vault(FakeKeyVault({})) as vault:
        yield lambda: AzureHarness(azurite, vault)
    reset_backends()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_resource_case_on_azure(case: Callable[[Any], None], make_handles: Any) -> None:
    try:
        case(make_handles)
    except Skip as why:
        assert NO_BROKER in str(why), why  # only Service Bus is missing here
        pytest.skip(str(why))


def test_fake_transport_cells_are_the_key_vault_ones() -> None:
    assert FAKE_TRANSPORT_CASES["azure"] == ("case_secret_value_and_missing",)
