"""Bearer token verification: OIDC issuers via JWKS, and local development tokens."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.exceptions import InvalidSubjectError
from jwt.types import Options

from ..config import Settings
from ..principal import Principal, PrincipalKind, Role, RoleGrant

log = logging.getLogger(__name__)

DEV_ALGORITHM = "ES256"
MAX_TOKEN_BYTES = 16 * 1024


class AuthenticationError(Exception):
    """A bearer token was given but cannot be accepted; the message says why."""


def _unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, checked before PyJWT or the key cache touch any of its members."""
    segment = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error, RecursionError) as exc:
        raise AuthenticationError("malformed token") from exc
    if not isinstance(header, dict):
        raise AuthenticationError("malformed token")
    if not isinstance(header.get("alg"), str):
        raise AuthenticationError("malformed token: the header's alg must be a string")
    if "kid" in header and not isinstance(header["kid"], str):
        raise AuthenticationError("malformed token: the header's kid must be a string")
    if "crit" in header:
        # RFC 7515 4.1.11: a token naming critical extensions we do not implement is refused.
        raise AuthenticationError("token uses critical header extensions (crit): not supported")
    return header


def _identifier(value: object, what: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 255:
        raise AuthenticationError(f"token {what} must be a string of 1-255 characters")
    return value


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    claims: dict[str, Any]
    issuer: str


class JWKSCache:
    """Signing keys of one issuer, fetched via discovery, cached, refreshed on rotation."""

    def __init__(
        self,
        issuer: str,
        *,
        client: httpx.AsyncClient,
        jwks_url: str | None = None,
        ttl_seconds: int = 600,
        min_refresh_seconds: int = 30,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self._client = client
        self._jwks_url = jwks_url
        self._ttl = ttl_seconds
        self._min_refresh = min_refresh_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str | None) -> jwt.PyJWK:
        """The key with this kid; refetches once when the kid is unknown (key rotation)."""
        now = time.monotonic()
        if not self._keys or now - self._fetched_at > self._ttl:
            await self._refresh(force=True)
        key = self._lookup(kid)
        if key is None and time.monotonic() - self._fetched_at >= self._min_refresh:
            await self._refresh(force=False)
            key = self._lookup(kid)
        if key is None:
            raise AuthenticationError("token signed with an unknown key")
        return key

    def _lookup(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            # Issuers with a single key may omit kid.
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            if not force and time.monotonic() - self._fetched_at < self._min_refresh:
                return
            try:
                url = self._jwks_url or await self._discover_jwks_url()
                response = await self._client.get(url)
                response.raise_for_status()
                document = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("jwks fetch failed", extra={"issuer": self.issuer, "error": str(exc)})
                if self._keys:
                    return  # keep serving with the keys we have
                raise AuthenticationError("the identity provider's keys are unavailable") from exc
            keys: dict[str, jwt.PyJWK] = {}
            for entry in document.get("keys", []):
                if entry.get("use", "sig") != "sig":
                    continue
                try:
                    key = jwt.PyJWK(entry)
                except (jwt.PyJWKError, jwt.InvalidKeyError):
                    continue  # algorithms we do not support
                keys[entry.get("kid") or f"_{len(keys)}"] = key
            self._keys = keys
            self._fetched_at = time.monotonic()

    async def _discover_jwks_url(self) -> str:
        response = await self._client.get(f"{self.issuer}/.well-known/openid-configuration")
        response.raise_for_status()
        document = response.json()
        if document.get("issuer", "").rstrip("/") != self.issuer:
            raise AuthenticationError("discovery document names another issuer")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise AuthenticationError("discovery document has no jwks_uri")
        return jwks_uri


class DevSigner:
    """Signs development tokens with a local EC key created on first use."""

    def __init__(self, key_path: Path, *, issuer: str, audience: str) -> None:
        self.key_path = key_path
        self.issuer = issuer
        self.audience = audience
        self._private_key: ec.EllipticCurvePrivateKey | None = None

    def private_key(self) -> ec.EllipticCurvePrivateKey:
        if self._private_key is None:
            if self.key_path.exists():
                loaded = serialization.load_pem_private_key(self.key_path.read_bytes(), None)
                if not isinstance(loaded, ec.EllipticCurvePrivateKey):
                    raise RuntimeError(f"{self.key_path} is not an EC private key")
                self._private_key = loaded
            else:
                self._private_key = ec.generate_private_key(ec.SECP256R1())
                self.key_path.parent.mkdir(parents=True, exist_ok=True)
                pem = self._private_key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
                self.key_path.touch(mode=0o600)
                self.key_path.write_bytes(pem)
        return self._private_key

    def sign(
        self,
        subject: str,
        *,
        ttl: timedelta,
        roles: list[RoleGrant] | None = None,
        client_id: str | None = None,
        client_id_claim: str = "client_id",
        roles_claim: str = "kizuna_roles",
        extra: dict[str, Any] | None = None,
    ) -> str:
        """A development token for ``subject`` (or for a system client when client_id is set)."""
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
        }
        if client_id:
            claims[client_id_claim] = client_id
        if roles:
            claims[roles_claim] = [
                {"role": g.role.value, "municipality": g.municipality_code} for g in roles
            ]
        claims.update(extra or {})
        return jwt.encode(claims, self.private_key(), algorithm=DEV_ALGORITHM)

    def verify(self, token: str, *, leeway: int) -> dict[str, Any]:
        public_key = self.private_key().public_key()
        return jwt.decode(
            token,
            public_key,
            algorithms=[DEV_ALGORITHM],
            audience=self.audience,
            issuer=self.issuer,
            leeway=leeway,
            options={"require": ["exp", "iat", "sub"]},
        )


class TokenVerifier:
    """Verifies bearer tokens of the configured OIDC issuer and, in development, dev tokens."""

    def __init__(self, settings: Settings, *, http_client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self._http = http_client or httpx.AsyncClient(timeout=settings.http_timeout_seconds)
        self._jwks: JWKSCache | None = None
        if settings.oidc_issuer:
            self._jwks = JWKSCache(
                settings.oidc_issuer,
                client=self._http,
                jwks_url=settings.oidc_jwks_url,
                ttl_seconds=settings.jwks_cache_seconds,
                min_refresh_seconds=settings.jwks_min_refresh_seconds,
            )
        self.dev_signer = DevSigner(
            settings.dev_signing_key_path,
            issuer=settings.dev_token_issuer,
            audience=settings.dev_token_audience,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def verify(self, token: str) -> Principal:
        """The principal a token stands for, or AuthenticationError saying why not."""
        if len(token) > MAX_TOKEN_BYTES:
            raise AuthenticationError("token too large")
        header = _unverified_header(token)
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError("malformed token") from exc
        issuer = unverified.get("iss")
        leeway = self.settings.clock_skew_seconds
        try:
            if issuer == self.settings.dev_token_issuer:
                if not self.settings.is_development:
                    raise AuthenticationError(
                        "development tokens are refused: the server is not in development mode"
                    )
                claims = self.dev_signer.verify(token, leeway=leeway)
            elif self._jwks is not None and issuer == self.settings.oidc_issuer:
                claims = await self._verify_oidc(token, header, leeway)
            else:
                raise AuthenticationError("token from an unknown issuer")
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("token expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise AuthenticationError("token not valid yet") from exc
        except jwt.InvalidAudienceError as exc:
            raise AuthenticationError("token issued for another audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise AuthenticationError("token from an unknown issuer") from exc
        except jwt.InvalidSignatureError as exc:
            if issuer == self.settings.dev_token_issuer:
                # Development only: the usual cause is a token signed with another data
                # directory's key (kizuna dev-token run with another KIZUNA_DATA_DIR).
                raise AuthenticationError(
                    "token signature is invalid: this server checks development tokens with "
                    f"the key {self.dev_signer.key_path}; make the token with `kizuna "
                    "dev-token` using the same data directory (KIZUNA_DATA_DIR)"
                ) from exc
            raise AuthenticationError("token signature is invalid") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise AuthenticationError(f"token lacks the {exc.claim} claim") from exc
        except InvalidSubjectError as exc:
            raise AuthenticationError("token subject must be a string") from exc
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(f"invalid token: {exc}") from exc
        self._check_lifetime(claims, leeway)
        # Only the two issuers above get here: role claims are the configured identity
        # provider's word (or a development token's, in development only).
        return self._principal(claims)

    def _check_lifetime(self, claims: dict[str, Any], leeway: int) -> None:
        # PyJWT has checked that exp is a number in the future; bound how far (in integers:
        # exp may be 10**400, which no float holds).
        latest = int(time.time()) + self.settings.token_max_lifetime_hours * 3600 + leeway
        if int(claims["exp"]) > latest:
            raise AuthenticationError(
                f"token lifetime is longer than the allowed "
                f"{self.settings.token_max_lifetime_hours} hours"
            )

    async def _verify_oidc(self, token: str, header: dict[str, Any], leeway: int) -> dict[str, Any]:
        assert self._jwks is not None
        algorithm = header["alg"]
        if algorithm not in self.settings.oidc_algorithms:
            raise AuthenticationError(f"token algorithm {algorithm!r} is not accepted")
        key = await self._jwks.key_for(header.get("kid"))
        options: Options = {"require": ["exp", "iat", "sub"]}
        if not self.settings.oidc_audience:
            # Only outside production (create_app refuses production without an audience).
            options["verify_aud"] = False
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=self.settings.oidc_audience,
            issuer=self.settings.oidc_issuer,
            leeway=leeway,
            options=options,
        )

    def _principal(self, claims: dict[str, Any]) -> Principal:
        subject = _identifier(claims["sub"], "subject")
        roles = frozenset(self._roles_from_claims(claims.get(self.settings.oidc_roles_claim)))
        client_id = claims.get(self.settings.oidc_client_id_claim)
        if claims.get("gty") == "client-credentials" and not client_id:
            client_id = claims.get("azp")
        if client_id:
            return Principal(
                kind=PrincipalKind.SYSTEM_CLIENT,
                subject=subject,
                client_id=_identifier(client_id, "client id"),
                issuer=claims.get("iss"),
                roles=roles,
                claims=claims,
            )
        acr = claims.get("acr")
        return Principal(
            kind=PrincipalKind.RESIDENT,
            subject=subject,
            issuer=claims.get("iss"),
            roles=roles,
            claims=claims,
            acr=acr[:32] if isinstance(acr, str) else None,
        )

    @staticmethod
    def _roles_from_claims(value: Any) -> list[RoleGrant]:
        if not isinstance(value, list):
            return []
        grants = []
        for item in value:
            municipality = item.get("municipality") if isinstance(item, dict) else None
            if not isinstance(municipality, str):
                continue
            try:
                grants.append(RoleGrant(Role(item["role"]), municipality))
            except (ValueError, KeyError):
                continue  # unknown roles from the IdP are ignored, never widened
        return grants
