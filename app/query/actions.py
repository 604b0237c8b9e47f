"""Actions as the engine sees them: a name and OR-ed steps, each an event plus conditions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, and_, false, literal, or_

from app.query.elements import element_condition
from app.query.ir import EMPTY_GROUP, PropertyFilter, PropertyGroup
from app.query.properties import group_condition, like_escape, uses_persons
from app.query.sql import EVENTS, prop_text

MATCHING = ("contains", "regex", "exact")


@dataclass(frozen=True, slots=True)
class ActionStep:
    event: str | None = None
    properties: PropertyGroup = EMPTY_GROUP
    url: str | None = None
    url_matching: str = "contains"
    text: str | None = None
    text_matching: str = "exact"
    href: str | None = None
    href_matching: str = "exact"
    selector: str | None = None
    tag_name: str | None = None


@dataclass(frozen=True, slots=True)
class ActionDef:
    id: int
    name: str
    steps: tuple[ActionStep, ...]

    @property
    def uses_persons(self) -> bool:
        return any(uses_persons(step.properties) for step in self.steps)

    def regexes(self) -> list[str]:
        found = []
        for step in self.steps:
            if step.url and step.url_matching == "regex":
                found.append(step.url)
            for value, matching in ((step.text, step.text_matching), (step.href, step.href_matching)):
                if value and matching == "regex":
                    found.append(value)
        return found


def _matching_operator(matching: str) -> str:
    return {"contains": "icontains", "regex": "regex"}.get(matching, "exact")


def step_condition(step: ActionStep, timezone: str) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    if step.event:
        parts.append(EVENTS.c.event == literal(step.event, String))
    if step.url:
        url = prop_text("event", "$current_url")
        if step.url_matching == "exact":
            parts.append(url == literal(step.url, String))
        elif step.url_matching == "regex":
            parts.append(url.bool_op("~")(literal(step.url, String)))
        else:
            parts.append(url.like(literal(f"%{like_escape(step.url)}%", String), escape="\\"))
    for key, value, matching in (
        ("text", step.text, step.text_matching),
        ("href", step.href, step.href_matching),
        ("selector", step.selector, "exact"),
        ("tag_name", step.tag_name, "exact"),
    ):
        if value:
            parts.append(
                element_condition(PropertyFilter("element", key, _matching_operator(matching), value))
            )
    if (props := group_condition(step.properties, timezone)) is not None:
        parts.append(props)
    return and_(*parts) if parts else literal(True)


def action_condition(action: ActionDef, timezone: str) -> ColumnElement[bool]:
    if not action.steps:
        return false()
    return or_(*(step_condition(step, timezone) for step in action.steps))


def action_from_json(action_id: int, name: str, steps: list[Mapping[str, Any]]) -> ActionDef:
    """Steps as stored (already validated on write) → ActionDef."""
    from app.query.normalize import properties_from_json

    parsed = []
    for i, raw in enumerate(steps):
        parsed.append(
            ActionStep(
                event=raw.get("event"),
                properties=properties_from_json(raw.get("properties") or [], f"steps__{i}__properties"),
                url=raw.get("url") or None,
                url_matching=raw.get("url_matching") or "contains",
                text=raw.get("text") or None,
                text_matching=raw.get("text_matching") or "exact",
                href=raw.get("href") or None,
                href_matching=raw.get("href_matching") or "exact",
                selector=raw.get("selector") or None,
                tag_name=raw.get("tag_name") or None,
            )
        )
    return ActionDef(id=action_id, name=name, steps=tuple(parsed))
