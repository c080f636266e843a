"""AWS Lambda entry: API Gateway for publish_event, SNS invocations for the two subscribers."""

import polyfn_aws
from fanout_app import app

handler = polyfn_aws.handler(app)
