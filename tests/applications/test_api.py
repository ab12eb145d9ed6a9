"""Bundled applications through GraphQL: submit, return, resubmit, two-step approval."""

from __future__ import annotations

from typing import Any

import pytest

from tests.applications.world import (
    APPROVE,
    CHIEF,
    CITY,
    CLERK,
    INBOX,
    MINE,
    ONE,
    OTHER_CITY,
    QUEUE,
    REJECT,
    RESUBMIT,
    RETURN,
    START,
    SUBMIT,
    move_in_set,
    resident,
    seed_forms,
    valid_forms,
)


@pytest.fixture(autouse=True)
async def forms(db: Any) -> None:  # noqa: ANN401
    await seed_forms(db)


async def _submit(gql: Any, bearer: str) -> list[dict[str, Any]]:  # noqa: ANN401
    bundle = await move_in_set(gql, bearer)
    body = await gql(
        SUBMIT, {"input": {"bundle": bundle["id"], "forms": valid_forms(bundle)}}, token=bearer
    )
    payload = body["data"]["submitApplicationBundle"]
    assert payload["errors"] == [], payload
    return payload["applications"]  # type: ignore[no-any-return]


async def _do(gql: Any, document: str, token: str, **input: Any) -> dict[str, Any]:  # noqa: ANN401
    body = await gql(document, {"input": input}, token=token)
    [payload] = body["data"].values()
    return payload  # type: ignore[no-any-return]


async def test_returned_corrected_and_approved_in_two_steps(gql, token) -> None:  # type: ignore[no-untyped-def]
    # given a resident who sends the 転入セット (moving in and child allowance)
    hanako = await resident(gql, token, "app-hanako")
    move_in, allowance = await _submit(gql, hanako)
    assert (move_in["status"], allowance["status"]) == ("RECEIVED", "RECEIVED")
    assert allowance["currentStep"] == {"step": "clerk", "role": "city_staff"}
    clerk, chief = token("app-clerk", roles=CLERK), token("app-chief", roles=CHIEF)
    # when the clerk takes it up and returns it with a comment on one field
    assert (await _do(gql, START, clerk, id=allowance["id"]))["errors"] == []
    returned = await _do(
        gql,
        RETURN,
        clerk,
        id=allowance["id"],
        fieldComments=[{"field": "bankAccount", "comment": "口座番号が違います"}],
    )
    assert returned["errors"] == []
    assert returned["application"]["status"] == "RETURNED"
    # then the resident sees the status and the comment, and has a notification
    mine = (await gql(ONE, {"id": allowance["id"]}, token=hanako))["data"]["application"]
    assert mine["fieldComments"] == [{"field": "bankAccount", "comment": "口座番号が違います"}]
    # when the resident corrects it and sends it again
    data = {**allowance["data"], "bankAccount": "7654321"}
    again = await _do(gql, RESUBMIT, hanako, id=allowance["id"], data=data)
    assert again["errors"] == [] and again["application"]["status"] == "RESUBMITTED"
    # and the clerk, then the section chief, approve
    assert (await _do(gql, START, clerk, id=allowance["id"]))["errors"] == []
    first = await _do(gql, APPROVE, clerk, id=allowance["id"])
    assert first["errors"] == [], first
    assert first["application"]["status"] == "UNDER_REVIEW"
    assert first["application"]["currentStep"] == {"step": "chief", "role": "city_admin"}
    # (the clerk cannot approve the chief's step)
    refused = await _do(gql, APPROVE, clerk, id=allowance["id"])
    assert [e["code"] for e in refused["errors"]] == ["NOT_PERMITTED"]
    done = await _do(gql, APPROVE, chief, id=allowance["id"])
    assert done["errors"] == []
    # then it is approved, with every step kept (who, which step)
    final = done["application"]
    assert final["status"] == "APPROVED" and final["currentStep"] is None
    assert [(h["action"], h["status"], h["step"], h["actor"]) for h in final["history"]] == [
        ("SUBMITTED", "RECEIVED", None, "app-hanako"),
        ("REVIEW_STARTED", "UNDER_REVIEW", None, "app-clerk"),
        ("RETURNED", "RETURNED", None, "app-clerk"),
        ("RESUBMITTED", "RESUBMITTED", None, "app-hanako"),
        ("REVIEW_STARTED", "UNDER_REVIEW", None, "app-clerk"),
        ("STEP_APPROVED", "UNDER_REVIEW", "clerk", "app-clerk"),
        ("STEP_APPROVED", "APPROVED", "chief", "app-chief"),
    ]
    assert final["data"]["bankAccount"] == "7654321"
    # and the resident's inbox has the return and the approval
    inbox = (await gql(INBOX, token=hanako))["data"]["me"]["notifications"]["edges"]
    titles = [n["node"]["titleJa"] for n in inbox]
    assert titles == ["児童手当認定請求が承認されました", "児童手当認定請求が差し戻されました"]
    assert inbox[0]["node"]["data"] == {"applicationId": allowance["id"]}
    statuses = {
        n["node"]["form"]["code"]: n["node"]["status"]
        for n in (await gql(MINE, token=hanako))["data"]["myApplications"]["edges"]
    }
    assert statuses == {"resident_move_in": "RECEIVED", "child_allowance": "APPROVED"}


