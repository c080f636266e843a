"""Azure Functions entry (v2 model): an HTTP trigger and two Service Bus topic subscriptions."""

import polyfn_azure
from fanout_app import app as fanout

app = polyfn_azure.function_app(fanout)
