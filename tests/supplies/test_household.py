"""The household list: family members count as their consent allows, and no further."""

from __future__ import annotations

from typing import Any

from tests.consent.world import grant
from tests.supplies.world import (
    HOUSEHOLD,
    TICK,
    family,
    person,
    quantities,
    revoke,
    share_with_family,
)

ACCESS_LOG = "{ myDataAccessLog { edges { node { viewerSubject purposeCode itemCodes } } } }"
TO_FAMILY = {"kind": "ROLE", "role": "family"}


async def household(gql, bearer: str, days: int = 3) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    body = await gql(HOUSEHOLD, {"days": days}, token=bearer)
    return body["data"]["householdSupplies"]  # type: ignore[no-any-return]


async def three_generations(gql, token) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """Mother (40, with a dog), grandmother (80, on medication), a baby; one family."""
    mother = await person(gql, token, "mother", age=40, gender="FEMALE", pets=[{"kind": "DOG"}])
    grandma = await person(gql, token, "grandma", age=80, gender="FEMALE", regularMedication=True)
    baby = await person(gql, token, "baby", age=0)
    await family(gql, mother, grandma, baby)
    return mother, grandma, baby


async def test_members_who_share_nothing_count_as_one_more_adult_without_details(  # type: ignore[no-untyped-def]
    gql, token
) -> None:
    # given a family where nobody but the mother consented to anything
    mother, _, _ = await three_generations(gql, token)
    # when she opens the household list
    checklist = await household(gql, mother)
    q = quantities(checklist)
    # then three people need water and meals...
    assert (checklist["people"], checklist["membersSharing"], checklist["membersNotSharing"]) == (
        3,
        0,
        2,
    )
    assert q["water"] == 27 and q["staple_food"] == 27
    # ...her own needs count (her dog)...
    assert q["pet_food"] == 3
    # ...but nothing of the others' age, gender or needs leaks into the list
    hidden = {
        "infant_formula", "infant_diapers", "baby_bottles", "adult_diapers", "denture_care",
        "spare_glasses", "regular_medicine", "medication_notebook",
    }  # fmt: skip
    assert not hidden & set(q)
    water = next(line for line in checklist["items"] if line["item"] == "water")
    assert water["persons"] == 3


async def test_consenting_members_add_their_needs_and_the_read_is_logged(gql, token) -> None:  # type: ignore[no-untyped-def]
    # given the grandmother and the baby share with the family
    mother, grandma, baby = await three_generations(gql, token)
    await share_with_family(gql, grandma)
    await share_with_family(gql, baby)
    # when the mother opens the household list for 7 days
    checklist = await household(gql, mother, 7)
    q = quantities(checklist)
    # then each member's needs are summed
    assert checklist["membersSharing"] == 2 and checklist["membersNotSharing"] == 0
    assert q["infant_formula"] == 56 and q["infant_diapers"] == 56
    assert q["adult_diapers"] == 35 and q["regular_medicine"] == 7
    assert q["medication_notebook"] == 1 and q["denture_care"] == 1
    # water for three, but meals and toilets only for the two who are not babies
    assert q["water"] == 63 and q["staple_food"] == 42 and q["portable_toilets"] == 70
    # household items once
    assert q["portable_radio"] == 1 and q["gas_cartridges"] == 7
    # and the grandmother sees in her log that the mother read her needs for this purpose
    log = (await gql(ACCESS_LOG, token=grandma))["data"]["myDataAccessLog"]["edges"]
    reads = [e["node"] for e in log if e["node"]["purposeCode"] == "household_supplies"]
    assert reads and reads[0]["viewerSubject"] == "mother"
    assert set(reads[0]["itemCodes"]) == {"age", "gender", "supply_needs"}


async def test_revoking_consent_removes_the_members_needs_at_once(gql, token) -> None:  # type: ignore[no-untyped-def]
    mother, grandma, _ = await three_generations(gql, token)
    consent_id = await share_with_family(gql, grandma)
    assert "regular_medicine" in quantities(await household(gql, mother))
    # when the grandmother revokes
    await revoke(gql, grandma, consent_id)
    # then the very next list knows nothing of her medication or age
    after = await household(gql, mother)
    assert not {"regular_medicine", "adult_diapers", "denture_care"} & set(quantities(after))
    assert after["membersNotSharing"] == 2


async def test_a_partial_consent_shares_only_what_it_names(gql, token) -> None:  # type: ignore[no-untyped-def]
    # given the grandmother shares her age but not her supply needs
    mother, grandma, _ = await three_generations(gql, token)
    await grant(gql, grandma, "household_supplies", TO_FAMILY, ["age"])
    q = quantities(await household(gql, mother))
    # then age rules apply to her, her medication does not show
    assert q["adult_diapers"] == 15
    assert "regular_medicine" not in q and "medication_notebook" not in q


async def test_people_outside_the_family_are_not_counted(gql, token) -> None:  # type: ignore[no-untyped-def]
    # given a neighbour who shares with "family" but belongs to no family of the mother
    mother = await person(gql, token, "alone", age=40)
    neighbour = await person(gql, token, "neighbour", age=80, regularMedication=True)
    await share_with_family(gql, neighbour)
    checklist = await household(gql, mother)
    assert checklist["people"] == 1
    assert "regular_medicine" not in quantities(checklist)
    # and a resident with no family gets their own needs as their household's
    mine = await gql("{ mySupplies { items { item quantity } } }", token=mother)
    assert quantities(mine["data"]["mySupplies"]) == quantities(checklist)


async def test_the_household_list_has_its_own_ticks(gql, token) -> None:  # type: ignore[no-untyped-def]
    mother, grandma, _ = await three_generations(gql, token)
    body = await gql(TICK, {"input": {"item": "water", "household": True}}, token=mother)
    progress = body["data"]["tickSupplyItem"]["checklist"]["progress"]
    assert progress["ticked"] == 1
    assert (await household(gql, mother))["progress"]["ticked"] == 1
    # the grandmother's view of the same family has her own ticks
    assert (await household(gql, grandma))["progress"]["ticked"] == 0
