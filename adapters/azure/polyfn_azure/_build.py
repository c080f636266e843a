"""`build`: the files of an Azure Functions app (Python v2 programming model) for a polyfn app.

``function_app.py`` imports the user's app and hands it to `polyfn_azure.function_app`;
``host.json`` carries what Azure sets per app rather than per function (route prefix, queue
message encoding, dequeue count, function timeout); ``requirements.txt`` lists what the remote build
installs; ``local.settings.json`` is for running the app with Core Tools.

Azure configures most of what polyfn declares per function at the level of the whole function app
(host.json, app settings, the hosting plan), so most settings become app-wide values or warnings.
https://learn.microsoft.com/azure/azure-functions/functions-host-json
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from polyfn._errors import ConfigError
from polyfn._generated import write_entry

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence
    from pathlib import Path

    import azure.functions as func

    from polyfn._app import App, Function

# The extension bundle gives the host the non-HTTP bindings (timer, blob, queue, Service Bus,
# Event Grid) without a .NET build. https://learn.microsoft.com/azure/azure-functions/extension-bundles
EXTENSION_BUNDLE = {"id": "Microsoft.Azure.Functions.ExtensionBundle", "version": "[4.*, 5.0.0)"}

# functionTimeout: Consumption plan default 5 minutes, maximum 10; Flex Consumption and Premium
# default 30 minutes, unbounded. An HTTP response must start within 230 seconds whatever the
# timeout (the Azure Load Balancer's idle timeout).
# https://learn.microsoft.com/azure/azure-functions/functions-scale#timeout
CONSUMPTION_TIMEOUT_MAX_S = 600
HTTP_RESPONSE_MAX_S = 230

# Storage queues and the blob trigger share host.json extensions.queues.maxDequeueCount (default 5):
# after that many failed tries the message moves to "<queue>-poison" and a failing blob's name
# to "webjobs-blobtrigger-poison".
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue#host-json
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-blob-trigger#poison-blobs
DEFAULT_MAX_DEQUEUE = 5
POISON_SUFFIX = "-poison"
BLOB_POISON_QUEUE = "webjobs-blobtrigger-poison"

# Where each trigger's retry behaviour is configured (the "Retries" table of
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-error-pages).
RETRY_WHERE = {
    "httpTrigger": "nowhere: an HTTP caller gets the error response and decides whether to retry",
    "timerTrigger": (
        "a function-level retry policy, which polyfn_azure.function_app sets from retries"
    ),
    "eventGridTrigger": (
        "the Event Grid subscription (az eventgrid event-subscription create "
        "--max-delivery-attempts N --deadletter-endpoint ...)"
    ),
    "serviceBusTrigger": (
        "the Service Bus queue entity (az servicebus queue update --max-delivery-count N "
        "--forward-dead-lettered-messages-to QUEUE)"
    ),
}
# A subscriber's retries live on its own topic subscription, named after the function.
SUBSCRIPTION_RETRY_WHERE = (
    "the Service Bus topic subscription named after the function (az servicebus topic "
    "subscription update --max-delivery-count N --forward-dead-lettered-messages-to QUEUE)"
)

# Settings the hosting plan decides for every function of the app.
# https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan
PLAN_LEVEL = {
    "memory": (
        "memory is a property of the hosting plan on Azure (Flex Consumption instance memory "
        "2048 or 4096 MB, the same for every function); not set per function"
    ),
    "max_concurrency": (
        "max_concurrency has no per-function setting on Azure; limit the whole app's scale-out "
        "instead (Flex Consumption maximum instance count, or functionAppScaleLimit)"
    ),
}

# The host loads the functions from function_app.py, or from the file the PYTHON_SCRIPT_FILE_NAME
# app setting names. An app that is itself function_app.py keeps its name: the generated entry
# goes to polyfn_function_app.py, so it never replaces the app nor imports itself, and the app
# setting must name it.
# https://learn.microsoft.com/azure/azure-functions/functions-app-settings#python_script_file_name
# https://github.com/Azure/azure-functions-python-worker/pull/1323
ENTRY_FILE = "function_app.py"
ALTERNATE_ENTRY_FILE = "polyfn_function_app.py"
SCRIPT_FILE_SETTING = "PYTHON_SCRIPT_FILE_NAME"


def entry_file(app_ref: str, taken: Collection[str] = ()) -> str:
    """The file the generated entry goes to: function_app.py unless the app's own top-level
    module or package is called function_app, or the package holds a function_app.py of the
    user's (`taken`: the top-level names of the app's files in the package)."""
    top = app_ref.partition(":")[0].split(".")[0]
    stem = ENTRY_FILE.removesuffix(".py")
    return ALTERNATE_ENTRY_FILE if top == stem or {stem, ENTRY_FILE} & set(taken) else ENTRY_FILE


def _entry_file_warnings(app_ref: str, taken: Collection[str]) -> list[str]:
    name = entry_file(app_ref, taken)
    if name == ENTRY_FILE:
        return []
    return [
        f"azure: your app has its own {ENTRY_FILE}, so polyfn's entry is {name}: set the app "
        f"setting {SCRIPT_FILE_SETTING}={name} on the function app (az functionapp config "
        f"appsettings set --settings {SCRIPT_FILE_SETTING}={name}), or the host finds no functions"
    ]


# Values Core Tools needs to run the app locally (local.settings.json is never deployed).
# https://learn.microsoft.com/azure/azure-functions/functions-develop-local#local-settings-file
LOCAL_SETTINGS = {
    "FUNCTIONS_WORKER_RUNTIME": "python",
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "AzureWebJobsFeatureFlags": "EnableWorkerIndexing",
}


def _option_names() -> tuple[str, ...]:
    from polyfn_azure._options import AzureOptions

    return tuple(AzureOptions.__slots__)


# The keyword options of `polyfn_azure.function_app` (and of `build`), for the command line.
OPTION_NAMES = _option_names()


def _timespan(seconds: float) -> str:
    import math

    total = math.ceil(seconds)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


# azure-functions' FunctionApp.get_functions() logs this through the root logger for an app
# without HTTP functions (its auth_level then applies to nothing). The host sees it when it
# indexes function_app.py; at build time it is noise about an option polyfn did not ask for.
_AUTH_LEVEL_NOTICE = "Auth level is not applied to non http function app"


class _DropAuthLevelNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_AUTH_LEVEL_NOTICE)


def _functions(fa: func.FunctionApp) -> list[Any]:
    """`fa.get_functions()` without its auth-level notice; every other log record passes."""
    root = logging.getLogger()
    notice = _DropAuthLevelNotice()
    root.addFilter(notice)
    try:
        return list(fa.get_functions())
    finally:
        root.removeFilter(notice)


def _bindings(app: App, options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each function's trigger binding, as the host will index it (function name -> binding)."""
    from polyfn_azure._app import function_app

    fa = function_app(app, **options)
    out: dict[str, dict[str, Any]] = {}
    for f in _functions(fa):
        for b in f.get_bindings():
            d = b.get_dict_repr()
            if str(d.get("type", "")).endswith("Trigger"):  # the one trigger binding
                out[str(f.get_function_name())] = d
    return out


