"""AWS Lambda entry: S3 notifications (direct, or through SQS, SNS or EventBridge)."""

import polyfn_aws
from uploads_app import app

handler = polyfn_aws.handler(app)
