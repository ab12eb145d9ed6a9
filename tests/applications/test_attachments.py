"""Attachments over HTTP: a resident uploads a photo or PDF, sends it with a form; only they
and the staff who review that form get it back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.config import Settings
from tests.applications.world import (
    CHIEF,
    CLERK,
    OTHER_CITY,
    SUBMIT,
    move_in_set,
    resident,
    seed_forms,
    valid_forms,
)
from tests.conftest import GraphQLClient

CAP = 4096
PDF = b"%PDF-1.7\n" + b"\x00" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PATH = "/applications/attachments"


@pytest.fixture
async def http(
    settings: Settings, db: Any, verifier: TokenVerifier, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    await seed_forms(db)
    configured = settings.model_copy(
        update={
            "application_attachment_max_bytes": CAP,
            "application_attachment_dir": tmp_path / "attachments",
        }
    )
    app = create_app(configured, database=db, verifier=verifier)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kizuna.test"
    ) as client:
        yield client


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def _upload(http: httpx.AsyncClient, token: str | None, body: bytes) -> tuple[int, Any]:
    response = await http.post(PATH, content=body, headers=_auth(token))
    return response.status_code, response.json()


@pytest.mark.parametrize(("body", "media_type"), [(PDF, "application/pdf"), (PNG, "image/png"),
                                                  (JPEG, "image/jpeg")])  # fmt: skip
async def test_sent_attachments_reach_the_reviewing_staff_only(  # type: ignore[no-untyped-def]
    http, token, tmp_path: Path, body: bytes, media_type: str
) -> None:
    gql = GraphQLClient(http)
    # given a resident who uploads a document and sends it with the moving-in form
    hanako = await resident(gql, token, "att-hanako")
    status, upload = await _upload(http, hanako, body)
    assert status == 200, upload
    assert (upload["mediaType"], upload["size"]) == (media_type, len(body))
    # (kept outside the database, under the configured directory)
    assert [p.read_bytes() for p in (tmp_path / "attachments").iterdir()] == [body]
    bundle = await move_in_set(gql, hanako)
    forms = valid_forms(bundle)
    forms[0]["attachments"] = [upload["id"]]
    sent = await gql(SUBMIT, {"input": {"bundle": bundle["id"], "forms": forms}}, token=hanako)
    payload = sent["data"]["submitApplicationBundle"]
    assert payload["errors"] == []
    # then the application lists it, and the applicant and the form's reviewing clerk get it
    for caller in (hanako, token("att-clerk", roles=CLERK)):
        got = await http.get(upload["url"], headers=_auth(caller))
        assert got.status_code == 200
        assert got.content == body and got.headers["content-type"] == media_type
        assert "private" in got.headers["cache-control"]
    # and nobody else: a chief (no step of the moving-in form), another city's staff, another
    # resident, an anonymous caller
    stranger = await resident(gql, token, "att-stranger")
    outsiders = (token("att-chief", roles=CHIEF), token("att-other", roles=OTHER_CITY), stranger)
    for caller in (*outsiders, None):
        refused = await http.get(upload["url"], headers=_auth(caller))
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "NOT_FOUND"


async def test_attachments_are_refused_by_type_size_and_caller(http, token, tmp_path) -> None:  # type: ignore[no-untyped-def]
    gql = GraphQLClient(http)
    hanako = await resident(gql, token, "att-hanako2")
    # a GIF (or anything not JPEG/PNG/PDF by its bytes, whatever its Content-Type) is refused
    status, answer = await _upload(http, hanako, b"GIF89a" + b"\0" * 50)
    assert (status, answer["error"]["code"]) == (415, "VALIDATION")
    response = await http.post(
        PATH, content=b"<html>", headers={**_auth(hanako), "Content-Type": "application/pdf"}
    )
    assert response.status_code == 415
    # past the configured size, before the body is kept
    status, _ = await _upload(http, hanako, PDF + b"\0" * CAP)
    assert status == 413
    # only signed-in residents upload (staff with no resident record of their own neither)
    status, answer = await _upload(http, None, PDF)
    assert (status, answer["error"]["code"]) == (401, "UNAUTHENTICATED")
    status, answer = await _upload(http, token("att-clerk2", roles=CLERK), PDF)
    assert (status, answer["error"]["code"]) == (403, "NOT_PERMITTED")
    assert not (tmp_path / "attachments").exists()
    # an unsent upload is its uploader's only, and another resident cannot send it
    status, upload = await _upload(http, hanako, PDF)
    assert status == 200
    clerk = token("att-clerk3", roles=CLERK)
    assert (await http.get(upload["url"], headers=_auth(clerk))).status_code == 404
    taro = await resident(gql, token, "att-taro")
    bundle = await move_in_set(gql, taro)
    forms = valid_forms(bundle)
    forms[0]["attachments"] = [upload["id"]]
    sent = await gql(SUBMIT, {"input": {"bundle": bundle["id"], "forms": forms}}, token=taro)
    payload = sent["data"]["submitApplicationBundle"]
    assert [e["field"] for e in payload["errors"]] == ["forms[0].attachments[0]"]
    # and an id that is not one is a 404
    got = await http.get(PATH, params={"id": "nonsense"}, headers=_auth(hanako))
    assert got.status_code == 404
