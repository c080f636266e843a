"""Typed path, query and header parameters of HTTP handlers, and response models.

A handler may declare parameters after ``(req, ctx)`` (and after the body model, with
``body=``)::

    @app.http("/orders/{order_id}", methods=["GET"], response_model=Order)
    def get_order(req, ctx, order_id: int, verbose: bool = False,
                  tenant: Annotated[str, Header(alias="X-Tenant")] = "default") -> Order: ...

A parameter named like a path template parameter comes from the path, any other from the query
string unless a marker (`Path`, `Query`, `Header`, as the default or in ``Annotated``) says
otherwise. str, int, float, bool, Enum, Literal, their ``| None`` and ``list[...]`` forms (a
repeated query key or header) convert without pydantic; any other type (UUID, datetime,
constrained types) goes through pydantic's TypeAdapter, imported when the first such route is
declared. Every problem of one request is answered at once: 400 with a ``fields`` list in the
shape the body validation uses (``loc``, ``message``, ``type``).

The plan is made once, when the route is declared, and a handler that declares nothing is called
as before: no cost on the request path for apps that do not use this.
"""

from __future__ import annotations

import operator
import re  # already loaded by json; costs nothing more

from polyfn._errors import ConfigError
from polyfn._http import HttpResponse, dump_json

# `typing` and `inspect` cost milliseconds at import; they load when a route declares parameters.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from polyfn._context import Context
    from polyfn._http import HttpRequest

_UNSET: Any = object()


class Param:
    """Where a handler parameter comes from and the checks its value must pass.

    `default` (or the parameter's own default) makes it optional; `alias` is its name on the wire;
    `gt`/`ge`/`lt`/`le` bound numbers, `min_length`/`max_length` bound strings (and lists: their
    number of values), `pattern` is a regular expression the string must contain a match of (JSON
    Schema's ``pattern``); `description` and `deprecated` go to the OpenAPI document.
    """

    __slots__ = (
        "alias",
        "default",
        "deprecated",
        "description",
        "ge",
        "gt",
        "le",
        "lt",
        "max_length",
        "min_length",
        "pattern",
    )
    source = "query"

    def __init__(
        self,
        default: Any = _UNSET,
        *,
        alias: str | None = None,
        description: str | None = None,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | None = None,
        deprecated: bool = False,
    ) -> None:
        self.default = default
        self.alias = alias
        self.description = description
        self.gt, self.ge, self.lt, self.le = gt, ge, lt, le
        self.min_length, self.max_length = min_length, max_length
        self.pattern = pattern
        self.deprecated = deprecated

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alias={self.alias!r})"


class Query(Param):
    """A query-string parameter (the default for a parameter not named in the path)."""

    __slots__ = ()
    source = "query"


class Header(Param):
    """A request header; the wire name is `alias`, or the parameter's name with ``_`` as ``-``
    (``x_tenant`` reads ``X-Tenant``; header names are case-insensitive)."""

    __slots__ = ()
    source = "header"


class Path(Param):
    """A path template parameter (implied by the name; the marker adds checks and docs)."""

    __slots__ = ()
    source = "path"


class ResponseValidationError(Exception):
    """A handler's result does not fit its route's `response_model`: a bug in the handler,
    answered with polyfn's 500 and logged with this message."""


class Converter:
    """Turns one raw string into a typed value; `ValueError` carries the message and the type
    code that the 400's field list shows."""

    __slots__ = ("convert", "schema")

    def __init__(self, convert: Callable[[str], Any], schema: dict[str, Any]) -> None:
        self.convert = convert
        self.schema = schema


class FieldValueError(ValueError):
    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


_INT_TEXT = re.compile(r"[+-]?[0-9]+")


def _to_int(text: str) -> int:
    # int() alone would take " 7 ", "1_000" and other spellings no client means as a number.
    if _INT_TEXT.fullmatch(text) is None:
        raise FieldValueError("must be an integer", "int_parsing")
    return int(text)


def _to_float(text: str) -> float:
    import math

    # float() alone would take " 7", "1_0" and "nan": none is a number a client means to send.
    if text != text.strip() or "_" in text:
        raise FieldValueError("must be a number", "float_parsing")
    try:
        value = float(text)
    except ValueError:
        raise FieldValueError("must be a number", "float_parsing") from None
    if not math.isfinite(value):
        raise FieldValueError("must be a finite number", "finite_number")
    return value


# The spellings pydantic reads as booleans, so a route behaves the same with or without it.
_BOOL_WORDS = {
    "true": True, "1": True, "yes": True, "y": True, "on": True, "t": True,
    "false": False, "0": False, "no": False, "n": False, "off": False, "f": False,
}  # fmt: skip


