"""Danger spots through GraphQL: who sees a report, who moderates it, merging, expiry, limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from backend.api.ids import decode_id
from backend.dangerspots.models import DangerSpot
from backend.db.base import utcnow
from tests.conftest import RollbackDatabase
from tests.dangerspots.world import AIZU_BOX, NEAR, POSTS_PER_HOUR, Api, point
from tests.hostile import star
from tests.safety.test_api import Town

EVERYONE = (
    "hanako", "taro", "jiro", "leader", "other_leader", "stranger", "staff", "staff_other",
)  # fmt: skip


async def _who_sees(api: Api, town: Town, spot_id: str) -> set[str]:
    """Who of the town gets the spot by id, and (the same people) on the map."""
    seen = set()
    for who in EVERYONE:
        by_id = await api.spot(town.tokens[who], spot_id) is not None
        on_map = spot_id in await api.map_ids(town.tokens[who])
        assert by_id == on_map, who
        if by_id:
            seen.add(who)
    return seen


async def _reporter_visible_to(api: Api, town: Town, spot_id: str, seen: set[str]) -> set[str]:
    found = set()
    for who in seen:
        spot = await api.spot(town.tokens[who], spot_id)
        assert spot is not None
        if spot["reporterId"] is not None:
            found.add(who)
    return found


# Hanako (family with Taro; town association with Jiro, led by Sato "leader") reports.
# Staff of Aizu always see (and moderate); staff of Fukushima city never do.
@pytest.mark.parametrize(
    ("scope", "pending", "published"),
    [
        (
            "EVERYONE",
            {"hanako", "leader", "staff"},
            {"hanako", "taro", "jiro", "leader", "other_leader", "stranger", "staff",
             "staff_other"},
        ),
        ("COMMUNITY", {"hanako", "jiro", "leader", "staff"}, {"hanako", "jiro", "leader", "staff"}),
        ("FAMILY", {"hanako", "taro", "staff"}, {"hanako", "taro", "staff"}),
        ("STAFF", {"hanako", "staff"}, {"hanako", "staff"}),
    ],
)  # fmt: skip
async def test_scopes_hold_before_and_after_approval(
    api: Api, town: Town, scope: str, pending: set[str], published: set[str]
) -> None:
    # given
    spot_id = await api.posted(town.tokens["hanako"], scope=scope, note="倒木で通れません")
    # when / then
    assert await _who_sees(api, town, spot_id) == pending
    approved = await api.moderate(town.tokens["staff"], spot_id, "APPROVE")
    assert approved["errors"] == [] and approved["dangerSpot"]["status"] == "PUBLISHED"
    seen = await _who_sees(api, town, spot_id)
    assert seen == published
    # Nobody but the municipality's staff learns who reported it (not even her family).
    assert await _reporter_visible_to(api, town, spot_id, seen) == {"staff"}
    mine = await api.spot(town.tokens["hanako"], spot_id)
    assert mine is not None and mine["reportedByMe"] and mine["reporterId"] is None


async def test_anonymous_map_shows_only_approved_public_spots(api: Api, town: Town) -> None:
    # given
    public = await api.posted(town.tokens["hanako"])
    pending = await api.posted(town.tokens["jiro"], kind="FIRE")
    await api.moderate(town.tokens["staff"], public, "APPROVE")
    # when
    body = await api.op("DangerSpotMap", {"bbox": AIZU_BOX})
    # then
    features = body["dangerSpots"]["features"]
    assert [f["id"] for f in features] == [public]
    assert pending not in {f["id"] for f in features}
    properties = features[0]["properties"]
    assert properties["kind"] == "BLOCKED_ROAD" and properties["status"] == "PUBLISHED"
    assert "reporterId" not in properties and not properties["reportedByMe"]
    assert features[0]["geometry"] == point(**NEAR)


async def test_rejected_spots_stay_with_their_reporter_and_moderators(api: Api, town: Town) -> None:
    # given
    spot_id = await api.posted(town.tokens["hanako"])
    # when
    rejected = await api.moderate(town.tokens["leader"], spot_id, "REJECT")
    # then
    assert rejected["errors"] == [] and rejected["dangerSpot"]["status"] == "REJECTED"
    assert await api.spot(town.tokens["stranger"], spot_id) is None
    assert spot_id not in await api.map_ids(town.tokens["hanako"])  # not active: off the map
    mine = await api.spot(town.tokens["hanako"], spot_id)
    assert mine is not None and mine["status"] == "REJECTED"
    again = await api.moderate(town.tokens["staff"], spot_id, "APPROVE")
    assert [e["code"] for e in again["errors"]] == ["CONFLICT"]


@pytest.mark.parametrize(
    ("scope", "who", "code"),
    [
        ("EVERYONE", "stranger", "NOT_FOUND"),  # cannot even see a pending report
        ("EVERYONE", "staff_other", "NOT_FOUND"),  # another city's staff
        ("EVERYONE", "other_leader", "NOT_FOUND"),  # leader of another town association
        ("COMMUNITY", "jiro", "NOT_PERMITTED"),  # sees it, as a member, but does not moderate
        ("FAMILY", "taro", "NOT_PERMITTED"),
        ("FAMILY", "leader", "NOT_FOUND"),  # a family report is not a leader's to read
        ("STAFF", "leader", "NOT_FOUND"),
        ("EVERYONE", "hanako", "NOT_PERMITTED"),  # nobody moderates their own report
    ],
)
async def test_who_may_not_moderate(api: Api, town: Town, scope: str, who: str, code: str) -> None:
    # given
    spot_id = await api.posted(town.tokens["hanako"], scope=scope)
    # when
    payload = await api.moderate(town.tokens[who], spot_id, "APPROVE")
    # then
    assert [e["code"] for e in payload["errors"]] == [code]
    assert payload["dangerSpot"] is None
    spot = await api.spot(town.tokens["staff"], spot_id)
    assert spot is not None and spot["status"] == "PENDING"


async def test_moderation_queue_of_staff_and_leaders(api: Api, town: Town) -> None:
    # given
    everyone = await api.posted(town.tokens["hanako"])
    family = await api.posted(town.tokens["hanako"], scope="FAMILY", kind="FIRE")
    strangers = await api.posted(town.tokens["stranger"], kind="LANDSLIDE")

    async def queue(who: str) -> list[dict[str, Any]]:
        data = await api.op("DangerSpotModerationQueue", {"first": 10}, token=town.tokens[who])
        return [e["node"] for e in data["dangerSpotModerationQueue"]["edges"]]

    # when / then: staff see all of Aizu's, oldest first, with the reporter
    staff_queue = await queue("staff")
    assert [n["id"] for n in staff_queue] == [everyone, family, strangers]
    assert all(n["reporterId"] and n["canModerate"] for n in staff_queue)
    # the leader only the EVERYONE/COMMUNITY reports of members, without the reporter
    leader_queue = await queue("leader")
    assert [n["id"] for n in leader_queue] == [everyone]
    assert leader_queue[0]["reporterId"] is None and leader_queue[0]["canModerate"]
    assert await queue("staff_other") == []
    body = await api.gql(
        "{ dangerSpotModerationQueue { edges { node { id } } } }",
        token=town.tokens["jiro"],
        expect_errors=True,
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_PERMITTED"
    # approved ones leave the queue
    await api.moderate(town.tokens["staff"], everyone, "APPROVE")
    assert [n["id"] for n in await queue("staff")] == [family, strangers]


async def test_the_moderation_queue_pages_with_a_cursor(api: Api, town: Town) -> None:
    # given
    posted = [await api.posted(town.tokens["stranger"], kind=k) for k in ("FIRE", "OTHER", "FIRE")]
    # when
    first = await api.op("DangerSpotModerationQueue", {"first": 2}, token=town.tokens["staff"])
    page = first["dangerSpotModerationQueue"]
    rest = await api.op(
        "DangerSpotModerationQueue",
        {"first": 2, "after": page["pageInfo"]["endCursor"]},
        token=town.tokens["staff"],
    )
    # then
    assert page["pageInfo"]["hasNextPage"]
    ids = [e["node"]["id"] for e in page["edges"]]
    ids += [e["node"]["id"] for e in rest["dangerSpotModerationQueue"]["edges"]]
    assert ids == posted
    assert not rest["dangerSpotModerationQueue"]["pageInfo"]["hasNextPage"]


async def test_duplicates_merge_into_the_report_they_repeat(api: Api, town: Town) -> None:
    # given: three reports of a blocked road a few metres apart, one of a fire beside them
    first = await api.posted(town.tokens["hanako"])
    near = {"latitude": NEAR["latitude"] + 0.0001, "longitude": NEAR["longitude"]}  # ~11 m
    duplicate = await api.posted(town.tokens["jiro"], geometry=point(**near))
    fire = await api.posted(town.tokens["jiro"], kind="FIRE")
    far = {"latitude": NEAR["latitude"] + 0.002, "longitude": NEAR["longitude"]}  # ~220 m
    distant = await api.posted(town.tokens["stranger"], geometry=point(**far))
    staff = town.tokens["staff"]
    # when / then: not a duplicate of a different kind, nor of one far away
    wrong_kind = await api.moderate(staff, fire, "MERGE", mergeInto=first)
    assert [(e["code"], e["field"]) for e in wrong_kind["errors"]] == [("VALIDATION", "mergeInto")]
    too_far = await api.moderate(staff, distant, "MERGE", mergeInto=first)
    assert [(e["code"], e["field"]) for e in too_far["errors"]] == [("VALIDATION", "mergeInto")]
    missing = await api.moderate(staff, duplicate, "MERGE")
    assert [(e["code"], e["field"]) for e in missing["errors"]] == [("VALIDATION", "mergeInto")]
    merged = await api.moderate(staff, duplicate, "MERGE", mergeInto=first)
    assert merged["errors"] == []
    assert merged["dangerSpot"]["status"] == "MERGED"
    assert merged["dangerSpot"]["mergedIntoId"] == first
    assert duplicate not in await api.map_ids(staff)
    itself = await api.moderate(staff, first, "MERGE", mergeInto=first)
    assert [e["code"] for e in itself["errors"]] == ["VALIDATION"]


async def test_expired_spots_leave_the_map_and_cannot_be_approved(
    api: Api, town: Town, db: RollbackDatabase
) -> None:
    # given
    spot_id = await api.posted(town.tokens["hanako"])
    async with db.session() as session:
        await session.execute(
            update(DangerSpot)
            .where(DangerSpot.id == decode_id("DangerSpot", spot_id))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    # when
    approved = await api.moderate(town.tokens["staff"], spot_id, "APPROVE")
    # then
    assert [e["code"] for e in approved["errors"]] == ["EXPIRED"]
    assert spot_id not in await api.map_ids(town.tokens["staff"])
    mine = await api.spot(town.tokens["hanako"], spot_id)
    assert mine is not None and mine["status"] == "EXPIRED"


async def test_a_resident_posts_a_limited_number_an_hour(api: Api, town: Town) -> None:
    # given
    for _ in range(POSTS_PER_HOUR):
        await api.posted(town.tokens["jiro"])
    # when
    refused = await api.report(town.tokens["jiro"])
    # then
    assert refused["dangerSpot"] is None
    assert [e["code"] for e in refused["errors"]] == ["LIMIT_EXCEEDED"]
    data = await api.op("MyDangerSpots", {"first": 50}, token=town.tokens["jiro"])
    assert len(data["myDangerSpots"]["edges"]) == POSTS_PER_HOUR
    # someone else still may
    await api.posted(town.tokens["hanako"])


def _square(lat: float, lon: float, size: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.mark.parametrize(
    ("geometry", "field"),
    [
        ({"type": "LineString", "coordinates": [[139.9, 37.5], [139.91, 37.5]]}, "geometry"),
        ({"type": "Point", "coordinates": [139.9]}, "geometry"),
        ({"type": "Point", "coordinates": [139.9, 97.5]}, "geometry"),
        ("not geojson", "geometry"),
        (  # a bow tie: self-intersecting, refused (never repaired)
            {"type": "Polygon", "coordinates": [[[139.92, 37.49], [139.93, 37.5],
             [139.93, 37.49], [139.92, 37.5], [139.92, 37.49]]]},
            "geometry",
        ),
        (_square(37.49, 139.92, 0.02), "geometry"),  # ~3.5 km²: too large
        (star(199, 139.92, 37.49), "geometry"),  # never repaired (make_valid is ~n^3.4)
        ({"type": "Point", "coordinates": [[[[139.9, 37.5]]]]}, "geometry"),
        (  # too many vertices
            {"type": "Polygon", "coordinates": [[[139.92 + i * 1e-6, 37.49] for i in range(300)]
             + [[139.92, 37.4901], [139.92, 37.49]]]},
            "geometry",
        ),
    ],
)  # fmt: skip
async def test_bad_geometry_is_a_typed_error(
    api: Api, town: Town, geometry: Any, field: str | None
) -> None:
    # when
    payload = await api.report(town.tokens["hanako"], geometry=geometry, note="x")
    # then
    if field is None:
        # Without imported boundaries a point anywhere belongs to the reporter's home
        # municipality; with them, Tokyo is not served. Either way nothing breaks.
        assert payload["errors"] == [] or payload["errors"][0]["field"] == "geometry"
        return
    assert payload["dangerSpot"] is None
    assert {(e["code"], e["field"]) for e in payload["errors"]} == {("VALIDATION", field)}


async def test_a_small_polygon_is_accepted(api: Api, town: Town) -> None:
    payload = await api.report(
        town.tokens["hanako"], geometry=_square(37.495, 139.929, 0.0005), kind="FLOODED_ROAD"
    )
    assert payload["errors"] == []
    spot = payload["dangerSpot"]
    assert spot["geometry"]["type"] == "Polygon"
    assert 37.495 < spot["latitude"] < 37.4955 and 139.929 < spot["longitude"] < 139.9295


async def test_a_scope_needs_its_group_and_notes_are_capped(api: Api, town: Town) -> None:
    no_community = await api.report(town.tokens["taro"], scope="COMMUNITY")
    assert [(e["code"], e["field"]) for e in no_community["errors"]] == [("VALIDATION", "scope")]
    no_family = await api.report(town.tokens["jiro"], scope="FAMILY")
    assert [(e["code"], e["field"]) for e in no_family["errors"]] == [("VALIDATION", "scope")]
    long_note = await api.report(town.tokens["jiro"], note="あ" * 501)
    assert [(e["code"], e["field"]) for e in long_note["errors"]] == [("VALIDATION", "note")]


@pytest.mark.parametrize(
    "bbox",
    [
        {"minLongitude": 139.0, "minLatitude": 37.0, "maxLongitude": 140.0, "maxLatitude": 37.5},
        {"minLongitude": 140.0, "minLatitude": 37.0, "maxLongitude": 139.9, "maxLatitude": 37.1},
        {"minLongitude": 139.9, "minLatitude": 91.0, "maxLongitude": 140.0, "maxLatitude": 92.0},
    ],
)
async def test_bad_map_boxes_are_typed_errors(api: Api, bbox: dict[str, float]) -> None:
    body = await api.gql(
        "query($b: BoundingBoxInput!) { dangerSpots(bbox: $b) }",
        {"b": bbox},
        expect_errors=True,
    )
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert body["errors"][0]["extensions"]["field"].startswith("bbox.")


async def test_foreign_ids_are_not_found(api: Api, town: Town) -> None:
    payload = await api.moderate(town.tokens["staff"], "bm90LWFuLWlk", "APPROVE")
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "id")]
    assert await api.spot(town.tokens["staff"], "bm90LWFuLWlk") is None
