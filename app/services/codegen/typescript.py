"""TypeScript: a typed wrapper around posthog-js (`tsc --noEmit --strict` clean).

`EventSchemas` maps each event name to its property object; `capture` is overloaded so known events
take their typed properties and any other literal event name takes free properties. Names only
appear as JSON string literals, which are valid TypeScript string literals.
"""

from __future__ import annotations

from datetime import datetime

import orjson

from app.services.codegen.schema import EventSchema, header_lines

TYPES = {
    "String": "string",
    "Numeric": "number",
    "Boolean": "boolean",
    "DateTime": "string | Date",
    "Duration": "number",
    "Array": "any[]",
    "Object": "Record<string, any>",
}


def _quoted(name: str) -> str:
    return orjson.dumps(name).decode()


def _schema_entry(schema: EventSchema) -> list[str]:
    if not schema.properties:
        return [f"    {_quoted(schema.name)}: Record<string, any>"]
    lines = [f"    {_quoted(schema.name)}: {{"]
    for prop in schema.properties:
        optional = "" if prop.required else "?"
        lines.append(f"        {_quoted(prop.name)}{optional}: {TYPES.get(prop.type or '', 'any')}")
    lines.append("    }")
    return lines


BODY = """
export type EventName = keyof EventSchemas

/** An event's typed properties; other properties may still be sent alongside them. */
export type EventProperties<K extends EventName> = EventSchemas[K] & Record<string, any>

/** True when the event has at least one required property. */
type HasRequired<T> = {} extends T ? false : true

export interface TypedPostHog extends Omit<OriginalPostHog, 'capture'> {
    /** A known event: its properties are type-checked. */
    capture<K extends EventName>(
        event_name: K,
        ...args: HasRequired<EventSchemas[K]> extends true
            ? [properties: EventProperties<K>, options?: CaptureOptions]
            : [properties?: EventProperties<K> | null, options?: CaptureOptions]
    ): CaptureResult | undefined
    /** Any other event name: free properties. */
    capture<K extends string>(
        event_name: K extends EventName ? never : K,
        properties?: Properties | null,
        options?: CaptureOptions
    ): CaptureResult | undefined
    /** The untyped original, for dynamic event names. */
    captureRaw(
        event_name: string,
        properties?: Properties | null,
        options?: CaptureOptions
    ): CaptureResult | undefined
}

function createTypedPostHog(original: OriginalPostHog): TypedPostHog {
    return new Proxy(original, {
        get(target, property, receiver) {
            if (property === 'captureRaw') {
                return (event_name: string, properties?: Properties | null, options?: CaptureOptions) =>
                    target.capture(event_name, properties, options)
            }
            return Reflect.get(target, property, receiver)
        },
    }) as unknown as TypedPostHog
}

const posthog: TypedPostHog = createTypedPostHog(originalPostHog)

export default posthog
export type { EventSchemas }
export * from 'posthog-js'

/*
 * Usage:
 *     import posthog from './posthog-typed'
 *     posthog.init('<project API key>', { api_host: '<this service>' })
 *     posthog.capture('<a known event>', { ...typed properties })
 *     posthog.captureRaw(dynamicName, { anything: true })
 */
"""


def generate(schemas: list[EventSchema], generated_at: datetime, project_id: int) -> str:
    lines = [
        "/**",
        *(f" * {line}".rstrip() for line in header_lines("posthog-js", generated_at, project_id)),
        " */",
    ]
    lines += [
        "import originalPostHog from 'posthog-js'",
        "import type {",
        "    CaptureOptions,",
        "    CaptureResult,",
        "    PostHog as OriginalPostHog,",
        "    Properties,",
        "} from 'posthog-js'",
        "",
        "interface EventSchemas {",
    ]
    for schema in schemas:
        lines += _schema_entry(schema)
    lines.append("}")
    return "\n".join(lines) + "\n" + BODY