def _to_bool(text: str) -> bool:
    try:
        return _BOOL_WORDS[text.lower()]
    except KeyError:
        raise FieldValueError("must be a boolean (true or false)", "bool_parsing") from None


def _choice(values: list[Any]) -> Converter:
    by_text = {str(v.value if hasattr(v, "value") else v): v for v in values}
    shown = ", ".join(repr(t) for t in by_text)

    def convert(text: str) -> Any:
        try:
            return by_text[text]
        except KeyError:
            raise FieldValueError(f"must be one of {shown}", "enum") from None

    raw = [v.value if hasattr(v, "value") else v for v in values]
    return Converter(convert, {"enum": raw, **_json_type_of(raw)})


def _json_type_of(values: list[Any]) -> dict[str, Any]:
    types = {type(v) for v in values}
    if types <= {str}:
        return {"type": "string"}
    if types <= {int}:
        return {"type": "integer"}
    return {}


_SIMPLE: dict[type[Any], Converter] = {
    str: Converter(lambda text: text, {"type": "string"}),
    int: Converter(_to_int, {"type": "integer"}),
    float: Converter(_to_float, {"type": "number"}),
    bool: Converter(_to_bool, {"type": "boolean"}),
}


def _pydantic_converter(annotation: Any, where: str) -> Converter:
    try:
        import pydantic
    except ImportError:
        raise ConfigError(
            f"{where}: type {annotation!r} needs pydantic to convert (pip install pydantic), or "
            "declare it as str, int, float, bool, an Enum or a Literal"
        ) from None
    try:
        adapter = pydantic.TypeAdapter(annotation)
        schema = adapter.json_schema()
    except Exception as exc:
        raise ConfigError(f"{where}: pydantic cannot convert type {annotation!r}: {exc}") from exc

    def convert(text: str) -> Any:
        try:
            # Strings from a URL or header: validate as Python input, so "2024-01-01" is a date
            # and "7" is an int, as in JSON mode, without parsing the text as a JSON document.
            return adapter.validate_strings(text)
        except pydantic.ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            raise FieldValueError(
                first.get("msg", "invalid"), first.get("type", "invalid")
            ) from None

    return Converter(convert, schema)


def _converter(annotation: Any, where: str) -> Converter:
    import enum
    import typing

    if annotation in _SIMPLE:
        return _SIMPLE[annotation]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _choice(list(annotation))
    if typing.get_origin(annotation) is typing.Literal:
        return _choice(list(typing.get_args(annotation)))
    return _pydantic_converter(annotation, where)


