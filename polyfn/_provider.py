"""The provider contract: everything polyfn's CLI and resource handles need from one cloud.

A cloud (or an in-house platform) is one distribution that exports ONE object satisfying
`Provider` and registers it under the ``polyfn.providers`` entry-point group, the entry point's
name being the provider's name::

    [project.entry-points."polyfn.providers"]
    aws = "polyfn_aws._provider:provider"

The core knows no provider by name except ``"local"`` (its own resource backend, used by
``polyfn serve`` and tests): `polyfn build/package/deploy/events/invoke --provider NAME` accept
the names this group lists, and a resource handle asks the named provider for its backend.
An adapter's runtime entry also registers its provider when it is imported (`register`), so a
deployed function, whose zip carries no package metadata, finds its own cloud without a scan.

Entry points are read only when a CLI command or a resource's first use needs a provider that is
not registered yet, never by ``import polyfn`` or a handler's cold start.

Errors: a provider raises `polyfn.ConfigError` (or another `PolyfnError`) for anything the user
can fix; the CLI prints it as one paragraph and exits 2.
"""

from __future__ import annotations

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence
    from pathlib import Path
    from typing import Any, Protocol

    from polyfn._app import App
    from polyfn._cost import Bill, Usage
    from polyfn._resources import Backend

    # command -> (the extra of the provider's distribution it needs, modules proving it is there)
    CommandExtras = Mapping[str, tuple[str, tuple[str, ...]]]
else:
    Protocol = object

ENTRY_POINT_GROUP = "polyfn.providers"
LOCAL = "local"


class Option:
    """One command-line option a provider adds to ``polyfn build``, ``package`` or ``deploy``.

    `name` is the flag without its dashes (``project`` for ``--project``); the value reaches the
    provider's operations under that name with dashes as underscores (``endpoint_url``), None when
    not given (or a list when `repeat`). Two providers may declare the same flag: it is one flag.
    """

    __slots__ = ("commands", "help", "metavar", "name", "repeat", "type")

    def __init__(
        self,
        name: str,
        help: str,
        *,
        commands: Sequence[str] = ("build", "package", "deploy"),
        type: Callable[[str], Any] = str,
        repeat: bool = False,
        metavar: str | None = None,
    ) -> None:
        self.name = name
        self.help = help
        self.commands = tuple(commands)
        self.type = type
        self.repeat = repeat
        self.metavar = metavar

    @property
    def key(self) -> str:
        """The name the value has in the options mapping: ``endpoint_url``."""
        return self.name.replace("-", "_")

    def __repr__(self) -> str:
        return f"Option({self.name!r}, commands={self.commands!r})"


class EventSamples(Protocol):
    """A cloud's sample native events and its fake host, for ``polyfn events`` and ``invoke``."""

    @property
    def TRIGGERS(self) -> Mapping[str, str]:  # noqa: N802 - module constants implement it
        """Trigger name -> one-line summary, in the order ``polyfn events PROVIDER`` lists."""

    @property
    def KINDS(self) -> Mapping[str, str]:  # noqa: N802
        """Trigger name -> the polyfn function kind it feeds (http, schedule, storage, queue)."""

    @property
    def OVERRIDES(self) -> Mapping[str, Mapping[str, str]]:  # noqa: N802
        """Trigger name -> the ``--set KEY=VALUE`` keys it takes and what each means."""

    def sample_event(self, trigger: str, **overrides: Any) -> dict[str, Any]:
        """A native event of `trigger`, with `overrides` applied."""
        ...

    def trigger_of(self, event: dict[str, Any]) -> str | None:
        """The trigger a native event looks like, or None when it is not recognised."""
        ...

    @property
    def PLATFORM_HEADERS(self) -> Collection[str]:  # noqa: N802
        """Request headers the cloud's front end adds (lower case; one ending in "-" names a
        prefix), which ``polyfn translate`` leaves out of the translated request."""

    def read_event(self, event: dict[str, Any]) -> Any:
        """The neutral value a native event (in `sample_event`'s form) holds, read by the
        adapter's library functions: an HttpRequest, StorageEvent, TimerEvent or a list of
        QueueMessage; None for an event with no neutral meaning. For ``polyfn translate``,
        which needs it only from the provider it translates from."""
        ...

    def invoke(self, app: App, function: str, event: dict[str, Any]) -> tuple[Any, bool]:
        """Run `event` through the provider's real runtime entry; (native result, succeeded)."""
        ...

    def http_status(self, result: Any) -> int | None:
        """The HTTP status in a native result of `invoke`, None for a non-HTTP result."""
        ...


