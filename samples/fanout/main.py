"""GCP entry: HTTP for publish_event (`--target http`), Pub/Sub push for the subscribers."""

import polyfn_gcp
from fanout_app import app

http = polyfn_gcp.http(app)
event = polyfn_gcp.cloud_event(app)
