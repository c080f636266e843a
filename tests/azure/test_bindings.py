"""What the host indexes: get_functions() / get_function_json() of the generated FunctionApp, and
the checks the worker runs when it loads each function."""

from __future__ import annotations

import polyfn_azure
import pytest

from polyfn import App, ConfigError
from tests.azure._host import Host
from tests.azure.conftest import Recorder, make_app


def test_one_azure_function_per_polyfn_function(host: Host) -> None:
    assert sorted(host.functions) == sorted(f.name for f in make_app(Recorder()).functions)


def test_http_bindings(host: Host) -> None:
    get = host.trigger("get_order")
    assert get["type"] == "httpTrigger"
    assert get["route"] == "orders/{order_id}"
    # GET declared; every method /orders/{order_id} leaves unclaimed, so the app can answer 405
    assert sorted(get["methods"]) == ["GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
    assert host.trigger("delete_order")["methods"] == ["DELETE"]
    assert host.trigger("read_file")["route"] == "files/{*path}"
    assert host.bindings("get_order")[1] == {"direction": "OUT", "type": "http", "name": "$return"}
    assert get["authLevel"] == "FUNCTION"


def test_timer_blob_eventgrid_and_queue_bindings(host: Host) -> None:
    timer = host.trigger("nightly")
    assert (timer["type"], timer["schedule"]) == ("timerTrigger", "0 0 2 * * *")
    blob = host.trigger("on_upload")
    assert blob["type"] == "blobTrigger"
    assert blob["path"] == "uploads/incoming/{name}"
    assert blob["source"] == "LogsAndContainerScan"
    assert blob["connection"] == "AzureWebJobsStorage"
    assert host.trigger("on_change")["type"] == "eventGridTrigger"
    queue = host.trigger("on_order")
    assert (queue["type"], queue["queueName"], queue["dataType"]) == (
        "queueTrigger",
        "orders",
        "BINARY",
    )
    sb = host.trigger("on_payment")
    assert (sb["type"], sb["queueName"], sb["connection"]) == (
        "serviceBusTrigger",
        "payments",
        "ServiceBusConnection",
    )
    fifo = host.trigger("on_job")
    assert fifo["type"] == "serviceBusTrigger"
    assert fifo["isSessionsEnabled"] is True


def test_every_function_passes_the_worker_load_checks(host: Host) -> None:
    for name in host.functions:
        assert host.load_problems(name) == [], name


def test_options_change_bindings() -> None:
    host = Host(
        polyfn_azure.function_app(
            make_app(Recorder()),
            auth_level="anonymous",
            storage_trigger="eventgrid",
            storage_connection="Uploads",
            service_bus_connection="Bus",
            service_bus_queues=("orders", "payments"),
        )
    )
    assert host.trigger("get_order")["authLevel"] == "ANONYMOUS"
    assert host.trigger("on_upload")["type"] == "eventGridTrigger"
    assert host.trigger("on_order")["type"] == "serviceBusTrigger"
    assert host.trigger("on_order")["connection"] == "Bus"


def test_blob_source_option() -> None:
    app = App("b")

    @app.storage("pics", suffix=".png")
    def pics(event: object, ctx: object) -> None: ...

    host = Host(polyfn_azure.function_app(app, blob_source="EventGrid"))
    assert host.trigger("pics")["source"] == "EventGrid"
    assert host.trigger("pics")["path"] == "pics/{name}.png"


def test_root_route_is_a_catch_all() -> None:
    app = App("r")

    @app.http("/")
    def home(req: object, ctx: object) -> str:
        return "home"

    host = Host(polyfn_azure.function_app(app))
    assert host.trigger("home")["route"] == "{*polyfn_root}"


@pytest.mark.parametrize("name", ["_private", "9lives", "host", "x" * 129])
def test_names_azure_refuses_are_config_errors(name: str) -> None:
    app = App("n")
    app.queue("q", function_name=name)(lambda msg, ctx: None)
    with pytest.raises(ConfigError, match="Azure function names"):
        polyfn_azure.function_app(app)


@pytest.mark.parametrize("kind", ["archived", "metadata_updated"])
def test_storage_kinds_azure_does_not_publish_are_config_errors(kind: str) -> None:
    app = App("k")
    app.storage("b", on=[kind], function_name="f")(lambda event, ctx: None)
    with pytest.raises(ConfigError, match="publishes no event"):
        polyfn_azure.function_app(app)


@pytest.mark.parametrize(
    "options",
    [
        {"auth_level": "public"},
        {"storage_trigger": "poll"},
        {"blob_source": "Polling"},
        {"queue_message_encoding": "utf8"},
        {"service_bus_connection": ""},
    ],
)
def test_bad_options_are_config_errors(options: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        polyfn_azure.function_app(App("o"), **options)


def test_host_json_settings_follow_the_options() -> None:
    opts = polyfn_azure.AzureOptions(route_prefix="/v1/", queue_message_encoding="none")
    assert opts.host_json_extensions() == {
        "http": {"routePrefix": "v1"},
        "queues": {"messageEncoding": "none"},
    }