class Provider(Protocol):
    """One cloud, as polyfn's commands and resource handles use it."""

    name: str  # the entry point's name: what --provider takes and Context.provider says
    description: str  # one line: the platform it deploys to
    entry: str  # the runtime entry the generated files call, e.g. "polyfn_aws.handler(app)"
    distribution: str  # the distribution to pip install (for messages)
    # Where that distribution sits in a source checkout ("./adapters/aws"), for the pip command
    # of a missing extra; "" when it is installed from an index only.
    checkout: str
    # The settings its SDKs read for an emulator's or endpoint's address (AWS_ENDPOINT_URL,
    # PUBSUB_EMULATOR_HOST, ...): `polyfn invoke` shows those set when it uses the backend.
    endpoint_settings: tuple[str, ...]
    package: str  # the import package `polyfn package` copies into the zip beside polyfn
    extras: CommandExtras  # what a command needs beyond the distribution itself
    options: Sequence[Option]  # its flags of build, package and deploy
    deps_modes: tuple[str, ...]  # `--deps` values it honours, the default first
    deps_why: str  # why a mode is missing ("" when both are there)
    site_packages: str  # where vendored packages go inside the zip ("" for its root)

    def build(
        self,
        app: App,
        out_dir: Path,
        *,
        app_ref: str,
        options: Mapping[str, Any],
        taken: Collection[str] = (),
    ) -> list[str]:
        """Write the deployment artefacts into `out_dir`; the warnings (settings not honoured).
        `taken`: the names the app's own files take at the package's root, which a generated
        entry must not replace (polyfn._generated)."""
        ...

    def package_files(
        self,
        app: App,
        *,
        app_ref: str,
        options: Mapping[str, Any],
        taken: Collection[str] = (),
    ) -> tuple[dict[str, str], list[str]]:
        """The generated files a deployment zip holds (path -> text), and the warnings; `taken`
        as for `build`."""
        ...

    def requirements(self, app: App) -> list[str]:
        """The third-party requirements the cloud installs for `app` (requirements.txt lines)."""
        ...

    def deploy_instead(self, app_ref: str) -> str | None:
        """None when `deploy` works; otherwise how to publish `app_ref` instead (a sentence)."""
        ...

    def connect(self, options: Mapping[str, Any]) -> object:
        """A session with credentials, checked before any work; ConfigError says what to set."""
        ...

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
        """Deploy the zip at `package`; what to show (URLs, stack outputs)."""
        ...

    def events(self) -> EventSamples:
        """The sample events and fake host (loaded on first use)."""
        ...

    def detect(self, environ: Mapping[str, str]) -> bool:
        """Whether this process runs on this cloud's runtime (outside an invocation)."""
        ...

    def resources(self) -> Backend:
        """A new resource backend on the cloud's SDK (built once per process, on first use)."""
        ...

    def cost(self, usage: Sequence[Usage], *, free_tier: bool) -> list[Bill]:
        """The app's monthly bills for `usage` (one per function, see polyfn._cost), one bill
        per plan the provider prices, the plan its build deploys first; priced from the
        provider's own dated tables, each rate citing its page. `free_tier` False prices every
        unit. ConfigError for a usage it cannot price (a memory outside its limits)."""
        ...