# The generated function_app.py must be code that `ruff format` (and black) leave unchanged in
# the user's repository: double quotes, and no line that its default line length (88) would
# rewrap. Lines are kept within PEP 8's 79 columns, and a call that would not fit is written
# one argument per line with a trailing comma, which the formatters keep exploded at any length.
# https://docs.astral.sh/ruff/formatter/#style-guide
_FITS = 79


def _py_str(text: str) -> str:
    """`text` as a Python literal quoted the formatter's way: double quotes, unless the text
    holds more double quotes than single ones."""
    literal = repr(text)
    if literal[0] == '"' or text.count('"') > text.count("'"):
        return literal  # repr chose double quotes, or single quotes need fewer escapes
    return '"' + literal[1:-1].replace("\\'", "'").replace('"', '\\"') + '"'


def _py_literal(value: Any, indent: int, column: int) -> str:
    """An option value (a string, a sequence of them, a number, a bool or None) as source
    starting at `column` on a line indented `indent`, followed by a comma; a sequence too long
    for that line gets one item per line."""
    if isinstance(value, str):
        return _py_str(value)
    if isinstance(value, list | tuple):
        inner = indent + 4
        items = [_py_literal(v, inner, inner) for v in value]
        opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
        one_line = ", ".join(items) + ("," if len(items) == 1 and opening == "(" else "")
        if column + len(one_line) + 3 <= _FITS:  # brackets and the comma after
            return f"{opening}{one_line}{closing}"
        pad = " " * inner
        return opening + "".join(f"\n{pad}{item}," for item in items) + f"\n{' ' * indent}{closing}"
    return repr(value)


def _import_line(module: str, attr: str, alias: str) -> str:
    line = f"from {module} import {attr} as {alias}"
    if len(line) <= _FITS:
        return line
    return f"from {module} import (\n    {attr} as {alias},\n)"


