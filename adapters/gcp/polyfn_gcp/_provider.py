"""`provider`: polyfn_gcp as a `polyfn.Provider` (entry point ``gcp`` of ``polyfn.providers``).

The work lives in `_build`, `_deploy`, `_samples` and `_resources`, each imported when its
operation runs.
"""

from __future__ import annotations

from polyfn._provider import Option, ProviderDefaults

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence
    from pathlib import Path
    from typing import Any

    from polyfn._app import App
    from polyfn._cost import Bill, Usage
    from polyfn._provider import EventSamples, Provider
    from polyfn._resources import Backend

# build, and package for its warnings, make the specs with google-cloud-functions' and
# -scheduler's own types.
_SPEC_TYPES = ("google.cloud.functions_v2", "google.cloud.scheduler_v1")
_PROJECT_HELP = "project ID (default: $GOOGLE_CLOUD_PROJECT, else PROJECT_ID)"


class GcpProvider(ProviderDefaults):
    """Cloud Run functions (Cloud Functions gen2) served by functions-framework."""

    name = "gcp"
    description = "Google Cloud Run functions (Cloud Functions gen2)"
    entry = "polyfn_gcp.http(app) / polyfn_gcp.cloud_event(app)"
    distribution = "polyfn-gcp"
    package = "polyfn_gcp"
    checkout = "./adapters/gcp"
    # Where its SDKs look for an emulator or endpoint (shown by `polyfn invoke`).
    endpoint_settings: tuple[str, ...] = (
        "PUBSUB_EMULATOR_HOST",
        "FIRESTORE_EMULATOR_HOST",
        "STORAGE_EMULATOR_HOST",
        "POLYFN_SECRETMANAGER_ENDPOINT",
    )
    # Cloud Run sets it in every container it runs, Cloud Run functions included.
    # https://cloud.google.com/run/docs/container-contract#env-vars
    runtime_marker = "K_SERVICE"
    # What polyfn's commands need on GCP beyond polyfn-gcp itself: command -> (its extra in
    # adapters/gcp/pyproject.toml, the modules that prove the extra is installed).
    extras: Mapping[str, tuple[str, tuple[str, ...]]] = {
        "build": ("build", _SPEC_TYPES),
        "package": ("build", _SPEC_TYPES),
        "deploy": ("deploy", ("google.auth", *_SPEC_TYPES)),
        "invoke": ("invoke", ("conformance.hosts",)),  # functions-framework's emulated host
    }
    options: Sequence[Option] = (
        Option("project", _PROJECT_HELP, commands=("build", "deploy")),
        Option("region", "region (default: us-central1)", commands=("build",)),
        Option("region", "region (default: from your configuration)", commands=("deploy",)),
    )
    # How `polyfn package` ships third-party code: Cloud Functions always builds the source and
    # installs requirements.txt; --deps vendor puts Linux wheels next to main.py instead.
    # https://cloud.google.com/functions/docs/writing/specifying-dependencies-python
    deps_modes: tuple[str, ...] = ("remote", "vendor")
    deps_why = ""
    site_packages = ""

    def build(
        self,
        app: App,
        out_dir: Path,
        *,
        app_ref: str,
        options: Mapping[str, Any],
        taken: Collection[str] = (),
    ) -> list[str]:
        from polyfn_gcp._build import GcpOptions, build

        return build(
            app,
            out_dir,
            app_ref=app_ref,
            taken=taken,
            explain=bool(options.get("explain")),
            **GcpOptions.of(options).build_kwargs(),
        )

    def package_files(
        self,
        app: App,
        *,
        app_ref: str,
        options: Mapping[str, Any],
        taken: Collection[str] = (),
    ) -> tuple[dict[str, str], list[str]]:
        from polyfn_gcp._build import GcpOptions, package_files

        return package_files(app, app_ref, taken=taken, **GcpOptions.of(options).build_kwargs())

    def connect(self, options: Mapping[str, Any]) -> object:
        from polyfn_gcp._build import GcpOptions
        from polyfn_gcp._deploy import connect

        return connect(GcpOptions.of(options))

    def deploy(
        self,
        session: Any,
        app: App,
        package: Path,
        *,
        app_ref: str,
        options: Mapping[str, Any],
        log: Callable[[str], object],
    ) -> dict[str, str]:
        from polyfn_gcp._build import GcpOptions
        from polyfn_gcp._deploy import deploy

        return deploy(session, app, package, GcpOptions.of(options), app_ref=app_ref, log=log)

    def events(self) -> EventSamples:
        from polyfn_gcp import _samples

        return _samples

    def resources(self) -> Backend:
        # Google's client libraries load only when a handle is first used on GCP.
        from polyfn_gcp._resources import GcpBackend

        return GcpBackend()

    def cost(self, usage: Sequence[Usage], *, free_tier: bool) -> list[Bill]:
        from polyfn_gcp._cost import bills

        return bills(usage, free_tier=free_tier)


provider = GcpProvider()

if TYPE_CHECKING:
    _: Provider = provider
