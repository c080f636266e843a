"""Azure Functions entry (v2 model): a timer trigger per polyfn schedule."""

import polyfn_azure
from cleanup_app import app as cleanup

app = polyfn_azure.function_app(cleanup)
