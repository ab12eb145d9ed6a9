"""Shelters through the GraphQL API: import, nearest search, map layer and status updates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from geopy.distance import geodesic

from backend.auth import service as auth_service
from backend.municipalities.reference import with_check_digit
from backend.shelters import service as shelters_service
from backend.shelters.gsi_rows import ShelterFileError
from backend.shelters.merge import merge_shelter_records
from backend.shelters.sources import parse_shelter_file
from tests.shared_data import require_shared

AIZU, FUKUSHIMA, KITAKATA = "07202", "07201", "07208"
STATION = {"latitude": 37.5078, "longitude": 139.9335}  # 会津若松駅

NEAREST = """
query($near: CoordinatesInput!, $hazardType: HazardType, $kind: ShelterKind,
      $openOnly: Boolean! = false, $first: Int! = 10, $max: Float) {
  shelters(near: $near, hazardType: $hazardType, kind: $kind, openOnly: $openOnly,
           first: $first, maxDistanceMeters: $max) {
    id commonId name kinds hazardTypes status occupancy capacity distanceMeters
  }
}"""
SHELTER = """
query($id: ID!) {
  shelter(id: $id) {
    id commonId name status occupancy capacity kinds targetGroup location
    municipality { code nameJa }
  }
}"""
MAP = """
query($bbox: BoundingBoxInput, $code: String, $hazardType: HazardType) {
  sheltersGeoJSON(bbox: $bbox, municipalityCode: $code, hazardType: $hazardType)
}"""
UPDATE = """
mutation($input: UpdateShelterStatusInput!) {
  updateShelterStatus(input: $input) {
    shelter { id status occupancy capacity }
    errors { code field message messageJa }
  }
}"""


def gsi_paths(*codes: str) -> list[Path]:
    """Both GSI files (emergency sites, evacuation shelters) of each municipality."""
    return [
        require_shared("gsi-shelters", folder, f"{with_check_digit(code)}.json")
        for code in codes
        for folder in ("emergency", "evacuation")
    ]


async def import_gsi(session, *codes: str) -> shelters_service.ShelterImportReport:  # type: ignore[no-untyped-def]
    report = await shelters_service.import_shelter_files(session, gsi_paths(*codes))
    await session.commit()
    return report


async def shelter_map(gql, code: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return (await gql(MAP, {"code": code}))["data"]["sheltersGeoJSON"]


async def nearest(gql, **variables: Any) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    body = await gql(NEAREST, {"near": STATION, **variables})
    return body["data"]["shelters"]


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    assert body["data"] is None or not any(body["data"].values()), body
    return body["errors"][0]["extensions"]


async def test_import_merges_designations_of_one_place(gql, session) -> None:  # type: ignore[no-untyped-def]
    # given the raw GSI files of 会津若松市, merged by the parser independently of the database
    paths = gsi_paths(AIZU)
    emergency, evacuation = (parse_shelter_file(p).records for p in paths)
    assert (len(emergency), len(evacuation)) == (199, 102)
    expected = merge_shelter_records([*emergency, *evacuation])
    both = [r for r in expected if len(r.kinds) == 2]

    # when they are imported
    report = await import_gsi(session, AIZU)

    # then every place is one shelter, and places with both designations carry both kinds
    assert (report.rows, report.places) == (301, len(expected))
    assert report.stored.inserted == len(expected)
    features = (await shelter_map(gql, AIZU))["features"]
    assert len(features) == len(expected) == 234
    assert sorted(f["properties"]["name"] for f in features) == sorted(r.name for r in expected)
    merged = [f for f in features if len(f["properties"]["kinds"]) == 2]
    assert len(merged) == len(both) == 199 + 102 - 234
    assert {tuple(f["properties"]["kinds"]) for f in merged} == {
        ("EMERGENCY_SITE", "EVACUATION_SHELTER")
    }


async def test_reimport_is_idempotent_and_keeps_manager_status(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    # given imported shelters, one of which a shelter manager opened
    first = await import_gsi(session, AIZU, FUKUSHIMA)
    shelter = (await nearest(gql, first=1))[0]
    manager = token("manager", roles=[("shelter_manager", AIZU)])
    body = await gql(
        UPDATE,
        {"input": {"id": shelter["id"], "status": "OPEN", "capacity": 300, "occupancy": 12}},
        token=manager,
    )
    assert body["data"]["updateShelterStatus"]["errors"] == []

    # when the same files are imported again
    again = await import_gsi(session, AIZU, FUKUSHIMA)

    # then nothing is added or changed, and the manager's figures survive
    assert (again.places, again.stored.inserted, again.stored.updated) == (first.places, 0, 0)
    assert again.stored.unchanged == first.places
    assert len((await shelter_map(gql, AIZU))["features"]) == 234
    body = await gql(SHELTER, {"id": shelter["id"]})
    assert body["data"]["shelter"]["status"] == "OPEN"
    assert (body["data"]["shelter"]["occupancy"], body["data"]["shelter"]["capacity"]) == (12, 300)


async def test_designations_imported_separately_become_one_shelter(gql, session) -> None:  # type: ignore[no-untyped-def]
    # given the emergency sites imported alone
    emergency, evacuation = gsi_paths(AIZU)
    await shelters_service.import_shelter_files(session, [emergency])
    await session.commit()
    assert len((await shelter_map(gql, AIZU))["features"]) == 199

    # when the evacuation shelters follow in a second import
    await shelters_service.import_shelter_files(session, [evacuation])
    await session.commit()

    # then they pair with their emergency sites as a combined import would, and importing
    # both together afterwards changes no designation
    features = (await shelter_map(gql, AIZU))["features"]
    assert len(features) == 234
    report = await import_gsi(session, AIZU)
    assert (report.stored.inserted, report.stored.removed) == (0, 0)
    after = (await shelter_map(gql, AIZU))["features"]
    kinds = {f["id"]: f["properties"]["kinds"] for f in features}
    assert {f["id"]: f["properties"]["kinds"] for f in after} == kinds


def _break_feature(source: Path, target: Path, index: int) -> int:
    """Copy a GSI file with features[index] given a non-numeric latitude; its start line."""
    document = json.loads(source.read_text(encoding="utf-8"))
    document["features"][index]["geometry"]["coordinates"][1] = "north"
    text = json.dumps(document, ensure_ascii=False, indent=2)
    target.write_text(text, encoding="utf-8")
    # with indent=2 every feature object opens on a line of its own, indented by 4
    starts = [n for n, line in enumerate(text.splitlines(), 1) if line == "    {"]
    return starts[index]


async def test_bad_file_is_refused_with_its_line_and_writes_nothing(  # type: ignore[no-untyped-def]
    gql, session, tmp_path
) -> None:
    # given 会津若松市 imported, and a Fukushima file with one broken feature
    await import_gsi(session, AIZU)
    emergency, _ = gsi_paths(FUKUSHIMA)
    broken = tmp_path / f"{with_check_digit(FUKUSHIMA)}.json"
    line = _break_feature(emergency, broken, 7)

    # when both Fukushima files are imported in one command
    with pytest.raises(ShelterFileError) as refused:
        await shelters_service.import_shelter_files(session, [broken, gsi_paths(FUKUSHIMA)[1]])
    await session.rollback()

    # then the message points at the line, and neither file wrote anything
    assert f"{broken}:{line}: Point coordinates must be [lon, lat] numbers" in refused.value.message
    assert (await shelter_map(gql, FUKUSHIMA))["features"] == []
    assert len((await shelter_map(gql, AIZU))["features"]) == 234


def _flood_sites(codes: tuple[str, ...]) -> list[tuple[float, str]]:
    """(geodesic metres from STATION, 共通ID) of every flood-designated site, from raw JSON."""
    result = []
    for code in codes:
        path = require_shared("gsi-shelters", "emergency", f"{with_check_digit(code)}.json")
        for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
            if feature["properties"]["洪水"] == "1":
                lon, lat = feature["geometry"]["coordinates"]
                distance = geodesic((STATION["latitude"], STATION["longitude"]), (lat, lon))
                result.append((distance.meters, feature["properties"]["共通ID"]))
    return sorted(result)


async def test_nearest_flood_shelters_match_geodesic_ground_truth(gql, session) -> None:  # type: ignore[no-untyped-def]
    # given three neighbouring municipalities imported
    codes = (AIZU, KITAKATA, FUKUSHIMA)
    await import_gsi(session, *codes)
    expected = _flood_sites(codes)[:5]

    # when the five nearest flood shelters to the station are asked for
    found = await nearest(gql, hazardType="FLOOD", first=5)

    # then they are the five nearest flood-designated sites of the raw data, nearest first
    assert [s["commonId"] for s in found] == [cid for _, cid in expected]
    for shelter, (distance, _) in zip(found, expected, strict=True):
        assert shelter["distanceMeters"] == pytest.approx(distance, abs=0.1)
        assert "FLOOD" in shelter["hazardTypes"]
    # a radius cut keeps only those within it
    within = await nearest(gql, hazardType="FLOOD", first=5, max=expected[2][0] + 0.5)
    assert [s["commonId"] for s in within] == [cid for _, cid in expected[:3]]


async def test_nearest_without_filter_is_sorted_and_grows_past_sparse_areas(gql, session) -> None:  # type: ignore[no-untyped-def]
    await import_gsi(session, AIZU)
    found = await nearest(gql, first=50)
    distances = [s["distanceMeters"] for s in found]
    assert len(found) == 50 and distances == sorted(distances)
    # far from every imported shelter (Fukushima city centre), the search box keeps growing
    far = await gql(NEAREST, {"near": {"latitude": 37.7608, "longitude": 140.4747}, "first": 1})
    assert far["data"]["shelters"][0]["distanceMeters"] > 40_000


async def test_open_only_lists_open_shelters_nearest_first(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    # given the five nearest shelters, of which the 2nd and 4th are open and the 1st full
    await import_gsi(session, AIZU)
    five = await nearest(gql, first=5)
    staff = token("staff", roles=[("city_staff", AIZU)])
    for index, status in ((1, "OPEN"), (3, "OPEN"), (0, "FULL")):
        body = await gql(
            UPDATE, {"input": {"id": five[index]["id"], "status": status}}, token=staff
        )
        assert body["data"]["updateShelterStatus"]["errors"] == []

    # when only open shelters are asked for
    found = await nearest(gql, openOnly=True, first=5)

    # then exactly the open ones come back, in distance order
    assert [s["id"] for s in found] == [five[1]["id"], five[3]["id"]]
    assert {s["status"] for s in found} == {"OPEN"}


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        ([("shelter_manager", AIZU)], True),
        ([("city_staff", AIZU)], True),
        ([("city_admin", AIZU)], True),
        ([("shelter_manager", FUKUSHIMA)], False),
        ([("city_staff", FUKUSHIMA)], False),
        ([("community_leader", AIZU)], False),
        ([], False),
    ],
    ids=["manager", "staff", "admin", "other-manager", "other-staff", "leader", "resident"],
)
async def test_status_update_only_by_the_municipality(  # type: ignore[no-untyped-def]
    gql, token, session, roles, allowed
) -> None:
    # given a shelter of 会津若松市
    await shelters_service.load_demo_shelters(session)
    await session.commit()
    shelter = (await nearest(gql, first=1))[0]

    # when someone tries to open it
    body = await gql(
        UPDATE,
        {"input": {"id": shelter["id"], "status": "OPEN", "occupancy": 3}},
        token=token("x", roles=roles),
    )

    # then only Aizu's managers and staff may; for anyone else nothing changes
    payload = body["data"]["updateShelterStatus"]
    after = (await gql(SHELTER, {"id": shelter["id"]}))["data"]["shelter"]
    if allowed:
        assert payload == {
            "shelter": {"id": shelter["id"], "status": "OPEN", "occupancy": 3, "capacity": None},
            "errors": [],
        }
        assert after["status"] == "OPEN"
    else:
        assert payload["shelter"] is None
        assert payload["errors"][0]["code"] == "NOT_PERMITTED"
        assert "07202" in payload["errors"][0]["message"]
        assert (after["status"], after["occupancy"]) == ("CLOSED", None)


async def test_status_update_by_database_grant_and_anonymous(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    await shelters_service.load_demo_shelters(session)
    await auth_service.grant_role(
        session, None, subject="sato", role="shelter_manager", municipality_code=AIZU
    )
    await session.commit()
    shelter = (await nearest(gql, first=1))[0]
    body = await gql(
        UPDATE, {"input": {"id": shelter["id"], "status": "FULL"}}, token=token("sato")
    )
    assert body["data"]["updateShelterStatus"]["shelter"]["status"] == "FULL"
    body = await gql(UPDATE, {"input": {"id": shelter["id"], "status": "OPEN"}}, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"occupancy": -1}, "occupancy"),
        ({"occupancy": 301}, "occupancy"),
        ({"capacity": 10}, "capacity"),
        ({"capacity": -5}, "capacity"),
        ({"status": None}, "status"),
    ],
    ids=["negative", "over-capacity", "capacity-below-occupancy", "negative-capacity", "null"],
)
async def test_invalid_status_updates_are_typed_errors(  # type: ignore[no-untyped-def]
    gql, token, session, change, field
) -> None:
    # given a shelter with capacity 300 and 50 people
    await shelters_service.load_demo_shelters(session)
    await session.commit()
    shelter = (await nearest(gql, first=1))[0]
    manager = token("m", roles=[("shelter_manager", AIZU)])
    setup = {"id": shelter["id"], "status": "OPEN", "capacity": 300, "occupancy": 50}
    assert (await gql(UPDATE, {"input": setup}, token=manager))["data"]["updateShelterStatus"][
        "errors"
    ] == []
    # when an invalid change is sent
    body = await gql(UPDATE, {"input": {"id": shelter["id"], **change}}, token=manager)
    # then it is a typed error naming the field, and nothing changed
    error = body["data"]["updateShelterStatus"]["errors"][0]
    assert (error["code"], error["field"]) == ("VALIDATION", field)
    assert error["messageJa"]
    after = (await gql(SHELTER, {"id": shelter["id"]}))["data"]["shelter"]
    assert (after["status"], after["capacity"], after["occupancy"]) == ("OPEN", 300, 50)


async def test_unknown_and_foreign_ids(gql, token) -> None:  # type: ignore[no-untyped-def]
    body = await gql(SHELTER, {"id": "U2hlbHRlcjowMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA"})
    assert body["data"]["shelter"] is None
    place = await gql(
        'mutation { addPlace(input: {kind: HOME, label: "家", latitude: 37.49, longitude: 139.93})'
        " { place { id } } }",
        token=token("someone"),
    )
    place_id = place["data"]["addPlace"]["place"]["id"]
    assert (await gql(SHELTER, {"id": place_id}))["data"]["shelter"] is None
    body = await gql(
        UPDATE,
        {"input": {"id": place_id, "status": "OPEN"}},
        token=token("m", roles=[("city_staff", AIZU)]),
    )
    assert body["data"]["updateShelterStatus"]["errors"][0]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("variables", "fields"),
    [
        ({"near": {"latitude": 91.0, "longitude": 139.9}}, ["near.latitude"]),
        ({"near": {"latitude": 37.5, "longitude": -181.0}}, ["near.longitude"]),
        ({"near": {"latitude": -100.0, "longitude": 200.0}}, ["near.latitude", "near.longitude"]),
        ({"near": STATION, "first": 0}, ["first"]),
        ({"near": STATION, "first": 51}, ["first"]),
        ({"near": STATION, "max": -1.0}, ["maxDistanceMeters"]),
    ],
    ids=["lat", "lon", "both", "first-0", "first-51", "negative-radius"],
)
async def test_invalid_nearest_arguments_are_validation_errors(gql, variables, fields) -> None:  # type: ignore[no-untyped-def]
    body = await gql(NEAREST, variables, expect_errors=True)
    extensions = error_of(body)
    assert extensions["code"] == "VALIDATION"
    assert extensions["fields"] == fields and extensions["field"] == fields[0]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({}, "bbox"),
        (
            {
                "code": AIZU,
                "bbox": {
                    "minLongitude": 139.9,
                    "minLatitude": 37.4,
                    "maxLongitude": 140.0,
                    "maxLatitude": 37.5,
                },
            },
            "bbox",
        ),
        (
            {
                "bbox": {
                    "minLongitude": 140.0,
                    "minLatitude": 37.4,
                    "maxLongitude": 139.9,
                    "maxLatitude": 37.5,
                }
            },
            "bbox.maxLongitude",
        ),
        (
            {
                "bbox": {
                    "minLongitude": 137.0,
                    "minLatitude": 37.4,
                    "maxLongitude": 139.9,
                    "maxLatitude": 37.5,
                }
            },
            "bbox.maxLongitude",
        ),
        (
            {
                "bbox": {
                    "minLongitude": 139.0,
                    "minLatitude": 95.0,
                    "maxLongitude": 139.9,
                    "maxLatitude": 96.0,
                }
            },
            "bbox.minLatitude",
        ),
        ({"code": "99999"}, "municipalityCode"),
    ],
    ids=["neither", "both", "inverted", "too-large", "out-of-range", "unknown-code"],
)
async def test_invalid_map_arguments_are_typed_errors(gql, variables, field) -> None:  # type: ignore[no-untyped-def]
    body = await gql(MAP, variables, expect_errors=True)
    extensions = error_of(body)
    assert extensions["code"] in {"VALIDATION", "NOT_FOUND"}
    assert extensions["field"] == field


async def test_map_layer_by_bbox_and_hazard(gql, session) -> None:  # type: ignore[no-untyped-def]
    # given Aizu's shelters
    await import_gsi(session, AIZU)
    records = merge_shelter_records(
        [r for p in gsi_paths(AIZU) for r in parse_shelter_file(p).records]
    )
    bbox = {
        "minLongitude": 139.90,
        "minLatitude": 37.48,
        "maxLongitude": 139.95,
        "maxLatitude": 37.51,
    }
    # when the flood shelters of a downtown view are asked for
    body = await gql(MAP, {"bbox": bbox, "hazardType": "FLOOD"})
    collection = body["data"]["sheltersGeoJSON"]
    # then they are exactly the flood-designated places inside the box, as GeoJSON Points
    expected = {
        r.name
        for r in records
        if 139.90 <= r.lon <= 139.95 and 37.48 <= r.lat <= 37.51 and "flood" in r.hazard_types
    }
    assert collection["type"] == "FeatureCollection" and collection["truncated"] is False
    assert {f["properties"]["name"] for f in collection["features"]} == expected
    for feature in collection["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert feature["geometry"]["type"] == "Point" and 139.90 <= lon <= 139.95
        assert "FLOOD" in feature["properties"]["hazardTypes"]
