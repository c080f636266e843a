"""Azure Functions entry (Python v2 programming model): the host indexes `app`."""

import polyfn_azure
from orders_app import app as orders

app = polyfn_azure.function_app(orders)
