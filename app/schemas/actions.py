"""ORM → wire mapper for actions (PostHog's ActionSerializer shape)."""

from __future__ import annotations

from typing import Any

from app.models import Action
from app.schemas.generated import actions as wire


def action_out(action: Action) -> wire.Action:
    creator = action.created_by
    return wire.Action(
        id=action.id,
        name=action.name,
        description=action.description,
        tags=[],  # not stored yet (see app/services/actions.py)
        post_to_slack=action.post_to_slack,
        slack_message_format=action.slack_message_format,
        steps=[_step_out(step) for step in action.steps],
        created_at=action.created_at,
        created_by=wire.ActionUser(
            id=creator.id,
            uuid=creator.uuid,
            distinct_id=creator.distinct_id,
            first_name=creator.first_name,
            last_name=creator.last_name,
            email=creator.email,
        )
        if creator is not None
        else None,
        deleted=action.deleted,
        is_calculating=False,
        last_calculated_at=action.updated_at,
        team_id=action.team_id,
        is_action=True,
        bytecode_error=None,
        pinned_at=action.pinned_at,
        creation_context=None,
    )


def _step_out(step: dict[str, Any]) -> wire.ActionStepOut:
    """Every step key, null when unset (steps written before validation may lack some)."""
    return wire.ActionStepOut.model_validate(
        {field: step.get(field) for field in wire.ActionStepOut.model_fields}
        | {"properties": step.get("properties") or []}
    )
