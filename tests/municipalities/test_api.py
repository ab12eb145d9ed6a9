"""Every municipality of Japan is known; staff, roles and system clients stay where we serve."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.auth import service as auth_service
from backend.municipalities import service as municipality_service
from tests.auth.test_roles_api import DASHBOARD

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
MUNICIPALITIES = (OPERATIONS / "Municipalities.graphql").read_text(encoding="utf-8")
ONE = """
query($code: String!) { municipality(code: $code) {
  code localGovernmentCode prefectureCode prefectureNameJa nameJa nameKana nameEn
  designatedCityCode served hasBoundary } }"""
GRANT = """
mutation($input: RoleGrantInput!) {
  grantRole(input: $input) {
    grant { subject } errors { code field message messageJa } } }"""
REGISTER = """
mutation($input: RegisterSystemClientInput!) {
  registerSystemClient(input: $input) { client { clientId } errors { code field messageJa } } }"""
VIEWER = "{ viewer { roles { role municipalityCode } } }"
AOBA = "04101"  # 仙台市青葉区: a ward of a designated city in Miyagi, not served by default


async def admin_of(session, code: str, subject: str = "admin") -> None:  # type: ignore[no-untyped-def]
    await auth_service.grant_role(
        session, None, subject=subject, role="city_admin", municipality_code=code
    )
    await session.commit()


async def test_the_picker_lists_fukushima_by_default_all_served(gql) -> None:  # type: ignore[no-untyped-def]
    # when the app asks for municipalities without arguments
    rows = (await gql(MUNICIPALITIES))["data"]["municipalities"]

    # then it gets Fukushima's 59, all served, with their hand-written kana and English names
    assert len(rows) == 59
    assert all(row["served"] and row["prefectureNameJa"] == "福島県" for row in rows)
    aizu = next(row for row in rows if row["code"] == "07202")
    assert aizu == {
        "code": "07202",
        "localGovernmentCode": "072028",
        "prefectureNameJa": "福島県",
        "nameJa": "会津若松市",
        "nameKana": "あいづわかまつし",
        "nameEn": "Aizuwakamatsu",
        "served": True,
    }


async def test_every_municipality_of_japan_is_known(gql) -> None:  # type: ignore[no-untyped-def]
    # when the whole country is asked for
    rows = (await gql(MUNICIPALITIES, {"prefectureCode": None}))["data"]["municipalities"]

    # then every municipality of the national code table is there, designated-city wards too
    by_code = {row["code"]: row for row in rows}
    assert len(rows) == 1918
    assert len({row["prefectureNameJa"] for row in rows}) == 47
    assert by_code["13101"]["nameJa"] == "千代田区"  # a special ward of Tokyo is a municipality
    assert by_code["04100"]["nameKana"] == "せんだいし"
    assert by_code["04100"]["nameEn"] is None  # no English name is made up outside Fukushima
    assert sum(row["served"] for row in rows) == 59

    # and served-only keeps Fukushima's
    served = await gql(MUNICIPALITIES, {"prefectureCode": None, "servedOnly": True})
    assert {row["code"][:2] for row in served["data"]["municipalities"]} == {"07"}
    assert len(served["data"]["municipalities"]) == 59


@pytest.mark.parametrize("code", ["04101", "041017"])
async def test_a_ward_of_sendai_by_5_or_6_digit_code(gql, code: str) -> None:  # type: ignore[no-untyped-def]
    body = await gql(ONE, {"code": code})
    assert body["data"]["municipality"] == {
        "code": "04101",
        "localGovernmentCode": "041017",
        "prefectureCode": "04",
        "prefectureNameJa": "宮城県",
        "nameJa": "仙台市青葉区",
        "nameKana": None,  # JMA's table, the only kana source here, lists 仙台市 as a whole
        "nameEn": None,
        "designatedCityCode": "04100",
        "served": False,
        "hasBoundary": False,
    }
    # a well-formed code that names nothing, or a wrong check digit, is null
    assert (await gql(ONE, {"code": "04199"}))["data"]["municipality"] is None
    assert (await gql(ONE, {"code": "041018"}))["data"]["municipality"] is None


async def test_roles_are_granted_in_served_municipalities_only(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    # given a city admin of 会津若松市
    await admin_of(session, "07202")

    # when they try to grant a role in Sendai's 青葉区
    body = await gql(
        GRANT,
        {"input": {"subject": "helper", "role": "CITY_STAFF", "municipalityCode": "041017"}},
        token=token("admin"),
    )

    # then it is a validation error on the field they sent, in both languages, and nothing is
    # written
    [error] = body["data"]["grantRole"]["errors"]
    assert (error["code"], error["field"]) == ("VALIDATION", "municipalityCode")
    assert "04101" in error["message"] and "not served" in error["message"]
    assert error["messageJa"] == "宮城県仙台市青葉区はこのサービスの対象市区町村ではありません"
    assert await auth_service.list_grants_for_subject(session, "helper") == []
    # the operator at the CLI is refused the same way (the service behind `kizuna grant-role`)
    with pytest.raises(municipality_service.MunicipalityNotServed):
        await auth_service.grant_role(
            session, None, subject="helper", role="city_staff", municipality_code=AOBA
        )


async def test_system_clients_register_in_served_municipalities_only(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    await admin_of(session, "07202")
    client = {"clientId": "sendai-care", "nameJa": "仙台ケア", "nameEn": "Sendai Care"}
    body = await gql(
        REGISTER,
        {"input": {**client, "municipalityCode": AOBA, "purposes": ["care_linkage"]}},
        token=token("admin"),
    )
    assert body["data"]["registerSystemClient"] == {
        "client": None,
        "errors": [
            {
                "code": "VALIDATION",
                "field": "municipalityCode",
                "messageJa": "宮城県仙台市青葉区はこのサービスの対象市区町村ではありません",
            }
        ],
    }


async def test_identity_provider_roles_count_in_served_municipalities_only(gql, token) -> None:  # type: ignore[no-untyped-def]
    # given a token whose role claims name Sendai's ward, and 会津若松市 in the 6-digit form
    bearer = token("claims", roles=[("city_staff", AOBA), ("city_staff", "072028")])

    # then only the served one is held, under its 5-digit code
    body = await gql(VIEWER, token=bearer)
    assert body["data"]["viewer"]["roles"] == [{"role": "CITY_STAFF", "municipalityCode": "07202"}]
    assert "errors" not in await gql(DASHBOARD, {"code": "07202"}, token=bearer)
    # and the unserved municipality's dashboard says why it is refused
    body = await gql(DASHBOARD, {"code": AOBA}, token=bearer, expect_errors=True)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert body["errors"][0]["extensions"]["field"] == "code"


async def test_dashboard_counts_who_lives_where(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    # given a boundary of 会津若松市 and a resident whose home lies in it
    await import_aizu_boundary(session)
    resident = token("counted")
    await gql(
        'mutation { addPlace(input: {kind: HOME, label: "家", latitude: 37.4947,'
        " longitude: 139.9297}) { errors { code } } }",
        token=resident,
    )
    await gql(
        'mutation { addPlace(input: {kind: WORKPLACE, label: "職場", latitude: 37.49,'
        " longitude: 139.93}) { errors { code } } }",
        token=resident,
    )
    await admin_of(session, "07202", subject="counter")

    # when staff open the dashboard (now answered by the residents domain)
    body = await gql(DASHBOARD, {"code": "072028"}, token=token("counter"))

    # then the same field, arguments and result as before
    assert body["data"]["municipalityDashboard"] == {
        "municipality": {"code": "07202"},
        "registeredResidents": 1,
        "homes": 1,
        "savedPlaces": 2,
    }
    body = await gql(DASHBOARD, {"code": "99999"}, token=token("counter"), expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def import_aizu_boundary(session) -> None:  # type: ignore[no-untyped-def]
    from tests.shared_data import require_shared

    await municipality_service.import_boundary(session, require_shared("boundaries", "07202.json"))
    await session.commit()


async def test_served_municipalities_follow_the_configuration(gql, session) -> None:  # type: ignore[no-untyped-def]
    # given an installation configured for all of Fukushima plus the city of Sendai
    written = await municipality_service.sync_reference(session, served_selection=["07", "041009"])
    await session.commit()

    # then Sendai and its five wards are served as well, and only those rows were written
    assert written == 6
    body = await gql(MUNICIPALITIES, {"prefectureCode": "04", "servedOnly": True})
    assert [row["code"] for row in body["data"]["municipalities"]] == [
        "04100",
        "04101",
        "04102",
        "04103",
        "04104",
        "04105",
    ]
    # a database in step writes nothing
    assert await municipality_service.sync_reference(session, served_selection=["07", "04100"]) == 0
    with pytest.raises(ValueError, match="not a prefecture or municipality code of Japan: 48"):
        await municipality_service.sync_reference(session, served_selection=["48"])
