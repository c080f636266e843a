"""Azure Functions entry (v2 model): a blob trigger on the `uploads` container."""

import polyfn_azure
from uploads_app import app as uploads

app = polyfn_azure.function_app(uploads)
