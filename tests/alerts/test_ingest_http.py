"""A relay posts alert documents to /alerts/ingest: stored and pushed once, refused clearly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.config import Settings
from backend.municipalities import service as municipality_service
from tests.conftest import GraphQLClient, RollbackDatabase
from tests.shared_data import require_shared

EXAMPLES = Path(__file__).resolve().parents[2] / "backend" / "alerts" / "examples"
EVACUATION = (EXAMPLES / "aizu-demo-evacuation.cap.xml").read_bytes()
EMERGENCY = (EXAMPLES / "aizu-demo-emergency.cap.xml").read_bytes()
RELAY = "test-relay"
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>"""
ADD_HOME = """
mutation($input: AddPlaceInput!) {
  addPlace(input: $input) { errors { code field message messageJa } }
}"""
INBOX = "{ me { notifications(first: 10) { edges { node { titleJa bodyJa } } } } }"
REJECTIONS = "{ alertRejections(first: 10) { via name size reason reasonJa client } }"


@pytest.fixture
async def relay_http(
    settings: Settings, db: RollbackDatabase, verifier: TokenVerifier
) -> AsyncIterator[httpx.AsyncClient]:
    configured = settings.model_copy(update={"alert_relay_clients": RELAY})
    app = create_app(configured, database=db, verifier=verifier)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kizuna.test") as client:
        yield client


async def post(
    client: httpx.AsyncClient, body: bytes, token: str | None, **headers: str
) -> httpx.Response:
    sent = {"content-type": "application/xml", "x-document-name": "doc.xml", **headers}
    if token:
        sent["authorization"] = f"Bearer {token}"
    return await client.post("/alerts/ingest", content=body, headers=sent)


async def test_a_posted_cap_alert_reaches_the_resident_in_its_area_once(
    relay_http: httpx.AsyncClient, token: Any
) -> None:
    gql = GraphQLClient(relay_http)
    hanako = token("res-posted")
    home = {"kind": "HOME", "label": "自宅", "latitude": 37.485, "longitude": 139.918}
    await gql(ADD_HOME, {"input": home}, token=hanako)
    relay = token("relay", client_id=RELAY)
    # when the relay posts the evacuation order, then it is stored and one resident is told
    response = await post(relay_http, EVACUATION, relay)
    assert response.status_code == 200, response.text
    [stored] = response.json()["alerts"]
    assert stored["kind"] == "evacuation" and stored["action"] == "issue"
    assert stored["duplicate"] is False and stored["concernedResidents"] == 1
    # when the same document arrives again (a relay retry), then it is ignored
    again = (await post(relay_http, EVACUATION, relay)).json()["alerts"]
    assert again[0]["duplicate"] is True and again[0]["concernedResidents"] == 0
    # when the update raising it to level 5 arrives, then the same alert moves and she hears
    raised = (await post(relay_http, EMERGENCY, relay)).json()["alerts"]
    assert raised[0]["id"] == stored["id"] and raised[0]["action"] == "update"
    # and an update naming only the previous update still lands on the first alert
    third = EMERGENCY.replace(b"evacuation-2<", b"evacuation-3<").replace(
        b"evacuation-1,2026-11-30T09:00:00+09:00", b"evacuation-2,2026-11-30T10:00:00+09:00"
    )
    chained = (await post(relay_http, third, relay)).json()["alerts"]
    assert chained[0]["id"] == stored["id"] and chained[0]["duplicate"] is False
    inbox = (await gql(INBOX, token=hanako))["data"]["me"]["notifications"]["edges"]
    bodies = [e["node"]["bodyJa"] for e in inbox]
    assert len(bodies) == 2  # level 5 again: nothing new to tell
    assert bodies[0].startswith("自宅が緊急安全確保の対象区域です")
    assert bodies[1].startswith("自宅が避難指示の対象区域です")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (BILLION_LAUGHS, "DTD"),
        (EXTERNAL_ENTITY, "DTD"),
        (b"<alert>not closed", "invalid XML"),
        (b"<html><body>hello</body></html>", ""),
    ],
)
async def test_hostile_or_unknown_documents_are_refused_and_only_logged(
    relay_http: httpx.AsyncClient, token: Any, body: bytes, reason: str
) -> None:
    gql = GraphQLClient(relay_http)
    response = await post(relay_http, body, token("relay", client_id=RELAY))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION" and reason in error["message"]
    assert error["messageJa"]
    # and staff read the refusal (name, size, reason; never the content) in the log
    staff = token("staff-aizu", roles=[("city_staff", "07202")])
    [logged] = (await gql(REJECTIONS, token=staff))["data"]["alertRejections"]
    assert logged["via"] == "http" and logged["client"] == RELAY
    assert logged["size"] == len(body) and logged["name"] == "doc.xml"
    # while a resident may not read that log
    denied = await gql(REJECTIONS, token=token("res-curious"), expect_errors=True)
    assert denied["errors"][0]["extensions"]["code"] == "NOT_PERMITTED"


