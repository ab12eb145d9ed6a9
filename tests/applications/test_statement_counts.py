"""The staff queue reads every application on its page (form, bundle, history, attachments)
in the same few statements, however many there are (no statement per application)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.test_statement_counts import count_statements, operation
from tests.applications.world import (
    CITY,
    CLERK,
    SUBMIT,
    move_in_set,
    resident,
    seed_forms,
    valid_forms,
)
from tests.conftest import GraphQLClient


async def test_the_staff_queue_runs_the_same_statements_for_2_or_10_applications(
    gql: GraphQLClient, token: Any, db: Any, engine: AsyncEngine
) -> None:
    # given ten applications (five residents each sending the 転入セット's two forms)
    await seed_forms(db)
    for n in range(5):
        bearer = await resident(gql, token, f"count-app-{n}")
        bundle = await move_in_set(gql, bearer)
        body = await gql(
            SUBMIT, {"input": {"bundle": bundle["id"], "forms": valid_forms(bundle)}}, token=bearer
        )
        assert body["data"]["submitApplicationBundle"]["errors"] == []
    clerk = token("count-clerk", roles=CLERK)
    query = operation("Applications.graphql", "ApplicationQueue")
    variables = {"municipalityCode": CITY}
    await gql(query, {**variables, "first": 2}, token=clerk)  # sign-in and caches first
    counted = {}
    for first in (2, 10):
        with count_statements(engine) as statements:
            body = await gql(query, {**variables, "first": first}, token=clerk)
        assert len(body["data"]["applications"]["edges"]) == first
        counted[first] = [
            s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))
        ]
    # then the page of ten costs what the page of two does
    assert len(counted[2]) == len(counted[10]), "\n".join(s[:80] for s in counted[10])
