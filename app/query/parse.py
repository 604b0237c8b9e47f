"""Parse: a JSON payload into a generated Pydantic query node (InsightVizNode unwrapped).

Bad payloads raise a 400 `ValidationError` whose `attr` is the failing field's path joined with `__`
(PostHog's DRF style, e.g. `series__0__math`), relative to the insight query node.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pydantic

from app.errors import ValidationError
from app.schemas.generated import query as schema

InsightNode = (
    schema.TrendsQuery
    | schema.StickinessQuery
    | schema.LifecycleQuery
    | schema.FunnelsQuery
    | schema.RetentionQuery
    | schema.PathsQuery
)
QueryNode = InsightNode | schema.FunnelCorrelationQuery

NODE_MODELS: dict[str, type[QueryNode]] = {
    "TrendsQuery": schema.TrendsQuery,
    "StickinessQuery": schema.StickinessQuery,
    "LifecycleQuery": schema.LifecycleQuery,
    "FunnelsQuery": schema.FunnelsQuery,
    "RetentionQuery": schema.RetentionQuery,
    "PathsQuery": schema.PathsQuery,
    "FunnelCorrelationQuery": schema.FunnelCorrelationQuery,
}
MAX_DEPTH = 24  # JSON nesting; deeper payloads are hostile, not queries


def _depth(value: Any) -> int:
    """Nesting depth, iteratively (a recursive walk could itself overflow on hostile input)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            return level
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _is_union_tag(part: str) -> bool:
    """Pydantic names union members by type (`list[...]`, `PropertyGroupFilter`); our fields are
    lower-case names."""
    return "[" in part or part[:1].isupper()


def field_path(payload: Any, loc: tuple[int | str, ...]) -> str:
    """Pydantic's error location without union tags and RootModel wrappers."""
    parts: list[str] = []
    node = payload
    for part in loc:
        if part == "root":
            continue
        if isinstance(node, dict) and part not in node and part in (node.get("kind"), node.get("type")):
            continue  # a discriminated union's tag, not a field
        if isinstance(part, str) and (
            isinstance(node, list) or (isinstance(node, dict) and part not in node and _is_union_tag(part))
        ):
            continue  # a plain union's member name (`list[AnyPropertyFilter]`, `PropertyGroupFilter`)
        parts.append(str(part))
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return "__".join(parts)


def validation_error(exc: pydantic.ValidationError, payload: Any, prefix: str = "") -> ValidationError:
    first = exc.errors()[0]
    path = field_path(payload, tuple(first.get("loc", ())))
    attr = "__".join(p for p in (prefix, path) if p) or None
    message = str(first.get("msg", "Invalid input.")).removeprefix("Value error, ")
    if first.get("type") == "missing":
        return ValidationError("This field is required.", code="required", attr=attr)
    return ValidationError(message, code="invalid_input", attr=attr)


def parse_query(payload: Mapping[str, Any]) -> QueryNode:
    """The insight query node; an `InsightVizNode` is unwrapped to its `source`, and errors name fields
    inside that query (`series__0__math`), as the normalizer's errors do."""
    if not isinstance(payload, Mapping):
        raise ValidationError("The query must be a JSON object.", attr="query")
    if _depth(payload) > MAX_DEPTH:
        raise ValidationError("The query is nested too deeply.", attr="query")
    data: Any = dict(payload)
    if data.get("kind") == "InsightVizNode":
        data = data.get("source")
        if not isinstance(data, dict):
            raise ValidationError("This field is required.", code="required", attr="source")
    kind = data.get("kind")
    model = NODE_MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise ValidationError(
            f"Unsupported query kind: {str(kind)[:100]!r}.", code="invalid_choice", attr="kind"
        )
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise validation_error(exc, data) from None
    except RecursionError:
        raise ValidationError("The query is nested too deeply.", attr="query") from None
