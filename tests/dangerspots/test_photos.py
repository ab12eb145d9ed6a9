"""Danger-spot photos over HTTP: the reporter uploads, those who may see the spot download."""

from __future__ import annotations

import pytest

from tests.dangerspots.world import PHOTO_CAP, Api
from tests.safety.test_api import Town

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 64


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _upload(api: Api, token: str | None, spot_id: str, body: bytes) -> tuple[int, dict]:
    headers = _auth(token) if token else {}
    response = await api.http.post(
        "/danger-spots/photo", params={"id": spot_id}, content=body, headers=headers
    )
    return response.status_code, response.json()


@pytest.mark.parametrize(("body", "media_type"), [(PNG, "image/png"), (JPEG, "image/jpeg"),
                                                  (WEBP, "image/webp")])  # fmt: skip
async def test_the_reporter_adds_a_photo_that_only_viewers_of_the_spot_get(
    api: Api, town: Town, body: bytes, media_type: str
) -> None:
    # given
    spot_id = await api.posted(town.tokens["hanako"], scope="FAMILY")
    # when
    status, answer = await _upload(api, town.tokens["hanako"], spot_id, body)
    # then
    assert status == 200, answer
    spot = await api.spot(town.tokens["taro"], spot_id)
    assert spot is not None and spot["photoUrl"] == answer["photoUrl"]
    family = await api.http.get(spot["photoUrl"], headers=_auth(town.tokens["taro"]))
    assert family.status_code == 200
    assert family.content == body and family.headers["content-type"] == media_type
    assert "private" in family.headers["cache-control"]
    for outsider in (town.tokens["jiro"], town.tokens["staff_other"], None):
        refused = await api.http.get(spot["photoUrl"], headers=_auth(outsider) if outsider else {})
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "NOT_FOUND"


async def test_photos_are_refused_by_type_size_owner_and_id(api: Api, town: Town) -> None:
    # given
    spot_id = await api.posted(town.tokens["hanako"])
    # when / then
    status, answer = await _upload(api, town.tokens["hanako"], spot_id, b"GIF89a" + b"\0" * 50)
    assert (status, answer["error"]["code"]) == (415, "VALIDATION")
    # Past the cap the app's body limit answers, before the body is read.
    status, _ = await _upload(api, town.tokens["hanako"], spot_id, PNG + b"\0" * PHOTO_CAP)
    assert status == 413
    status, answer = await _upload(api, town.tokens["staff"], spot_id, PNG)
    assert (status, answer["error"]["code"]) == (403, "NOT_PERMITTED")
    status, answer = await _upload(api, town.tokens["stranger"], spot_id, PNG)
    assert (status, answer["error"]["code"]) == (404, "NOT_FOUND")
    status, answer = await _upload(api, town.tokens["hanako"], "not-an-id", PNG)
    assert (status, answer["error"]["code"]) == (404, "NOT_FOUND")
    status, answer = await _upload(api, None, spot_id, PNG)
    assert (status, answer["error"]["code"]) == (401, "UNAUTHENTICATED")
    spot = await api.spot(town.tokens["hanako"], spot_id)
    assert spot is not None and spot["photoUrl"] is None


async def test_a_new_photo_replaces_the_old_one(api: Api, town: Town) -> None:
    spot_id = await api.posted(town.tokens["hanako"])
    await _upload(api, town.tokens["hanako"], spot_id, PNG)
    status, answer = await _upload(api, town.tokens["hanako"], spot_id, JPEG)
    assert status == 200
    photo = await api.http.get(answer["photoUrl"], headers=_auth(town.tokens["hanako"]))
    assert photo.content == JPEG
