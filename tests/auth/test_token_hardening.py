"""Bearer tokens as an attacker shapes them: every malformed one is a 401, never a 500.

Also: production refuses to start without an audience, lifetimes are bounded, and role
claims count only from the issuers we verify.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from backend.app import create_app
from backend.auth.tokens import AuthenticationError, TokenVerifier
from backend.config import ConfigurationError, Environment, Settings
from tests.auth.test_tokens import AUDIENCE, IdentityProvider, oidc_settings


def b64(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signed(idp: IdentityProvider, header: Any, claims: Any) -> str:
    """A token with exactly this header and these claims, signed RS256 with the issuer's key.

    Written by hand: PyJWT refuses to encode most of the shapes an attacker can send.
    """
    signing_input = f"{b64(header)}.{b64(claims)}"
    signature = idp.keys["k1"].sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


def claims(idp: IdentityProvider, **overrides: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    values: dict[str, Any] = {
        "iss": idp.issuer,
        "aud": AUDIENCE,
        "sub": "resident-1",
        "iat": now,
        "exp": now + 300,
    }
    values.update(overrides)
    return values


HEADER = {"alg": "RS256", "kid": "k1"}
MALFORMED_HEADERS = {
    "kid-list": ({"alg": "RS256", "kid": ["k1"]}, "kid must be a string"),
    "kid-number": ({"alg": "RS256", "kid": 1}, "kid must be a string"),
    "kid-object": ({"alg": "RS256", "kid": {"k": 1}}, "kid must be a string"),
    "crit-exp": ({**HEADER, "crit": ["exp"]}, "crit"),
    "crit-string": ({**HEADER, "crit": "b64"}, "crit"),
    "crit-empty": ({**HEADER, "crit": []}, "crit"),
    "alg-none": ({"alg": "none", "kid": "k1"}, "algorithm 'none' is not accepted"),
    "alg-hs256": ({"alg": "HS256", "kid": "k1"}, "algorithm 'HS256' is not accepted"),
    "alg-list": ({"alg": ["RS256"], "kid": "k1"}, "alg must be a string"),
    "alg-missing": ({"kid": "k1"}, "alg must be a string"),
    "header-list": (["RS256"], "malformed token"),
    "header-string": ("RS256", "malformed token"),
    "header-number": (1e400, "malformed token"),
}


@pytest.mark.parametrize(
    ("header", "message"), MALFORMED_HEADERS.values(), ids=MALFORMED_HEADERS.keys()
)
async def test_malformed_headers_are_401(
    idp: IdentityProvider, production_client: httpx.AsyncClient, header: Any, message: str
) -> None:
    # given a token whose header an attacker shaped
    token = signed(idp, header, claims(idp))
    # when it is presented
    response = await production_client.post(
        "/graphql",
        json={"query": "{ viewer { kind } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    # then it is refused with a 401 saying why
    assert response.status_code == 401, response.text
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert message in error["message"], error["message"]


MALFORMED_CLAIMS = {
    "sub-number": ({"sub": 5}, "subject must be a string"),
    "sub-object": ({"sub": {"id": "x"}}, "subject must be a string"),
    "sub-empty": ({"sub": ""}, "subject must be a string of 1-255"),
    "sub-too-long": ({"sub": "x" * 300}, "subject must be a string of 1-255"),
    "exp-huge-integer": ({"exp": 10**400}, "lifetime"),
    "exp-huge-float": ({"exp": 1e300}, "lifetime"),
    "exp-text": ({"exp": "tomorrow"}, "invalid token"),
    "exp-list": ({"exp": [1]}, "invalid token"),
    "iat-huge": ({"iat": 10**400}, "not valid yet"),
    "nbf-object": ({"nbf": {}}, "invalid token"),
    "iss-list": ({"iss": ["a"]}, "unknown issuer"),
    "aud-number": ({"aud": 5}, "audience"),
    "client-id-object": ({"client_id": {"id": 1}}, "client id must be a string"),
    "client-id-number": ({"client_id": 7}, "client id must be a string"),
}


@pytest.mark.parametrize(
    ("overrides", "message"), MALFORMED_CLAIMS.values(), ids=MALFORMED_CLAIMS.keys()
)
async def test_malformed_claims_are_401(
    idp: IdentityProvider,
    production_client: httpx.AsyncClient,
    overrides: dict[str, Any],
    message: str,
) -> None:
    token = signed(idp, HEADER, claims(idp, **overrides))
    response = await production_client.post(
        "/graphql",
        json={"query": "{ viewer { kind } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 401, response.text
    assert message in response.json()["errors"][0]["message"]


async def test_claims_that_are_not_an_object_are_401(
    idp: IdentityProvider, production_client: httpx.AsyncClient
) -> None:
    for payload in (["sub"], "sub", 5, None):
        token = signed(idp, HEADER, payload)
        response = await production_client.post(
            "/graphql",
            json={"query": "{ viewer { kind } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 401, (payload, response.text)


async def test_odd_role_claims_give_no_role(idp: IdentityProvider, tmp_path: Path) -> None:
    verifier = TokenVerifier(oidc_settings(idp, tmp_path))
    token = signed(
        idp,
        HEADER,
        claims(
            idp,
            kizuna_roles=[
                {"role": "city_staff", "municipality": {"code": "07202"}},
                {"role": ["city_admin"], "municipality": "07202"},
                {"role": "city_staff"},
            ],
        ),
    )
    principal = await verifier.verify(token)
    assert principal.roles == frozenset()
    await verifier.aclose()


# --------------------------------------------------------------------------- lifetimes


async def test_token_lifetime_is_bounded(tmp_path: Path) -> None:
    # given the default maximum of 7 days (what `kizuna dev-token` issues by default)
    verifier = TokenVerifier(Settings(environment=Environment.DEVELOPMENT, data_dir=tmp_path))
    signer = verifier.dev_signer
    # when tokens of 7 days and of 8 days are presented
    week = signer.sign("seven-days", ttl=timedelta(days=7))
    assert (await verifier.verify(week)).subject == "seven-days"
    # then the longer one is refused
    with pytest.raises(AuthenticationError, match="lifetime is longer than the allowed 168 hours"):
        await verifier.verify(signer.sign("eight-days", ttl=timedelta(days=8)))
    with pytest.raises(AuthenticationError, match="lifetime"):
        await verifier.verify(signer.sign("forever", ttl=timedelta(days=365 * 100)))
    # and a token without exp is refused
    no_exp = jwt.encode(
        {"iss": signer.issuer, "aud": signer.audience, "sub": "x", "iat": datetime.now(UTC)},
        signer.private_key(),
        algorithm="ES256",
    )
    with pytest.raises(AuthenticationError, match="lacks the exp claim"):
        await verifier.verify(no_exp)
    await verifier.aclose()


async def test_token_lifetime_is_configurable(tmp_path: Path) -> None:
    settings = Settings(
        environment=Environment.DEVELOPMENT, data_dir=tmp_path, token_max_lifetime_hours=1
    )
    verifier = TokenVerifier(settings)
    assert await verifier.verify(verifier.dev_signer.sign("short", ttl=timedelta(minutes=59)))
    with pytest.raises(AuthenticationError, match="allowed 1 hours"):
        await verifier.verify(verifier.dev_signer.sign("long", ttl=timedelta(hours=2)))
    await verifier.aclose()


# --------------------------------------------------------------------------- audience


def test_production_refuses_to_start_without_an_audience(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    # given production settings with an issuer and no audience
    settings = oidc_settings(idp, tmp_path, oidc_audience=None)
    # when the app is built, then it refuses and names the setting
    with pytest.raises(ConfigurationError, match="KIZUNA_OIDC_AUDIENCE must be set"):
        create_app(settings)
    # and development may still leave the audience out
    development = oidc_settings(
        idp, tmp_path, oidc_audience=None, environment=Environment.DEVELOPMENT
    )
    assert development.production_problems() == []


# --------------------------------------------------------------------------- roles


async def test_role_claims_count_from_the_configured_issuer_and_dev_tokens_in_development(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    staff = {"kizuna_roles": [{"role": "city_staff", "municipality": "07202"}]}
    # the configured issuer's word is taken, also for a system client it grants a role to
    production = TokenVerifier(oidc_settings(idp, tmp_path))
    oidc = await production.verify(signed(idp, HEADER, claims(idp, **staff)))
    assert len(oidc.roles) == 1
    client = await production.verify(signed(idp, HEADER, claims(idp, client_id="ops", **staff)))
    assert len(client.roles) == 1
    # a development token is refused outright outside development, roles and all
    development = TokenVerifier(Settings(environment=Environment.DEVELOPMENT, data_dir=tmp_path))
    dev_token = development.dev_signer.sign("dev", ttl=timedelta(hours=1), extra=staff)
    assert len((await development.verify(dev_token)).roles) == 1
    with pytest.raises(AuthenticationError, match="not in development mode"):
        await production.verify(dev_token)
    # and a token signed by the issuer's key but naming another issuer is refused
    with pytest.raises(AuthenticationError, match="unknown issuer"):
        await production.verify(
            signed(idp, HEADER, claims(idp, iss="https://other.example", **staff))
        )
    await production.aclose()
    await development.aclose()
