"""Bearer tokens: real signed JWTs checked against a JWKS served over HTTP on loopback."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from backend.auth.tokens import AuthenticationError, TokenVerifier
from backend.config import Environment, Settings
from backend.principal import PrincipalKind, Role

AUDIENCE = "kizuna-app"


class IdentityProvider:
    """A minimal OIDC issuer: discovery document and JWKS over HTTP, keys can rotate."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.jwks_requests = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": provider.issuer, "jwks_uri": f"{provider.issuer}/jwks"}
                elif self.path == "/jwks":
                    provider.jwks_requests += 1
                    body = provider.jwks()
                else:
                    self.send_error(404)
                    return
                payload = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add_key(self, kid: str) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self.keys.items():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            jwk.update(kid=kid, use="sig", alg="RS256")
            keys.append(jwk)
        return {"keys": keys}

    def token(self, kid: str = "k1", key: rsa.RSAPrivateKey | None = None, **overrides: Any) -> str:
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "resident-123",
            "iat": now,
            "exp": now + timedelta(minutes=5),
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, key or self.keys[kid], algorithm="RS256", headers={"kid": kid})


def oidc_settings(idp: IdentityProvider, tmp_path: Any, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": Environment.PRODUCTION,
        "data_dir": tmp_path,
        "oidc_issuer": idp.issuer,
        "oidc_audience": AUDIENCE,
        "jwks_min_refresh_seconds": 0,
        "clock_skew_seconds": 30,
    }
    values.update(overrides)
    return Settings(**values)


async def test_valid_token_gives_a_resident_principal(idp: IdentityProvider, tmp_path: Any) -> None:
    verifier = TokenVerifier(oidc_settings(idp, tmp_path))
    principal = await verifier.verify(idp.token(name="会津 花子"))
    assert principal.kind is PrincipalKind.RESIDENT
    assert principal.subject == "resident-123"
    assert principal.claims["name"] == "会津 花子"
    await verifier.aclose()


async def test_client_credentials_token_gives_a_system_client(
    idp: IdentityProvider, tmp_path: Any
) -> None:
    verifier = TokenVerifier(oidc_settings(idp, tmp_path))
    principal = await verifier.verify(idp.token(sub="svc-care", client_id="care-app"))
    assert principal.kind is PrincipalKind.SYSTEM_CLIENT
    assert principal.client_id == "care-app"
    auth0_style = await verifier.verify(
        idp.token(sub="care@clients", gty="client-credentials", azp="care-app")
    )
    assert auth0_style.kind is PrincipalKind.SYSTEM_CLIENT and auth0_style.client_id == "care-app"
    await verifier.aclose()


async def test_roles_claim_is_read_and_unknown_roles_are_ignored(
    idp: IdentityProvider, tmp_path: Any
) -> None:
    verifier = TokenVerifier(oidc_settings(idp, tmp_path))
    principal = await verifier.verify(
        idp.token(
            kizuna_roles=[
                {"role": "city_staff", "municipality": "07202"},
                {"role": "superuser", "municipality": "07202"},
                "garbage",
            ]
        )
    )
    assert principal.has_role("07202", Role.CITY_STAFF)
    assert len(principal.roles) == 1
    await verifier.aclose()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"exp": datetime.now(UTC) - timedelta(minutes=5)}, "token expired"),
        ({"nbf": datetime.now(UTC) + timedelta(minutes=10)}, "token not valid yet"),
        ({"aud": "another-app"}, "token issued for another audience"),
        ({"iss": "https://evil.example"}, "token from an unknown issuer"),
        ({"exp": None}, "token lacks the exp claim"),
        ({"sub": None}, "token lacks the sub claim"),
    ],
    ids=["expired", "not-yet-valid", "wrong-audience", "wrong-issuer", "no-exp", "no-sub"],
)
async def test_bad_claims_are_refused(
    idp: IdentityProvider, tmp_path: Any, overrides: dict[str, Any], message: str
) -> None:
    verifier = TokenVerifier(oidc_settings(idp, tmp_path))
    with pytest.raises(AuthenticationError, match=message):
        await verifier.verify(idp.token(**overrides))
    await verifier.aclose()


async def test_clock_skew_is_tolerated_within_bounds(idp: IdentityProvider, tmp_path: Any) -> None:
    verifier = TokenVerifier(oidc_settings(idp, tmp_path, clock_skew_seconds=30))
    # expired 10 s ago: within the 30 s leeway
    principal = await verifier.verify(idp.token(exp=datetime.now(UTC) - timedelta(seconds=10)))
    assert principal.subject == "resident-123"
    with pytest.raises(ValueError):
        Settings(clock_skew_seconds=3600)  # skew is bounded by configuration
    await verifier.aclose()


async def test_wrong_signature_is_refused(idp: IdentityProvider, tmp_path: Any) -> None:
    verifier = TokenVerifier(oidc_settings(idp, tmp_path))
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(AuthenticationError, match="signature is invalid"):
        await verifier.verify(idp.token(kid="k1", key=forger))
    await verifier.aclose()


