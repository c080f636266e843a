"""GCP entry: Cloud Storage CloudEvents (`--target event --signature-type cloudevent`)."""

import polyfn_gcp
from uploads_app import app

event = polyfn_gcp.cloud_event(app)
