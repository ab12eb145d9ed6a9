"""Settings from the environment (prefix ``KIZUNA_``): the one place for every knob."""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The project directory (beside alembic.ini and migrations/): every command finds its local
# state here, wherever it is run from.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(Exception):
    """The settings are unsafe to serve with; the message says what to set."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KIZUNA_", env_file=".env", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    # Local state (SQLite file, development signing key, walk graphs). A relative value is
    # taken from the project directory, not the working directory, so every command agrees.
    data_dir: Path = PROJECT_ROOT / "var"
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
    # Tokens whose exp lies further ahead than this are refused (no unbounded lifetimes).
    token_max_lifetime_hours: int = Field(default=24 * 7, ge=1, le=24 * 366)
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
    # Introspection and "Did you mean ...?" suggestions; unset: on except in production.
    graphql_introspection: bool | None = None
    max_request_bytes: int = 256 * 1024
    # Persisted queries (APQ): the app's documents are known by hash from this folder
    # (default: graphql/operations of the checkout); other documents are learned from the
    # clients that send them, except in production unless this is set to true.
    graphql_operations_dir: Path | None = None
    graphql_learn_persisted_queries: bool | None = None

    # Live updates: GraphQL subscriptions over graphql-transport-ws at /graphql. With a Redis
    # URL (redis://host:6379/0), "this view changed" signals reach the viewers of every
    # process (`kizuna serve --workers N`, several hosts, CLI imports); without one, only those
    # of the process that made the change.
    redis_url: str | None = None
    # Installations sharing one Redis (pub/sub ignores its database number) need distinct ones.
    redis_channel_prefix: str = Field(default="kizuna:live:", min_length=1, max_length=64)
    # Operations one websocket may run at once; more are refused with LIMIT_EXCEEDED.
    subscriptions_per_connection: int = Field(default=20, ge=1, le=1_000)
    # A live view is read again at most this often, however fast its topics change.
    subscription_min_interval_seconds: float = Field(default=0.2, ge=0, le=60)

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
    # Municipalities this installation serves (staff roles, system clients): comma-separated
    # prefecture codes ("07" = all of Fukushima) and/or municipality codes ("07202", "04100"
    # with its wards). Every other municipality of Japan is known but not served.
    served_municipalities: str = Field(
        default="07", pattern=r"^\s*\d{2}(\d{3,4})?(\s*,\s*\d{2}(\d{3,4})?)*\s*$"
    )

    # Evacuation routing. The walk graph written by `kizuna import roads`; unset means
    # <data_dir>/roads/walk-graph.npz. Without that file, development and test use the
    # synthetic Aizu-Wakamatsu demo network and production answers ROUTING_UNAVAILABLE.
    road_graph_path: Path | None = None
    # Walking speeds (m/s) of evacuation planning (内閣府 tsunami evacuation guidance uses
    # 1.0 m/s, and 0.5 m/s for people who need support).
    walking_speed_mps: float = Field(default=1.0, gt=0, le=3)
    support_walking_speed_mps: float = Field(default=0.5, gt=0, le=3)
    # A point farther than this from any walkable path gets POINT_OFF_NETWORK.
    route_max_snap_m: float = Field(default=500.0, gt=0, le=5_000)
    # STEP_FREE avoids ways tagged steeper than this (percent; 1/12 is the barrier-free ramp).
    route_step_free_max_incline_pct: float = Field(default=8.0, gt=0, le=100)
    # "Nearest suitable shelter": this many straight-line nearest candidates within this
    # radius are compared by walking distance.
    route_shelter_candidates: int = Field(default=8, ge=1, le=50)
    route_shelter_radius_m: float = Field(default=20_000.0, gt=0, le=200_000)
    # Offline packs (GET /offline/{municipality}): the walk graph, shelters and hazard zones
    # of a municipality's area grown by this margin (so walks near its border work), and how
    # many built packs each process keeps.
    offline_pack_margin_m: float = Field(default=1_000.0, ge=0, le=20_000)
    offline_pack_cache_size: int = Field(default=16, ge=1, le=1_000)
    # Nearest-shelter answers kept per process, per (H3 cell, filter), until any shelter is
    # written (opened, filled, closed, imported); 0 switches the cache off.
    nearest_shelter_cache_size: int = Field(default=4_096, ge=0, le=1_000_000)
    # Request limits for client-drawn avoid areas.
    route_max_avoid_areas: int = Field(default=200, ge=0, le=10_000)
    route_max_avoid_vertices: int = Field(default=2_000, ge=0, le=1_000_000)
    # Shelter load: the people a route sends to a shelter count against its capacity this
    # long; a signed-in resident's repeated request replaces their own, recognised by an HMAC
    # of their sign-in under this secret (the same on every process; unset: a random one per
    # process, so a resident reaching two processes counts twice until the window ends).
    route_load_window_minutes: int = Field(default=180, ge=1, le=7 * 24 * 60)
    route_load_secret: SecretStr | None = Field(default=None, min_length=16)
    # Danger spots (危険箇所) residents report: how long one stays (unless moderated sooner),
    # posts per resident per hour, a point's radius for routes, how near a duplicate is
    # (merge), caps on a drawn polygon, and photos (at most this many bytes, JPEG/PNG/WebP,
    # under this directory; unset: <data_dir>/danger-spots).
    danger_spot_ttl_hours: int = Field(default=72, ge=1, le=24 * 30)
    danger_spot_posts_per_hour: int = Field(default=10, ge=1, le=1_000)
    danger_spot_point_radius_m: float = Field(default=15.0, gt=0, le=200)
    danger_spot_merge_radius_m: float = Field(default=30.0, gt=0, le=500)
    danger_spot_max_vertices: int = Field(default=200, ge=4, le=10_000)
    danger_spot_max_area_m2: float = Field(default=250_000.0, gt=0, le=25_000_000)
    danger_spot_photo_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    danger_spot_photo_dir: Path | None = None
    # Application attachments (photos/PDF of documents for 一括申請): at most this many bytes
    # each (JPEG, PNG or PDF by their magic bytes), kept under this directory (unset:
    # <data_dir>/application-attachments), never in the database.
    application_attachment_max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024
    )
    application_attachment_dir: Path | None = None

    # Alerts: the largest alert document accepted (JMA, CAP, L-Alert; bytes), and whether a
    # staff-authored alert needs a second staff member's approval before it is published.
    alert_max_document_bytes: int = Field(default=2 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    alert_approval_required: bool = False
    # An evacuation order (避難指示+) or emergency warning opens a disaster event by itself, so
    # residents are asked 安否 without waiting for staff.
    auto_open_events: bool = True
    # System clients (comma-separated OAuth2 client ids) allowed to POST alert documents to
    # /alerts/ingest, e.g. a JMA or L-Alert relay. None may when empty.
    alert_relay_clients: str = ""
    # JMA's Atom feed (e.g. https://www.data.jma.go.jp/developer/xml/feed/extra.xml) polled by
    # `kizuna worker` with If-Modified-Since; none polled when unset.
    jma_feed_url: str | None = None
    # The CAP <sender> of alerts this installation republishes at /cap/alerts.atom: one
    # stable name, whatever host a request used.
    cap_sender: str = Field(default="kizuna@localhost", min_length=1, max_length=200)
    # Atom or RSS index feeds of CAP alerts (comma-separated URLs), polled the same way.
    cap_feed_urls: str = ""
    jma_feed_interval_seconds: float = Field(default=60.0, ge=1.0, le=3_600.0)

    # Prometheus metrics at /metrics. In production they are served only to a scraper that
    # sends this token (Authorization: Bearer ...); without one, /metrics is not served.
    metrics_enabled: bool = True
    metrics_token: str | None = Field(default=None, min_length=16)
    # OpenTelemetry tracing over OTLP/HTTP (base URL, e.g. http://collector:4318); the
    # standard OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT variables turn it on as well.
    otel_endpoint: str | None = None

    # Push delivery (FCM HTTP v1 through firebase-admin). Without a service-account file the
    # worker writes messages to the log instead (LogGateway); the in-app inbox works either way.
    fcm_credentials_file: Path | None = None
    # Default: the project_id of the service-account file.
    fcm_project_id: str | None = None
    # Replaces https://fcm.googleapis.com, e.g. a local fake FCM server (tests, benchmarks);
    # the OAuth token request goes to the token_uri of the service-account file.
    fcm_endpoint: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/.*)?$")
    fcm_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Requests in flight per worker process (FCM answers over one HTTP/2 connection; a
    # plain-HTTP endpoint such as the fake server needs one connection per request).
    fcm_max_in_flight: int = Field(default=64, ge=1, le=1_000)
    # Outbox worker (`kizuna worker`): rows claimed per batch (one FCM call takes 500) and
    # batches in flight per process.
    push_batch_size: int = Field(default=500, ge=1, le=5_000)
    push_concurrency: int = Field(default=2, ge=1, le=64)
    # A claimed batch belongs to its worker this long; a killed worker's rows are claimable
    # again after it. Must outlast a batch's send (the FCM timeout) with room to record it.
    push_lease_seconds: float = Field(default=60.0, ge=1, le=3_600)
    push_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # Retries: exponential backoff from the base, with jitter, at least Retry-After; a message
    # is given up (DEAD) after this many attempts.
    push_max_attempts: int = Field(default=10, ge=1, le=100)
    push_retry_base_seconds: float = Field(default=2.0, gt=0, le=3_600)
    push_retry_max_seconds: float = Field(default=900.0, gt=0, le=86_400)
    # How long FCM keeps a message for a device that is offline.
    push_ttl_seconds: int = Field(default=86_400, ge=0, le=28 * 86_400)
    # `kizuna serve` runs an outbox worker in its process; unset: only in development.
    push_worker_in_process: bool | None = None

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return Path(os.path.normpath(PROJECT_ROOT / value.expanduser()))

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.DEVELOPMENT

    @property
    def graphql_introspection_enabled(self) -> bool:
        if self.graphql_introspection is not None:
            return self.graphql_introspection
        return self.environment is not Environment.PRODUCTION

    def production_problems(self) -> list[str]:
        """Why these settings must not serve production traffic (empty when they may)."""
        if self.environment is not Environment.PRODUCTION:
            return []
        problems = []
        if self.oidc_issuer and not self.oidc_audience:
            problems.append(
                "KIZUNA_OIDC_AUDIENCE must be set when KIZUNA_OIDC_ISSUER is: without it, "
                "tokens the issuer made for any other application would be accepted"
            )
        return problems

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'kizuna.sqlite3').resolve()}"

    @property
    def runs_push_worker_in_process(self) -> bool:
        """Whether `kizuna serve` delivers the outbox itself (development by default)."""
        if self.push_worker_in_process is not None:
            return self.push_worker_in_process
        return self.is_development

    @property
    def served_selection(self) -> list[str]:
        """The entries of ``served_municipalities``, e.g. ["07"]."""
        return [entry.strip() for entry in self.served_municipalities.split(",")]

    @property
    def cap_feed_url_list(self) -> list[str]:
        return [url.strip() for url in self.cap_feed_urls.split(",") if url.strip()]

    @property
    def alert_relay_client_ids(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.alert_relay_clients.split(",") if c.strip())

    @property
    def learns_persisted_queries(self) -> bool:
        """Whether documents sent with their hash are learned (not in production by default)."""
        if self.graphql_learn_persisted_queries is not None:
            return self.graphql_learn_persisted_queries
        return self.environment is not Environment.PRODUCTION

    @property
    def operations_folder(self) -> Path:
        """Where the app's documents are (persisted queries); graphql/ is never packaged."""
        return self.graphql_operations_dir or PROJECT_ROOT / "graphql" / "operations"

    @property
    def road_graph_file(self) -> Path:
        return self.road_graph_path or self.data_dir / "roads" / "walk-graph.npz"

    @property
    def dev_signing_key_path(self) -> Path:
        return self.data_dir / "dev-signing-key.pem"


@lru_cache
def get_settings() -> Settings:
    """Process-wide settings read once from the environment."""
    return Settings()
