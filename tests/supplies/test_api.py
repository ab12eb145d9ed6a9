"""The supplies checklist through the API: rules, days, ticking, typed errors."""

from __future__ import annotations

from typing import Any

import pytest

from backend.supplies import service as supplies_service
from tests.supplies.world import MY_SUPPLIES, TICK, UPDATE, person, quantities


async def my_list(gql, bearer: str, days: int = 3) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    body = await gql(MY_SUPPLIES, {"days": days}, token=bearer)
    return body["data"]["mySupplies"]  # type: ignore[no-any-return]


async def test_an_infant_gets_formula_and_diapers_for_the_days_asked(gql, token) -> None:  # type: ignore[no-untyped-def]
    # given a baby under one
    baby = await person(gql, token, "baby", age=0)
    # when the checklist is asked for 3 days and for 7
    three, seven = await my_list(gql, baby, 3), await my_list(gql, baby, 7)
    # then formula (8 feeds a day), diapers (8 a day) and water scale with the days
    assert quantities(three) | {} == quantities(three)
    q3, q7 = quantities(three), quantities(seven)
    assert (q3["infant_formula"], q7["infant_formula"]) == (24, 56)
    assert (q3["infant_diapers"], q7["infant_diapers"]) == (24, 56)
    assert (q3["water"], q7["water"]) == (9, 21)
    # and nothing meant for older people: no adult meals, no portable toilets
    assert not {"staple_food", "portable_toilets", "adult_diapers", "sanitary_products"} & set(q3)
    assert three["days"] == 3 and three["recommendedDays"] == 7 and three["catalog"] == "default"
    formula = next(line for line in three["items"] if line["item"] == "infant_formula")
    assert formula["unitJa"] == "回分" and formula["persons"] == 1
    assert "8回分" in formula["reasons"][0]["ja"]


async def test_water_reason_names_the_guidance(gql, token) -> None:  # type: ignore[no-untyped-def]
    adult = await person(gql, token, "adult", age=40, gender="MALE")
    water = next(line for line in (await my_list(gql, adult))["items"] if line["item"] == "water")
    assert water["reasons"] == [
        {
            "ja": "水：1人1日3リットル×日数（内閣府・農林水産省の目安）",
            "en": "Water: 3 litres per person per day (Cabinet Office / MAFF guidance)",
        }
    ]
    assert (water["quantity"], water["unitEn"], water["category"]) == (9, "litres", "WATER_FOOD")


@pytest.mark.parametrize(
    ("age", "gender", "present", "absent"),
    [
        (80, "FEMALE", {"adult_diapers", "denture_care", "spare_glasses"}, {"sanitary_products"}),
        (30, "FEMALE", {"sanitary_products", "staple_food"}, {"adult_diapers", "denture_care"}),
        (30, "MALE", {"staple_food", "portable_toilets"}, {"sanitary_products"}),
        (1, "MALE", {"baby_food", "infant_formula", "infant_diapers"}, {"staple_food"}),
        # an unknown gender never satisfies a gender rule; an unknown age counts as an adult's
        (None, "UNSPECIFIED", {"staple_food", "water"}, {"sanitary_products", "infant_formula"}),
    ],
)
async def test_age_and_gender_choose_the_items(  # type: ignore[no-untyped-def]
    gql, token, age: int | None, gender: str, present: set[str], absent: set[str]
) -> None:
    bearer = await person(gql, token, f"p-{age}-{gender}", age=age, gender=gender)
    items = set(quantities(await my_list(gql, bearer)))
    assert present <= items
    assert not absent & items


async def test_pets_medication_and_diet_add_their_items(gql, token) -> None:  # type: ignore[no-untyped-def]
    # given two dogs and a cat, regular medication and a food allergy
    bearer = await person(
        gql,
        token,
        "keeper",
        age=45,
        pets=[{"kind": "DOG", "count": 2}, {"kind": "CAT", "count": 1}],
        regularMedication=True,
        dietaryNeeds=["ALLERGY"],
    )
    q = quantities(await my_list(gql, bearer, 3))
    # then pet food per animal per day, water by kind (2x3x1 L + 1x3x0.3 L, rounded up)
    assert q["pet_food"] == 9 and q["pet_carrier"] == 3 and q["pet_water"] == 7
    # medicine for the days and the medication notebook
    assert q["regular_medicine"] == 3 and q["medication_notebook"] == 1
    # allergy-safe meals instead of ordinary ones
    assert q["allergy_safe_food"] == 9 and "staple_food" not in q
    # when the profile changes, the list follows
    await gql(UPDATE, {"input": {"pets": [], "dietaryNeeds": []}}, token=bearer)
    q = quantities(await my_list(gql, bearer, 3))
    assert "pet_food" not in q and q["staple_food"] == 9 and q["regular_medicine"] == 3


async def test_the_profile_reads_back(gql, token) -> None:  # type: ignore[no-untyped-def]
    bearer = await person(gql, token, "reader", age=50)
    empty = await gql(
        "{ mySupplyProfile { pets { kind } regularMedication updatedAt } }", token=bearer
    )
    assert empty["data"]["mySupplyProfile"] == {
        "pets": [],
        "regularMedication": False,
        "updatedAt": None,
    }
    await gql(UPDATE, {"input": {"pets": [{"kind": "OTHER", "count": 3}]}}, token=bearer)
    await gql(UPDATE, {"input": {"regularMedication": True}}, token=bearer)  # pets kept
    body = await gql(
        "{ mySupplyProfile { pets { kind count } regularMedication dietaryNeeds } }", token=bearer
    )
    assert body["data"]["mySupplyProfile"] == {
        "pets": [{"kind": "OTHER", "count": 3}],
        "regularMedication": True,
        "dietaryNeeds": [],
    }


