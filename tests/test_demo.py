"""The demo data a new developer sees after `kizuna serve` shows every capability."""

from __future__ import annotations

from backend.demo import seed_demo


async def test_demo_family_shares_and_home_is_in_a_flood_zone(
    gql, token, session, settings
) -> None:  # type: ignore[no-untyped-def]
    # given the demo data in an empty database
    await seed_demo(session, settings)
    await session.commit()
    # when Taro opens the family screen with location sharing
    body = await gql(
        "{ me { familyGroups { name members { displayName isMe sharedData(purpose: "
        '"family_location") { items { item } } } } } myHazards { zones { hazardType } } }',
        token=token("demo-taro"),
    )
    family = body["data"]["me"]["familyGroups"][0]
    shared = {m["displayName"]: m["sharedData"] for m in family["members"] if not m["isMe"]}
    # then Hanako's consented location items show, Yuki (who shared no location) shows nothing
    assert shared["会津 花子"] == {"items": [{"item": "home_place"}]}
    assert shared["会津 ゆき"] is None
    # and the demo home lies in a demo flood zone
    assert {"hazardType": "FLOOD"} in body["data"]["myHazards"][0]["zones"]