def function_app_source(app: App, app_ref: str, options: dict[str, Any]) -> str:
    module, _, attr = app_ref.partition(":")
    call = "app = polyfn_azure.function_app(_polyfn_app)"
    if options:
        args = "".join(
            f"    {k}={_py_literal(v, 4, 5 + len(k))},\n" for k, v in sorted(options.items())
        )
        call = f"app = polyfn_azure.function_app(\n    _polyfn_app,\n{args})"
    return (
        f'"""Azure Functions entry of polyfn app {app.name!r} (Python v2 programming model).\n\n'
        'Generated by `polyfn build`; the host indexes the FunctionApp named `app`."""\n\n'
        "import polyfn_azure\n"
        f"{_import_line(module, attr or 'app', '_polyfn_app')}\n\n"
        f"{call}\n"
    )


class _Plan:
    """host.json, app settings and warnings for one app."""

    def __init__(self, app: App, options: dict[str, Any]) -> None:
        from polyfn_azure._options import AzureOptions

        self.app = app
        self.opts = AzureOptions(**options)
        self.bindings = _bindings(app, options)
        self.warnings: list[str] = []
        self.settings: dict[str, str] = {}
        self.env_from: dict[str, str] = {}
        self.host: dict[str, Any] = {
            "version": "2.0",
            "extensionBundle": dict(EXTENSION_BUNDLE),
            "extensions": self.opts.host_json_extensions(),
        }

    def warn(self, fn: Function, message: str) -> None:
        self.warnings.append(f"azure: function {fn.name!r}: {message}")

    def run(self) -> None:
        dequeue: dict[str, int | None] = {}
        timeouts: dict[str, float] = {}
        for fn in self.app.functions:
            binding = self.bindings[fn.name]
            binding_type = str(binding["type"])
            s = fn.settings
            for name, message in PLAN_LEVEL.items():
                if getattr(s, name) is not None:
                    self.warn(fn, message)
            # Every function counts, with polyfn's default when it declares none: the host's
            # own default (5 or 30 minutes by plan) is not the one polyfn documents.
            timeouts[fn.name] = s.effective_timeout
            if binding_type == "httpTrigger" and s.effective_timeout > HTTP_RESPONSE_MAX_S:
                self.warn(
                    fn,
                    f"timeout {s.timeout} s: an HTTP response must start within "
                    f"{HTTP_RESPONSE_MAX_S} s on Azure whatever the function timeout",
                )
            self._env(fn)
            if binding_type in ("queueTrigger", "blobTrigger"):
                dequeue[fn.name] = None if s.retries is None else s.retries + 1
                self._poison(fn, binding)
            elif binding_type == "timerTrigger":
                # retries become the function's retry policy (polyfn_azure.function_app);
                # a tick has nothing to dead-letter.
                if s.dead_letter is not None:
                    self.warn(fn, "dead_letter: a timer tick has nothing to dead-letter on Azure")
            elif s.retries is not None or s.dead_letter is not None:
                where = (
                    SUBSCRIPTION_RETRY_WHERE
                    if "topicName" in binding
                    else RETRY_WHERE[binding_type]
                )
                self.warn(fn, f"retries/dead_letter are set in {where}")
        self._dequeue(dequeue)
        self._timeout(timeouts)

    def _env(self, fn: Function) -> None:
        if not fn.settings.env:
            return
        for key, value in fn.settings.env.items():
            if key in self.settings and self.settings[key] != value:
                raise ConfigError(
                    f"functions {self.env_from[key]!r} and {fn.name!r} set env {key!r} to "
                    "different values; Azure app settings are shared by every function of the "
                    "app: use one value or different names"
                )
            self.settings[key] = value
            self.env_from.setdefault(key, fn.name)
        self.warn(
            fn,
            f"env {', '.join(sorted(fn.settings.env))}: Azure app settings, which every function "
            "of the app sees",
        )

    def _poison(self, fn: Function, binding: dict[str, Any]) -> None:
        target = fn.settings.dead_letter
        if target is None:
            return
        if binding["type"] == "queueTrigger":
            poison = f"{binding['queueName']}{POISON_SUFFIX}"
        else:
            poison = BLOB_POISON_QUEUE
        if target != poison:
            self.warn(
                fn,
                f"dead_letter={target!r}: Azure moves what still fails to the queue {poison!r}; "
                "that name is fixed",
            )

    def _dequeue(self, wanted: dict[str, int | None]) -> None:
        declared = {name: n for name, n in wanted.items() if n is not None}
        if not declared:
            return
        count = max(declared.values())
        self.host["extensions"].setdefault("queues", {})["maxDequeueCount"] = count
        for name, n in wanted.items():
            if n != count:
                self.warn(
                    self.app.function(name),
                    f"maxDequeueCount is app-wide on Azure (host.json): this function's messages "
                    f"are tried {count} times, not {n or DEFAULT_MAX_DEQUEUE}",
                )

    def _timeout(self, timeouts: dict[str, float]) -> None:
        if not timeouts:
            return
        longest = max(timeouts.values())
        self.host["functionTimeout"] = _timespan(longest)
        others = [fn.name for fn in self.app.functions if timeouts.get(fn.name) != longest]
        if others:
            self.warnings.append(
                f"azure: functionTimeout is app-wide (host.json): {_timespan(longest)}, the "
                f"longest declared timeout, applies to {', '.join(others)} as well"
            )
        if longest > CONSUMPTION_TIMEOUT_MAX_S:
            self.warnings.append(
                f"azure: functionTimeout {_timespan(longest)} exceeds the Consumption plan's 10 "
                "minutes; deploy to a Flex Consumption, Premium or Dedicated plan"
            )


