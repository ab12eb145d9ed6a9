"""Forms, residents and staff for the applications tests (through the public API)."""

from __future__ import annotations

from typing import Any

from backend.applications.demo import DEMO_FORMS
from backend.applications.service import import_forms

CITY = "07202"
CLERK = [("city_staff", CITY)]
CHIEF = [("city_admin", CITY)]
OTHER_CITY = [("city_staff", "07201"), ("city_admin", "07201")]

PROFILE = """
mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { errors { field } } }
"""
BUNDLES = """
query($code: String!) { applicationBundles(municipalityCode: $code) {
  id code titleJa forms { id code titleJa approvalSteps { step role } } } }
"""
APPLICATION_FIELDS = """
id status data bundleCode municipalityCode currentStep { step role }
fieldComments { field comment } rejectionReason form { code }
history { action status step actor comments { field comment } reason }
"""
SUBMIT = f"""
mutation($input: SubmitApplicationBundleInput!) {{ submitApplicationBundle(input: $input) {{
  applications {{ {APPLICATION_FIELDS} }} errors {{ code field message messageJa }} }} }}
"""


def step(name: str, input_type: str) -> str:
    return f"""
mutation($input: {input_type}!) {{ {name}(input: $input) {{
  application {{ {APPLICATION_FIELDS} }} errors {{ code field message }} }} }}
"""


START = step("startApplicationReview", "ApplicationIdInput")
RETURN = step("returnApplication", "ReturnApplicationInput")
APPROVE = step("approveApplicationStep", "ApplicationIdInput")
REJECT = step("rejectApplication", "RejectApplicationInput")
RESUBMIT = step("resubmitApplication", "ResubmitApplicationInput")
QUEUE = f"""
query($code: String!, $status: ApplicationStatus) {{
  applications(municipalityCode: $code, status: $status) {{
    edges {{ node {{ {APPLICATION_FIELDS} }} }} }} }}
"""
ONE = f"query($id: ID!) {{ application(id: $id) {{ {APPLICATION_FIELDS} }} }}"
MINE = f"query {{ myApplications {{ edges {{ node {{ {APPLICATION_FIELDS} }} }} }} }}"
INBOX = "query { me { notifications(first: 20) { edges { node { titleJa data } } } } }"


async def seed_forms(db: Any) -> None:  # noqa: ANN401
    """The demo 転入セット of 会津若松市."""
    async with db.session() as session:
        await import_forms(
            session, municipality_code=CITY, data=DEMO_FORMS.read_bytes(), source_name="demo"
        )


async def resident(gql: Any, token: Any, subject: str, **profile: Any) -> str:  # noqa: ANN401
    bearer: str = token(subject, name=subject)
    body = await gql(PROFILE, {"input": {"municipalityCode": CITY, **profile}}, token=bearer)
    assert body["data"]["updateProfile"]["errors"] == [], body
    return bearer


async def move_in_set(gql: Any, bearer: str) -> dict[str, Any]:  # noqa: ANN401
    body = await gql(BUNDLES, {"code": CITY}, token=bearer)
    [bundle] = body["data"]["applicationBundles"]
    return bundle  # type: ignore[no-any-return]


def valid_forms(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    forms = {f["code"]: f["id"] for f in bundle["forms"]}
    return [
        {
            "form": forms["resident_move_in"],
            "data": {
                "name": "会津 花子",
                "kana": "あいづ はなこ",
                "birthDate": "1990-04-01",
                "newAddress": "福島県会津若松市東栄町3-46",
                "previousAddress": "東京都千代田区1-1",
                "movedOn": "2026-11-20",
            },
        },
        {
            "form": forms["child_allowance"],
            "data": {
                "claimantName": "会津 花子",
                "childName": "会津 ゆき",
                "childBirthDate": "2020-05-05",
                "bankAccount": "1234567",
            },
        },
    ]
