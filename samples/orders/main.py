"""GCP entry: `--entry-point http` (functions-framework --target http)."""

import polyfn_gcp
from orders_app import app

http = polyfn_gcp.http(app)