class Parameter:
    """One declared handler parameter: its source, wire name, conversion and checks."""

    __slots__ = (
        "collection",
        "converter",
        "default",
        "marker",
        "name",
        "nullable",
        "required",
        "source",
        "wire",
    )
    # `collection` is list, tuple, set or frozenset for a repeated parameter, else None.

    def __init__(
        self,
        name: str,
        source: str,
        wire: str,
        converter: Converter,
        *,
        collection: Any,
        nullable: bool,
        default: Any,
        marker: Param,
    ) -> None:
        self.name = name
        self.source = source
        self.wire = wire
        self.converter = converter
        self.collection = collection
        self.nullable = nullable
        self.default = default
        self.required = default is _UNSET
        self.marker = marker

    @property
    def repeated(self) -> bool:
        return self.collection is not None

    @property
    def loc(self) -> str:
        return f"{self.source}.{self.wire}"

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of the value (OpenAPI's parameter schema)."""
        item = dict(self.converter.schema)
        m = self.marker
        bounds = {
            "minimum": m.ge,
            "exclusiveMinimum": m.gt,
            "maximum": m.le,
            "exclusiveMaximum": m.lt,
        }
        if self.repeated:
            schema: dict[str, Any] = {"type": "array", "items": _with(item, bounds)}
            if m.min_length is not None:
                schema["minItems"] = m.min_length
            if m.max_length is not None:
                schema["maxItems"] = m.max_length
        else:
            lengths = {"minLength": m.min_length, "maxLength": m.max_length, "pattern": m.pattern}
            schema = _with(_with(item, bounds), lengths)
        if not self.required and self.default is not None and _jsonable(self.default):
            schema["default"] = getattr(self.default, "value", self.default)
        return schema

    def check_value(self, value: Any) -> None:
        """The marker's bounds (numbers) and pattern (strings), for one value."""
        m = self.marker
        if isinstance(value, int | float) and not isinstance(value, bool):
            for bound, holds, text, kind in (
                (m.gt, operator.gt, "greater than", "greater_than"),
                (m.ge, operator.ge, "greater than or equal to", "greater_than_equal"),
                (m.lt, operator.lt, "less than", "less_than"),
                (m.le, operator.le, "less than or equal to", "less_than_equal"),
            ):
                if bound is not None and not holds(value, bound):
                    raise FieldValueError(f"must be {text} {bound}", kind)
        elif (
            isinstance(value, str) and m.pattern is not None and re.search(m.pattern, value) is None
        ):
            raise FieldValueError(f"must match pattern {m.pattern!r}", "string_pattern_mismatch")

    def check_length(self, value: str | list[Any]) -> None:
        """`min_length`/`max_length`: characters of a string, values of a repeated parameter."""
        m = self.marker
        noun = "values" if isinstance(value, list) else "characters"
        if m.min_length is not None and len(value) < m.min_length:
            raise FieldValueError(f"must have at least {m.min_length} {noun}", "too_short")
        if m.max_length is not None and len(value) > m.max_length:
            raise FieldValueError(f"must have at most {m.max_length} {noun}", "too_long")


def _with(schema: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    return {**schema, **{k: v for k, v in extra.items() if v is not None}}


def _jsonable(value: Any) -> bool:
    return isinstance(getattr(value, "value", value), str | int | float | bool)


class Signature:
    """What the route does around its handler: parameters to read, a response model to apply
    (with `status_code`), and the other answers it documents (`responses`: status -> a
    description or a model, for the OpenAPI document)."""

    __slots__ = ("_response_adapter", "parameters", "response_model", "responses", "status_code")

    def __init__(
        self,
        parameters: tuple[Parameter, ...],
        response_model: Any = None,
        status_code: int = 200,
        responses: dict[int, Any] | None = None,
    ) -> None:
        self.parameters = parameters
        self.response_model = response_model
        self.status_code = status_code
        self.responses = responses or {}
        self._response_adapter: Any = None

    def read(self, req: HttpRequest) -> tuple[dict[str, Any], list[dict[str, str]]]:
        """The handler's keyword arguments from `req`, and the problems found (all of them)."""
        values: dict[str, Any] = {}
        problems: list[dict[str, str]] = []
        for p in self.parameters:
            if p.source == "path":
                raw = [req.path_params[p.wire]] if p.wire in req.path_params else []
            elif p.source == "query":
                raw = req.query.getall(p.wire)
            else:
                raw = req.headers.getall(p.wire)
            try:
                if not raw:
                    if p.required:
                        raise FieldValueError("is required", "missing")
                    # A copy of a list default: a handler that appends to it must not change
                    # what the next request gets.
                    default = p.default
                    values[p.name] = list(default) if isinstance(default, list) else default
                    continue
                if p.repeated:
                    value: Any = [p.converter.convert(text) for text in raw]
                    for item in value:
                        p.check_value(item)
                    p.check_length(value)
                    if p.collection is not list:
                        value = p.collection(value)
                else:
                    # A single-valued parameter sent twice takes the first value, as
                    # `req.query.get` does.
                    value = p.converter.convert(raw[0])
                    p.check_value(value)
                    if isinstance(value, str):
                        p.check_length(value)
                values[p.name] = value
            except FieldValueError as problem:
                problems.append({"loc": p.loc, "message": problem.message, "type": problem.kind})
        return values, problems

    def respond(self, result: Any, function: str) -> Any:
        """`result` validated against the response model and serialised; an `HttpResponse` (the
        handler chose its own status and body) passes through."""
        if self.response_model is None or isinstance(result, HttpResponse):
            return result
        import pydantic

        if self._response_adapter is None:
            self._response_adapter = pydantic.TypeAdapter(self.response_model)
        adapter = self._response_adapter
        try:
            value = adapter.validate_python(result, from_attributes=True)
        except pydantic.ValidationError as exc:
            raise ResponseValidationError(
                f"{function} returned a value that does not fit its response_model "
                f"{_type_name(self.response_model)}: {exc}"
            ) from None
        return HttpResponse(
            adapter.dump_json(value), self.status_code, content_type="application/json"
        )


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or repr(tp)


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    import types
    import typing

    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


def _unwrap_collection(annotation: Any) -> tuple[Any, Any]:
    """(item type, collection type) of ``list[X]``, ``tuple[X, ...]``, ``set[X]`` or
    ``frozenset[X]`` (a repeated query key or header); (annotation, None) otherwise."""
    import typing

    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        args = typing.get_args(annotation)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return annotation, None
        return (args[0] if args else str), origin
    if annotation in (list, tuple, set, frozenset):
        return str, annotation
    return annotation, None


def plan_signature(
    handler: Callable[..., Any],
    template_params: tuple[str, ...],
    *,
    has_body: bool,
    route: str,
    response_model: Any = None,
    status_code: int = 200,
    responses: dict[int, Any] | None = None,
) -> Signature | None:
    """The parameters `handler` declares after ``(req, ctx[, model])``, or None when it declares
    none and there is nothing else to apply (the handler is then called as it is)."""
    documented = response_model is not None or status_code != 200 or bool(responses)

    def plain() -> Signature | None:
        return Signature((), response_model, status_code, responses) if documented else None

    import inspect
    import typing

    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError):
        return plain()
    skip = 3 if has_body else 2
    declared = [
        p
        for i, p in enumerate(signature.parameters.values())
        if i >= skip and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if not declared:
        return plain()
    try:
        hints = typing.get_type_hints(handler, include_extras=True)
    except Exception as exc:  # NameError for a forward reference, TypeError for bad syntax
        raise ConfigError(
            f"route {route!r}: cannot resolve the type annotations of {_type_name(handler)}: {exc}"
        ) from exc
    parameters = []
    for p in declared:
        where = f"route {route!r}, parameter {p.name!r}"
        if p.kind is p.POSITIONAL_ONLY:
            raise ConfigError(f"{where} is positional-only; polyfn passes parameters by name")
        annotation = hints.get(p.name, str)
        marker: Param | None = None
        if typing.get_origin(annotation) is typing.Annotated:
            extras = [a for a in annotation.__metadata__ if isinstance(a, Param)]
            annotation = typing.get_args(annotation)[0]
            marker = extras[0] if extras else None
        default = p.default if p.default is not p.empty else _UNSET
        if isinstance(default, Param):
            if marker is not None:
                raise ConfigError(f"{where} has a marker both in Annotated and as its default")
            marker, default = default, default.default
        elif marker is not None and marker.default is not _UNSET:
            raise ConfigError(
                f"{where}: inside Annotated, give the default as the parameter's own default "
                f"({p.name}: Annotated[..., {type(marker).__name__}()] = value)"
            )
        if marker is None:
            marker = Path() if p.name in template_params else Query()
        parameters.append(
            _parameter(
                p.name,
                annotation=annotation,
                marker=marker,
                default=default,
                template_params=template_params,
                where=where,
            )
        )
    _refuse_duplicates(parameters, route)
    return Signature(tuple(parameters), response_model, status_code, responses)


def _parameter(
    name: str,
    *,
    annotation: Any,
    marker: Param,
    default: Any,
    template_params: tuple[str, ...],
    where: str,
) -> Parameter:
    if hasattr(annotation, "model_validate_json"):
        raise ConfigError(
            f"{where} is a pydantic model; declare a JSON body with app.http(..., body=Model) "
            "(the handler gets it as its third argument)"
        )
    source = marker.source
    # A header's default wire name turns underscores to dashes (x_tenant reads X-Tenant).
    wire = marker.alias or (name.replace("_", "-") if source == "header" else name)
    if source == "path" and wire not in template_params:
        raise ConfigError(
            f"{where}: no {{{wire}}} in the route template (it has "
            f"{', '.join(template_params) or 'no parameters'})"
        )
    if source != "path" and name in template_params:
        raise ConfigError(
            f"{where} is named like the path parameter {{{name}}} but marked "
            f"{type(marker).__name__}; rename it or give the marker an alias"
        )
    inner, nullable = _unwrap_optional(annotation)
    inner, collection = _unwrap_collection(inner)
    if collection is not None and source == "path":
        raise ConfigError(f"{where}: a path parameter holds one value, not a list")
    return Parameter(
        name,
        source,
        wire,
        _converter(inner, where),
        collection=collection,
        nullable=nullable,
        default=default,
        marker=marker,
    )


def _refuse_duplicates(parameters: list[Parameter], route: str) -> None:
    seen: dict[tuple[str, str], str] = {}
    for p in parameters:
        key = (p.source, p.wire)
        if key in seen:
            raise ConfigError(
                f"route {route!r}: parameters {seen[key]!r} and {p.name!r} both read "
                f"{p.source} {p.wire!r}"
            )
        seen[key] = p.name


def bind(handler: Callable[..., Any], signature: Signature, function: str) -> Callable[..., Any]:
    """`handler` wrapped to read its declared parameters and apply its response model."""
    import functools

    parameters = signature.parameters

    @functools.wraps(handler)
    def bound(req: HttpRequest, ctx: Context, *model: Any) -> Any:
        if parameters:
            values, problems = signature.read(req)
            if problems:
                return HttpResponse(
                    dump_json(
                        {"error": "request parameters failed validation", "fields": problems}
                    ),
                    400,
                    content_type="application/json",
                )
            result = handler(req, ctx, *model, **values)
        else:
            result = handler(req, ctx, *model)
        return signature.respond(result, function)

    bound.__polyfn_signature__ = signature  # type: ignore[attr-defined]
    return bound
