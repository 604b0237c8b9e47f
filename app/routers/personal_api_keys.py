"""`/api/personal_api_keys/`: the raw key is in the create response only; later reads show `mask_value`."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from app.deps import AuthDep, SessionDep, require_scope
from app.errors import NotFound
from app.repositories import identity
from app.schemas.generated.identity import PersonalAPIKey, PersonalAPIKeyCreate
from app.schemas.identity import personal_api_key_out
from app.services import identity as identity_service

router = APIRouter(prefix="/api/personal_api_keys", tags=["personal_api_keys"])


@router.get("", dependencies=[require_scope("personal_api_key:read")])
async def list_keys(auth: AuthDep, session: SessionDep) -> list[dict[str, Any]]:
    keys = await identity.keys_for_user(session, auth.user.id)
    return [personal_api_key_out(key).model_dump(mode="json", exclude={"value"}) for key in keys]


@router.post("", status_code=201, dependencies=[require_scope("personal_api_key:write")])
async def create_key(body: PersonalAPIKeyCreate, auth: AuthDep, session: SessionDep) -> PersonalAPIKey:
    key, raw = await identity_service.create_personal_api_key(session, auth.user, body)
    return personal_api_key_out(key, raw_value=raw)


@router.get("/{key_id}", dependencies=[require_scope("personal_api_key:read")])
async def retrieve_key(key_id: uuid.UUID, auth: AuthDep, session: SessionDep) -> dict[str, Any]:
    key = await identity.key_for_user(session, auth.user.id, key_id)
    if key is None:
        raise NotFound()
    return personal_api_key_out(key).model_dump(mode="json", exclude={"value"})


@router.delete("/{key_id}", status_code=204, dependencies=[require_scope("personal_api_key:write")])
async def delete_key(key_id: uuid.UUID, request: Request, auth: AuthDep, session: SessionDep) -> Response:
    secure_value = await identity_service.delete_personal_api_key(session, auth.user, key_id)
    request.app.state.principals.discard(secure_value)
    return Response(status_code=204)
