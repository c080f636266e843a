"""`polyfn build --provider azure` writes azuredeploy.json: the function app, its plan and storage,
the resources the app names and its managed identity's role assignments, each scoped to one
resource. Checked offline against the deployment-template schema's structure and the resource
types and API versions Microsoft's published resource-provider schemas define."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from polyfn_azure._build import build

from polyfn import App, Bucket, ConfigError, Queue, Topic
from tests.build import usesapp

# What Microsoft's published schemas define (https://schema.management.azure.com/schemas/...,
# the files of github.com/Azure/azure-resource-manager-schemas): resource type -> the API
# versions whose schema file defines it (resourceDefinitions, or extension resources).
PUBLISHED: dict[str, set[str]] = {
    # schemas/2023-01-01/Microsoft.Storage.json: storageAccounts and its blobServices,
    # queueServices and tableServices children (containers, queues, tables).
    "Microsoft.Storage/storageAccounts": {"2023-01-01"},
    "Microsoft.Storage/storageAccounts/blobServices/containers": {"2023-01-01"},
    "Microsoft.Storage/storageAccounts/queueServices/queues": {"2023-01-01"},
    "Microsoft.Storage/storageAccounts/tableServices/tables": {"2023-01-01"},
    # schemas/2023-01-01/Microsoft.Web.json
    "Microsoft.Web/serverfarms": {"2023-01-01"},
    "Microsoft.Web/sites": {"2023-01-01"},
    # schemas/2021-11-01/Microsoft.ServiceBus.json
    "Microsoft.ServiceBus/namespaces": {"2021-11-01"},
    "Microsoft.ServiceBus/namespaces/queues": {"2021-11-01"},
    "Microsoft.ServiceBus/namespaces/topics": {"2021-11-01"},
    "Microsoft.ServiceBus/namespaces/topics/subscriptions": {"2021-11-01"},
    # schemas/2022-04-01/Microsoft.Authorization.Authz.json (an extension resource: `scope`)
    "Microsoft.Authorization/roleAssignments": {"2022-04-01"},
}
# deploymentTemplate.json (schemas/2019-04-01): the template's and a resource's properties.
TEMPLATE_KEYS = {
    "$schema", "contentVersion", "apiProfile", "parameters", "variables", "functions",
    "resources", "outputs", "metadata",
}  # fmt: skip
TEMPLATE_REQUIRED = {"$schema", "contentVersion", "resources"}
RESOURCE_KEYS = {
    "type", "apiVersion", "name", "location", "tags", "sku", "kind", "properties", "identity",
    "dependsOn", "scope", "condition", "comments", "copy", "resources", "plan", "zones",
    "extendedLocation", "managedBy",
}  # fmt: skip
PARAMETER_TYPES = {"string", "securestring", "int", "bool", "object", "secureObject", "array"}
PARAMETER_KEYS = {
    "type", "defaultValue", "allowedValues", "metadata", "minValue", "maxValue", "minLength",
    "maxLength",
}  # fmt: skip
OUTPUT_TYPES = PARAMETER_TYPES
# Built-in role definition IDs (Azure's built-in roles reference).
ROLE_NAMES = {
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a": "Storage Queue Data Message Sender",
    "19e7f393-937e-4f77-808e-94535e097ba0": "Storage Queue Data Reader",
    "8a0f0c08-91a1-4084-bc3d-661d67233fed": "Storage Queue Data Message Processor",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39": "Azure Service Bus Data Sender",
    "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0": "Azure Service Bus Data Receiver",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[str]]:
    out = tmp_path_factory.mktemp("azure-arm")
    warnings = build(usesapp.app, out, app_ref="tests.build.usesapp:app")
    return json.loads((out / "azuredeploy.json").read_text()), warnings


def _expressions(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [e for v in value.values() for e in _expressions(v)]
    if isinstance(value, list):
        return [e for v in value for e in _expressions(v)]
    return [value] if isinstance(value, str) and value.startswith("[") else []


def test_the_template_follows_the_deployment_template_schema(
    built: tuple[dict[str, Any], list[str]],
) -> None:
    doc, _ = built
    assert TEMPLATE_REQUIRED <= set(doc) <= TEMPLATE_KEYS
    assert doc["$schema"].startswith("https://schema.management.azure.com/schemas/2019-04-01/")
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", doc["contentVersion"])
    for name, parameter in doc["parameters"].items():
        assert parameter["type"] in PARAMETER_TYPES and set(parameter) <= PARAMETER_KEYS, name
    for name, output in doc["outputs"].items():
        assert output["type"] in OUTPUT_TYPES and "value" in output, name
    for resource in doc["resources"]:
        assert {"type", "apiVersion", "name"} <= set(resource) <= RESOURCE_KEYS, resource
        assert resource["apiVersion"] in PUBLISHED[resource["type"]], resource["type"]
    # Template expressions: one bracket pair, balanced parentheses, only declared parameters.
    for text in _expressions(doc):
        assert text.endswith("]") and not text.startswith("[["), text
        inner = text[1:-1]
        assert inner.count("(") == inner.count(")") and "[" not in inner, text
        for used in re.findall(r"parameters\('([^']+)'\)", inner):
            assert used in doc["parameters"], used
    ids = {_id(r) for r in doc["resources"]}
    for resource in doc["resources"]:
        for dependency in resource.get("dependsOn", []):
            assert dependency in ids, dependency


def _id(resource: dict[str, Any]) -> str:
    """The resourceId() expression of a resource the template declares (as dependsOn names it)."""
    type_ = resource["type"]
    name = resource["name"][1:-1]
    match = re.fullmatch(r"format\('\{0\}/(.*)', (parameters\('[^']+'\))\)", name)
    if match is None:
        return f"[resourceId('{type_}', {name})]"
    parts = [f"'{p}'" for p in match.group(1).split("/")]
    return f"[resourceId('{type_}', {', '.join([match.group(2), *parts])})]"


def test_the_resources_the_app_names_are_declared(built: tuple[dict[str, Any], list[str]]) -> None:
    doc, _ = built
    u = usesapp
    declared = {
        (r["type"].rsplit("/", 1)[-1], r["name"].split("/")[-1].split("'")[0])
        for r in doc["resources"]
        if r["type"] != "Microsoft.Authorization/roleAssignments"
    }
    assert {
        ("containers", u.uploads.name),
        ("containers", u.reports.name),
        ("queues", u.orders.name),  # a Storage queue
        ("queues", u.billing.name),  # fifo: a Service Bus queue with sessions
        ("topics", u.events.name),
        ("tables", u.carts.name),
    } <= declared
    (sb_queue,) = [
        r for r in doc["resources"] if r["type"] == "Microsoft.ServiceBus/namespaces/queues"
    ]
    assert sb_queue["properties"]["requiresSession"] is True
    (site,) = [r for r in doc["resources"] if r["type"] == "Microsoft.Web/sites"]
    assert site["identity"] == {"type": "SystemAssigned"}
    settings = {s["name"]: s["value"] for s in site["properties"]["siteConfig"]["appSettings"]}
    for handle in (u.uploads, u.reports, u.orders, u.billing, u.events, u.carts, u.stripe):
        assert settings[handle.env_var] == handle.name
    assert "keyVaultName" in settings["POLYFN_KEYVAULT_URL"]  # the Key Vault reference
    assert not any("AccountKey" in str(v) or "listKeys" in str(v) for v in settings.values())


def test_each_role_assignment_is_scoped_to_one_resource(
    built: tuple[dict[str, Any], list[str]],
) -> None:
    doc, _ = built
    u = usesapp
    found = set()
    for r in doc["resources"]:
        if r["type"] != "Microsoft.Authorization/roleAssignments":
            continue
        role_id = r["properties"]["roleDefinitionId"].split("'")[-2]
        scope = r["scope"].split("', ")[0].removeprefix("[format('")
        assert r["properties"]["principalType"] == "ServicePrincipal"
        found.add((ROLE_NAMES[role_id], scope))
    account = "Microsoft.Storage/storageAccounts/{0}"
    namespace = "Microsoft.ServiceBus/namespaces/{0}"
    assert found == {
        # The Functions host's own storage, identity-based: the documented exception.
        ("Storage Blob Data Owner", account),
        ("Storage Blob Data Reader", f"{account}/blobServices/default/containers/{u.uploads.name}"),
        (
            "Storage Blob Data Contributor",
            f"{account}/blobServices/default/containers/{u.reports.name}",
        ),
        (
            "Storage Queue Data Message Sender",
            f"{account}/queueServices/default/queues/{u.orders.name}",
        ),
        ("Storage Queue Data Reader", f"{account}/queueServices/default/queues/{u.orders.name}"),
        (
            "Storage Queue Data Message Processor",
            f"{account}/queueServices/default/queues/{u.orders.name}",
        ),
        (
            "Storage Table Data Contributor",
            f"{account}/tableServices/default/tables/{u.carts.name}",
        ),
        ("Azure Service Bus Data Sender", f"{namespace}/topics/{u.events.name}"),
        ("Azure Service Bus Data Sender", f"{namespace}/queues/{u.billing.name}"),
        ("Key Vault Secrets User", f"Microsoft.KeyVault/vaults/{{0}}/secrets/{u.stripe.name}"),
    }


def test_different_access_in_one_app_warns_how_to_split(
    built: tuple[dict[str, Any], list[str]], tmp_path: Path
) -> None:
    _, warnings = built
    (warning,) = [w for w in warnings if "one managed identity" in w]
    assert "get_cart: " in warning and "pay: " in warning
    assert "deploy each group as its own function app" in warning
    same = App("same")
    files = Bucket("files")

    @same.schedule("0 1 * * *", uses=[files.read])
    def a(event: Any, ctx: Any) -> None: ...

    @same.schedule("0 2 * * *", uses=[files.read])
    def b(event: Any, ctx: Any) -> None: ...

    assert not [w for w in build(same, tmp_path, app_ref="x:app") if "one managed identity" in w]


def test_names_azure_refuses_and_service_bus_clashes_fail_the_build(tmp_path: Path) -> None:
    app = App("bad")
    uploads = Bucket("Uploads")

    @app.schedule("0 1 * * *", uses=[uploads.read])
    def nightly(event: Any, ctx: Any) -> None: ...

    with pytest.raises(ConfigError, match=r"function 'nightly': .*Blob container names hold only"):
        build(app, tmp_path, app_ref="x:app")

    clash = App("clash")
    orders, events = Queue("orders", fifo=True), Topic("orders")

    @clash.schedule("0 1 * * *", uses=[orders.send, events.publish])
    def nightly2(event: Any, ctx: Any) -> None: ...

    with pytest.raises(ConfigError, match="would both be Service Bus entity 'orders'"):
        build(clash, tmp_path, app_ref="x:app")


def test_each_subscriber_has_its_subscription_and_may_read_only_its_topic(
    tmp_path: Path,
) -> None:
    from tests.build import richapp

    build(richapp.app, tmp_path, app_ref="tests.build.richapp:app")
    doc = json.loads((tmp_path / "azuredeploy.json").read_text())
    subscribers = [f.name for f in richapp.app.functions if f.trigger_label == "subscribe"]
    names = [
        r["name"]
        for r in doc["resources"]
        if r["type"] == "Microsoft.ServiceBus/namespaces/topics/subscriptions"
    ]
    assert sorted(names) == sorted(
        f"[format('{{0}}/{richapp.NOTICES}/{s}', parameters('serviceBusNamespace'))]"
        for s in subscribers
    )
    topics = [
        r["name"] for r in doc["resources"] if r["type"] == "Microsoft.ServiceBus/namespaces/topics"
    ]
    assert f"[format('{{0}}/{richapp.NOTICES}', parameters('serviceBusNamespace'))]" in topics
    receivers = [
        r["scope"]
        for r in doc["resources"]
        if r["type"] == "Microsoft.Authorization/roleAssignments"
        and "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0" in r["properties"]["roleDefinitionId"]
    ]
    assert any(f"/topics/{richapp.NOTICES}" in scope for scope in receivers), receivers