def requirements(app: App) -> list[str]:
    """What the Azure remote build installs: azure-functions (and pydantic for body models)."""
    from polyfn_azure._provider import provider

    return provider.requirements(app)


def plan(app: App, **options: Any) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """host.json, the app settings from the functions' env, and the warnings."""
    p = _Plan(app, options)
    p.run()
    return p.host, p.settings, p.warnings


def _local_settings(
    app: App, settings: dict[str, str], options: dict[str, Any], entry: str
) -> dict[str, Any]:
    from polyfn_azure._options import AzureOptions

    opts = AzureOptions(**options)
    values = dict(LOCAL_SETTINGS)
    if entry != ENTRY_FILE:
        values[SCRIPT_FILE_SETTING] = entry
    if any(b["type"] == "serviceBusTrigger" for b in _bindings(app, options).values()):
        values[opts.service_bus_connection] = ""
    if opts.storage_connection != "AzureWebJobsStorage":
        values[opts.storage_connection] = "UseDevelopmentStorage=true"
    values.update(settings)
    return {"IsEncrypted": False, "Values": values}


def package_files(
    app: App, app_ref: str, *, taken: Collection[str] = (), **options: Any
) -> tuple[dict[str, str], list[str]]:
    """The generated files an Azure zip holds (function_app.py, or polyfn_function_app.py for an
    app that has its own: `entry_file`; host.json), and the warnings."""
    import json

    host, _, warnings = plan(app, **options)
    files = {
        entry_file(app_ref, taken): function_app_source(app, app_ref, options),
        "host.json": json.dumps(host, indent=2) + "\n",
    }
    return files, warnings + _entry_file_warnings(app_ref, taken)


def build(
    app: App, out_dir: Path, *, app_ref: str, taken: Collection[str] = (), **options: Any
) -> list[str]:
    """Write function_app.py, host.json, requirements.txt and local.settings.json into `out_dir`.

    `options` are `polyfn_azure.function_app`'s (see `AzureOptions`). Returns the warnings."""
    import json

    from polyfn_azure import _arm
    from polyfn_azure._options import AzureOptions

    explain = bool(options.pop("explain", False))
    opts = AzureOptions(**options)
    _arm.check(app, opts)
    host, settings, warnings = plan(app, **options)
    warnings += _arm.access_warnings(app)
    if explain:
        from polyfn._grants import explain as explain_text

        print(explain_text("azure", _arm.explain_units(app, opts)), end="")
    out_dir.mkdir(parents=True, exist_ok=True)
    arm = _arm.template(app, opts, settings)
    (out_dir / _arm.TEMPLATE_FILE).write_text(json.dumps(arm, indent=2) + "\n")
    entry = entry_file(app_ref, taken)
    write_entry(out_dir / entry, function_app_source(app, app_ref, options))
    (out_dir / "host.json").write_text(json.dumps(host, indent=2) + "\n")
    (out_dir / "requirements.txt").write_text("\n".join(requirements(app)) + "\n")
    local = _local_settings(app, settings, options, entry)
    (out_dir / "local.settings.json").write_text(json.dumps(local, indent=2) + "\n")
    if settings:
        names = ", ".join(sorted(settings))
        warnings.append(
            f"azure: set the app settings {names} on the function app too (local.settings.json is "
            "not deployed): az functionapp config appsettings set --settings NAME=VALUE"
        )
    return warnings + _entry_file_warnings(app_ref, taken)


# Options that take several values on the command line, comma-separated.
_LIST_OPTIONS = ("service_bus_queues",)


def options_from_pairs(pairs: Sequence[str]) -> dict[str, Any]:
    """`build`'s keyword options (`AzureOptions`' fields) from ``NAME=VALUE`` pairs, as the
    repeatable ``--azure-option`` flag gives them."""
    options: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or name not in OPTION_NAMES:
            raise ConfigError(
                f"--azure-option {pair!r}: expected NAME=VALUE with NAME one of "
                f"{', '.join(OPTION_NAMES)}"
            )
        options[name] = tuple(v for v in value.split(",") if v) if name in _LIST_OPTIONS else value
    return options
