"""GCP entry: Cloud Scheduler calls the HTTP target (`--target http`) or publishes to Pub/Sub
(`--target event --signature-type cloudevent`)."""

import polyfn_gcp
from cleanup_app import app

http = polyfn_gcp.http(app)
event = polyfn_gcp.cloud_event(app)
