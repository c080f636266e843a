"""AWS Lambda entry: an SQS event source mapping with ReportBatchItemFailures."""

import polyfn_aws
from worker_app import app

handler = polyfn_aws.handler(app)
