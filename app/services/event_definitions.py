"""Event definitions: the list (term search, type, tags, ordering), metadata edits with PostHog's
rules, metrics computed from the events and insights, bulk tags. Writes flush; the request commits.

Rules: a definition is never both hidden and verified (hiding un-verifies, verifying un-hides);
verifying stamps `verified_at`/`verified_by`, un-verifying clears them; names are unique per project.
Every change is in the activity log (scope `EventDefinition`, verbs created / changed / deleted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, ValidationError
from app.models import EventDefinition, Project, User
from app.models.base import utcnow
from app.repositories import definitions as repository
from app.repositories import identity
from app.repositories.definitions import DefinitionFilters, EventRow
from app.schemas.generated.definitions import BulkUpdateTagsUUID, EventDefinitionWrite
from app.schemas.insights import user_basic
from app.services import activity
from app.services.definition_params import boolean, json_names, object_id, search_tokens
from app.services.tags import apply_tag_action, normalize_tags, validate_bulk_request

SCOPE = "EventDefinition"
EVENT_TYPES = ("event", "event_custom", "event_posthog", "all", "action_event")
TRACKED_FIELDS = (
    "name", "owner", "description", "tags", "verified", "hidden", "enforcement_mode", "post_to_slack",
    "default_columns",
)  # fmt: skip
NULLABLE_FIELDS = frozenset({"description", "owner"})
METRICS_WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class ListParams:
    search: str | None = None
    event_type: str | None = None
    exclude_hidden: str | None = None
    verified: str | None = None
    names: str | None = None
    excluded_names: str | None = None
    tags: str | None = None
    ordering: tuple[str, ...] = ()


def _ordering(raw: tuple[str, ...]) -> tuple[tuple[str, bool], ...]:
    """Repeated or comma-joined `ordering` values; unknown fields are ignored (as PostHog)."""
    values = (part.strip() for item in raw for part in item.split(","))
    fields = [
        (v.lstrip("-"), v.startswith("-")) for v in values if v.lstrip("-") in repository.ORDERING_FIELDS
    ]
    return tuple(fields) or DefinitionFilters().ordering


def parse_filters(params: ListParams) -> DefinitionFilters:
    event_type = params.event_type or "event"
    if event_type not in EVENT_TYPES:
        raise ValidationError(
            f"Not a valid event type. Use one of: {', '.join(EVENT_TYPES)}.",
            code="invalid_choice",
            attr="event_type",
        )
    # PostHog's list never read the actions table: `all` and `action_event` list event definitions.
    posthog_events = {"event_custom": False, "event_posthog": True}.get(event_type)
    tags = json_names(params.tags, "tags") if params.tags else ()
    return DefinitionFilters(
        tokens=search_tokens(params.search),
        posthog_events=posthog_events,
        exclude_hidden=boolean(params.exclude_hidden) is True,
        verified=boolean(params.verified),
        names=json_names(params.names, "names"),
        excluded_names=json_names(params.excluded_names, "excluded_properties"),
        tags=tuple(t.strip().lower() for t in tags),
        ordering=_ordering(params.ordering),
    )


def serialize(row: EventRow) -> dict[str, Any]:
    definition, owner, updater, verifier = row
    return {
        "id": str(definition.id),
        "name": definition.name,
        "owner": user_basic(owner),
        "description": definition.description,
        "tags": list(definition.tags or []),
        "created_at": definition.created_at,
        "updated_at": definition.updated_at,
        "updated_by": user_basic(updater),
        "last_seen_at": definition.last_seen_at,
        "last_updated_at": definition.updated_at or definition.created_at,
        "verified": definition.verified,
        "verified_at": definition.verified_at,
        "verified_by": user_basic(verifier),
        "hidden": definition.hidden,
        "enforcement_mode": definition.enforcement_mode,
        "is_action": False,
        "action_id": None,
        "is_calculating": False,
        "last_calculated_at": None,
        "created_by": None,
        "post_to_slack": definition.post_to_slack,
        "default_columns": list(definition.default_columns or []),
        "media_preview_urls": [],
    }


async def page(
    session: AsyncSession, project: Project, params: ListParams, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    count, rows = await repository.event_page(session, project.id, parse_filters(params), limit, offset)
    return count, [serialize(row) for row in rows]


async def get(session: AsyncSession, project: Project, raw_id: str) -> EventRow:
    row = await repository.event_row(session, project.id, definition_id=object_id(raw_id))
    if row is None:
        raise NotFound()
    return row


async def by_name(session: AsyncSession, project: Project, name: str | None) -> EventRow:
    if not name:
        raise ValidationError("This field is required.", code="required", attr="name")
    row = await repository.event_row(session, project.id, name=name)
    if row is None:
        raise NotFound()
    return row


def _state(definition: EventDefinition) -> dict[str, Any]:
    return {
        "name": definition.name,
        "owner": definition.owner_id,
        "description": definition.description,
        "tags": list(definition.tags or []),
        "verified": definition.verified,
        "hidden": definition.hidden,
        "enforcement_mode": definition.enforcement_mode,
        "post_to_slack": definition.post_to_slack,
        "default_columns": list(definition.default_columns or []),
    }


async def _apply(
    session: AsyncSession,
    project: Project,
    user: User,
    definition: EventDefinition,
    body: EventDefinitionWrite,
) -> None:
    # Only description and owner can be cleared; a null anywhere else leaves the field as it is.
    fields = {
        name: value
        for name, value in body.model_dump(exclude_unset=True).items()
        if value is not None or name in NULLABLE_FIELDS
    }
    if fields.get("hidden") and fields.get("verified"):
        raise ValidationError("An event cannot be both hidden and verified")
    owner = fields.get("owner")
    if owner is not None and not await identity.is_member(session, owner, project.organization_id):
        raise ValidationError("The owner must be a member of the project's organization.", attr="owner")
    now = utcnow()
    if "name" in fields:
        definition.name = fields["name"]
    if "owner" in fields:
        definition.owner_id = fields["owner"]
    if "description" in fields:
        definition.description = fields["description"]
    if "tags" in fields:
        definition.tags = normalize_tags(fields["tags"])
    for name in ("enforcement_mode", "post_to_slack"):
        if name in fields:
            setattr(definition, name, fields[name])
    if "default_columns" in fields:
        definition.default_columns = list(dict.fromkeys(fields["default_columns"]))
    if fields.get("verified") is True and not definition.verified:
        definition.verified, definition.verified_at, definition.verified_by_id = True, now, user.id
        definition.hidden = False
    elif fields.get("verified") is False:
        definition.verified, definition.verified_at, definition.verified_by_id = False, None, None
    if fields.get("hidden") is True:
        definition.hidden = True
        definition.verified, definition.verified_at, definition.verified_by_id = False, None, None
    elif fields.get("hidden") is False:
        definition.hidden = False
    definition.updated_at, definition.updated_by_id = now, user.id


async def _flush_unique(session: AsyncSession, name: str) -> None:
    try:
        await session.flush()
    except IntegrityError:
        raise ValidationError(f"Event definition with name '{name}' already exists", attr="name") from None


async def create(session: AsyncSession, project: Project, user: User, body: EventDefinitionWrite) -> EventRow:
    """A definition ingestion has not seen yet (`last_seen_at` null until its first event)."""
    if body.name is None:
        raise ValidationError("This field is required.", code="required", attr="name")
    if await repository.event_name_taken(session, project.id, body.name):
        raise ValidationError(f"Event definition with name '{body.name}' already exists", attr="name")
    definition = EventDefinition(team_id=project.id, name=body.name, tags=[], default_columns=[])
    await _apply(session, project, user, definition, body)
    session.add(definition)
    await _flush_unique(session, body.name)
    _log(session, project, user, definition, "created", None)
    return await get(session, project, str(definition.id))


async def update(
    session: AsyncSession, project: Project, user: User, raw_id: str, body: EventDefinitionWrite
) -> EventRow:
    definition = (await get(session, project, raw_id))[0]
    before = _state(definition)
    renamed = body.name is not None and body.name != definition.name
    if renamed and await repository.event_name_taken(session, project.id, body.name or ""):
        raise ValidationError(f"Event definition with name '{body.name}' already exists", attr="name")
    await _apply(session, project, user, definition, body)
    await _flush_unique(session, definition.name)
    after = _state(definition)
    _log(
        session, project, user, definition, "changed", activity.changes(SCOPE, before, after, TRACKED_FIELDS)
    )
    return await get(session, project, raw_id)


async def delete(session: AsyncSession, project: Project, user: User, raw_id: str) -> None:
    """Hard delete (PostHog's); ingestion recreates the definition if the event is seen again."""
    definition = (await get(session, project, raw_id))[0]
    _log(session, project, user, definition, "deleted", None)
    await session.delete(definition)
    await session.flush()


def _log(
    session: AsyncSession,
    project: Project,
    user: User,
    definition: EventDefinition,
    verb: str,
    changes: list[dict[str, Any]] | None,
) -> None:
    activity.record(
        session,
        team_id=project.id,
        user=user,
        scope=SCOPE,
        item_id=str(definition.id),
        activity=verb,
        name=definition.name,
        entry_changes=changes,
    )


async def metrics(
    session: AsyncSession, project: Project, raw_id: str, now: datetime | None = None
) -> dict[str, Any]:
    """Volume and last-seen from the events, usage from the project's live insights."""
    definition = (await get(session, project, raw_id))[0]
    now = now or utcnow()
    since = now - METRICS_WINDOW
    volume, latest = await repository.event_volume(session, project.id, definition.name, since, now)
    insights, recently_used = await repository.insight_usage(session, project.id, definition.name, since)
    return {
        "query_usage_30_day": recently_used,
        "volume_30_day": volume,
        "last_seen_at": latest or definition.last_seen_at,
        "insight_count": insights,
    }


async def bulk_update_tags(
    session: AsyncSession, project: Project, user: User, body: BulkUpdateTagsUUID
) -> dict[str, Any]:
    ids = list(dict.fromkeys(body.ids))
    tags = normalize_tags(body.tags)
    validate_bulk_request(list(ids), body.action, tags)
    found = await repository.events_for_update(session, project.id, ids)
    updated, skipped = [], []
    now = utcnow()
    for definition_id in ids:
        definition = found.get(definition_id)
        if definition is None:
            skipped.append({"id": str(definition_id), "reason": "Not found"})
            continue
        new_tags = apply_tag_action(definition.tags or [], body.action, tags)
        if new_tags != list(definition.tags or []):
            changes = activity.changes(SCOPE, {"tags": definition.tags}, {"tags": new_tags}, ["tags"])
            _log(session, project, user, definition, "changed", changes)
            definition.tags, definition.updated_at, definition.updated_by_id = new_tags, now, user.id
        updated.append({"id": str(definition.id), "tags": new_tags})
    await session.flush()
    return {"updated": updated, "skipped": skipped}
