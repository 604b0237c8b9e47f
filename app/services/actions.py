"""Actions: creation and updates (including soft delete and pinning), with the rules of PostHog's
ActionSerializer.

- Names are unique among a project's *non-deleted* actions (400, code `unique`).
- There is no DELETE: `deleted: true` hides an action from lists and queries; `false` restores it.
- A non-empty `pinned_at` pins the action at the server's time (an existing pin is kept); null or ""
  unpins it.
- Steps are validated the way the query engine will read them (property filters, selectors, regexes
  compiled by Postgres), so a stored action can't make a query fail later.
- `tags` are validated but not stored: the actions table has no tags column yet (PostHog without the
  tagging feature behaves the same way: it returns `[]`).

Services flush, never commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationError
from app.models import Action, Project, User
from app.models.base import utcnow
from app.query import normalize
from app.query.elements import selector_regex
from app.repositories import actions as repository
from app.schemas.generated.actions import ActionCreate, ActionPatch, ActionStep
from app.services.tags import normalize_tags

STEP_TEXT_FIELDS = ("event", "selector", "tag_name", "text", "href", "url")
MATCHING_FIELDS = ("text_matching", "href_matching", "url_matching")
NULLABLE = frozenset({"pinned_at"})


def _step(step: ActionStep, attr: str) -> dict[str, Any]:
    """A step as stored: exactly the ten known keys, validated."""
    stored: dict[str, Any] = {}
    for field in STEP_TEXT_FIELDS:
        value = getattr(step, field)
        stored[field] = normalize.check_text(value, f"{attr}__{field}") if value is not None else None
    for field in MATCHING_FIELDS:
        value = getattr(step, field)
        stored[field] = value.root if value is not None else None
    stored["properties"] = step.properties or []
    normalize.properties_from_json(stored["properties"], f"{attr}__properties")
    if stored["selector"]:
        try:
            selector_regex(stored["selector"])
        except ValidationError as exc:
            raise ValidationError(exc.detail, attr=f"{attr}__selector") from None
    return stored


def _regexes(steps: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(pattern, attr) of every regex the engine would compile for these steps."""
    found = []
    for i, step in enumerate(steps):
        found += [
            (step[field], f"steps__{i}__{field}")
            for field in ("url", "text", "href")
            if step[field] and step[f"{field}_matching"] == "regex"
        ]
        group = normalize.properties_from_json(step["properties"], f"steps__{i}__properties")
        found += [(pattern, f"steps__{i}__properties") for pattern, _ in normalize.regexes(group)]
    return found


async def _validated_steps(session: AsyncSession, steps: list[ActionStep]) -> list[dict[str, Any]]:
    stored = [_step(step, f"steps__{i}") for i, step in enumerate(steps)]
    for pattern, attr in _regexes(stored):
        if not await repository.is_valid_regex(session, pattern):
            raise ValidationError(
                f"Invalid regular expression: {pattern[:100]!r}.", code="invalid_regex", attr=attr
            )
    return stored


def _name(value: str) -> str:
    name = normalize.check_text(value.strip(), "name", max_length=400)
    if not name:
        raise ValidationError("This field may not be blank.", code="blank", attr="name")
    return name


async def _check_unique_name(session: AsyncSession, action: Action) -> None:
    if action.deleted:
        return
    taken = await repository.live_action_named(session, action.team_id, action.name, action.id)
    if taken is not None:
        raise ValidationError(
            f"This project already has an action with this name, ID {taken}", code="unique", attr="name"
        )


async def _apply(
    session: AsyncSession, action: Action, changes: dict[str, Any], steps: list[ActionStep] | None
) -> None:
    for field, value in changes.items():
        if value is None and field not in NULLABLE:
            raise ValidationError("This field may not be null.", code="null", attr=field)
    if "name" in changes:
        action.name = _name(changes["name"])
    for field in ("description", "slack_message_format"):
        if field in changes:
            setattr(action, field, normalize.check_text(changes[field], field))
    if "post_to_slack" in changes:
        action.post_to_slack = changes["post_to_slack"]
    if "deleted" in changes:
        action.deleted = changes["deleted"]
    if "tags" in changes:
        normalize_tags(changes["tags"])
    if "steps" in changes:
        action.steps = await _validated_steps(session, steps or [])
    if "pinned_at" in changes:
        action.pinned_at = (action.pinned_at or utcnow()) if changes["pinned_at"] else None


def _known_changes(body: ActionPatch | ActionCreate) -> dict[str, Any]:
    """Fields the client sent, without the ones DRF would ignore (read-only or unknown)."""
    return body.model_dump(exclude_unset=True, include=set(type(body).model_fields))


async def create(session: AsyncSession, project: Project, user: User, body: ActionCreate) -> Action:
    action = Action(team_id=project.id, name="", steps=[], created_by=user)
    await _apply(session, action, _known_changes(body), body.steps)
    await _check_unique_name(session, action)
    session.add(action)
    await session.flush()
    return action


async def update(session: AsyncSession, action: Action, body: ActionPatch | ActionCreate) -> Action:
    """PATCH, or PUT with a full body (DRF's PUT also leaves fields that are not sent unchanged)."""
    changes = _known_changes(body)
    await _apply(session, action, changes, body.steps)
    if {"name", "deleted"} & changes.keys():
        await _check_unique_name(session, action)
    await session.flush()
    await session.refresh(action, ["updated_at"])
    return action
