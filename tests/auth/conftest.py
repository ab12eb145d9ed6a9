"""Fixtures of the token tests: a real OIDC issuer on loopback and a production app using it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from tests.auth.test_tokens import IdentityProvider, oidc_settings
from tests.conftest import RollbackDatabase


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    """An issuer with one signing key ("k1"), serving discovery and JWKS over HTTP."""
    provider = IdentityProvider()
    provider.add_key("k1")
    provider.thread.start()
    yield provider
    provider.server.shutdown()


@pytest.fixture
async def production_client(
    idp: IdentityProvider, tmp_path: Path, db: RollbackDatabase
) -> AsyncIterator[httpx.AsyncClient]:
    """The API in production mode, trusting ``idp``'s tokens."""
    settings = oidc_settings(idp, tmp_path)
    app = create_app(settings, database=db, verifier=TokenVerifier(settings))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kizuna.test"
    ) as client:
        yield client