async def test_only_a_named_relay_client_may_post(
    relay_http: httpx.AsyncClient, token: Any
) -> None:
    assert (await post(relay_http, EVACUATION, None)).status_code == 401
    assert (await post(relay_http, EVACUATION, "not-a-token")).status_code == 401
    assert (await post(relay_http, EVACUATION, token("res-someone"))).status_code == 403
    other = token("other", client_id="some-other-service")
    assert (await post(relay_http, EVACUATION, other)).status_code == 403
    relay = token("relay", client_id=RELAY)
    wrong_type = await post(relay_http, EVACUATION, relay, **{"content-type": "text/plain"})
    assert wrong_type.status_code == 415
    wrong_format = await relay_http.post(
        "/alerts/ingest?format=rss",
        content=EVACUATION,
        headers={"content-type": "application/xml", "authorization": f"Bearer {relay}"},
    )
    assert wrong_format.status_code == 400
    # a CAP document posted as JMA is refused, naming both formats
    as_jma = await relay_http.post(
        "/alerts/ingest?format=jma",
        content=EVACUATION,
        headers={"content-type": "application/xml", "authorization": f"Bearer {relay}"},
    )
    assert as_jma.status_code == 422 and "CAP" in as_jma.json()["error"]["message"]


async def test_an_oversized_document_is_refused_before_it_is_read(
    relay_http: httpx.AsyncClient, token: Any, settings: Settings
) -> None:
    huge = b"<a>" + b"x" * settings.alert_max_document_bytes + b"</a>"
    response = await post(relay_http, huge, token("relay", client_id=RELAY))
    assert response.status_code == 413


EARTHQUAKE = "32-35_08_07_240613_VXSE53.xml"  # 震度2 observed in 福島市 (0720100)
PREFERENCES = """
mutation($input: UpdateNotificationPreferencesInput!) {
  updateNotificationPreferences(input: $input) {
    preferences { earthquakeMinIntensity } errors { code field message messageJa }
  }
}"""
MY_ALERTS = "{ myAlerts { places { kind alerts { kind intensity titleJa } } } }"


async def test_a_jma_earthquake_reaches_only_those_who_asked_for_small_quakes(
    relay_http: httpx.AsyncClient, token: Any, session: Any
) -> None:
    # given the real boundary of 福島市 and two residents living there
    await municipality_service.import_boundary(
        session, Path(require_shared("boundaries", "07201.json"))
    )
    await session.commit()
    gql = GraphQLClient(relay_http)
    keen, default = token("res-keen"), token("res-default")
    home = {"kind": "HOME", "label": "自宅", "latitude": 37.7608, "longitude": 140.4747}
    for who in (keen, default):
        await gql(ADD_HOME, {"input": home}, token=who)
    # and one of them wants earthquake information from 震度1 up (the default is 3)
    body = await gql(PREFERENCES, {"input": {"earthquakeMinIntensity": "1"}}, token=keen)
    assert body["data"]["updateNotificationPreferences"]["errors"] == []
    # when JMA's 震源・震度に関する情報 with 震度2 in 福島市 is posted
    telegram = require_shared("jma-xml", EARTHQUAKE).read_bytes()
    response = await post(relay_http, telegram, token("relay", client_id=RELAY))
    assert response.status_code == 200, response.text
    [stored] = response.json()["alerts"]
    assert stored["kind"] == "earthquake" and stored["concernedResidents"] == 2
    # then both see it over their home, with the 震度 observed there
    for who in (keen, default):
        [place] = (await gql(MY_ALERTS, token=who))["data"]["myAlerts"]["places"]
        assert place["alerts"][0]["kind"] == "EARTHQUAKE"
    # and only the one who asked for small quakes has it in the inbox
    keen_inbox = (await gql(INBOX, token=keen))["data"]["me"]["notifications"]["edges"]
    assert [e["node"]["titleJa"] for e in keen_inbox] == ["震源・震度情報"]
    assert (await gql(INBOX, token=default))["data"]["me"]["notifications"]["edges"] == []


