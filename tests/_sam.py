"""Sample events published by AWS's own tool: the templates inside the aws-sam-cli wheel.

`sam_event("apigateway", "HttpApi")` renders a template exactly as `sam local generate-event`
does, with SAM CLI's own renderer (samcli.lib.generated_sample_events.events.Events) and its
default values. The wheel is downloaded once (pinned, no dependencies) into a cache folder; only
its sample-event package is imported, so SAM CLI's heavy dependencies are not needed.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

SAM_CLI_VERSION = "1.170.0"
_CACHE = Path(
    os.environ.get("POLYFN_SAM_CACHE", Path.home() / ".cache" / "polyfn" / f"sam-{SAM_CLI_VERSION}")
)


def _extracted() -> Path:
    root = _CACHE / "extracted"
    marker = root / "samcli" / "lib" / "generated_sample_events" / "events.py"
    if marker.exists():
        return root
    _CACHE.mkdir(parents=True, exist_ok=True)
    wheels = list(_CACHE.glob(f"aws_sam_cli-{SAM_CLI_VERSION}-*.whl"))
    if not wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             f"aws-sam-cli=={SAM_CLI_VERSION}", "-d", str(_CACHE)],
            check=True,
        )  # fmt: skip
        wheels = list(_CACHE.glob(f"aws_sam_cli-{SAM_CLI_VERSION}-*.whl"))
    # Extract beside the final folder, then rename: two test workers may get here at once, and
    # neither must read a half-written tree.
    import tempfile

    staging = Path(tempfile.mkdtemp(dir=_CACHE, prefix="extracting-"))
    with zipfile.ZipFile(wheels[0]) as wheel:
        members = [
            name
            for name in wheel.namelist()
            if name.startswith("samcli/lib/generated_sample_events/")
            or name in ("samcli/__init__.py", "samcli/lib/__init__.py",
                        "samcli/lib/utils/__init__.py", "samcli/lib/utils/hash.py")
        ]  # fmt: skip
        wheel.extractall(staging, members)
    try:
        staging.rename(root)
    except OSError:  # another worker finished first: use its tree
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
    return root


@functools.cache
def _events() -> Any:
    root = str(_extracted())
    if root not in sys.path:
        sys.path.append(root)
    from samcli.lib.generated_sample_events.events import Events

    return Events()


def sam_services() -> dict[str, list[str]]:
    """Every service and its event types, as `sam local generate-event` lists them."""
    return {svc: list(types) for svc, types in _events().event_mapping.items()}


def sam_event(service: str, name: str, **values: str) -> dict[str, Any]:
    """Render one SAM CLI sample event.

    `name` is the event type (`put`, `http-api-proxy`) or the template's file name (`S3Put`,
    `HttpApi.json`); `values` override the template's defaults as `--key value` would.
    """
    events = _events()
    types = events.event_mapping[service]
    event_type = name
    if name not in types:
        stem = name.removesuffix(".json")
        matches = [t for t, spec in types.items() if spec.get("filename") == stem]
        if not matches:
            raise KeyError(f"SAM CLI has no {service} event {name!r}; it has {sorted(types)}")
        event_type = matches[0]
    # `sam local generate-event` is a click command with one `--<tag>` option per tag, each
    # defaulting to the tag's default; click hands them over as keyword arguments named with
    # underscores (`--account-id` -> `account_id`), which is how the templates spell them. Do
    # the same, so every placeholder is filled exactly as the CLI fills it.
    to_sub: dict[str, str] = {}
    for tag, spec in types[event_type]["tags"].items():
        key = tag.replace("-", "_").lower()
        to_sub[key] = values.get(key, values.get(tag, spec.get("default", "")))
    rendered = events.generate_event(service, event_type, to_sub)
    return dict(json.loads(rendered))
