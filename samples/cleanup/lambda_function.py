"""AWS Lambda entry: `lambda_function.handler`, invoked by an EventBridge schedule rule."""

import polyfn_aws
from cleanup_app import app

handler = polyfn_aws.handler(app)