async def test_symmetric_and_unsigned_tokens_are_refused(
    idp: IdentityProvider, tmp_path: Any
) -> None:
    verifier = TokenVerifier(oidc_settings(idp, tmp_path))
    claims = {"iss": idp.issuer, "aud": AUDIENCE, "sub": "x", "exp": 4102444800, "iat": 0}
    hs = jwt.encode(claims, "a-shared-secret-that-is-long-enough!!", algorithm="HS256")
    with pytest.raises(AuthenticationError, match="algorithm 'HS256' is not accepted"):
        await verifier.verify(hs)
    unsigned = jwt.encode(claims, None, algorithm="none")
    with pytest.raises(AuthenticationError, match="algorithm 'none' is not accepted"):
        await verifier.verify(unsigned)
    await verifier.aclose()


@pytest.mark.parametrize("garbage", ["abc", "a.b.c", "", "x" * 20000])
async def test_malformed_tokens_are_refused(
    idp: IdentityProvider, tmp_path: Any, garbage: str
) -> None:
    verifier = TokenVerifier(oidc_settings(idp, tmp_path))
    with pytest.raises(AuthenticationError):
        await verifier.verify(garbage)
    await verifier.aclose()


async def test_rotated_keys_are_fetched_once_and_cached(
    idp: IdentityProvider, tmp_path: Any
) -> None:
    verifier = TokenVerifier(oidc_settings(idp, tmp_path))
    await verifier.verify(idp.token(kid="k1"))
    await verifier.verify(idp.token(kid="k1"))
    before = idp.jwks_requests
    # the issuer rotates in a new key: the first token with it triggers one refetch
    idp.add_key("k2")
    await verifier.verify(idp.token(kid="k2"))
    await verifier.verify(idp.token(kid="k2"))
    assert idp.jwks_requests == before + 1
    # an unknown kid is refused
    idp.keys["k3"] = idp.keys["k2"]
    token = idp.token(kid="k3")
    del idp.keys["k3"]
    with pytest.raises(AuthenticationError, match="unknown key"):
        await verifier.verify(token)
    await verifier.aclose()


async def test_unreachable_issuer_is_an_authentication_error(tmp_path: Any) -> None:
    settings = Settings(
        environment=Environment.PRODUCTION,
        data_dir=tmp_path,
        oidc_issuer="http://127.0.0.1:9",  # discard port: nothing listens
        oidc_audience=AUDIENCE,
    )
    verifier = TokenVerifier(settings)
    token = jwt.encode(
        {"iss": "http://127.0.0.1:9", "aud": AUDIENCE, "sub": "x", "exp": 4102444800, "iat": 0},
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": "k"},
    )
    with pytest.raises(AuthenticationError, match="keys are unavailable"):
        await verifier.verify(token)
    await verifier.aclose()


async def test_dev_tokens_are_refused_outside_development(
    idp: IdentityProvider, tmp_path: Any
) -> None:
    dev = TokenVerifier(Settings(environment=Environment.DEVELOPMENT, data_dir=tmp_path))
    token = dev.dev_signer.sign("someone", ttl=timedelta(hours=1))
    assert (await dev.verify(token)).subject == "someone"
    production = TokenVerifier(oidc_settings(idp, tmp_path))
    with pytest.raises(AuthenticationError, match="server is not in development mode"):
        await production.verify(token)
    await dev.aclose()
    await production.aclose()


# Through the HTTP API: every refusal is a 401 with a GraphQL-shaped error, never a 500.


ME = {"query": "{ me { id } }"}


async def test_api_accepts_an_oidc_token_and_creates_the_resident(
    idp: IdentityProvider, production_client: httpx.AsyncClient
) -> None:
    token = idp.token(sub="oidc-new-user", name="新規 利用者")
    response = await production_client.post(
        "/graphql",
        json={"query": "{ me { id displayName } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert response.json()["data"]["me"]["displayName"] == "新規 利用者"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer not-a-jwt", "malformed token"),
        ("Basic dXNlcjpwYXNz", "expected 'Authorization: Bearer <token>'"),
        ("Bearer ", "expected 'Authorization: Bearer <token>'"),
    ],
)
async def test_api_rejects_malformed_authorization(
    production_client: httpx.AsyncClient, header: str, message: str
) -> None:
    response = await production_client.post("/graphql", json=ME, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["errors"][0] == {
        "message": message,
        "extensions": {"code": "UNAUTHENTICATED"},
    }


async def test_api_rejects_expired_wrong_audience_and_forged_tokens(
    idp: IdentityProvider, production_client: httpx.AsyncClient, tmp_path: Any
) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    dev = TokenVerifier(Settings(environment=Environment.DEVELOPMENT, data_dir=tmp_path))
    cases = {
        "token expired": idp.token(exp=datetime.now(UTC) - timedelta(hours=1)),
        "token issued for another audience": idp.token(aud="other"),
        "token signature is invalid": idp.token(key=forger),
        "development tokens are refused: the server is not in development mode": (
            dev.dev_signer.sign("x", ttl=timedelta(hours=1))
        ),
    }
    for message, token in cases.items():
        response = await production_client.post(
            "/graphql", json=ME, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401, message
        assert response.json()["errors"][0]["message"] == message
    await dev.aclose()


async def test_api_without_token_is_anonymous(production_client: httpx.AsyncClient) -> None:
    # public data works, resident data is an authentication error (not a 500, not data)
    response = await production_client.post("/graphql", json={"query": "{ viewer { kind } }"})
    assert response.json() == {"data": {"viewer": {"kind": "ANONYMOUS"}}}
    response = await production_client.post("/graphql", json=ME)
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
