"""Residents, families and consents for the supplies tests (through the public API)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse, print_ast

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations" / "Supplies.graphql"
PROFILE = """
mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { errors { field } } }
"""
BUNDLE = """
mutation($bundle: String!) {
  grantBundledConsent(input: {bundle: $bundle}) { consents { id } errors { code } }
}"""
REVOKE = """
mutation($id: ID!) { revokeConsent(input: {consentId: $id}) { errors { code } } }
"""


def operation(name: str) -> str:
    """One operation of the app's Supplies document, with its fragments."""
    document = parse(OPERATIONS.read_text(encoding="utf-8"))
    fragments = [
        print_ast(d) for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    ]
    [found] = [
        print_ast(d)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode) and d.name and d.name.value == name
    ]
    used = [f for f in fragments if f.split()[1] in found]
    return "\n".join([found, *used])


MY_SUPPLIES = operation("MySupplies")
HOUSEHOLD = operation("HouseholdSupplies")
UPDATE = operation("UpdateSupplyProfile")
TICK = operation("TickSupplyItem")


def born_years_ago(years: int, *, days_more: int = 30) -> str:
    """A birth date ``years`` old today (plus some days, away from the birthday)."""
    today = date.today()
    try:
        birthday = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - years, day=28)
    return (birthday - timedelta(days=days_more)).isoformat()


async def person(  # type: ignore[no-untyped-def]
    gql, token, subject: str, *, age: int | None, gender: str = "UNSPECIFIED", **supply: Any
) -> str:
    """A resident of 会津若松市 with an age and gender, and a supply profile when given."""
    bearer = token(subject, name=subject)
    profile: dict[str, Any] = {"gender": gender, "municipalityCode": "07202"}
    if age is not None:
        profile["birthDate"] = born_years_ago(age)
    body = await gql(PROFILE, {"input": profile}, token=bearer)
    assert body["data"]["updateProfile"]["errors"] == []
    if supply:
        body = await gql(UPDATE, {"input": supply}, token=bearer)
        assert body["data"]["updateSupplyProfile"]["errors"] == [], body
    return bearer


async def family(gql, owner: str, *members: str) -> None:  # type: ignore[no-untyped-def]
    """A family group of the owner, joined by the members."""
    group = await gql(
        'mutation { createFamilyGroup(input: {name: "家"}) { group { id } } }', token=owner
    )
    group_id = group["data"]["createFamilyGroup"]["group"]["id"]
    for member in members:
        invitation = await gql(
            "mutation($g: ID!) { createFamilyInvitation(input: {groupId: $g})"
            " { invitation { code } } }",
            {"g": group_id},
            token=owner,
        )
        code = invitation["data"]["createFamilyInvitation"]["invitation"]["code"]
        body = await gql(
            "mutation($c: String!) { acceptFamilyInvitation(input: {code: $c})"
            " { errors { code } } }",
            {"c": code},
            token=member,
        )
        assert body["data"]["acceptFamilyInvitation"]["errors"] == []


async def share_with_family(gql, bearer: str) -> str:  # type: ignore[no-untyped-def]
    """Grant the household-supplies bundle; the consent's id (to revoke it)."""
    body = await gql(BUNDLE, {"bundle": "household_supplies_basic"}, token=bearer)
    payload = body["data"]["grantBundledConsent"]
    assert payload["errors"] == []
    return str(payload["consents"][0]["id"])


async def revoke(gql, bearer: str, consent_id: str) -> None:  # type: ignore[no-untyped-def]
    body = await gql(REVOKE, {"id": consent_id}, token=bearer)
    assert body["data"]["revokeConsent"]["errors"] == []


def quantities(checklist: dict[str, Any]) -> dict[str, int]:
    """Item code -> quantity of a checklist."""
    return {line["item"]: line["quantity"] for line in checklist["items"]}