async def test_staff_of_another_city_and_other_residents_see_nothing(gql, token) -> None:  # type: ignore[no-untyped-def]
    # given an application to 会津若松市
    hanako = await resident(gql, token, "app-hanako2")
    _, allowance = await _submit(gql, hanako)
    other_staff = token("app-fukushima", roles=OTHER_CITY)
    stranger = await resident(gql, token, "app-stranger")
    # then staff of another city, and another resident, neither see nor act on it
    for caller in (other_staff, stranger):
        assert (await gql(ONE, {"id": allowance["id"]}, token=caller))["data"][
            "application"
        ] is None
        for document, extra in ((START, {}), (APPROVE, {}), (REJECT, {"reason": "x"})):
            payload = await _do(gql, document, caller, id=allowance["id"], **extra)
            assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"]
        assert (await gql(MINE, token=caller))["data"]["myApplications"]["edges"] == []
    queue = await gql(QUEUE, {"code": CITY}, token=other_staff, expect_errors=True)
    assert queue["errors"][0]["extensions"]["code"] == "NOT_PERMITTED"
    queue = await gql(QUEUE, {"code": "07201"}, token=other_staff)
    assert queue["data"]["applications"]["edges"] == []
    # and the applicant cannot review their own application
    payload = await _do(gql, START, hanako, id=allowance["id"])
    assert [e["code"] for e in payload["errors"]] == ["NOT_PERMITTED"]
    # while the city's chief sees only the forms with a chief's step in the queue
    chief = token("app-chief2", roles=CHIEF)
    nodes = (await gql(QUEUE, {"code": CITY}, token=chief))["data"]["applications"]["edges"]
    assert [n["node"]["form"]["code"] for n in nodes] == ["child_allowance"]
    clerk = token("app-clerk2", roles=CLERK)
    nodes = await gql(QUEUE, {"code": CITY, "status": "RECEIVED"}, token=clerk)
    assert len(nodes["data"]["applications"]["edges"]) == 2


async def test_invalid_data_gives_typed_field_errors_and_stores_nothing(gql, token) -> None:  # type: ignore[no-untyped-def]
    hanako = await resident(gql, token, "app-hanako3")
    bundle = await move_in_set(gql, hanako)
    forms = valid_forms(bundle)
    del forms[0]["data"]["movedOn"]
    forms[0]["data"]["birthDate"] = "1990/04/01"
    forms[1]["data"]["bankAccount"] = "12"
    forms[1]["data"]["unknown"] = 1
    body = await gql(SUBMIT, {"input": {"bundle": bundle["id"], "forms": forms}}, token=hanako)
    payload = body["data"]["submitApplicationBundle"]
    assert payload["applications"] == []
    assert sorted((e["code"], e["field"]) for e in payload["errors"]) == [
        ("VALIDATION", "forms[0].data.birthDate"),
        ("VALIDATION", "forms[0].data.movedOn"),
        ("VALIDATION", "forms[1].data.bankAccount"),
        ("VALIDATION", "forms[1].data.unknown"),
    ]
    assert any("転入日" in e["messageJa"] for e in payload["errors"])
    assert (await gql(MINE, token=hanako))["data"]["myApplications"]["edges"] == []


async def test_reject_needs_a_reason_and_tells_the_resident(gql, token) -> None:  # type: ignore[no-untyped-def]
    hanako = await resident(gql, token, "app-hanako4")
    move_in, _ = await _submit(gql, hanako)
    clerk = token("app-clerk4", roles=CLERK)
    blank = await _do(gql, REJECT, clerk, id=move_in["id"], reason="  ")
    assert [e["field"] for e in blank["errors"]] == ["reason"]
    done = await _do(gql, REJECT, clerk, id=move_in["id"], reason="転入日が未来の日付です")
    assert done["application"]["status"] == "REJECTED"
    assert done["application"]["rejectionReason"] == "転入日が未来の日付です"
    # a decided application cannot be resubmitted or approved
    again = await _do(gql, RESUBMIT, hanako, id=move_in["id"], data=move_in["data"])
    assert [e["code"] for e in again["errors"]] == ["CONFLICT"]
    inbox = (await gql(INBOX, token=hanako))["data"]["me"]["notifications"]["edges"]
    assert inbox[0]["node"]["titleJa"] == "住民異動届（転入）は受理されませんでした"
