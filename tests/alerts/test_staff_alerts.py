"""City staff issue evacuation information; exactly the residents with a place in the area
hear of it and see it in myAlerts, nobody else; exercises reach no resident."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h3
import pytest
from shapely.geometry import shape

from backend.alerts.areas import prepare_areas, refine_edge
from backend.alerts.drafts import AlertArea, AreaScheme
from backend.config import Settings
from backend.demo import seed_demo
from backend.municipalities import service as municipality_service
from tests.conftest import GraphQLClient
from tests.shared_data import require_shared

AIZU = "07202"
# A square around the demo family's street in 会津若松市 (門田町), lon/lat.
WEST, EAST, SOUTH, NORTH = 139.915, 139.921, 37.483, 37.487
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[WEST, SOUTH], [EAST, SOUTH], [EAST, NORTH], [WEST, NORTH], [WEST, SOUTH]]],
}
# About 9 m inside and 9 m outside the east edge.
JUST_INSIDE = (37.4850, EAST - 0.0001)
JUST_OUTSIDE = (37.4850, EAST + 0.0001)

ADD_PLACE = """
mutation($input: AddPlaceInput!) {
  addPlace(input: $input) { place { id } errors { code field message messageJa } }
}"""
ISSUE = """
mutation($input: StaffAlertInput!) {
  issueAlert(input: $input) {
    alert { id kind level state status titleJa headlineJa areas { name scheme active } }
    errors { code field message messageJa }
  }
}"""
UPDATE = """
mutation($id: ID!, $input: StaffAlertInput!) {
  updateAlert(id: $id, input: $input) {
    alert { id level version } errors { code field message messageJa }
  }
}"""
LIFT = """
mutation($id: ID!) {
  liftAlert(id: $id) { alert { id state } errors { code field message messageJa } }
}"""
MY_ALERTS = """
query {
  myAlerts {
    highestLevel
    places { placeId kind label familyMemberName highestLevel alerts { id titleJa } }
    alerts { id kind level titleJa }
  }
}"""
INBOX = """
query { me { notifications(first: 10) { unreadCount edges { node {
  category titleJa bodyJa titleEn bodyEn data } } } } }"""
ALERT = """
query($id: ID!) {
  alert(id: $id) { id status areaGeojson areas { name scheme code active } }
}"""


def evacuation(level: int = 4, **extra: Any) -> dict[str, Any]:
    return {
        "municipalityCode": AIZU,
        "kind": "EVACUATION",
        "level": level,
        "areas": [SQUARE],
        "headlineJa": "門田町の一部に避難指示を発令しました。",
        "headlineEn": "Evacuation order for part of Monden-machi.",
        **extra,
    }


async def add_home(gql: GraphQLClient, token: str, at: tuple[float, float]) -> str:
    body = await gql(
        ADD_PLACE,
        {"input": {"kind": "HOME", "label": "自宅", "latitude": at[0], "longitude": at[1]}},
        token=token,
    )
    assert body["data"]["addPlace"]["errors"] == []
    return str(body["data"]["addPlace"]["place"]["id"])


@pytest.fixture
def staff(token: Any) -> str:
    return str(token("staff-aizu", roles=[("city_staff", AIZU)]))


async def test_an_evacuation_order_concerns_the_place_just_inside_and_not_just_outside(
    gql: GraphQLClient, token: Any, staff: str
) -> None:
    # given one resident's home just inside the area's edge and another's just outside
    inside, outside = token("res-inside"), token("res-outside")
    home = await add_home(gql, inside, JUST_INSIDE)
    await add_home(gql, outside, JUST_OUTSIDE)
    # when city staff issue an evacuation order (level 4) for the area
    body = await gql(ISSUE, {"input": evacuation()}, token=staff)
    issued = body["data"]["issueAlert"]
    assert issued["errors"] == []
    alert = issued["alert"]
    assert alert["kind"] == "EVACUATION" and alert["level"] == 4 and alert["state"] == "ACTIVE"
    assert alert["titleJa"] == "避難指示" and alert["status"] == "ACTUAL"
    # then the resident inside is subject to evacuation at their home
    mine = (await gql(MY_ALERTS, token=inside))["data"]["myAlerts"]
    assert mine["highestLevel"] == 4
    assert mine["places"] == [
        {
            "placeId": home,
            "kind": "HOME",
            "label": "自宅",
            "familyMemberName": None,
            "highestLevel": 4,
            "alerts": [{"id": alert["id"], "titleJa": "避難指示"}],
        }
    ]
    # and the resident just outside is not
    theirs = (await gql(MY_ALERTS, token=outside))["data"]["myAlerts"]
    assert theirs == {"highestLevel": None, "places": [], "alerts": []}
    # and the inside resident's inbox holds one emergency notification naming their home
    inbox = (await gql(INBOX, token=inside))["data"]["me"]["notifications"]
    [note] = [e["node"] for e in inbox["edges"]]
    assert inbox["unreadCount"] == 1
    assert note["category"] == "EMERGENCY" and note["titleJa"] == "避難指示"
    assert note["bodyJa"].startswith("自宅が避難指示の対象区域です。門田町の一部に")
    assert note["bodyEn"].startswith("Your home is in the area of: Evacuation order (level 4)")
    assert note["data"]["alertId"] == alert["id"]
    # while the outside resident's is empty
    empty = (await gql(INBOX, token=outside))["data"]["me"]["notifications"]
    assert empty["edges"] == [] and empty["unreadCount"] == 0


async def test_a_resident_with_two_places_in_the_area_gets_one_message_naming_both(
    gql: GraphQLClient, token: Any, staff: str
) -> None:
    resident = token("res-two-places")
    await add_home(gql, resident, JUST_INSIDE)
    body = await gql(
        ADD_PLACE,
        {"input": {"kind": "WORKPLACE", "label": "職場", "latitude": 37.4855,
                   "longitude": 139.917}},
        token=resident,
    )  # fmt: skip
    assert body["data"]["addPlace"]["errors"] == []
    await gql(ISSUE, {"input": evacuation()}, token=staff)
    inbox = (await gql(INBOX, token=resident))["data"]["me"]["notifications"]
    [note] = [e["node"] for e in inbox["edges"]]
    assert note["bodyJa"].startswith("自宅・勤務先が避難指示の対象区域です")
    assert note["bodyEn"].startswith("Your home and your workplace are in the area of")
    # and myAlerts lists both places at level 4
    mine = (await gql(MY_ALERTS, token=resident))["data"]["myAlerts"]
    assert sorted(p["kind"] for p in mine["places"]) == ["HOME", "WORKPLACE"]


async def test_places_deep_inside_a_large_area_and_in_two_overlapping_areas_are_told_once(
    gql: GraphQLClient, token: Any, staff: str
) -> None:
    # given a large area over most of the city (whole H3 cells lie inside it: no exact test
    # there) holding the small square, a home deep inside the large area only, a home in
    # both, and a home outside both
    big = {
        "type": "Polygon",
        "coordinates": [[[139.85, 37.44], [139.99, 37.44], [139.99, 37.53], [139.85, 37.53],
                         [139.85, 37.44]]],
    }  # fmt: skip
    deep_at = (37.46, 139.87)
    [prepared] = prepare_areas((AlertArea(AreaScheme.GEOMETRY, "big", geometry=shape(big)),))
    interior = {cell for cell, inside in prepared.cells if inside}
    assert h3.str_to_int(h3.latlng_to_cell(*deep_at, 7)) in interior
    assert h3.str_to_int(h3.latlng_to_cell(*JUST_INSIDE, 7)) in interior
    deep, both, outside = token("res-deep"), token("res-both"), token("res-out")
    await add_home(gql, deep, deep_at)
    await add_home(gql, both, JUST_INSIDE)
    await add_home(gql, outside, (37.55, 139.92))
    # when staff issue one order for both areas
    body = await gql(ISSUE, {"input": evacuation(areas=[big, SQUARE])}, token=staff)
    assert body["data"]["issueAlert"]["errors"] == []
    # then the two homes inside hear of it once each, naming the home; the one outside not
    for who in (deep, both):
        inbox = (await gql(INBOX, token=who))["data"]["me"]["notifications"]
        [note] = [e["node"] for e in inbox["edges"]]
        assert note["bodyJa"].startswith("自宅が避難指示の対象区域です")
        mine = (await gql(MY_ALERTS, token=who))["data"]["myAlerts"]
        assert mine["highestLevel"] == 4 and len(mine["places"]) == 1
    empty = (await gql(INBOX, token=outside))["data"]["me"]["notifications"]
    assert empty["edges"] == []


def centre_of_a_child(cells: list[int], edge7: set[int]) -> tuple[float, float]:
    """The centre of the first res-9 cell whose centre lies in one of the edge res-7 cells."""
    for cell in sorted(cells):
        at = h3.cell_to_latlng(h3.int_to_str(cell))
        if h3.str_to_int(h3.latlng_to_cell(*at, 7)) in edge7:
            return at
    raise AssertionError("no such res-9 cell")


async def test_places_in_edge_cells_are_told_by_their_res9_cell_or_the_exact_test(
    gql: GraphQLClient, token: Any, staff: str
) -> None:
    # given a rectangle sharing the square's east edge, about 1.7 by 1.3 km (no res-7 cell
    # lies wholly inside it), a home at the centre of a res-9 cell wholly inside it (no exact
    # test), one just inside the edge (exact test), one in a res-9 cell wholly outside, one
    # just outside the edge
    w, s, n = WEST - 0.014, SOUTH - 0.004, NORTH + 0.004
    rectangle = {
        "type": "Polygon",
        "coordinates": [[[w, s], [EAST, s], [EAST, n], [w, n], [w, s]]],
    }
    [prepared] = prepare_areas((AlertArea(AreaScheme.GEOMETRY, "rect", geometry=shape(rectangle)),))
    edge7 = {cell for cell, inside in prepared.cells if not inside}
    assert edge7 and len(edge7) == len(prepared.cells)
    assert prepared.geojson is not None
    inside9, outside9 = refine_edge(prepared.geojson, sorted(edge7))
    homes = {
        "res-child-in": centre_of_a_child(inside9, edge7),
        "res-edge-in": JUST_INSIDE,
        "res-child-out": centre_of_a_child(outside9, edge7),
        "res-edge-out": JUST_OUTSIDE,
    }
    for subject, at in homes.items():
        await add_home(gql, token(subject), at)
    # when staff issue an order for the rectangle
    body = await gql(ISSUE, {"input": evacuation(areas=[rectangle])}, token=staff)
    assert body["data"]["issueAlert"]["errors"] == []
    # then exactly the two homes inside hear of it
    told = {
        subject
        for subject in homes
        if (await gql(INBOX, token=token(subject)))["data"]["me"]["notifications"]["edges"]
    }
    assert told == {"res-child-in", "res-edge-in"}


async def test_raising_and_lifting_moves_the_level_and_then_clears_it(
    gql: GraphQLClient, token: Any, staff: str
) -> None:
    resident = token("res-raise")
    await add_home(gql, resident, JUST_INSIDE)
    alert = (await gql(ISSUE, {"input": evacuation(3)}, token=staff))["data"]["issueAlert"]
    assert (await gql(MY_ALERTS, token=resident))["data"]["myAlerts"]["highestLevel"] == 3
    # when staff raise it to level 5 (緊急安全確保)
    raised = await gql(UPDATE, {"id": alert["alert"]["id"], "input": evacuation(5)}, token=staff)
    assert raised["data"]["updateAlert"]["errors"] == []
    assert raised["data"]["updateAlert"]["alert"]["level"] == 5
    mine = (await gql(MY_ALERTS, token=resident))["data"]["myAlerts"]
    assert mine["highestLevel"] == 5 and mine["alerts"][0]["titleJa"] == "緊急安全確保"
    # when they lift it (解除), then nothing concerns the resident any more
    lifted = await gql(LIFT, {"id": alert["alert"]["id"]}, token=staff)
    assert lifted["data"]["liftAlert"]["alert"]["state"] == "LIFTED"
    assert (await gql(MY_ALERTS, token=resident))["data"]["myAlerts"]["places"] == []
    # and the inbox tells of level 3, of level 5 and of the lift: one message each
    inbox = (await gql(INBOX, token=resident))["data"]["me"]["notifications"]
    titles = [e["node"]["titleJa"] for e in inbox["edges"]]
    assert titles == ["緊急安全確保の解除", "緊急安全確保", "高齢者等避難"]
    # and lifting twice is a typed error
    again = await gql(LIFT, {"id": alert["alert"]["id"]}, token=staff)
    assert again["data"]["liftAlert"]["errors"][0]["code"] == "VALIDATION"


async def test_an_exercise_is_shown_to_staff_and_to_no_resident(
    gql: GraphQLClient, token: Any, staff: str
) -> None:
    resident = token("res-exercise")
    await add_home(gql, resident, JUST_INSIDE)
    body = await gql(ISSUE, {"input": evacuation(exercise=True)}, token=staff)
    alert = body["data"]["issueAlert"]["alert"]
    assert alert["status"] == "EXERCISE"
    # the resident is concerned by nothing and cannot open it
    assert (await gql(MY_ALERTS, token=resident))["data"]["myAlerts"]["alerts"] == []
    assert (await gql(ALERT, {"id": alert["id"]}, token=resident))["data"]["alert"] is None
    assert (await gql(INBOX, token=resident))["data"]["me"]["notifications"]["edges"] == []
    # staff of the city open it, with its area as GeoJSON
    seen = (await gql(ALERT, {"id": alert["id"]}, token=staff))["data"]["alert"]
    assert seen["status"] == "EXERCISE"
    feature = seen["areaGeojson"]["features"][0]
    assert feature["geometry"]["type"] == "Polygon" and feature["properties"]["active"]


async def test_staff_of_another_municipality_may_not_issue_or_lift(
    gql: GraphQLClient, token: Any, staff: str
) -> None:
    kitakata = token("staff-kitakata", roles=[("city_staff", "07208")])
    body = await gql(ISSUE, {"input": evacuation()}, token=kitakata)
    [error] = body["data"]["issueAlert"]["errors"]
    assert error["code"] == "NOT_PERMITTED" and error["field"] == "municipalityCode"
    # a resident may not issue either
    body = await gql(ISSUE, {"input": evacuation()}, token=token("res-nobody"))
    assert body["data"]["issueAlert"]["errors"][0]["code"] == "NOT_PERMITTED"
    # and Aizu's alert is not found for Kitakata's staff to lift
    alert = (await gql(ISSUE, {"input": evacuation()}, token=staff))["data"]["issueAlert"]
    body = await gql(LIFT, {"id": alert["alert"]["id"]}, token=kitakata)
    assert body["data"]["liftAlert"]["errors"][0]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"level": 2}, "level"),
        ({"level": None}, "level"),
        ({"areas": []}, "wholeMunicipality"),
        ({"headlineJa": "  "}, "headlineJa"),
        ({"areas": [{"type": "Point", "coordinates": [139.9, 37.4]}]}, "areas[0]"),
        (
            {"areas": [{"type": "Polygon", "coordinates": [[[139.9, 37.4], [200, 37.4]]]}]},
            "areas[0]",
        ),
        ({"municipalityCode": "99999"}, "municipalityCode"),
    ],
)
async def test_bad_staff_input_is_a_typed_error_and_writes_nothing(
    gql: GraphQLClient, staff: str, change: dict[str, Any], field: str
) -> None:
    body = await gql(ISSUE, {"input": {**evacuation(), **change}}, token=staff)
    payload = body["data"]["issueAlert"]
    assert payload["alert"] is None
    assert field in {e["field"] for e in payload["errors"]}


async def test_town_names_and_the_whole_municipality_reach_places_by_address_and_code(
    gql: GraphQLClient, token: Any, staff: str, session: Any
) -> None:
    # given the real boundary of 会津若松市, so that saved places know their municipality
    boundary = require_shared("boundaries", "07202.json")
    await municipality_service.import_boundary(session, Path(boundary))
    await session.commit()
    # given a resident whose home's address names 門田町, and one elsewhere in the city
    monden, elsewhere = token("res-monden"), token("res-elsewhere")
    for who, address, at in (
        (monden, "会津若松市門田町大字黒岩", (37.47, 139.93)),
        (elsewhere, "会津若松市追手町", (37.49, 139.93)),
    ):
        body = await gql(
            ADD_PLACE,
            {"input": {"kind": "HOME", "label": "自宅", "latitude": at[0], "longitude": at[1],
                       "address": address}},
            token=who,
        )  # fmt: skip
        assert body["data"]["addPlace"]["errors"] == []
    town = {**evacuation(3), "areas": [], "towns": ["門田町"]}
    assert (await gql(ISSUE, {"input": town}, token=staff))["data"]["issueAlert"]["errors"] == []
    assert (await gql(MY_ALERTS, token=monden))["data"]["myAlerts"]["highestLevel"] == 3
    assert (await gql(MY_ALERTS, token=elsewhere))["data"]["myAlerts"]["highestLevel"] is None
    # when a notice goes to the whole city, then both hear of it
    notice = {
        "municipalityCode": AIZU,
        "kind": "NOTICE",
        "wholeMunicipality": True,
        "headlineJa": "給水所を開設しました。",
    }
    assert (await gql(ISSUE, {"input": notice}, token=staff))["data"]["issueAlert"]["errors"] == []
    kinds = [
        a["kind"] for a in (await gql(MY_ALERTS, token=elsewhere))["data"]["myAlerts"]["alerts"]
    ]
    assert kinds == ["NOTICE"]


@pytest.fixture
async def demo(session: Any, settings: Settings) -> None:
    await seed_demo(session, settings)
    await session.commit()


async def test_family_sees_alerts_over_a_consenting_members_home(
    gql: GraphQLClient, token: Any, demo: None
) -> None:
    # given an evacuation order over the demo family's home (Hanako's and Taro's)
    staff = token("demo-staff")
    body = await gql(ISSUE, {"input": evacuation()}, token=staff)
    assert body["data"]["issueAlert"]["errors"] == []
    # when Yuki, whose only place is her school outside the area, asks
    mine = (await gql(MY_ALERTS, token=token("demo-yuki")))["data"]["myAlerts"]
    # then she sees her parents' home under the order, named by what they share with her
    names = sorted(p["familyMemberName"] for p in mine["places"])
    assert names == ["会津 太郎", "会津 花子"]
    assert all(p["placeId"] is None and p["highestLevel"] == 4 for p in mine["places"])
    # and the leader of their town association (not family) sees only their own home
    leader = (await gql(MY_ALERTS, token=token("demo-leader")))["data"]["myAlerts"]
    assert [p["familyMemberName"] for p in leader["places"]] == [None]


async def test_a_member_who_stops_sharing_family_safety_drops_out_and_reads_are_logged(
    gql: GraphQLClient, token: Any, demo: None
) -> None:
    # given an evacuation order over the demo family's home
    body = await gql(ISSUE, {"input": evacuation()}, token=token("demo-staff"))
    assert body["data"]["issueAlert"]["errors"] == []
    yuki = token("demo-yuki")
    await gql(MY_ALERTS, token=yuki)
    # then Hanako's access log shows that Yuki read her (name) for family_safety
    hanako = token("demo-hanako")
    log = await gql(
        "{ myDataAccessLog(first: 20) { edges { node { viewerSubject purposeCode itemCodes } } } }",
        token=hanako,
    )
    reads = [e["node"] for e in log["data"]["myDataAccessLog"]["edges"]]
    assert {
        "viewerSubject": "demo-yuki",
        "purposeCode": "family_safety",
        "itemCodes": ["name"],
    } in reads
    # when Hanako revokes her family_safety consent
    consents = await gql("{ myConsents { id purposeCode } }", token=hanako)
    [grant] = [c for c in consents["data"]["myConsents"] if c["purposeCode"] == "family_safety"]
    revoked = await gql(
        "mutation($input: RevokeConsentInput!) { revokeConsent(input: $input) { "
        "errors { code field message messageJa } } }",
        {"input": {"consentId": grant["id"]}},
        token=hanako,
    )
    assert revoked["data"]["revokeConsent"]["errors"] == []
    # then Yuki no longer sees Hanako's home under the order (Taro's still shows)
    mine = (await gql(MY_ALERTS, token=yuki))["data"]["myAlerts"]
    assert [p["familyMemberName"] for p in mine["places"]] == ["会津 太郎"]


APPROVE = """
mutation($id: ID!) {
  approveAlert(id: $id) { alert { id state } errors { code field message messageJa } }
}"""


@pytest.fixture
async def approval_gql(settings: Settings, db: Any, verifier: Any) -> Any:
    import httpx

    from backend.app import create_app

    configured = settings.model_copy(update={"alert_approval_required": True})
    app = create_app(configured, database=db, verifier=verifier)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kizuna.test"
    ) as client:
        yield GraphQLClient(client)


async def test_with_approval_required_one_drafts_and_another_publishes(
    approval_gql: GraphQLClient, token: Any, staff: str
) -> None:
    gql = approval_gql
    resident = token("res-approval")
    await add_home(gql, resident, JUST_INSIDE)
    # when one staff member drafts an evacuation order
    drafted = (await gql(ISSUE, {"input": evacuation()}, token=staff))["data"]["issueAlert"]
    alert = drafted["alert"]
    assert alert["state"] == "PENDING_APPROVAL"
    # then no resident is concerned or told yet
    assert (await gql(MY_ALERTS, token=resident))["data"]["myAlerts"]["alerts"] == []
    assert (await gql(ALERT, {"id": alert["id"]}, token=resident))["data"]["alert"] is None
    # and the drafter cannot approve their own draft
    own = await gql(APPROVE, {"id": alert["id"]}, token=staff)
    assert own["data"]["approveAlert"]["errors"][0]["code"] == "NOT_PERMITTED"
    # when a colleague approves it, then it is published and the resident is told
    colleague = token("staff-aizu-2", roles=[("city_admin", AIZU)])
    approved = await gql(APPROVE, {"id": alert["id"]}, token=colleague)
    assert approved["data"]["approveAlert"]["alert"]["state"] == "ACTIVE"
    assert (await gql(MY_ALERTS, token=resident))["data"]["myAlerts"]["highestLevel"] == 4
    inbox = (await gql(INBOX, token=resident))["data"]["me"]["notifications"]["edges"]
    assert [e["node"]["titleJa"] for e in inbox] == ["避難指示"]