async def test_ticking_shows_progress(gql, token) -> None:  # type: ignore[no-untyped-def]
    bearer = await person(gql, token, "ticker", age=40)
    total = len((await my_list(gql, bearer))["items"])
    # when two items are ticked and one of them unticked
    for item, ticked in (("water", True), ("flashlight", True), ("flashlight", False)):
        body = await gql(TICK, {"input": {"item": item, "ticked": ticked}}, token=bearer)
        payload = body["data"]["tickSupplyItem"]
        assert payload["errors"] == []
    # then the payload and the list agree: one of all ticked
    assert payload["checklist"]["progress"] == {
        "ticked": 1,
        "total": total,
        "percent": 100 // total,
    }
    mine = await my_list(gql, bearer, 7)
    assert {line["item"] for line in mine["items"] if line["ticked"]} == {"water"}
    # ticking twice changes nothing; the household list keeps its own ticks
    await gql(TICK, {"input": {"item": "water"}}, token=bearer)
    household = await gql("{ householdSupplies { progress { ticked } } }", token=bearer)
    assert household["data"]["householdSupplies"]["progress"]["ticked"] == 0
    assert (await my_list(gql, bearer))["progress"]["ticked"] == 1


@pytest.mark.parametrize("days", [0, 15, 30, -1])
async def test_days_out_of_range_are_typed_errors(gql, token, days: int) -> None:  # type: ignore[no-untyped-def]
    bearer = await person(gql, token, "days", age=40)
    body = await gql(MY_SUPPLIES, {"days": days}, token=bearer, expect_errors=True)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION"
    assert error["extensions"]["field"] == "days"
    assert "1〜14" in error["extensions"]["messageJa"]
    body = await gql(TICK, {"input": {"item": "water", "days": days}}, token=bearer)
    [error] = body["data"]["tickSupplyItem"]["errors"]
    assert (error["code"], error["field"]) == ("VALIDATION", "days")


async def test_unknown_items_and_bad_profiles_are_typed_errors(gql, token) -> None:  # type: ignore[no-untyped-def]
    bearer = await person(gql, token, "careless", age=40)
    body = await gql(TICK, {"input": {"item": "caviar"}}, token=bearer)
    payload = body["data"]["tickSupplyItem"]
    assert payload["checklist"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "item")]
    body = await gql(
        UPDATE,
        {
            "input": {
                "pets": [
                    {"kind": "DOG", "count": 0},
                    {"kind": "DOG", "count": 2},
                    {"kind": "CAT", "count": 21},
                ]
            }
        },
        token=bearer,
    )
    errors = body["data"]["updateSupplyProfile"]["errors"]
    assert {e["field"] for e in errors} == {"pets[0].count", "pets[1].kind", "pets[2].count"}
    # and nothing was saved
    profile = await gql("{ mySupplyProfile { pets { kind } } }", token=bearer)
    assert profile["data"]["mySupplyProfile"]["pets"] == []


async def test_anonymous_callers_must_sign_in(gql) -> None:  # type: ignore[no-untyped-def]
    body = await gql(MY_SUPPLIES, {"days": 3}, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await gql(TICK, {"input": {"item": "water"}}, expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


CITY_CATALOG = b"""
mode: extend
items:
  - code: water
    name_ja: \xe9\xa3\xb2\xe6\x96\x99\xe6\xb0\xb4
    name_en: Drinking water
    unit_ja: L
    unit_en: litres
    category: water_food
    rules:
      - {per: person_day, quantity: 4, reason_ja: "4L", reason_en: "4 litres in winter"}
  - code: snow_gear
    name_ja: snow
    name_en: Winter gear
    unit_ja: set
    unit_en: sets
    category: tools
    rules:
      - {per: person, quantity: 1, reason_ja: "cold", reason_en: "cold"}
"""


async def test_a_municipalitys_catalog_extends_the_default_for_its_residents(  # type: ignore[no-untyped-def]
    gql, token, session
) -> None:
    # given 会津若松市 imported its own catalog (more water, winter gear)
    await supplies_service.import_catalog(
        session, municipality_code="07202", data=CITY_CATALOG, source_name="aizu.yaml"
    )
    await session.commit()
    # when a resident of 07202 asks
    bearer = await person(gql, token, "aizu", age=40)
    checklist = await my_list(gql, bearer)
    q = quantities(checklist)
    # then the city's items replace and extend the default ones
    assert checklist["catalog"] == "07202"
    assert q["water"] == 12 and q["snow_gear"] == 1 and q["staple_food"] == 9
    assert [line["item"] for line in checklist["items"]][-1] == "snow_gear"
    # and a resident of another city keeps the default
    other = token("fukushima")
    await gql(
        'mutation { updateProfile(input: {municipalityCode: "07201"}) { errors { field } } }',
        token=other,
    )
    theirs = await my_list(gql, other)
    assert theirs["catalog"] == "default" and quantities(theirs)["water"] == 9