async def test_active_alerts_are_published_as_a_cap_atom_feed(
    relay_http: httpx.AsyncClient, token: Any
) -> None:
    from lxml import etree

    from backend.alerts.sources.cap import cap_schema
    from backend.alerts.sources.cap_feed import cap_feed_entries

    gql = GraphQLClient(relay_http)
    staff = token("staff-aizu", roles=[("city_staff", "07202")])
    # given an evacuation order posted by a relay and an exercise issued by staff
    assert (await post(relay_http, EVACUATION, token("relay", client_id=RELAY))).status_code == 200
    exercise = {
        "municipalityCode": "07202", "kind": "NOTICE", "wholeMunicipality": True,
        "headlineJa": "訓練です", "exercise": True,
    }  # fmt: skip
    issue = """mutation($input: StaffAlertInput!) {
      issueAlert(input: $input) { errors { code field message messageJa } } }"""
    assert (await gql(issue, {"input": exercise}, token=staff))["data"]["issueAlert"][
        "errors"
    ] == []
    # when a signage system reads the feed (no sign-in)
    response = await relay_http.get("/cap/alerts.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    entries = cap_feed_entries(response.content, "alerts.atom")
    # then it holds the actual alert only, as CAP that validates against the OASIS schema
    assert len(entries) == 1 and entries[0].cap is not None
    document = etree.fromstring(entries[0].cap)
    assert cap_schema().validate(document), cap_schema().error_log
    ns = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
    assert document.findtext("cap:status", namespaces=ns) == "Actual"
    polygon = document.findtext("cap:info/cap:area/cap:polygon", namespaces=ns)
    assert polygon is not None and polygon.startswith("37.483,139.915")  # latitude first


async def test_an_alert_past_its_expiry_concerns_nobody_and_leaves_the_feed(
    relay_http: httpx.AsyncClient, token: Any
) -> None:
    gql = GraphQLClient(relay_http)
    resident = token("res-expired")
    home = {"kind": "HOME", "label": "自宅", "latitude": 37.485, "longitude": 139.918}
    await gql(ADD_HOME, {"input": home}, token=resident)
    # given a CAP order that expired before it arrived (a relay delivering late)
    late = EVACUATION.replace(b"evacuation-1<", b"evacuation-late<").replace(
        b"<senderName>", b"<expires>2026-11-30T09:30:00+09:00</expires><senderName>"
    )
    response = await post(relay_http, late, token("relay", client_id=RELAY))
    assert response.status_code == 200, response.text
    # then it is stored but nobody is told, concerned, or shown it in the public feed
    assert response.json()["alerts"][0]["concernedResidents"] == 0
    assert (await gql(MY_ALERTS, token=resident))["data"]["myAlerts"]["places"] == []
    assert (await gql(INBOX, token=resident))["data"]["me"]["notifications"]["edges"] == []
    from backend.alerts.sources.cap_feed import cap_feed_entries

    feed = (await relay_http.get("/cap/alerts.atom")).content
    assert cap_feed_entries(feed, "alerts.atom") == []


async def test_a_designated_city_code_reaches_homes_located_in_its_wards(
    relay_http: httpx.AsyncClient, token: Any, session: Any, tmp_path: Path
) -> None:
    import json

    # given a home located in 仙台市青葉区 (04101): places are located in wards
    square = [[140.86, 38.26], [140.88, 38.26], [140.88, 38.28], [140.86, 38.28], [140.86, 38.26]]
    ward = tmp_path / "04101.json"
    geometry = {"type": "Polygon", "coordinates": [square]}
    ward.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": geometry}))
    await municipality_service.import_boundary(session, ward)
    await session.commit()
    gql = GraphQLClient(relay_http)
    resident = token("res-aoba")
    home = {"kind": "HOME", "label": "自宅", "latitude": 38.27, "longitude": 140.87}
    await gql(ADD_HOME, {"input": home}, token=resident)
    # when a CAP alert names the city as a whole (JIS 041009, 仙台市) and no polygon
    document = (
        EVACUATION.replace(b"evacuation-1<", b"evacuation-sendai<")
        .replace(b"<value>072028</value>", b"<value>041009</value>")
        .replace(
            b"<polygon>37.483,139.915 37.483,139.921 37.487,139.921 37.487,139.915 "
            b"37.483,139.915</polygon>",
            b"",
        )
    )
    response = await post(relay_http, document, token("relay", client_id=RELAY))
    assert response.status_code == 200, response.text
    # then the home in the ward is concerned
    assert response.json()["alerts"][0]["concernedResidents"] == 1
    [place] = (await gql(MY_ALERTS, token=resident))["data"]["myAlerts"]["places"]
    assert place["kind"] == "HOME"


async def test_the_feed_keeps_one_copy_whatever_query_strings_a_stranger_sends(
    relay_http: httpx.AsyncClient,
) -> None:
    from backend.alerts import feed

    bodies = set()
    for n in range(20):
        response = await relay_http.get(
            f"/cap/alerts.atom?n={n}", headers={"host": f"host{n}.example"}
        )
        assert response.status_code == 200
        bodies.add(response.content)
    # one feed, written once, naming neither the host nor the query it was asked with
    assert len(bodies) == 1 and len(feed._cache) == 1
    assert b'href="/cap/alerts.atom"' in bodies.pop()
