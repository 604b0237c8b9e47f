"""Schemathesis against the served `/openapi.json`: every operation, both URL prefixes, authenticated.

No 5xx, and every response conforms to the schema we publish (status codes, content types, bodies).
Path parameters naming the project are pinned to the test project so cases reach the handlers.
"""

from __future__ import annotations

import httpx
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.main import create_app
from app.settings import Settings
from tests.conftest import LiveServer
from tests.factories.identity import Team

MAX_EXAMPLES = 25


# The document is built from the app without serving it; calls go to the live server, which serves
# the same document at /openapi.json (checked below).
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


def test_served_schema_is_the_fuzzed_one(live_server: LiveServer) -> None:
    # Building the document on its first request takes seconds on a busy 2-core machine.
    assert httpx.get(f"{live_server.url}/openapi.json", timeout=60).json() == schema.raw_schema


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms(case: schemathesis.Case, team: Team, live_server: LiveServer) -> None:
    for name in ("project_id", "environment_id"):
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = str(team.id)
    # Semantic rules (membership of a scoped organization, existing ids…) legitimately reject some
    # schema-valid bodies with 400, so "schema-valid request rejected" is not a failure here.
    case.call_and_validate(
        base_url=live_server.url, headers=team.headers, excluded_checks=[positive_data_acceptance]
    )
