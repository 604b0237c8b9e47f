"""Go: per-event capture constructors for posthog-go (`package typed`), already gofmt-formatted.

Each event gets an option type, `With<Property>` options, `WithExtraProps`, `Capture` and
`CaptureFromBase` (which keeps a base Capture's fields and properties). Identifiers are Pascal-cased
from the names and kept unique across the whole file; names only appear as Go string literals.
"""

from __future__ import annotations

from datetime import datetime

import orjson

from app.services.codegen.schema import EventSchema, PropertySchema, header_lines, pascal

TYPES = {
    "String": "string",
    "Numeric": "float64",
    "Boolean": "bool",
    "DateTime": "time.Time",
    "Duration": "float64",
    "Array": "[]interface{}",
    "Object": "map[string]interface{}",
}


def _quoted(name: str) -> str:
    # JSON strings are Go string literals once escapes Go lacks are avoided (orjson writes none).
    return orjson.dumps(name).decode()


def _identifier(name: str) -> str:
    base = pascal(name) or "Event"
    return "Event" + base if base[0].isdigit() else base


def _property_names(schema: EventSchema) -> list[tuple[PropertySchema, str]]:
    taken: set[str] = {"ExtraProps"}
    named = []
    for prop in schema.properties:
        base = _identifier(prop.name)
        number = 1
        while (name := base if number == 1 else f"{base}{number}") in taken:
            number += 1
        taken.add(name)
        named.append((prop, name))
    return named


def _event_identifiers(base: str, props: list[tuple[PropertySchema, str]]) -> set[str]:
    names = {f"{base}Capture", f"{base}CaptureFromBase"}
    if props:
        names |= {f"{base}Option", f"{base}WithExtraProps", *(f"{base}With{p}" for _, p in props)}
    return names


def _new_capture(event: str) -> str:
    fields = f"DistinctId: distinctId, Event: {_quoted(event)}, Properties: posthog.NewProperties()"
    return f"\tc := posthog.Capture{{{fields}}}"


def _with_schema(base: str, event: str, props: list[tuple[PropertySchema, str]]) -> list[str]:
    option = f"{base}Option"
    lines = [
        f"// {option} sets a property of a {base} event.",
        f"type {option} func(*posthog.Capture)",
        "",
    ]
    for prop, name in props:
        lines += [
            f"// {base}With{name} sets the event's {name} property.",
            f"func {base}With{name}(v {TYPES.get(prop.type or '', 'interface{}')}) {option} {{",
            "\treturn func(c *posthog.Capture) {",
            "\t\tif c.Properties == nil {",
            "\t\t\tc.Properties = posthog.NewProperties()",
            "\t\t}",
            f"\t\tc.Properties[{_quoted(prop.name)}] = v",
            "\t}",
            "}",
            "",
        ]
    lines += [
        f"// {base}WithExtraProps adds properties beyond the known ones.",
        f"func {base}WithExtraProps(props posthog.Properties) {option} {{",
        "\treturn func(c *posthog.Capture) {",
        "\t\tif c.Properties == nil {",
        "\t\t\tc.Properties = posthog.NewProperties()",
        "\t\t}",
        "\t\tfor k, v := range props {",
        "\t\t\tc.Properties[k] = v",
        "\t\t}",
        "\t}",
        "}",
        "",
        f"// {base}Capture builds a {base} event for distinctId.",
        f"func {base}Capture(distinctId string, options ...{option}) posthog.Capture {{",
        _new_capture(event),
        "\tfor _, option := range options {",
        "\t\toption(&c)",
        "\t}",
        "\treturn c",
        "}",
        "",
        f"// {base}CaptureFromBase builds a {base} event from base, keeping its fields and properties.",
        f"func {base}CaptureFromBase(base posthog.Capture, options ...{option}) posthog.Capture {{",
        "\tc := base",
        f"\tc.Event = {_quoted(event)}",
        "\tc.Properties = posthog.NewProperties()",
        "\tfor k, v := range base.Properties {",
        "\t\tc.Properties[k] = v",
        "\t}",
        "\tfor _, option := range options {",
        "\t\toption(&c)",
        "\t}",
        "\treturn c",
        "}",
    ]
    return lines


def _without_schema(base: str, event: str) -> list[str]:
    return [
        f"// {base}Capture builds a {base} event for distinctId (no known properties).",
        f"func {base}Capture(distinctId string, properties ...posthog.Properties) posthog.Capture {{",
        _new_capture(event),
        "\tfor _, props := range properties {",
        "\t\tfor k, v := range props {",
        "\t\t\tc.Properties[k] = v",
        "\t\t}",
        "\t}",
        "\treturn c",
        "}",
        "",
        f"// {base}CaptureFromBase builds a {base} event from base, keeping its fields and properties.",
        f"func {base}CaptureFromBase(base posthog.Capture, properties ...posthog.Properties) "
        "posthog.Capture {",
        "\tc := base",
        f"\tc.Event = {_quoted(event)}",
        "\tc.Properties = posthog.NewProperties()",
        "\tfor k, v := range base.Properties {",
        "\t\tc.Properties[k] = v",
        "\t}",
        "\tfor _, props := range properties {",
        "\t\tfor k, v := range props {",
        "\t\t\tc.Properties[k] = v",
        "\t\t}",
        "\t}",
        "\treturn c",
        "}",
    ]


def generate(schemas: list[EventSchema], generated_at: datetime, project_id: int) -> str:
    # The first line is Go's standard marker for generated files (linters and reviews skip them).
    lines = ["// Code generated by analytics event_definitions/golang; DO NOT EDIT.", "//"]
    lines += [
        f"// {line}".rstrip() for line in header_lines("posthog-go constructors", generated_at, project_id)
    ]
    # A blank line keeps the header from being the package doc comment (which gofmt would restyle).
    lines += ["", "package typed", ""]
    uses_time = any(p.type == "DateTime" for s in schemas for p in s.properties)
    if schemas:
        lines += [
            "import (",
            *(['\t"time"', ""] if uses_time else []),
            '\tposthog "github.com/posthog/posthog-go"',
            ")",
            "",
        ]
    taken: set[str] = set()
    for schema in schemas:
        props = _property_names(schema)
        base, number = _identifier(schema.name), 1
        while _event_identifiers(candidate := base if number == 1 else f"{base}{number}", props) & taken:
            number += 1
        taken |= _event_identifiers(candidate, props)
        body = (
            _with_schema(candidate, schema.name, props) if props else _without_schema(candidate, schema.name)
        )
        lines += [*body, ""]
    lines += [
        "// Usage:",
        "//",
        '//\tconfig := posthog.Config{Endpoint: "<this service>"}',
        '//\tclient, _ := posthog.NewWithConfig("<project API key>", config)',
        '//\tclient.Enqueue(SomeEventCapture("user-1"))',
    ]
    return "\n".join(lines) + "\n"
