"""The entry module functions-framework loads in tests/native: the native-handler app served by
polyfn_gcp.http (push and scheduler deliveries without ID tokens, as in tests/gcp)."""

from __future__ import annotations

import polyfn_gcp

from tests.native.app import app

http = polyfn_gcp.http(app, delivery_auth=polyfn_gcp.DeliveryAuth.disabled())