class ProviderDefaults:
    """What most providers share, for a provider class to inherit (the contract is `Provider`;
    nothing requires this class): `detect` by one variable the runtime always sets
    (`runtime_marker`), `requirements` from the distribution's own, and no deploy."""

    distribution: str
    checkout = ""  # installed from an index only: no checkout path to suggest
    endpoint_settings: tuple[str, ...] = ()
    runtime_marker = ""  # a variable the cloud's runtime sets in every function's environment

    def detect(self, environ: Mapping[str, str]) -> bool:
        return bool(self.runtime_marker and environ.get(self.runtime_marker))

    def requirements(self, app: App) -> list[str]:
        """The distribution's own requirements (and the core's extras the app needs)."""
        from polyfn._package import app_extras, third_party_requirements

        return third_party_requirements([self.distribution], app_extras(app))

    def deploy_instead(self, app_ref: str) -> str | None:
        return None

    def connect(self, options: Mapping[str, Any]) -> object:
        """Refuse with `deploy_instead`'s advice (a provider that deploys overrides this)."""
        from polyfn._errors import ConfigError

        instead = self.deploy_instead("APP") or "see its documentation"
        raise ConfigError(f"this provider does not deploy: {instead}")

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
        raise NotImplementedError  # connect() refused before any work

    def cost(self, usage: Sequence[Usage], *, free_tier: bool) -> list[Bill]:
        """Refuse: a provider prices nothing until it holds price tables."""
        from polyfn._cost import NotPricedError

        name = getattr(self, "name", type(self).__name__)
        raise NotPricedError(
            f"provider {name!r} has no price tables; `polyfn cost` cannot price it"
        )


# -- discovery -----------------------------------------------------------------------------------

_REGISTERED: dict[str, Provider] = {}


def register(provider: Provider) -> None:
    """Make `provider` the one named ``provider.name`` in this process (an adapter registers
    itself when imported; a test may register a stand-in)."""
    _REGISTERED[provider.name] = provider
    from polyfn._resources import forget_backend

    forget_backend(provider.name)


def registered() -> dict[str, Provider]:
    """The providers registered so far (no scan)."""
    return dict(_REGISTERED)


_SCANNED: dict[str, Any] | None = None


def _entry_points() -> dict[str, Any]:
    """The group's entry points by name, read once per process (the scan reads every installed
    distribution's metadata: tens of milliseconds)."""
    global _SCANNED  # noqa: PLW0603 - one scan per process
    if _SCANNED is None:
        import importlib.metadata

        found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        _SCANNED = {ep.name: ep for ep in sorted(found, key=lambda ep: ep.name)}
    return _SCANNED


def names() -> list[str]:
    """Every provider's name, installed (entry points) or registered, sorted; loads none."""
    return sorted({*_entry_points(), *_REGISTERED} - {LOCAL})


def distributions() -> list[str]:
    """The distributions that register providers (normalised names), without loading them."""
    found = (entry_point_distribution(name) for name in _entry_points())
    return sorted({d.lower().replace("_", "-") for d in found if d})


def entry_point_distribution(name: str) -> str | None:
    """The distribution that registers provider `name`, without loading it."""
    ep = _entry_points().get(name)
    dist = getattr(ep, "dist", None)
    return getattr(dist, "name", None)


def provider(name: str) -> Provider:
    """The provider `name`: registered, else loaded from its entry point.

    A missing provider is a `ConfigError` naming the installed ones; a provider whose own
    dependencies are missing lets its `ModuleNotFoundError` through (the CLI turns it into the
    pip command)."""
    found = _REGISTERED.get(name)
    if found is not None:
        return found
    ep = _entry_points().get(name)
    if ep is None:
        from polyfn._errors import ConfigError

        installed = ", ".join(names()) or "none"
        raise ConfigError(
            f"no polyfn provider {name!r} is installed (installed: {installed}). A provider is "
            f"a distribution registering an entry point in the {ENTRY_POINT_GROUP!r} group: "
            f"install it (pip install 'polyfn[{name}]' for the clouds polyfn ships)."
        )
    loaded: Provider = ep.load()
    if getattr(loaded, "name", None) != name:
        from polyfn._errors import ConfigError

        raise ConfigError(
            f"entry point {name!r} of group {ENTRY_POINT_GROUP!r} ({ep.value}) is not a provider "
            f"named {name!r}: it must be an object with name = {name!r} (see polyfn.Provider)"
        )
    _REGISTERED.setdefault(name, loaded)
    return _REGISTERED[name]


def detect(environ: Mapping[str, str]) -> str | None:
    """The provider whose runtime `environ` shows: registered ones first, then the installed."""
    for candidate in list(_REGISTERED.values()):
        if candidate.detect(environ):
            return candidate.name
    for name in _entry_points():
        if name in _REGISTERED or name == LOCAL:
            continue
        try:
            candidate = provider(name)
        except ImportError:
            continue  # an adapter whose cloud SDK is not here cannot be where we run
        if candidate.detect(environ):
            return name
    return None
