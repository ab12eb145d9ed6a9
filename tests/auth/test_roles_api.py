"""Staff roles are granted per municipality; acting outside it is refused."""

from __future__ import annotations

import pytest

from backend.auth import service as auth_service

DASHBOARD = """
query($code: String!) {
  municipalityDashboard(code: $code) { municipality { code } registeredResidents homes savedPlaces }
}"""
GRANT = """
mutation($input: RoleGrantInput!) {
  grantRole(input: $input) { grant { subject role municipalityCode } errors { code field message } }
}"""
REVOKE = """
mutation($input: RoleGrantInput!) { revokeRole(input: $input) { revoked errors { code } } }
"""
GRANTS = """
query($code: String!, $first: Int, $after: String) {
  roleGrants(municipalityCode: $code, first: $first, after: $after) {
    edges { cursor node { subject role } } pageInfo { hasNextPage endCursor }
  }
}"""


async def grant(session, subject: str, role: str, code: str) -> None:  # type: ignore[no-untyped-def]
    await auth_service.grant_role(session, None, subject=subject, role=role, municipality_code=code)
    await session.commit()


async def test_staff_sees_own_municipality_dashboard_only(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    # given a staff member of 会津若松市 (granted in the database) and a resident living there
    await grant(session, "staff-aizu", "city_staff", "07202")
    resident = token("resident-a")
    await gql(
        'mutation { updateProfile(input: {municipalityCode: "07202"}) { errors { code } } }',
        token=resident,
    )
    await gql(
        'mutation { addPlace(input: {kind: HOME, label: "家", latitude: 37.49, longitude: 139.93})'
        " { errors { code } } }",
        token=resident,
    )
    staff = token("staff-aizu")
    # when they open their dashboard
    body = await gql(DASHBOARD, {"code": "07202"}, token=staff)
    dashboard = body["data"]["municipalityDashboard"]
    assert dashboard["municipality"] == {"code": "07202"}
    assert dashboard["registeredResidents"] >= 1
    # then another municipality's dashboard is refused
    body = await gql(DASHBOARD, {"code": "07201"}, token=staff, expect_errors=True)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_PERMITTED"


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        ([], False),
        ([("shelter_manager", "07202")], False),
        ([("community_leader", "07202")], False),
        ([("city_staff", "07201")], False),
        ([("city_staff", "07202")], True),
        ([("city_admin", "07202")], True),
    ],
)
async def test_dashboard_by_role_claims(gql, token, roles, allowed) -> None:  # type: ignore[no-untyped-def]
    body = await gql(
        DASHBOARD, {"code": "07202"}, token=token("x", roles=roles), expect_errors=True
    )
    assert ("errors" not in body) is allowed
    if not allowed:
        assert body["errors"][0]["extensions"]["code"] == "NOT_PERMITTED"


async def test_anonymous_dashboard_is_an_authentication_error(gql) -> None:  # type: ignore[no-untyped-def]
    body = await gql(DASHBOARD, {"code": "07202"}, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_viewer_lists_database_and_token_roles(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    await grant(session, "multi", "shelter_manager", "07202")
    body = await gql(
        "{ viewer { kind roles { role municipalityCode } } }",
        token=token("multi", roles=[("city_staff", "07203")]),
    )
    assert body["data"]["viewer"] == {
        "kind": "RESIDENT",
        "roles": [
            {"role": "SHELTER_MANAGER", "municipalityCode": "07202"},
            {"role": "CITY_STAFF", "municipalityCode": "07203"},
        ],
    }


async def test_city_admin_grants_within_own_municipality_only(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    await grant(session, "admin-aizu", "city_admin", "07202")
    admin = token("admin-aizu")
    # granting in the own municipality works, and the new staff member can act there at once
    body = await gql(
        GRANT,
        {"input": {"subject": "new-staff", "role": "CITY_STAFF", "municipalityCode": "07202"}},
        token=admin,
    )
    assert body["data"]["grantRole"] == {
        "grant": {"subject": "new-staff", "role": "CITY_STAFF", "municipalityCode": "07202"},
        "errors": [],
    }
    assert "errors" not in await gql(DASHBOARD, {"code": "07202"}, token=token("new-staff"))
    # granting in another municipality is refused and writes nothing
    body = await gql(
        GRANT,
        {"input": {"subject": "new-staff", "role": "CITY_ADMIN", "municipalityCode": "07201"}},
        token=admin,
    )
    assert body["data"]["grantRole"]["errors"][0]["code"] == "NOT_PERMITTED"
    roles = await auth_service.list_grants_for_subject(session, "new-staff")
    assert [(r.role, r.municipality_code) for r in roles] == [("city_staff", "07202")]
    # a city_staff cannot grant at all
    body = await gql(
        GRANT,
        {"input": {"subject": "friend", "role": "CITY_ADMIN", "municipalityCode": "07202"}},
        token=token("new-staff"),
    )
    assert body["data"]["grantRole"]["errors"][0]["code"] == "NOT_PERMITTED"
    # revoking takes effect for the next request
    body = await gql(
        REVOKE,
        {"input": {"subject": "new-staff", "role": "CITY_STAFF", "municipalityCode": "07202"}},
        token=admin,
    )
    assert body["data"]["revokeRole"] == {"revoked": True, "errors": []}
    body = await gql(DASHBOARD, {"code": "07202"}, token=token("new-staff"), expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "NOT_PERMITTED"


async def test_grant_validation(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    await grant(session, "admin-v", "city_admin", "07202")
    body = await gql(
        GRANT,
        {"input": {"subject": "", "role": "CITY_STAFF", "municipalityCode": "07202"}},
        token=token("admin-v"),
    )
    assert body["data"]["grantRole"]["errors"][0]["field"] == "subject"
    body = await gql(
        GRANT,
        {"input": {"subject": "s", "role": "CITY_STAFF", "municipalityCode": "00000"}},
        token=token("admin-v"),
    )
    assert body["data"]["grantRole"]["errors"][0]["code"] == "NOT_FOUND"


async def test_role_grants_are_paginated_for_admins(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    await grant(session, "admin-p", "city_admin", "07202")
    for i in range(5):
        await grant(session, f"staff-{i}", "city_staff", "07202")
    await grant(session, "elsewhere", "city_staff", "07203")
    admin = token("admin-p")
    subjects: list[str] = []
    after = None
    while True:
        body = await gql(GRANTS, {"code": "07202", "first": 2, "after": after}, token=admin)
        connection = body["data"]["roleGrants"]
        subjects += [edge["node"]["subject"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert "elsewhere" not in subjects
    assert {"admin-p", *(f"staff-{i}" for i in range(5))} <= set(subjects)
    assert len(subjects) == len(set(subjects))
    # other municipalities' lists, bad cursors and page sizes are refused
    body = await gql(GRANTS, {"code": "07203"}, token=admin, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "NOT_PERMITTED"
    body = await gql(GRANTS, {"code": "07202", "after": "!!"}, token=admin, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
    body = await gql(GRANTS, {"code": "07202", "first": 1000}, token=admin, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
