"""ORM models; importing this package registers every table on `Base.metadata`."""

from app.models.actions import Action
from app.models.base import Base
from app.models.definitions import EventDefinition, EventProperty, PropertyDefinition
from app.models.events import Event
from app.models.identity import Organization, OrganizationMembership, PersonalAPIKey, Project, User
from app.models.persons import Person, PersonDistinctId

__all__ = [
    "Action",
    "Base",
    "Event",
    "EventDefinition",
    "EventProperty",
    "Organization",
    "OrganizationMembership",
    "Person",
    "PersonDistinctId",
    "PersonalAPIKey",
    "Project",
    "PropertyDefinition",
    "User",
]
