"""The support-needed register through GraphQL: staff of the municipality only, typed edits
checked as imports are, links to residents, and every staff read of a linked person logged
where that person sees it. Every name here is synthetic (架空)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from backend.plans import register_service
from backend.plans.models import RegisterConsent
from backend.plans.register import EntryData, Reason
from backend.principal import Principal, PrincipalKind
from backend.residents import service as residents_service
from tests.conftest import GraphQLClient

STAFF = [("city_staff", "07202")]
ENTRY_FIELDS = """
  id registerNumber name kana birthDate gender address phone careLevel
  physicalDisabilityGrade intellectualDisability mentalDisabilityGrade intractableDisease
  intractableDiseaseName elderlyAlone elderlyHousehold otherReason consentStatus
  reasons { kind value } residentId suggestedResidentId
"""
REGISTER = (
    "query($code: String!, $filter: SupportRegisterFilter, $first: Int, $after: String) {"
    "  supportRegister(municipalityCode: $code, filter: $filter, first: $first, after: $after)"
    "  { edges { cursor node {" + ENTRY_FIELDS + "} } pageInfo { hasNextPage endCursor } } }"
)
UPDATE = (
    "mutation($input: UpdateSupportRegisterEntryInput!) { updateSupportRegisterEntry(input: "
    "$input) { entry {" + ENTRY_FIELDS + "} errors { code field message messageJa } } }"
)
CREATE = (
    "mutation($input: CreateSupportRegisterEntryInput!) { createSupportRegisterEntry(input: "
    "$input) { entry {" + ENTRY_FIELDS + "} errors { code field message messageJa } } }"
)
LINK = (
    "mutation($input: LinkSupportRegisterEntryInput!) { linkSupportRegisterEntry(input: "
    "$input) { entry { id residentId } errors { code field message messageJa } } }"
)
UNLINK = (
    "mutation($input: UnlinkSupportRegisterEntryInput!) { unlinkSupportRegisterEntry(input: "
    "$input) { entry { id residentId } errors { code field message messageJa } } }"
)
MINE = "{ mySupportRegisterEntry { registerNumber name careLevel consentStatus } }"
ACCESS_LOG = (
    "{ myDataAccessLog { edges { node { viewerSubject relationship purposeCode itemCodes } } } }"
)


async def _resident(
    session: AsyncSession,
    subject: str,
    *,
    name: tuple[str, str] = ("架空", "太郎"),
    birth: date | None = None,
    municipality: str | None = "07202",
) -> Any:
    resident = await residents_service.get_or_create_resident(
        session, Principal(kind=PrincipalKind.RESIDENT, subject=subject)
    )
    resident.family_name, resident.given_name = name
    resident.birth_date = birth
    resident.home_municipality_code = municipality
    await session.flush()
    return resident


@pytest.fixture
async def world(session: AsyncSession) -> dict[str, Any]:
    # given a register of three synthetic people in 07202, one in Fukushima city (07201)...
    entries = [
        EntryData(
            register_number="A-001",
            name="架空 花子",
            kana="かくう はなこ",
            birth_date=date(1940, 4, 1),
            gender="female",
            address="会津若松市架空町1",
            phone="0242-00-0001",
            reasons=(Reason("care_level", "要介護3"), Reason("elderly_alone")),
            consent_status=RegisterConsent.AGREED,
        ),
        EntryData(
            register_number="A-002",
            name="架空 次郎",
            birth_date=date(1950, 1, 2),
            reasons=(Reason("physical_disability", "2級"),),
        ),
        EntryData(register_number="A-003", name="見本 三郎", birth_date=date(1945, 5, 5)),
    ]
    await register_service.import_register(session, municipality_code="07202", entries=entries)
    await register_service.import_register(
        session,
        municipality_code="07201",
        entries=[EntryData(register_number="F-001", name="福島 架空")],
    )
    # ...and residents: Hanako (matching A-001), Jiro (matching A-002 twice over: ambiguous)
    hanako = await _resident(session, "reg-hanako", name=("架空", "花子"), birth=date(1940, 4, 1))
    for subject in ("reg-jiro-1", "reg-jiro-2"):
        await _resident(session, subject, name=("架空", "次郎"), birth=date(1950, 1, 2))
    away = await _resident(session, "reg-away", name=("見本", "三郎"), municipality="07201")
    await session.commit()
    stored = {e.register_number: e for e in await register_service.entries_of(session, "07202")}
    return {"entries": stored, "hanako": hanako, "away": away}


def _gid(kind: str, value: Any) -> str:
    from backend.api.ids import encode_id

    return encode_id(kind, value)


async def _page(gql: GraphQLClient, token: Any, **variables: Any) -> dict[str, Any]:
    body = await gql(
        REGISTER, {"code": "07202", **variables}, token=token("reg-staff", roles=STAFF)
    )
    return body["data"]["supportRegister"]


async def test_staff_list_the_register_with_every_typed_field_and_one_suggestion(
    gql: GraphQLClient, token: Any, world: dict[str, Any]
) -> None:
    # when city staff of 07202 open the register
    page = await _page(gql, token)
    nodes = [e["node"] for e in page["edges"]]
    # then they see 07202's entries in register-number order, every field typed
    assert [n["registerNumber"] for n in nodes] == ["A-001", "A-002", "A-003"]
    first = nodes[0]
    assert first | {"id": None} == {
        "id": None,
        "registerNumber": "A-001",
        "name": "架空 花子",
        "kana": "かくう はなこ",
        "birthDate": "1940-04-01",
        "gender": "female",
        "address": "会津若松市架空町1",
        "phone": "0242-00-0001",
        "careLevel": "要介護3",
        "physicalDisabilityGrade": None,
        "intellectualDisability": None,
        "mentalDisabilityGrade": None,
        "intractableDisease": False,
        "intractableDiseaseName": None,
        "elderlyAlone": True,
        "elderlyHousehold": False,
        "otherReason": None,
        "consentStatus": "AGREED",
        "reasons": [
            {"kind": "CARE_LEVEL", "value": "要介護3"},
            {"kind": "ELDERLY_ALONE", "value": None},
        ],
        "residentId": None,
        # and Hanako, the one resident of 07202 with that name and birth date, is suggested
        "suggestedResidentId": _gid("Resident", world["hanako"].id),
    }
    # and two residents matching A-002 (or one living elsewhere, A-003) suggest nobody
    assert nodes[1]["physicalDisabilityGrade"] == 2 and nodes[1]["suggestedResidentId"] is None
    assert nodes[2]["suggestedResidentId"] is None


async def test_filters_search_and_pages(
    gql: GraphQLClient, token: Any, world: dict[str, Any]
) -> None:
    # when staff search by kana (katakana finds the hiragana), by number and by consent
    by_kana = await _page(gql, token, filter={"search": "ハナコ"})
    by_consent = await _page(gql, token, filter={"consentStatus": "UNANSWERED"})
    unlinked = await _page(gql, token, filter={"linked": False, "search": "架空"})
    # then each finds its entries
    assert [e["node"]["registerNumber"] for e in by_kana["edges"]] == ["A-001"]
    assert [e["node"]["registerNumber"] for e in by_consent["edges"]] == ["A-002", "A-003"]
    assert [e["node"]["registerNumber"] for e in unlinked["edges"]] == ["A-001", "A-002"]
    # and pages of one follow each other to the end
    first = await _page(gql, token, first=2)
    rest = await _page(gql, token, first=2, after=first["pageInfo"]["endCursor"])
    assert first["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    assert [e["node"]["registerNumber"] for e in rest["edges"]] == ["A-003"]


@pytest.mark.parametrize(
    ("subject", "roles", "code"),
    [
        ("reg-resident", [], "NOT_PERMITTED"),
        ("reg-leader", [("community_leader", "07202")], "NOT_PERMITTED"),
        ("reg-care", [("care_manager", "07202")], "NOT_PERMITTED"),
        ("reg-shelter", [("shelter_manager", "07202")], "NOT_PERMITTED"),
        ("reg-other-city", [("city_staff", "07201"), ("city_admin", "07201")], "NOT_PERMITTED"),
    ],
)
async def test_nobody_but_the_municipalitys_staff_sees_or_changes_the_register(
    gql: GraphQLClient,
    token: Any,
    world: dict[str, Any],
    subject: str,
    roles: list[tuple[str, str]],
    code: str,
) -> None:
    caller = token(subject, roles=roles)
    entry_id = _gid("SupportRegisterEntry", world["entries"]["A-001"].id)
    # when they ask for the register
    body = await gql(REGISTER, {"code": "07202"}, token=caller, expect_errors=True)
    # then they are refused and see nothing
    assert body["data"]["supportRegister"] is None
    assert body["errors"][0]["extensions"]["code"] == code
    # and an entry they name does not exist for them, whatever they try
    for document, variables in (
        (UPDATE, {"entryId": entry_id, "name": "書き換え"}),
        (LINK, {"entryId": entry_id, "residentSubject": "reg-hanako"}),
        (UNLINK, {"entryId": entry_id}),
    ):
        answer = (await gql(document, {"input": variables}, token=caller))["data"]
        [payload] = answer.values()
        assert payload["entry"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "entryId")]
    # and they cannot add anyone
    created = await gql(
        CREATE,
        {"input": {"municipalityCode": "07202", "registerNumber": "X-1", "name": "架空"}},
        token=caller,
    )
    assert created["data"]["createSupportRegisterEntry"]["errors"][0]["code"] == code
    # and nothing changed
    page = await _page(gql, token)
    assert [e["node"]["name"] for e in page["edges"]][0] == "架空 花子"
    assert len(page["edges"]) == 3


async def test_anonymous_and_unknown_municipalities_are_refused(
    gql: GraphQLClient, token: Any, world: dict[str, Any]
) -> None:
    # when nobody signed in, or staff asking for an unknown municipality
    anonymous = await gql(REGISTER, {"code": "07202"}, expect_errors=True)
    unknown = await gql(
        REGISTER, {"code": "99999"}, token=token("reg-staff", roles=STAFF), expect_errors=True
    )
    # then the first must sign in and the second finds nothing
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert unknown["data"]["supportRegister"] is None


async def test_staff_edit_with_the_import_validators_and_every_problem_at_once(
    gql: GraphQLClient, token: Any, world: dict[str, Any]
) -> None:
    staff = token("reg-staff", roles=STAFF)
    entry_id = _gid("SupportRegisterEntry", world["entries"]["A-002"].id)
    # when staff send several bad values
    bad = await gql(
        UPDATE,
        {
            "input": {
                "entryId": entry_id,
                "careLevel": "要介護9",
                "physicalDisabilityGrade": 7,
                "intellectualDisability": "C",
                "phone": "call me",
                "kana": "Kakuu",
                "name": None,
            }
        },
        token=staff,
    )
    # then every one is named, and nothing changed
    payload = bad["data"]["updateSupportRegisterEntry"]
    assert payload["entry"] is None
    assert {e["field"] for e in payload["errors"]} == {
        "careLevel",
        "physicalDisabilityGrade",
        "intellectualDisability",
        "phone",
        "kana",
        "name",
    }
    # when they send good ones (full-width digits, katakana, a disease by name)
    good = await gql(
        UPDATE,
        {
            "input": {
                "entryId": entry_id,
                "careLevel": "要支援２",
                "physicalDisabilityGrade": None,
                "mentalDisabilityGrade": 1,
                "intellectualDisability": "b2",
                "intractableDiseaseName": "架空病",
                "elderlyHousehold": True,
                "kana": "カクウ ジロウ",
                "phone": "０２４２－００－０００２",
                "consentStatus": "REFUSED",
            }
        },
        token=staff,
    )
    entry = good["data"]["updateSupportRegisterEntry"]["entry"]
    # then they are stored in the import's canonical form; fields not sent stay
    assert entry["careLevel"] == "要支援2" and entry["physicalDisabilityGrade"] is None
    assert entry["mentalDisabilityGrade"] == 1 and entry["intellectualDisability"] == "B2"
    assert entry["intractableDisease"] and entry["intractableDiseaseName"] == "架空病"
    assert entry["kana"] == "かくう じろう" and entry["phone"] == "0242-00-0002"
    assert entry["consentStatus"] == "REFUSED" and entry["birthDate"] == "1950-01-02"
    assert [r["kind"] for r in entry["reasons"]] == [
        "CARE_LEVEL",
        "INTELLECTUAL_DISABILITY",
        "MENTAL_DISABILITY",
        "INTRACTABLE_DISEASE",
        "ELDERLY_HOUSEHOLD",
    ]
    # and a number already used is a conflict
    taken = await gql(
        UPDATE, {"input": {"entryId": entry_id, "registerNumber": "A-001"}}, token=staff
    )
    assert [
        (e["code"], e["field"]) for e in taken["data"]["updateSupportRegisterEntry"]["errors"]
    ] == [("CONFLICT", "registerNumber")]


async def test_staff_add_one_person(gql: GraphQLClient, token: Any, world: dict[str, Any]) -> None:
    staff = token("reg-staff", roles=STAFF)
    # when staff add a person, first without a number
    missing = await gql(
        CREATE, {"input": {"municipalityCode": "07202", "name": "架空"}}, token=staff
    )
    created = await gql(
        CREATE,
        {
            "input": {
                "municipalityCode": "07202",
                "registerNumber": "A-100",
                "name": "新規 架空",
                "birthDate": "1944-03-03",
                "careLevel": "要介護1",
            }
        },
        token=staff,
    )
    # then the first is refused on the number, the second stored unanswered
    errors = missing["data"]["createSupportRegisterEntry"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [("VALIDATION", "registerNumber")]
    entry = created["data"]["createSupportRegisterEntry"]["entry"]
    assert entry["registerNumber"] == "A-100" and entry["careLevel"] == "要介護1"
    assert entry["consentStatus"] == "UNANSWERED"
    # and the same number again is a conflict
    again = await gql(
        CREATE,
        {"input": {"municipalityCode": "07202", "registerNumber": "A-100", "name": "x"}},
        token=staff,
    )
    assert again["data"]["createSupportRegisterEntry"]["errors"][0]["code"] == "CONFLICT"


async def test_link_shows_the_entry_to_the_person_and_logs_staff_reads_for_them(
    gql: GraphQLClient, token: Any, world: dict[str, Any]
) -> None:
    staff = token("reg-staff", roles=STAFF)
    hanako = token("reg-hanako")
    entry_id = _gid("SupportRegisterEntry", world["entries"]["A-001"].id)
    # given Hanako sees no entry and nobody read her data
    assert (await gql(MINE, token=hanako))["data"]["mySupportRegisterEntry"] is None
    assert (await gql(ACCESS_LOG, token=hanako))["data"]["myDataAccessLog"]["edges"] == []
    # when staff confirm the suggested match
    page = await _page(gql, token)
    suggested = page["edges"][0]["node"]["suggestedResidentId"]
    linked = await gql(LINK, {"input": {"entryId": entry_id, "residentId": suggested}}, token=staff)
    # then the entry is hers, and she sees it
    assert linked["data"]["linkSupportRegisterEntry"]["entry"]["residentId"] == suggested
    mine = (await gql(MINE, token=hanako))["data"]["mySupportRegisterEntry"]
    assert mine == {
        "registerNumber": "A-001",
        "name": "架空 花子",
        "careLevel": "要介護3",
        "consentStatus": "AGREED",
    }
    # when staff read the register again
    listed = await _page(gql, token)
    assert listed["edges"][0]["node"]["residentId"] == suggested
    # then her access log shows the staff reads under the law: the match, the link, the list
    log = [
        e["node"] for e in (await gql(ACCESS_LOG, token=hanako))["data"]["myDataAccessLog"]["edges"]
    ]
    assert {(r["viewerSubject"], r["relationship"], r["purposeCode"]) for r in log} == {
        ("reg-staff", "law:municipal_plan_record", "plan_support")
    }
    assert ["name", "kana", "birth_date"] in [r["itemCodes"] for r in log]
    assert any("support_needed" in r["itemCodes"] for r in log)
    assert len(log) == 3  # suggested in a list, linked, listed again
    # and other residents see nothing of hers
    other = token("reg-jiro-1")
    assert (await gql(MINE, token=other))["data"]["mySupportRegisterEntry"] is None


async def test_link_refuses_residents_elsewhere_twice_linked_or_unknown_and_unlink_undoes(
    gql: GraphQLClient, token: Any, world: dict[str, Any]
) -> None:
    staff = token("reg-staff", roles=STAFF)
    first = _gid("SupportRegisterEntry", world["entries"]["A-001"].id)
    second = _gid("SupportRegisterEntry", world["entries"]["A-003"].id)

    async def link(entry: str, **who: str) -> list[tuple[str, str]]:
        body = await gql(LINK, {"input": {"entryId": entry, **who}}, token=staff)
        return [(e["code"], e["field"]) for e in body["data"]["linkSupportRegisterEntry"]["errors"]]

    # when staff link someone living in another municipality, or nobody known
    assert await link(second, residentSubject="reg-away") == [("NOT_FOUND", "residentSubject")]
    assert await link(second, residentSubject="nobody") == [("NOT_FOUND", "residentSubject")]
    assert await link(second, residentId=_gid("Resident", world["away"].id)) == [
        ("NOT_FOUND", "residentId")
    ]
    assert await link(second) == [("VALIDATION", "residentId")]
    # when they link Hanako to one entry, then to a second
    assert await link(first, residentSubject="reg-hanako") == []
    assert await link(first, residentSubject="reg-hanako") == []  # the same link again
    assert await link(second, residentSubject="reg-hanako") == [("CONFLICT", "residentSubject")]
    assert await link(first, residentSubject="reg-jiro-1") == [("CONFLICT", "entryId")]
    # when they unlink the first
    body = await gql(UNLINK, {"input": {"entryId": first}}, token=staff)
    # then it is nobody's again, and she sees no entry
    assert body["data"]["unlinkSupportRegisterEntry"]["entry"]["residentId"] is None
    mine = await gql(MINE, token=token("reg-hanako"))
    assert mine["data"]["mySupportRegisterEntry"] is None
    # and a malformed id is not found, never a crash
    assert await link("not-an-id", residentSubject="reg-hanako") == [("NOT_FOUND", "entryId")]


async def test_the_register_screen_runs_the_same_statements_for_any_page_size(
    gql: GraphQLClient, token: Any, session: AsyncSession, engine: Any
) -> None:
    from tests.api.test_statement_counts import count_statements, operation

    staff = token("reg-count", roles=STAFF)
    document = operation("SupportRegister.graphql", "SupportRegister")

    async def statements(first: int) -> int:
        variables = {"municipalityCode": "07202", "first": first}
        with count_statements(engine) as seen:
            await gql(document, variables, token=staff)
        return len(seen)

    async def add(start: int, count: int) -> None:
        entries = [
            EntryData(register_number=f"N-{i:03d}", name=f"架空 {i}", birth_date=date(1940, 1, 1))
            for i in range(start, start + count)
        ]
        await register_service.import_register(session, municipality_code="07202", entries=entries)
        for i in range(start, start + count):
            resident = await _resident(
                session, f"count-{i}", name=("架空", str(i)), birth=date(1940, 1, 1)
            )
            if i % 2:
                [entry] = [
                    e
                    for e in await register_service.entries_of(session, "07202")
                    if e.register_number == f"N-{i:03d}"
                ]
                entry.resident_id = resident.id
        await session.commit()

    # given a register of 2 entries, one linked
    await add(0, 2)
    await statements(2)  # the staff member's first sign-in writes once
    small = await statements(2)
    # when it grows to 20, half linked, half with a suggested match
    await add(2, 18)
    large = await statements(20)
    # then a page of 20 runs as many statements as a page of 2
    assert large == small


async def test_a_person_on_the_register_walks_step_free_by_default(
    gql: GraphQLClient, token: Any, world: dict[str, Any]
) -> None:
    from tests.routing.test_api import CASTLE, STATION, route

    hanako = token("reg-hanako")
    walk = {"from": CASTLE, "toPoint": STATION}
    # given Hanako is not linked to her register entry: she walks as anyone does
    before = await route(gql, hanako, **walk)
    assert (before["profile"], before["walkingSpeedMetersPerSecond"]) == ("WALK", 1.0)
    # when staff link the entry to her
    staff = token("reg-staff", roles=STAFF)
    entry_id = _gid("SupportRegisterEntry", world["entries"]["A-001"].id)
    resident_id = _gid("Resident", world["hanako"].id)
    linked = await gql(
        LINK, {"input": {"entryId": entry_id, "residentId": resident_id}}, token=staff
    )
    assert linked["data"]["linkSupportRegisterEntry"]["errors"] == []
    # then her own routes are step-free at the support speed, unless she chooses otherwise
    after = await route(gql, hanako, **walk)
    assert (after["profile"], after["walkingSpeedMetersPerSecond"]) == ("STEP_FREE", 0.5)
    chosen = await route(gql, hanako, **walk, profile="WALK")
    assert (chosen["profile"], chosen["walkingSpeedMetersPerSecond"]) == ("WALK", 1.0)
    # and nobody else's: another resident, and anonymous callers, walk as before
    for caller in (token("reg-jiro-1"), None):
        other = await route(gql, caller, **walk)
        assert (other["profile"], other["walkingSpeedMetersPerSecond"]) == ("WALK", 1.0)
    # needsSupport asks for the same without a record
    supported = await route(gql, None, **walk, needsSupport=True)
    assert supported["profile"] == "STEP_FREE"
