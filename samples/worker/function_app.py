"""Azure Functions entry (v2 model): a Storage queue trigger on `orders`."""

import polyfn_azure
from worker_app import app as worker

app = polyfn_azure.function_app(worker)
