"""The neutral resource cases (conformance/resources.py) on the AWS backend, against moto_server:
handles talk to S3, SQS, SNS, DynamoDB and Secrets Manager through boto3, and a queue is read the
way its consumer function is served, through `polyfn_aws.handler` (SQS records as Lambda's poller
delivers them; a topic's subscribers get what SNS hands a subscribed Lambda), with the harness of
conformance/resource_harnesses.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conformance._resources_runner import not_judged
from conformance._spec import Skip
from conformance.resource_harnesses import AwsHarness
from conformance.resources import CASES
from polyfn._resources import reset_backends

from ._aws_resources import REGION

pytestmark = pytest.mark.e2e


@pytest.fixture
def make_handles(
    moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], AwsHarness]]:
    import boto3

    monkeypatch.setenv("POLYFN_PROVIDER", "aws")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_REGION", REGION)
    reset_backends()

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=moto_url, region_name=REGION)

    yield lambda: AwsHarness(client)
    reset_backends()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_resource_case_on_aws(case: Callable[[Any], None], make_handles: Any) -> None:
    reason = not_judged("aws", case.__name__)
    if reason:
        pytest.skip(reason)
    try:
        case(make_handles)
    except Skip as why:
        pytest.skip(str(why))
