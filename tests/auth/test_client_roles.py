"""Role grants in the database belong to residents: a system client never inherits them.

Grants are keyed by subject; a client-credentials token whose subject is the same string
as a staff member's (another namespace of the identity provider) got that staff role.
"""

from __future__ import annotations

from typing import Any

from backend.auth import service as auth_service
from tests.conftest import GraphQLClient

VIEWER = "{ viewer { kind clientId roles { role municipalityCode } } }"
DASHBOARD = '{ municipalityDashboard(code: "07202") { registeredResidents } }'


async def test_database_roles_belong_to_residents_only(
    gql: GraphQLClient, token: Any, session: Any
) -> None:
    # given a staff grant for the subject "staff-7"
    await auth_service.grant_role(
        session, None, subject="staff-7", role="city_staff", municipality_code="07202"
    )
    await session.commit()
    # when a system client whose token has the same subject calls
    client = token("staff-7", client_id="care-app")
    body = await gql(VIEWER, token=client)
    # then it holds no role, and staff data is refused
    assert body["data"]["viewer"] == {"kind": "SYSTEM_CLIENT", "clientId": "care-app", "roles": []}
    body = await gql(DASHBOARD, token=client, expect_errors=True)
    assert body["data"] is None
    # while the resident with that subject does hold it
    body = await gql(VIEWER, token=token("staff-7"))
    assert body["data"]["viewer"]["roles"] == [{"role": "CITY_STAFF", "municipalityCode": "07202"}]
