"""Google's emulators as fixtures here too (the resource matrix runs on them)."""

from tests.resources_gcp.conftest import (  # noqa: F401
    firestore_emulator,
    gcs_emulator,
    pubsub_emulator,
)
