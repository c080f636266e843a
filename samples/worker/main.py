"""GCP entry: Pub/Sub messagePublished CloudEvents (--signature-type cloudevent)."""

import polyfn_gcp
from worker_app import app

event = polyfn_gcp.cloud_event(app)
