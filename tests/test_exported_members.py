"""Every package exports exactly what its sorted `__all__` names, and every name resolves."""

import importlib

import pytest

PACKAGES = ["polyfn", "polyfn_aws", "polyfn_azure", "polyfn_gcp"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_unique_and_resolves(name):
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported), f"{name}.__all__ is not sorted"
    assert len(set(exported)) == len(exported)
    for member in exported:
        assert hasattr(module, member), f"{name}.__all__ names {member!r}, which is missing"


@pytest.mark.parametrize("name", PACKAGES)
def test_public_names_are_all_exported(name):
    module = importlib.import_module(name)
    public = {
        n
        for n, value in vars(module).items()
        if not n.startswith("_") and getattr(value, "__module__", "").startswith(name)
    }
    assert public <= set(module.__all__), f"{name} exposes {public - set(module.__all__)}"


def test_contract_names_from_design():
    import polyfn

    for member in ("App", "HttpRequest", "HttpResponse", "TimerEvent", "StorageEvent",
                   "QueueMessage", "Context", "PolyfnError", "EventError", "ScheduleError",
                   "HTTPError"):  # fmt: skip
        assert member in polyfn.__all__
