"""``azuredeploy.json``: an ARM template beside function_app.py with the function app, its plan,
its storage account, the resources the app names and its identity's role assignments.

The function app is Azure's unit of identity: one system-assigned managed identity for every
function in it. Each ``uses=`` entry becomes a data-plane role assignment scoped to that one
container, queue, table, Service Bus entity or Key Vault secret (never Contributor on an account).
When functions of one app need different access, each function holds the union, and `plan`
warns and says how to split the app.

Storage is identity-based (``AzureWebJobsStorage__accountName``, no account key anywhere): the
Functions host itself then needs Storage Blob Data Owner on its storage account, for its own
leases and keys; that is the one account-wide role, and Microsoft documents it as required.
https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity

Resource types and API versions: each is one that Microsoft's published resource-provider schema
of that version defines (https://schema.management.azure.com/schemas/<version>/<provider>.json,
from github.com/Azure/azure-resource-manager-schemas).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from polyfn._app import SubscribeTrigger
from polyfn._grants import Grant, app_resources, check_clashes, check_names
from polyfn._resources import Queue, Topic

if TYPE_CHECKING:
    from polyfn._app import App
    from polyfn._resources import Resource

TEMPLATE_FILE = "azuredeploy.json"
# The deployment template schema the structure follows.
# https://learn.microsoft.com/azure/azure-resource-manager/templates/syntax
DEPLOYMENT_SCHEMA = (
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
)

# Resource type -> the API version polyfn writes, with the schema file that defines it.
# schemas/2023-01-01/Microsoft.Storage.json, schemas/2023-01-01/Microsoft.Web.json,
# schemas/2021-11-01/Microsoft.ServiceBus.json,
# schemas/2022-04-01/Microsoft.Authorization.Authz.json
API_VERSIONS: dict[str, str] = {
    "Microsoft.Storage/storageAccounts": "2023-01-01",
    "Microsoft.Storage/storageAccounts/blobServices/containers": "2023-01-01",
    "Microsoft.Storage/storageAccounts/queueServices/queues": "2023-01-01",
    "Microsoft.Storage/storageAccounts/tableServices/tables": "2023-01-01",
    "Microsoft.Web/serverfarms": "2023-01-01",
    "Microsoft.Web/sites": "2023-01-01",
    "Microsoft.ServiceBus/namespaces": "2021-11-01",
    "Microsoft.ServiceBus/namespaces/queues": "2021-11-01",
    "Microsoft.ServiceBus/namespaces/topics": "2021-11-01",
    "Microsoft.ServiceBus/namespaces/topics/subscriptions": "2021-11-01",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
}

# Built-in role definition IDs (the same in every tenant), from Azure's built-in roles reference:
# https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage
# https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/integration
# https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/security
ROLE_IDS: dict[str, str] = {
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Blob Delegator": "db58b8e5-c6ad-4a2a-8342-4190687cbf4a",
    "Storage Queue Data Message Sender": "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a",
    "Storage Table Data Reader": "76199698-9eea-4c19-bc75-cec21354c6b6",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "Storage Queue Data Reader": "19e7f393-937e-4f77-808e-94535e097ba0",
    "Storage Queue Data Message Processor": "8a0f0c08-91a1-4084-bc3d-661d67233fed",
    "Azure Service Bus Data Sender": "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
    "Azure Service Bus Data Receiver": "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
}

# The narrowest built-in role for each `uses=` token, on the one resource. A signed URL with the
# identity is a user delegation SAS: the key comes from the account (Storage Blob Delegator on
# the account: generateUserDelegationKey only, no data access), the SAS's rights from the
# container role. https://learn.microsoft.com/rest/api/storageservices/create-user-delegation-sas
ROLES: dict[tuple[str, str], tuple[str, ...]] = {
    ("bucket", "read"): ("Storage Blob Data Reader",),
    ("bucket", "info"): ("Storage Blob Data Reader",),
    ("bucket", "list"): ("Storage Blob Data Reader",),
    ("bucket", "write"): ("Storage Blob Data Contributor",),
    ("bucket", "delete"): ("Storage Blob Data Contributor",),
    ("bucket", "signed_url"): ("Storage Blob Data Contributor", "Storage Blob Delegator"),
    ("queue", "send"): ("Storage Queue Data Message Sender",),
    ("queue", "send_batch"): ("Storage Queue Data Message Sender",),
    ("topic", "publish"): ("Azure Service Bus Data Sender",),
    ("table", "get"): ("Storage Table Data Reader",),
    ("table", "put"): ("Storage Table Data Contributor",),
    ("table", "delete"): ("Storage Table Data Contributor",),
    ("secret", "value"): ("Key Vault Secrets User",),
}
_INCLUDES = {
    "Storage Blob Data Contributor": "Storage Blob Data Reader",
    "Storage Table Data Contributor": "Storage Table Data Reader",
}
# Service Bus sends on a fifo queue (a Service Bus queue with sessions).
SERVICE_BUS_QUEUE_ROLE = "Azure Service Bus Data Sender"
# What a queue trigger's identity-based connection needs on its queue (the "Grant permission to the
# identity" tables of the Storage queue and Service Bus bindings).
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue-trigger#identity-based-connections
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-service-bus-trigger#identity-based-connections
STORAGE_QUEUE_TRIGGER_ROLES = ("Storage Queue Data Reader", "Storage Queue Data Message Processor")
SERVICE_BUS_TRIGGER_ROLES = ("Azure Service Bus Data Receiver",)
HOST_STORAGE_ROLE = "Storage Blob Data Owner"


def _p(name: str) -> str:
    return f"parameters('{name}')"


_ACCOUNT = _p("storageAccountName")
_NAMESPACE = _p("serviceBusNamespace")
_VAULT = _p("keyVaultName")
_SITE = _p("functionAppName")
_VAULT_DNS = "environment().suffixes.keyvaultDns"
_PRINCIPAL = (
    f"reference(resourceId('Microsoft.Web/sites', {_SITE}), '2023-01-01', 'full')"
    ".identity.principalId"
)


def subscriptions(app: App) -> list[tuple[str, str]]:
    """(topic, subscription) of each `@app.subscribe` function: the subscription is named after
    the function, as polyfn_azure binds its Service Bus topic trigger."""
    return [
        (fn.trigger.topic, fn.name)
        for fn in app.functions
        if isinstance(fn.trigger, SubscribeTrigger)
    ]


def _handles(app: App) -> list[Resource]:
    """The resources the app names, with the topics its subscribers read."""
    found = dict(app_resources(app))
    for topic, _ in subscriptions(app):
        found.setdefault(("topic", topic), Topic(topic))
    return list(found.values())


def service_bus_queue(handle: Resource, options: Any) -> bool:
    return isinstance(handle, Queue) and (handle.fifo or handle.name in options.service_bus_queues)


def check(app: App, options: Any) -> None:
    from polyfn_azure._resources import broken_name_rule

    handles = app_resources(app)

    def rule(kind: str, name: str) -> str | None:
        handle = handles[(kind, name)]
        return broken_name_rule(kind, name, service_bus=service_bus_queue(handle, options))

    check_names(app, "Azure", rule)
    # Service Bus queues and topics share one namespace of entity names.
    check_clashes(
        app,
        "Azure",
        lambda h: (
            f"Service Bus entity {h.name!r}"
            if h.kind == "topic" or service_bus_queue(h, options)
            else None
        ),
    )


def _where(handle: Resource, options: Any) -> tuple[str, str, str]:
    """(the parent's name parameter, the parent's type, the path under it) of one resource."""
    if handle.kind == "secret":
        return _VAULT, "Microsoft.KeyVault/vaults", "secrets"
    if handle.kind == "topic" or service_bus_queue(handle, options):
        entity = "topics" if handle.kind == "topic" else "queues"
        return _NAMESPACE, "Microsoft.ServiceBus/namespaces", entity
    service = {"bucket": "blobServices", "queue": "queueServices", "table": "tableServices"}
    child = {"bucket": "containers", "queue": "queues", "table": "tables"}
    kind = handle.kind
    return _ACCOUNT, "Microsoft.Storage/storageAccounts", f"{service[kind]}/default/{child[kind]}"


def _scope(handle: Resource, options: Any) -> str:
    """The ARM scope of one resource (a role assignment's `scope`)."""
    param, parent, path = _where(handle, options)
    return f"[format('{parent}/{{0}}/{path}/{handle.name}', {param})]"


def _resource_id(handle: Resource, options: Any) -> str:
    param, parent, path = _where(handle, options)
    parts = path.split("/")
    types, names = parts[0::2], [f"'{n}'" for n in parts[1::2]]
    type_ = "/".join([parent, *types])
    return f"[resourceId('{type_}', {', '.join([param, *names, repr(handle.name)])})]"


def _res(type_: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "apiVersion": API_VERSIONS[type_], "name": name, **extra}


def grants(app: App, options: Any) -> list[tuple[Resource | None, str, Grant]]:
    """(resource or None for the storage account, role, why) for the app's identity."""
    from polyfn._grants import trigger_resource

    wanted: dict[tuple[str, str], tuple[Resource | None, list[str]]] = {}
    for fn in app.functions:
        needs: list[tuple[Resource, tuple[str, ...], str]] = []
        source = trigger_resource(fn)
        if isinstance(source, Queue):
            sb = service_bus_queue(source, options)
            trigger_roles = SERVICE_BUS_TRIGGER_ROLES if sb else STORAGE_QUEUE_TRIGGER_ROLES
            needs.append((source, trigger_roles, f"trigger of {fn.name}"))
        elif isinstance(fn.trigger, SubscribeTrigger):
            # The subscriber's Service Bus topic trigger reads its subscription of the topic.
            topic = Topic(fn.trigger.topic)
            needs.append((topic, SERVICE_BUS_TRIGGER_ROLES, f"subscription of {fn.name}"))
        for op in fn.uses:
            sends = service_bus_queue(op.resource, options)
            roles = (SERVICE_BUS_QUEUE_ROLE,) if sends else ROLES[(op.resource.kind, op.name)]
            needs.append((op.resource, roles, f"uses={op} in {fn.name}"))
        for target, needed, cause in needs:
            for role in needed:
                account_wide = role == "Storage Blob Delegator"
                key = ("account" if account_wide else f"{target.kind}:{target.name}", role)
                entry = wanted.setdefault(key, (None if account_wide else target, []))
                if cause not in entry[1]:
                    entry[1].append(cause)
    out: list[tuple[Resource | None, str, Grant]] = []
    for (where, role), (handle, causes) in wanted.items():
        if any(_INCLUDES.get(other) == role and w == where for w, other in wanted):
            continue
        shown = "storage account" if handle is None else _scope(handle, options)
        out.append((handle, role, Grant(role, shown, "; ".join(causes))))
    return out


def access_warnings(app: App) -> list[str]:
    """A warning when functions of the app declare different access: one identity holds all."""
    by_access: dict[frozenset[tuple[str, str, str]], list[str]] = {}
    for fn in app.functions:
        by_access.setdefault(fn.allowed, []).append(fn.name)
    if len(by_access) < 2:
        return []
    groups = "; ".join(
        f"{', '.join(names)}: {', '.join(sorted(f'{k[1]}.{k[2]}' for k in access)) or 'nothing'}"
        for access, names in by_access.items()
    )
    return [
        f"azure: app {app.name!r}: its functions declare different access ({groups}); an Azure "
        "function app has one managed identity, so every function gets the union. To keep them "
        "apart, deploy each group as its own function app: one polyfn App (and one "
        "`polyfn build --provider azure`) per group"
    ]


def template(app: App, options: Any, settings: dict[str, str]) -> dict[str, Any]:
    """The ARM template of `app` (`options`: its AzureOptions; `settings`: the functions' env)."""
    resources: list[dict[str, Any]] = []
    account_id = f"[resourceId('Microsoft.Storage/storageAccounts', {_ACCOUNT})]"
    namespace_id = f"[resourceId('Microsoft.ServiceBus/namespaces', {_NAMESPACE})]"
    site_id = f"[resourceId('Microsoft.Web/sites', {_SITE})]"
    resources.append(
        _res(
            "Microsoft.Storage/storageAccounts",
            f"[{_ACCOUNT}]",
            location=f"[{_p('location')}]",
            sku={"name": "Standard_LRS"},
            kind="StorageV2",
            properties={
                "allowBlobPublicAccess": False,
                "allowSharedKeyAccess": False,
                "minimumTlsVersion": "TLS1_2",
                "supportsHttpsTrafficOnly": True,
            },
        )
    )
    handles = _handles(app)
    uses_service_bus = any(h.kind == "topic" or service_bus_queue(h, options) for h in handles)
    uses_vault = any(h.kind == "secret" for h in handles)
    if uses_service_bus:
        resources.append(
            _res(
                "Microsoft.ServiceBus/namespaces",
                f"[{_NAMESPACE}]",
                location=f"[{_p('location')}]",
                # Topics need the Standard tier. https://learn.microsoft.com/azure/service-bus-messaging/service-bus-premium-messaging
                sku={"name": "Standard", "tier": "Standard"},
                properties={"disableLocalAuth": True},
            )
        )
    storage_types = {
        "bucket": ("Microsoft.Storage/storageAccounts/blobServices/containers", "{0}/default/"),
        "queue": ("Microsoft.Storage/storageAccounts/queueServices/queues", "{0}/default/"),
        "table": ("Microsoft.Storage/storageAccounts/tableServices/tables", "{0}/default/"),
    }
    for handle in handles:
        n = handle.name
        if handle.kind == "secret":
            continue  # a reference: the secret lives in the Key Vault keyVaultName names
        if handle.kind == "topic" or service_bus_queue(handle, options):
            entity = "topics" if handle.kind == "topic" else "queues"
            props: dict[str, Any] = {}
            if isinstance(handle, Queue):
                props = {"requiresSession": handle.fifo, "deadLetteringOnMessageExpiration": True}
            resources.append(
                _res(
                    f"Microsoft.ServiceBus/namespaces/{entity}",
                    f"[format('{{0}}/{n}', {_NAMESPACE})]",
                    properties=props,
                    dependsOn=[namespace_id],
                )
            )
            continue
        type_, prefix = storage_types[handle.kind]
        resources.append(
            _res(type_, f"[format('{prefix}{n}', {_ACCOUNT})]", dependsOn=[account_id])
        )
    for topic, subscription in subscriptions(app):
        # One subscription per subscriber, so each gets every message (its own dead-letter
        # sub-queue; Service Bus counts deliveries per subscription).
        # https://learn.microsoft.com/azure/service-bus-messaging/service-bus-queues-topics-subscriptions
        resources.append(
            _res(
                "Microsoft.ServiceBus/namespaces/topics/subscriptions",
                f"[format('{{0}}/{topic}/{subscription}', {_NAMESPACE})]",
                properties={"deadLetteringOnMessageExpiration": True},
                dependsOn=[_resource_id(Topic(topic), options)],
            )
        )
    plan_id = f"[resourceId('Microsoft.Web/serverfarms', {_p('planName')})]"
    resources.append(
        _res(
            "Microsoft.Web/serverfarms",
            f"[{_p('planName')}]",
            location=f"[{_p('location')}]",
            # Linux Consumption. https://learn.microsoft.com/azure/azure-functions/functions-infrastructure-as-code
            sku={"name": "Y1", "tier": "Dynamic"},
            kind="functionapp",
            properties={"reserved": True},
        )
    )
    app_settings = [
        {"name": "AzureWebJobsStorage__accountName", "value": f"[{_ACCOUNT}]"},
        {"name": "FUNCTIONS_EXTENSION_VERSION", "value": "~4"},
        {"name": "FUNCTIONS_WORKER_RUNTIME", "value": "python"},
        {"name": "WEBSITE_RUN_FROM_PACKAGE", "value": f"[{_p('packageUrl')}]"},
    ]
    if uses_service_bus:
        app_settings.append(
            {
                "name": f"{options.service_bus_connection}__fullyQualifiedNamespace",
                "value": f"[format('{{0}}.servicebus.windows.net', {_NAMESPACE})]",
            }
        )
    if uses_vault:
        from polyfn_azure._resources import KEYVAULT_SETTING

        app_settings.append(
            {
                "name": KEYVAULT_SETTING,
                "value": f"[format('https://{{0}}{{1}}/', {_VAULT}, {_VAULT_DNS})]",
            }
        )
    for handle in handles:
        app_settings.append({"name": handle.env_var, "value": handle.name})
    app_settings += [{"name": k, "value": v} for k, v in sorted(settings.items())]
    depends = [plan_id, account_id] + [
        _resource_id(h, options) for h in handles if h.kind != "secret"
    ]
    resources.append(
        _res(
            "Microsoft.Web/sites",
            f"[{_SITE}]",
            location=f"[{_p('location')}]",
            kind="functionapp,linux",
            identity={"type": "SystemAssigned"},
            properties={
                "serverFarmId": plan_id,
                "httpsOnly": True,
                "siteConfig": {"linuxFxVersion": "Python|3.11", "appSettings": app_settings},
            },
            dependsOn=depends,
        )
    )
    assignments: list[tuple[Resource | None, str, str]] = [
        (None, HOST_STORAGE_ROLE, "the Functions host's own storage")
    ]
    assignments += [(h, role, g.cause) for h, role, g in grants(app, options)]
    for assigned, role, _ in assignments:
        scope = (
            f"[format('Microsoft.Storage/storageAccounts/{{0}}', {_ACCOUNT})]"
            if assigned is None
            else _scope(assigned, options)
        )
        target = account_id if assigned is None else _resource_id(assigned, options)
        on = "account" if assigned is None else f"{assigned.kind}-{assigned.name}"
        resources.append(
            _res(
                "Microsoft.Authorization/roleAssignments",
                f"[guid({site_id[1:-1]}, '{on}', '{ROLE_IDS[role]}')]",
                scope=scope,
                properties={
                    "roleDefinitionId": (
                        "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', "
                        f"'{ROLE_IDS[role]}')]"
                    ),
                    "principalId": f"[{_PRINCIPAL}]",
                    "principalType": "ServicePrincipal",
                    "description": f"polyfn {app.name}: {role}",
                },
                dependsOn=[site_id]
                + ([] if assigned is None or assigned.kind == "secret" else [target]),
            )
        )
    parameters: dict[str, Any] = {
        "functionAppName": {"type": "string", "defaultValue": app.name},
        "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
        "planName": {"type": "string", "defaultValue": f"[format('{{0}}-plan', {_SITE})]"},
        "storageAccountName": {
            "type": "string",
            "defaultValue": "[format('pf{0}', uniqueString(resourceGroup().id))]",
            "minLength": 3,
            "maxLength": 24,
        },
        "packageUrl": {
            "type": "string",
            "metadata": {"description": "URL of the zip of `polyfn package --provider azure`"},
        },
    }
    if uses_service_bus:
        parameters["serviceBusNamespace"] = {
            "type": "string",
            "defaultValue": "[format('pf-{0}', uniqueString(resourceGroup().id))]",
        }
    if uses_vault:
        parameters["keyVaultName"] = {
            "type": "string",
            "metadata": {"description": "The Key Vault (RBAC mode) that holds the app's secrets"},
        }
    return {
        "$schema": DEPLOYMENT_SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": parameters,
        "resources": resources,
        "outputs": {
            "principalId": {"type": "string", "value": f"[{_PRINCIPAL}]"},
        },
    }


def explain_units(app: App, options: Any) -> list[tuple[str, list[Grant]]]:
    names = ", ".join(fn.name for fn in app.functions)
    host = Grant(HOST_STORAGE_ROLE, "storage account", "the Functions host's own storage")
    label = (
        f"{app.name} (the function app's managed identity; serves {names}: the union of their "
        "uses=)"
    )
    return [(label, [host, *(g for _, _, g in grants(app, options))])]
