"""AWS Lambda entry: set the function's handler to `lambda_function.handler`."""

import polyfn_aws
from orders_app import app

handler = polyfn_aws.handler(app)
