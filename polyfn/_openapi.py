"""The OpenAPI 3.1 description of an app's HTTP functions: `polyfn openapi APP` writes it and
`polyfn serve` answers it at ``/_polyfn/openapi.json`` (with a docs page at ``/_polyfn/docs``).

It is read from the declarations alone: routes and methods, the typed path, query and header
parameters (polyfn._params), the body model, the response model, and the answers polyfn itself
gives (400 with field errors, 415 for a body that is not JSON, 500 with a request id). OpenAPI
3.1 schemas are JSON Schema 2020-12, which is what pydantic writes, so models go in unchanged.
Spec: https://spec.openapis.org/oas/v3.1.0
"""

from __future__ import annotations

from polyfn._app import HttpTrigger
from polyfn._auth import OPENAPI_SECURITY
from polyfn._http import reason_phrase
from polyfn._routing import parse_template

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from polyfn._app import App, Function
    from polyfn._params import Parameter

OPENAPI_VERSION = "3.1.0"

_REF = "#/components/schemas/{model}"

# polyfn's own answers, the same on every cloud (docs/semantics.md).
_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "request_id": {"type": "string"}},
    "required": ["error"],
}
_FIELDS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
                "required": ["loc", "message", "type"],
            },
        },
    },
    "required": ["error", "fields"],
}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(description, {"$ref": _REF.format(model="Error")})


class _Schemas:
    """The components/schemas of the document, filled as models are met, and the security
    schemes the routes' auth middleware enforces."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {
            "Error": _ERROR_SCHEMA,
            "ValidationError": _FIELDS_SCHEMA,
        }
        self.security: dict[str, Any] = {}

    def of(self, tp: Any) -> dict[str, Any]:
        """A schema for `tp` (a pydantic model or any type pydantic validates): a `$ref` to a
        component for a model, the inline schema otherwise; nested models become components."""
        import pydantic

        schema = pydantic.TypeAdapter(tp).json_schema(ref_template=_REF)
        for name, sub in schema.pop("$defs", {}).items():
            self.components.setdefault(name, sub)
        if hasattr(tp, "model_json_schema"):
            name = tp.__name__
            self.components.setdefault(name, schema)
            return {"$ref": _REF.format(model=name)}
        return schema


def openapi_document(
    app: App, *, title: str | None = None, version: str = "0.1.0", description: str | None = None
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `app`'s HTTP functions, as a JSON-ready dict."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for fn in app.functions_of("http"):
        trigger = fn.trigger
        assert isinstance(trigger, HttpTrigger)
        path, greedy = _openapi_path(trigger.path)
        item = paths.setdefault(path, {})
        for method in trigger.methods:
            operation_id = fn.name if len(trigger.methods) == 1 else f"{fn.name}_{method.lower()}"
            operation = _operation(fn, trigger, operation_id, greedy, schemas)
            _secure(operation, (*app.middleware, *trigger.middleware), schemas)
            item[method.lower()] = operation
    info: dict[str, Any] = {"title": title or app.name, "version": version}
    if description:
        info["description"] = description
    components: dict[str, Any] = {"schemas": dict(sorted(schemas.components.items()))}
    if schemas.security:
        components["securitySchemes"] = dict(sorted(schemas.security.items()))
    return {
        "openapi": OPENAPI_VERSION,
        "info": info,
        "paths": dict(sorted(paths.items())),
        "components": components,
    }


def _secure(operation: dict[str, Any], layers: tuple[Any, ...], schemas: _Schemas) -> None:
    """The security requirement of an operation: every auth layer (polyfn.api_key, jwt_bearer,
    cloud_auth) on its way must pass, so each is one entry of a single requirement object."""
    required: dict[str, list[str]] = {}
    for layer in layers:
        documented = getattr(layer, OPENAPI_SECURITY, None)
        if documented is not None:
            name, scheme = documented
            schemas.security[name] = scheme
            required[name] = []
    if required:
        operation["security"] = [required]
        responses = operation["responses"]
        responses["401"] = _error("Missing or invalid credentials")
        operation["responses"] = dict(sorted(responses.items()))


def _openapi_path(template: str) -> tuple[str, set[str]]:
    """OpenAPI's path for a polyfn template: ``{rest+}`` becomes ``{rest}`` (OpenAPI has no
    greedy parameter; its description says it spans segments)."""
    greedy = {s.name for s in parse_template(template) if s.greedy and s.name}
    path = template
    for name in greedy:
        path = path.replace("{" + name + "+}", "{" + name + "}")
    return path, greedy


def _operation(
    fn: Function, trigger: HttpTrigger, operation_id: str, greedy: set[str], schemas: _Schemas
) -> dict[str, Any]:
    doc = (getattr(fn.handler, "__doc__", None) or "").strip()
    summary, _, rest = doc.partition("\n")
    operation: dict[str, Any] = {"operationId": operation_id}
    if summary:
        operation["summary"] = summary.strip()
    if rest.strip():
        operation["description"] = _dedent(rest)
    signature = trigger.signature
    declared = signature.parameters if signature is not None else ()
    parameters = [_parameter(p, greedy) for p in declared]
    named = {p.wire for p in declared if p.source == "path"}
    for segment in parse_template(trigger.path):
        if segment.name and segment.name not in named:
            parameters.append(_path_string(segment.name, segment.name in greedy))
    if parameters:
        operation["parameters"] = sorted(parameters, key=lambda p: (p["in"] != "path", p["name"]))
    if trigger.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.of(trigger.body)}},
        }
    model = signature.response_model if signature is not None else None
    success = str(signature.status_code) if signature is not None else "200"
    reason = reason_phrase(int(success))
    responses: dict[str, Any] = {
        success: _json(reason, schemas.of(model)) if model is not None else {"description": reason}
    }
    for status, documented in (signature.responses if signature is not None else {}).items():
        if isinstance(documented, str):
            # polyfn answers an HTTPError with {"error": ...}: say so for the error statuses.
            responses[str(status)] = (
                _error(documented) if status >= 400 else {"description": documented}
            )
        else:
            responses[str(status)] = _json(reason_phrase(status), schemas.of(documented))
    if declared or trigger.body is not None:
        responses["400"] = _json(
            "Invalid parameters or body", {"$ref": _REF.format(model="ValidationError")}
        )
    if trigger.body is not None:
        responses["415"] = _error("The body is not JSON")
    responses["500"] = _error("Internal error (the request id finds the log line)")
    operation["responses"] = dict(sorted(responses.items()))
    return operation


def _parameter(p: Parameter, greedy: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.wire, "in": p.source}
    required = p.source == "path" or p.required
    if required:
        out["required"] = True
    description = p.marker.description
    if p.source == "path" and p.wire in greedy:
        description = ((description or "") + " (spans path segments: may contain '/')").strip()
    if description:
        out["description"] = description
    if p.marker.deprecated:
        out["deprecated"] = True
    out["schema"] = p.schema()
    if p.repeated and p.source == "query":
        out["style"], out["explode"] = "form", True  # ?tag=a&tag=b
    return out


def _path_string(name: str, greedy: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    if greedy:
        out["description"] = "spans path segments: may contain '/'"
    return out


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).strip()


# The docs page `polyfn serve` answers at /_polyfn/docs: Swagger UI from its CDN, pointed at the
# document beside it. Only the browser fetches the CDN; polyfn serves the HTML and the JSON.
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - API docs</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js" crossorigin></script>
<script>
window.onload = () => SwaggerUIBundle({{url: "openapi.json", dom_id: "#docs"}});
</script>
</body>
</html>
"""
