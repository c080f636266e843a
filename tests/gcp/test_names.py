"""Resource names the GCP build and dispatch agree on (polyfn_gcp._names)."""

from __future__ import annotations

import re

import pytest
from google.cloud import scheduler_v1
from polyfn_gcp import SCHEDULE_ATTRIBUTE, scheduler_job_name

from polyfn import App

# https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#Job
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,500}$")


def _schedule_fn(app: App, name: str):
    app.schedule("0 2 * * *", function_name=name)(lambda event, ctx: None)
    return app.function(name)


@pytest.mark.parametrize(
    ("app_name", "fn_name"),
    [("shop", "nightly"), ("my_app-2", "clean_up-old"), ("a" * 300, "b" * 300)],
)
def test_scheduler_job_name_is_a_valid_job_id(app_name, fn_name):
    app = App(app_name)
    name = scheduler_job_name(app, _schedule_fn(app, fn_name))
    assert JOB_ID.match(name), name
    assert name.startswith(f"{app_name}-"[:500])
    # The name google-cloud-scheduler's own path helper builds parses back to the same job id.
    path = scheduler_v1.CloudSchedulerClient.job_path("p", "us-central1", name)
    assert scheduler_v1.CloudSchedulerClient.parse_job_path(path)["job"] == name


def test_names_are_distinct_per_function_and_app():
    app = App("shop")
    a, b = _schedule_fn(app, "nightly"), _schedule_fn(app, "hourly")
    other = App("shop2")
    assert len({scheduler_job_name(app, a), scheduler_job_name(app, b),
                scheduler_job_name(other, a)}) == 3  # fmt: skip


def test_schedule_attribute_is_a_valid_pubsub_attribute_key():
    # Attribute keys must not start with "goog" and are at most 256 bytes.
    # https://cloud.google.com/pubsub/quotas#resource_limits
    assert not SCHEDULE_ATTRIBUTE.lower().startswith("goog")
    assert len(SCHEDULE_ATTRIBUTE.encode()) <= 256
