"""Settings from the environment (prefix ``KIZUNA_``): the one place for every knob."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KIZUNA_", env_file=".env", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    # Local state (SQLite file, development signing key); relative to the working directory.
    data_dir: Path = Path("var")
    database_url: str | None = None
    log_level: str = "INFO"
    log_json: bool = True

    # OpenID Connect issuer for resident and system-client tokens.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    # Overrides the jwks_uri from the discovery document (some issuers need it).
    oidc_jwks_url: str | None = None
    oidc_algorithms: list[str] = ["RS256", "ES256", "PS256"]
    # Claim that marks an OAuth2 client-credentials token and names the system client.
    oidc_client_id_claim: str = "client_id"
    # Claim carrying roles granted by the identity provider, e.g. [{"role", "municipality"}].
    oidc_roles_claim: str = "kizuna_roles"
    clock_skew_seconds: int = Field(default=60, ge=0, le=300)
    jwks_cache_seconds: int = Field(default=600, ge=30, le=86_400)
    jwks_min_refresh_seconds: int = Field(default=30, ge=0, le=3_600)
    http_timeout_seconds: float = 5.0

    # Development tokens (kizuna dev-token); refused unless environment == development.
    dev_token_issuer: str = "urn:kizuna:dev"
    dev_token_audience: str = "kizuna"
    dev_token_ttl_hours: int = 24 * 7

    # GraphQL request limits.
    graphql_max_depth: int = 12
    graphql_max_tokens: int = 4_000
    graphql_max_aliases: int = 30
    max_request_bytes: int = 256 * 1024

    # Domain knobs.
    family_invitation_default_hours: int = 72
    family_invitation_max_hours: int = 24 * 14
    max_places_per_resident: int = 20
    max_family_groups_per_resident: int = 10
    max_family_members: int = 30
    # H3 resolutions stored for every saved place (area look-ups at several scales).
    place_h3_resolutions: tuple[int, int, int] = (7, 9, 11)
    # Where municipality boundary GeoJSON files (N03-derived, one per code) may be imported from.
    boundaries_dir: Path | None = None

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.DEVELOPMENT

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'kizuna.sqlite3').resolve()}"

    @property
    def dev_signing_key_path(self) -> Path:
        return self.data_dir / "dev-signing-key.pem"


@lru_cache
def get_settings() -> Settings:
    """Process-wide settings read once from the environment."""
    return Settings()
