"""A safety answer runs a fixed, small number of SQL statements (it is the disaster-time burst)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.test_statement_counts import count_statements
from tests.conftest import GraphQLClient
from tests.safety.test_api import Town, _open, _report, town  # noqa: F401 (the fixture)

# Caller's roles and record, idempotency key, event, where it counts (the home; here also the
# home municipality: no boundaries are imported, so places know none), two writes, and the
# live topics of the person's communities and families (see bench/bench_safety_checkins.py).
MOST_STATEMENTS = 10


async def test_an_answer_runs_the_same_few_statements_in_or_out_of_groups(
    gql: GraphQLClient,
    town: Town,  # noqa: F811 (the fixture imported above)
    engine: AsyncEngine,
) -> None:
    # given an open event; Hanako is in a family and a community, the stranger in neither
    event_id = await _open(gql, town)
    for who in ("hanako", "stranger"):  # first answers: sign-in and caches are not the answer
        await _report(gql, town.tokens[who], event_id, "SAFE", idempotencyKey=f"{who}-1")

    # when each answers again
    with count_statements(engine) as grouped:
        by_hanako = await _report(
            gql, town.tokens["hanako"], event_id, "INJURED", idempotencyKey="hanako-2"
        )
    with count_statements(engine) as alone:
        by_stranger = await _report(
            gql, town.tokens["stranger"], event_id, "SAFE", idempotencyKey="stranger-2"
        )

    # then both are stored with the same statements, and no more than the path needs
    assert by_hanako["errors"] == [] and by_stranger["errors"] == []
    assert len(grouped) == len(alone), (grouped, alone)
    sent = [s for s in alone if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]
    assert len(sent) <= MOST_STATEMENTS, "\n".join(s.split("\n")[0][:80] for s in sent)
