"""Python: `class PosthogTyped(Posthog)` with one keyword-only `capture_<event>` method per event.

Passes `mypy --strict` against posthog-python (6+, whose `capture` takes `Unpack[OptionalCaptureArgs]`).
Event and property names only ever appear inside string literals (`repr`), so no name can break
the module.
"""

from __future__ import annotations

from datetime import datetime

from app.services.codegen.schema import EventSchema, header_lines, numbered, python_parameter, snake, unique

TYPES = {
    "String": "str",
    "Numeric": "float",
    "Boolean": "bool",
    "DateTime": "datetime",
    "Duration": "float",
    "Array": "List[Any]",
    "Object": "Dict[str, Any]",
}
# Posthog's own capture methods: an event named "exception" must not override capture_exception.
RESERVED_METHODS = frozenset({"capture", "capture_ai", "capture_exception"})
RESERVED_PARAMETERS = frozenset({"self", "extra_properties", "kwargs", "properties"})


def _method(schema: EventSchema, method_name: str) -> list[str]:
    taken = set(RESERVED_PARAMETERS)
    parameters = []
    for prop in sorted(schema.properties, key=lambda p: (not p.required, p.name)):
        parameter = unique(numbered(python_parameter(prop.name)), taken)
        parameters.append((prop, parameter, TYPES.get(prop.type or "", "Any")))
    lines = [f"    def {method_name}(", "        self,", "        *,"]
    for prop, parameter, annotation in parameters:
        lines.append(
            f"        {parameter}: {annotation},"
            if prop.required
            else f"        {parameter}: Optional[{annotation}] = None,"
        )
    lines += [
        "        extra_properties: Optional[Dict[str, Any]] = None,",
        "        **kwargs: Unpack[OptionalCaptureArgs],",
        "    ) -> Optional[str]:",
        '        """Captures the event; distinct_id, timestamp, groups… go in kwargs."""',
        "        properties: Dict[str, Any] = {}",
    ]
    for prop, parameter, _ in parameters:
        if prop.required:
            lines.append(f"        properties[{prop.name!r}] = {parameter}")
        else:
            lines += [
                f"        if {parameter} is not None:",
                f"            properties[{prop.name!r}] = {parameter}",
            ]
    lines += [
        "        if extra_properties:",
        "            properties.update(extra_properties)",
        '        kwargs["properties"] = {**(kwargs.get("properties") or {}), **properties}',
        # Posthog.capture is decorated untyped: annotate the result so strict callers keep the type.
        f"        event_uuid: Optional[str] = self.capture({schema.name!r}, **kwargs)",
        "        return event_uuid",
    ]
    return lines


def generate(schemas: list[EventSchema], generated_at: datetime, project_id: int) -> str:
    uses_datetime = any(p.type == "DateTime" for s in schemas for p in s.properties)
    example = "capture_" + (snake(schemas[0].name) or "event") if schemas else "capture"
    lines = ['"""', *header_lines("PostHog capture methods", generated_at, project_id), "", "Usage:"]
    lines += [
        "    client = PosthogTyped('<project API key>', host='<this service>')",
        f"    client.{example}(distinct_id='user-1')",
        '"""',
        "",
        "from __future__ import annotations",
        "",
    ]
    if uses_datetime:
        lines.append("from datetime import datetime")
    lines += [
        "from typing import Any, Dict, List, Optional",
        "",
        "from posthog import Posthog",
        "from posthog.args import OptionalCaptureArgs",
        "from typing_extensions import Unpack",
        "",
        "__all__ = ['PosthogTyped']",
        "",
        "",
        "class PosthogTyped(Posthog):",
        '    """posthog.Posthog with a typed `capture_<event>` method for each known event."""',
    ]
    taken = set(RESERVED_METHODS)
    if not schemas:
        lines.append("    pass")
    for schema in schemas:
        method_name = unique(numbered("capture_" + (snake(schema.name) or "event")), taken)
        lines += ["", *_method(schema, method_name)]
    return "\n".join(lines) + "\n"
