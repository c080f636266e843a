"""`provider`: polyfn_azure as a `polyfn.Provider` (entry point ``azure`` of ``polyfn.providers``).

The work lives in `_build`, `_samples` and `_resources`, each imported when its operation runs.
polyfn does not deploy to Azure itself: `deploy_instead` says how to publish the zip.
"""

from __future__ import annotations

from polyfn._provider import Option, ProviderDefaults

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence
    from pathlib import Path
    from typing import Any

    from polyfn._app import App
    from polyfn._cost import Bill, Usage
    from polyfn._provider import EventSamples, Provider
    from polyfn._resources import Backend


class AzureProvider(ProviderDefaults):
    """Azure Functions (Python v2 programming model), with HTTP, timer, blob, Event Grid, Storage
    queue and Service Bus triggers."""

    name = "azure"
    description = "Azure Functions (Python v2 programming model)"
    entry = "polyfn_azure.function_app(app)"
    distribution = "polyfn-azure"
    package = "polyfn_azure"
    checkout = "./adapters/azure"
    # Where its SDKs look for an emulator or endpoint (shown by `polyfn invoke`).
    endpoint_settings: tuple[str, ...] = (
        "AzureWebJobsStorage",
        "ServiceBusConnection",
        "POLYFN_KEYVAULT_URL",
    )
    # The Functions host sets it for every worker it starts.
    # https://learn.microsoft.com/azure/azure-functions/functions-app-settings#functions_worker_runtime
    runtime_marker = "FUNCTIONS_WORKER_RUNTIME"
    # What polyfn's commands need on Azure beyond polyfn-azure itself (azure-functions, a hard
    # dependency, serves the rest): command -> (its extra in adapters/azure/pyproject.toml, the
    # modules that prove the extra is installed).
    extras: Mapping[str, tuple[str, tuple[str, ...]]] = {
        "invoke": ("invoke", ("conformance.hosts",)),  # the emulated host and worker
    }
    options: Sequence[Option] = (
        Option(
            "azure-option",
            "an option of polyfn_azure.function_app, written into function_app.py and host.json "
            "(auth_level=ANONYMOUS, route_prefix=, service_bus_queues=a,b ...); repeatable",
            commands=("build", "package"),
            repeat=True,
            metavar="NAME=VALUE",
        ),
    )
    # How `polyfn package` ships third-party code to Azure: requirements.txt for a remote build
    # (Oryx installs it), or Linux wheels in .python_packages/lib/site-packages, where the Python
    # worker looks for them when the package is deployed without a build.
    # https://learn.microsoft.com/azure/azure-functions/functions-deployment-technologies#remote-build
    # https://learn.microsoft.com/azure/azure-functions/python-build-errors
    deps_modes: tuple[str, ...] = ("remote", "vendor")
    deps_why = ""
    site_packages = ".python_packages/lib/site-packages"

    def build(
        self,
        app: App,
        out_dir: Path,
        *,
        app_ref: str,
        options: Mapping[str, Any],
        taken: Collection[str] = (),
    ) -> list[str]:
        from polyfn_azure._build import build

        return build(
            app,
            out_dir,
            app_ref=app_ref,
            taken=taken,
            explain=bool(options.get("explain")),
            **_function_app_options(options),
        )

    def package_files(
        self,
        app: App,
        *,
        app_ref: str,
        options: Mapping[str, Any],
        taken: Collection[str] = (),
    ) -> tuple[dict[str, str], list[str]]:
        from polyfn_azure._build import package_files

        return package_files(app, app_ref, taken=taken, **_function_app_options(options))

    def deploy_instead(self, app_ref: str) -> str | None:
        return (
            f"write the zip with `polyfn package {app_ref} --provider azure` and publish it with "
            "the Azure CLI (`az functionapp deployment source config-zip --resource-group RG "
            "--name APP --src dist/APPNAME-azure.zip`) or Core Tools (`func azure functionapp "
            "publish APP` in a folder written by `polyfn build`). See docs/deploy.md."
        )

    def events(self) -> EventSamples:
        from polyfn_azure import _samples

        return _samples

    def resources(self) -> Backend:
        # The Azure SDKs load only when a handle is first used on Azure.
        from polyfn_azure._resources import AzureBackend

        return AzureBackend()

    def cost(self, usage: Sequence[Usage], *, free_tier: bool) -> list[Bill]:
        from polyfn_azure._cost import bills

        return bills(usage, free_tier=free_tier)


def _function_app_options(options: Mapping[str, Any]) -> dict[str, Any]:
    from polyfn_azure._build import options_from_pairs

    return options_from_pairs(options.get("azure_option") or ())


provider = AzureProvider()

if TYPE_CHECKING:
    _: Provider = provider
