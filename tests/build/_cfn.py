"""CloudFormation's evaluation of the intrinsic functions polyfn's templates use, for tests."""

from __future__ import annotations

import re
from typing import Any

REGION, ACCOUNT = "us-east-1", "123456789012"


def resolve(value: Any, doc: dict[str, Any], stage: str = "") -> Any:
    """A template value as CloudFormation computes it (the intrinsics polyfn writes)."""
    if isinstance(value, list):
        return [resolve(v, doc, stage) for v in value]
    if not isinstance(value, dict):
        return value
    if "Fn::If" in value:
        _, yes, no = value["Fn::If"]
        return resolve(yes if stage else no, doc, stage)
    if "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        text, names = (sub, {}) if isinstance(sub, str) else sub
        names = {k: resolve(v, doc, stage) for k, v in names.items()}
        names |= {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
        names["Stage"] = stage
        return re.sub(r"\$\{([\w:]+)\}", lambda m: str(names[m.group(1)]), text)
    if "Ref" in value or "Fn::GetAtt" in value:
        logical = value.get("Ref") or value["Fn::GetAtt"][0]
        res = doc["Resources"][logical]
        props = {k: resolve(v, doc, stage) for k, v in res["Properties"].items()}
        arn = f"{REGION}:{ACCOUNT}"
        return {
            "AWS::SQS::Queue": lambda: f"arn:aws:sqs:{arn}:{props['QueueName']}",
            "AWS::SNS::Topic": lambda: f"arn:aws:sns:{arn}:{props['TopicName']}",
            "AWS::DynamoDB::Table": lambda: f"arn:aws:dynamodb:{arn}:table/{props['TableName']}",
        }[res["Type"]]()
    return {k: resolve(v, doc, stage) for k, v in value.items()}
