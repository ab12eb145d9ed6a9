"""The ``kizuna`` command: serve, worker, migrate, seed-demo, dev-token, roles and imports."""

from __future__ import annotations

import asyncio
import logging
import sys
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from .config import Environment, Settings, get_settings

if TYPE_CHECKING:
    from .push.worker import BatchReport
    from .routing.network import RoadNetworks
    from .routing.service import StoredPoints
    from .shelters.service import ShelterImportReport

app = typer.Typer(help="Kizuna city OS backend.", no_args_is_help=True, add_completion=False)
import_app = typer.Typer(help="Import reference data from files.", no_args_is_help=True)
app.add_typer(import_app, name="import")
roads_app = typer.Typer(
    help="Walk graphs for evacuation routes, one per region.", no_args_is_help=True
)
app.add_typer(roads_app, name="roads")
ingest_app = typer.Typer(
    help="Ingest alert documents (JMA disaster XML, CAP 1.2, L-Alert): store and notify.",
    no_args_is_help=True,
)
app.add_typer(ingest_app, name="ingest")


def _fail(message: str) -> NoReturn:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(code=1)


def _warn(message: str) -> None:
    typer.secho(message, err=True, fg=typer.colors.YELLOW)


def _command() -> str:
    """How this command was started (e.g. `.venv/bin/kizuna`), for the hints it prints."""
    started_as = sys.argv[0] if sys.argv else ""
    return started_as if Path(started_as).name == "kizuna" else "kizuna"


async def _prepare_database(settings: Settings, *, demo: bool) -> list[str]:
    """Migrate, sync municipalities and (when empty and asked) load the demo data."""
    from . import demo as demo_data
    from .assembly import assemble
    from .bootstrap import sync_reference_data
    from .db.migrate import upgrade
    from .db.session import Database
    from .municipalities.reference import served_codes

    assemble()
    try:
        served_codes(settings.served_selection)
    except ValueError as exc:
        _fail(f"error: KIZUNA_SERVED_MUNICIPALITIES: {exc}")
    database = Database.from_url(settings.resolved_database_url)
    try:
        await upgrade(database.engine)
        async with database.session() as session:
            await sync_reference_data(session, settings)
            if demo and await demo_data.is_empty(session):
                return await demo_data.seed_demo(session, settings)
        return []
    finally:
        await database.dispose()


@app.command()
def migrate() -> None:
    """Apply all database migrations and sync reference data (municipalities, consent catalog)."""
    settings = get_settings()
    asyncio.run(_prepare_database(settings, demo=False))
    typer.echo(f"database up to date: {_safe_url(settings)}")


@app.command("seed-demo")
def seed_demo() -> None:
    """Load the Aizu-Wakamatsu demo data into an empty database."""
    settings = get_settings()
    seeded = asyncio.run(_prepare_database(settings, demo=True))
    typer.echo(
        "demo data loaded: " + ", ".join(seeded) if seeded else "database not empty: skipped"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    demo: Annotated[bool, typer.Option(help="Load demo data into an empty database")] = True,
    migrate_first: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Apply migrations before serving")
    ] = True,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (one per CPU core under load)")
    ] = 1,
) -> None:
    """Start the server (SQLite with Aizu-Wakamatsu demo data by default)."""
    import uvicorn

    from .observability import configure_logging
    from .observability.multiprocess import share_metrics_directory

    settings = get_settings()
    # Before the app (and so prometheus_client) is imported: every worker meters into it.
    share_metrics_directory(settings, fresh=True)
    configure_logging(settings.log_level, json_output=settings.log_json)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if migrate_first:
        seeded = asyncio.run(_prepare_database(settings, demo=demo and settings.is_development))
        if seeded:
            typer.echo("loaded demo data for 会津若松市 (07202): " + ", ".join(seeded))
    typer.echo(f"database: {_safe_url(settings)}")
    typer.echo(f"data directory: {settings.data_dir}")
    _echo_road_state(settings)
    if settings.redis_url:
        typer.echo(f"live updates: shared through Redis at {_safe_redis_url(settings.redis_url)}")
    elif workers > 1:
        _warn(
            "live updates: KIZUNA_REDIS_URL is not set, so a viewer hears only of changes made "
            "through the worker process it is connected to"
        )
    where = "GraphiQL" if settings.is_development else "GraphQL endpoint"
    typer.secho(f"{where}: http://{host}:{port}/graphql", fg=typer.colors.GREEN, bold=True)
    if settings.runs_push_worker_in_process:
        gateway = "FCM" if settings.fcm_credentials_file else "the log (no FCM credentials)"
        typer.echo(f"push: this process delivers the outbox to {gateway}")
    if settings.is_development:
        typer.echo(
            f"sign in for local development: {_command()} dev-token demo-hanako "
            f"(tokens are checked with {settings.dev_signing_key_path})"
        )
    server_options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        # A websocket message is a request too (uvicorn's own cap is 16 MiB).
        "ws_max_size": settings.max_request_bytes,
        # Live updates are a few hundred bytes each: compressing every viewer's copy costs
        # CPU per message and zlib state per connection for next to nothing saved.
        "ws_per_message_deflate": False,
    }
    if workers == 1:
        from .app import create_app

        app_ = create_app(settings, push_worker=settings.runs_push_worker_in_process)
        uvicorn.run(app_, **server_options)
        return
    # Route searches are CPU-bound Python: a burst of requests needs one process per core.
    # Each worker builds its own app (database pool, walk graph) from the same environment.
    uvicorn.run("backend.app:create_worker_app", factory=True, workers=workers, **server_options)


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit")
    ] = False,
    batch_size: Annotated[
        int | None,
        typer.Option(min=1, max=5_000, help="Messages claimed per batch (default 500)"),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, max=64, help="Batches in flight in this process")
    ] = None,
) -> None:
    """Deliver the push outbox: FCM with KIZUNA_FCM_CREDENTIALS_FILE, else to the log."""
    from .observability import configure_logging
    from .observability.multiprocess import share_metrics_directory

    settings = get_settings()
    if settings.fcm_credentials_file is None:
        if settings.environment is Environment.PRODUCTION:
            _fail(
                "error: KIZUNA_FCM_CREDENTIALS_FILE is not set: in production the worker "
                "refuses to write push messages to the log instead of sending them"
            )
        _warn("no KIZUNA_FCM_CREDENTIALS_FILE: push messages go to the log (LogGateway)")
    elif not settings.fcm_credentials_file.is_file():
        _fail(f"error: KIZUNA_FCM_CREDENTIALS_FILE: {settings.fcm_credentials_file}: no such file")
    # Before prometheus_client is imported: the server on this data directory shows the
    # worker's counters too.
    share_metrics_directory(settings, fresh=False)
    configure_logging(settings.log_level, json_output=settings.log_json)
    totals = asyncio.run(
        _run_worker(settings, once=once, batch_size=batch_size, concurrency=concurrency)
    )
    typer.echo(
        f"push outbox: {totals.sent} sent, {totals.retried} to retry, "
        f"{totals.invalid_token} invalid tokens, {totals.failed} failed, "
        f"{totals.gave_up} given up, {totals.device_inactive} for inactive devices"
    )


async def _run_worker(
    settings: Settings, *, once: bool, batch_size: int | None, concurrency: int | None
) -> BatchReport:
    import signal

    from .alerts.poller import FeedPoller
    from .assembly import assemble
    from .db.session import Database
    from .push.worker import OutboxWorker, WorkerOptions, gateway_from_settings

    assemble()
    database = Database.from_url(settings.resolved_database_url)
    gateway = gateway_from_settings(settings)
    options = WorkerOptions.from_settings(settings, batch_size=batch_size, concurrency=concurrency)
    push_worker = OutboxWorker(database, gateway, options)
    typer.echo(
        f"push worker {push_worker.name}: gateway {gateway.name}, batches of "
        f"{options.batch_size}, {options.concurrency} in flight, database {_safe_url(settings)}",
        err=True,
    )
    poller = FeedPoller(database, settings)
    if poller.configured:
        feeds = [settings.jma_feed_url or "", *settings.cap_feed_url_list]
        typer.echo(f"alert feeds polled: {', '.join(f for f in feeds if f)}", err=True)
    try:
        # Alerts it ingests may change what live views show.
        async with _broadcasting(settings):
            if once:
                if poller.configured:
                    await poller.poll_once()
                return await push_worker.drain()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            if poller.configured:
                _totals, _ = await asyncio.gather(push_worker.run(stop), poller.run(stop))
                return _totals
            return await push_worker.run(stop)
    finally:
        await poller.aclose()
        await gateway.aclose()
        await database.dispose()


@app.command("dev-token")
def dev_token(
    subject: Annotated[str, typer.Argument(help="Subject (user id) the token is for")],
    role: Annotated[
        list[str] | None, typer.Option("--role", help="Staff role claim (repeatable)")
    ] = None,
    municipality: Annotated[str | None, typer.Option(help="Municipality code for --role")] = None,
    client: Annotated[
        str | None, typer.Option(help="Make a system-client (client credentials) token")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Display name claim")] = None,
    acr: Annotated[
        str | None, typer.Option(help="Identity assurance (acr claim): email, password, mynumber")
    ] = None,
    hours: Annotated[int | None, typer.Option(help="Validity in hours")] = None,
) -> None:
    """Print a bearer token signed with the local development key."""
    from .auth.tokens import DevSigner
    from .municipalities.reference import normalize_code
    from .principal import Role, RoleGrant

    settings = get_settings()
    if not settings.is_development:
        _fail("dev-token is only for development (KIZUNA_ENVIRONMENT=development)")
    grants = []
    for value in role or []:
        try:
            parsed = Role(value)
        except ValueError:
            _fail(f"unknown role {value!r}; one of: {', '.join(r.value for r in Role)}")
        code = normalize_code(municipality or "")
        if code is None:
            _fail("--role needs --municipality CODE (e.g. 07202)")
        grants.append(RoleGrant(parsed, code))
    key_file = settings.dev_signing_key_path
    created = not key_file.exists()
    signer = DevSigner(
        key_file, issuer=settings.dev_token_issuer, audience=settings.dev_token_audience
    )
    token = signer.sign(
        subject,
        ttl=timedelta(hours=hours or settings.dev_token_ttl_hours),
        roles=grants,
        client_id=client,
        client_id_claim=settings.oidc_client_id_claim,
        roles_claim=settings.oidc_roles_claim,
        extra={k: v for k, v in (("name", name), ("acr", acr)) if v} or None,
    )
    # stderr, so TOKEN=$(kizuna dev-token ...) still captures the token alone.
    if created:
        _warn(
            f"created a new development signing key: {key_file}\n"
            "a server accepts this token only if it uses the same data directory "
            "(KIZUNA_DATA_DIR); one started before with another key refuses it"
        )
    else:
        typer.echo(f"signed with the development key {key_file}", err=True)
    typer.echo(token)


@app.command("grant-role")
def grant_role(
    subject: Annotated[str, typer.Argument(help="The person's subject at the identity provider")],
    role: Annotated[str, typer.Argument(help="city_staff, city_admin, shelter_manager, ...")],
    municipality: Annotated[str, typer.Option(help="Municipality code, e.g. 07202")],
) -> None:
    """Grant a staff role in one municipality."""
    from .auth import service as auth_service

    async def run(session):
        return await auth_service.grant_role(
            session, None, subject=subject, role=role, municipality_code=municipality
        )

    record = _run_in_session(run)
    typer.echo(f"granted {record.role} in {record.municipality_code} to {record.subject}")


@app.command("revoke-role")
def revoke_role(
    subject: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument()],
    municipality: Annotated[str, typer.Option(help="Municipality code, e.g. 07202")],
) -> None:
    """Revoke a staff role in one municipality."""
    from .auth import service as auth_service

    async def run(session):
        return await auth_service.revoke_role(
            session, None, subject=subject, role=role, municipality_code=municipality
        )

    revoked = _run_in_session(run)
    typer.echo("revoked" if revoked else "no such grant")


@app.command("roles")
def roles(subject: Annotated[str, typer.Argument()]) -> None:
    """List the staff roles granted to a subject."""
    from .auth import service as auth_service

    async def run(session):
        return await auth_service.list_grants_for_subject(session, subject)

    for record in _run_in_session(run):
        typer.echo(f"{record.role}\t{record.municipality_code}\t{record.created_at.isoformat()}")


@app.command("register-client")
def register_client(
    client_id: Annotated[str, typer.Argument(help="OAuth2 client id of the service")],
    name_ja: Annotated[str, typer.Option(help="Name shown to residents (Japanese)")],
    name_en: Annotated[str, typer.Option(help="Name shown to residents (English)")],
    municipality: Annotated[str, typer.Option(help="Municipality code, e.g. 07202")],
    purpose: Annotated[list[str], typer.Option(help="Purpose it may request (repeatable)")],
) -> None:
    """Register a system client (another city-OS service) and the purposes it may request."""
    from .consent import service as consent_service

    async def run(session):
        return await consent_service.register_system_client(
            session,
            None,
            client_id=client_id,
            name_ja=name_ja,
            name_en=name_en,
            municipality_code=municipality,
            purposes=purpose,
        )

    client = _run_in_session(run)
    typer.echo(f"registered {client.client_id} for {', '.join(client.purposes)}")


@app.command("import-consent-catalog")
def import_consent_catalog(
    path: Annotated[Path, typer.Argument(help="JSON with items, purposes and bundles to add")],
) -> None:
    """Add data items, purposes and bundles to the consent catalog (admins); all or nothing."""
    import json

    from .consent import catalog_store
    from .consent.catalog import CatalogError

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        _fail(f"error: cannot read {path}: {exc}")

    async def run(session):
        return await catalog_store.import_catalog(session, document)

    try:
        items, purposes, bundles = _run_in_session(run)
    except CatalogError as exc:
        _fail("error: the catalog was not changed:\n  " + "\n  ".join(exc.problems))
    typer.echo(f"imported {items} items, {purposes} purposes, {bundles} bundles")


@app.command("export-schema")
def export_schema(
    output: Annotated[Path, typer.Option(help="Where to write the SDL")] = Path(
        "graphql/schema.graphql"
    ),
) -> None:
    """Write the GraphQL SDL snapshot (graphql/schema.graphql) from the code."""
    from .api.schema import print_sdl

    output.write_text(print_sdl(), encoding="utf-8")
    typer.echo(f"wrote {output}")


@import_app.command("boundaries")
def import_boundaries(
    paths: Annotated[list[Path], typer.Argument(help="GeoJSON files named <code>.json")],
    code: Annotated[str | None, typer.Option(help="Code, when importing a single file")] = None,
) -> None:
    """Import municipality boundaries (anywhere in Japan) and locate saved places in them."""
    import time

    from .municipalities import service as municipality_service
    from .observability.multiprocess import metered_import
    from .residents import service as residents_service

    if code is not None and len(paths) > 1:
        _fail("error: --code names the municipality of a single file")
    files = _expand_paths(paths)

    async def run(session):
        imported = [
            await municipality_service.import_boundary(session, path, code=code) for path in files
        ]
        started = time.perf_counter()
        # Municipalities import no domain: the places are located again from here, in the
        # same transaction, so boundaries and the places inside them change together.
        report = await residents_service.relocate_places(session, imported)
        return imported, report, time.perf_counter() - started

    with metered_import(get_settings(), "boundaries") as metered:
        imported, report, elapsed = _run_in_session(run)
        metered.count(municipalities=len(imported))
    for municipality in imported:
        typer.echo(
            f"imported boundary of {municipality.code} "
            f"{municipality.prefecture_name_ja}{municipality.name_ja}"
        )
    typer.echo(
        f"located saved places in {elapsed:.2f} s: {report.examined} examined, "
        f"{report.moved} changed municipality, "
        f"{report.residents_updated} residents' home municipality updated"
    )


def _expand_paths(paths: list[Path]) -> list[Path]:
    """Paths with quoted glob patterns (e.g. 'shelters/*/07*.json') expanded, sorted."""
    import glob

    expanded: list[Path] = []
    for path in paths:
        if not path.exists() and glob.has_magic(str(path)):
            matches = sorted(glob.glob(str(path)))
            if not matches:
                _fail(f"error: no file matches {path}")
            expanded.extend(Path(m) for m in matches)
        else:
            expanded.append(path)
    return expanded


def _echo_notices(notices: tuple[str, ...], limit: int = 20) -> None:
    for notice in notices[:limit]:
        typer.secho(f"notice: {notice}", fg=typer.colors.YELLOW)
    if len(notices) > limit:
        typer.secho(f"... and {len(notices) - limit} more notices", fg=typer.colors.YELLOW)


@import_app.command("shelters")
def import_shelters(
    paths: Annotated[
        list[Path], typer.Argument(help="GSI shelter files: GeoJSON per municipality or CSV")
    ],
    merge_distance: Annotated[
        float, typer.Option(help="Max metres between the two designations of one place")
    ] = 500.0,
) -> None:
    """Import GSI 指定緊急避難場所/指定避難所 files in one transaction (re-import updates)."""
    import time

    from .observability.multiprocess import metered_import
    from .shelters import service as shelter_service

    files = _expand_paths(paths)
    started = time.perf_counter()
    with metered_import(get_settings(), "shelters") as metered:
        report = _run_in_session(
            lambda session: shelter_service.import_shelter_files(
                session, files, merge_max_distance_m=merge_distance
            )
        )
        metered.count(rows=report.rows, shelters=report.places)
    elapsed = time.perf_counter() - started
    _echo_notices(report.notices)
    for line in _shelter_summary(report, elapsed, merge_distance):
        typer.echo(line)


def _shelter_summary(
    report: ShelterImportReport, elapsed: float, merge_distance: float
) -> list[str]:
    """The import in GSI's terms: rows of the two tables, then places, then what changed."""
    places = (
        f"{report.places:,} shelters: {report.both_designations:,} places are in both tables "
        "and count once, with both designations"
    )
    if (repeated := report.rows - report.places - report.both_designations) > 0:
        places += f"; {repeated:,} rows repeated a 共通ID already read"
    if report.kept_apart:
        places += (
            f"; {report.kept_apart:,} pairs with one name and address but over "
            f"{merge_distance:g} m apart were kept as two shelters (see the notices)"
        )
    stored = report.stored
    removed = f"{stored.removed:,} removed"
    if stored.removed:
        removed += " (their designations now belong to another shelter)"
    lines = [
        f"read {report.rows:,} GSI rows from {report.files} files ({stored.municipalities} "
        f"municipalities): {report.emergency_rows:,} 指定緊急避難場所 (emergency sites), "
        f"{report.evacuation_rows:,} 指定避難所 (evacuation shelters)",
        places,
        f"stored in {elapsed:.2f} s: {stored.inserted:,} new, {stored.updated:,} updated, "
        f"{stored.unchanged:,} unchanged, {removed}",
    ]
    lines.extend(
        f"replaced the {demo.count} demo shelters of {demo.municipality_name} "
        f"({demo.municipality_code}) with its real shelters"
        for demo in stored.demo_replaced
    )
    return lines


@import_app.command("jma-areas")
def import_jma_areas(
    directory: Annotated[
        Path, typer.Argument(help="Folder of JMA's area CSV files (jmacode.csv, prefcode.csv...)")
    ],
) -> None:
    """Replace the JMA forecast-area table (予報区 → municipalities) with a folder's CSV files."""
    from .alerts import jma_areas
    from .alerts.drafts import AreaScheme

    report = _run_in_session(lambda session: jma_areas.import_jma_areas(session, directory))
    counts = ", ".join(
        f"{report.areas.get(scheme, 0):,} {label}"
        for scheme, label in (
            (AreaScheme.JMA_CITY, "city areas (二次細分)"),
            (AreaScheme.JMA_MATOME, "まとめ areas"),
            (AreaScheme.JMA_FIRST, "一次細分 areas"),
            (AreaScheme.JMA_PREF, "府県予報区"),
        )
    )
    typer.echo(
        f"imported JMA areas from {report.files} files: {counts}; "
        f"{report.rows:,} area-municipality rows (replaced {report.replaced:,})"
    )


@import_app.command("support-register")
def import_support_register(
    path: Annotated[
        Path,
        typer.Argument(
            help="CSV (UTF-8 or Shift_JIS): 名簿番号,氏名,ふりがな,生年月日,性別,住所,電話番号,"
            "要介護度,身体障害者手帳,療育手帳,精神障害者保健福祉手帳,難病,独居高齢者,"
            "その他の理由,同意状況 (or their English names)"
        ),
    ],
    municipality: Annotated[str, typer.Option(help="Municipality code, e.g. 07202")],
    remove_missing: Annotated[
        bool,
        typer.Option(
            "--remove-missing",
            help="Remove the municipality's entries that the file no longer lists "
            "(default: keep and list them)",
        ),
    ] = False,
) -> None:
    """Import a municipality's 避難行動要支援者名簿 (all or nothing; re-import updates)."""
    from .plans import register, register_service

    async def work(session):
        entries = await register.read_register_file(path)
        return await register_service.import_register(
            session,
            municipality_code=municipality,
            entries=entries,
            remove_missing=remove_missing,
        )

    report = _run_in_session(work)
    typer.echo(
        f"support register of {report.municipality_code}: {report.created:,} new, "
        f"{report.updated:,} updated, {report.unchanged:,} unchanged"
    )
    if report.missing:
        listed = ", ".join(report.missing[: register_service.MAX_MISSING_LISTED])
        more = len(report.missing) - register_service.MAX_MISSING_LISTED
        listed += f" and {more:,} more" if more > 0 else ""
        if report.removed:
            typer.echo(
                f"removed {report.removed:,} entries not in the file ({report.linked_removed:,} "
                f"were linked to residents): {listed}"
            )
        else:
            _warn(
                f"{len(report.missing):,} entries are not in the file and were kept "
                f"(--remove-missing removes them): {listed}"
            )


@import_app.command("safety-answers")
def import_safety_answers(
    path: Annotated[
        Path, typer.Argument(help="CSV: subject,status,answered_at[,note,latitude,longitude]")
    ],
    event: Annotated[str, typer.Option(help="The disaster event (its id from the API)")],
    legal_basis: Annotated[
        str, typer.Option(help="Why staff record these answers, e.g. 災害対策基本法第86条の15")
    ],
    recorded_by: Annotated[
        str, typer.Option(help="Who collected the forms (kept with each answer)")
    ] = "cli:paper",
) -> None:
    """Import safety answers collected on paper (all or nothing; re-importing stores once)."""
    from .db.base import utcnow
    from .safety import paper
    from .safety import service as safety_service

    event_id = paper.event_uuid(event)
    if event_id is None:
        _fail(f"error: {event!r} is not a disaster event id")

    async def work(session):
        answers = await paper.read_answers_file(path, utcnow())
        return await safety_service.import_paper_answers(
            session,
            event_id=event_id,
            answers=answers,
            path=str(path),
            legal_basis=legal_basis,
            recorder=recorded_by,
        )

    report = _run_in_session(work)
    typer.echo(
        f"imported {report.stored:,} safety answers for {report.people:,} people "
        f"({report.already_stored:,} already stored)"
    )


def _import_municipal_file(path: Path, max_bytes: int, refusal, importer):
    """Read a capped file and hand its bytes to ``importer(session, data)``; its report, and
    whether it changed anything (importers that can tell say ``unchanged``)."""
    from .ingest.files import read_capped
    from .ingest.problems import Problems

    async def work(session):
        data = read_capped(path, max_bytes, Problems(str(path), refusal))
        return await importer(session, data)

    report = _run_in_session(work)
    return report, "unchanged (same file)" if getattr(report, "unchanged", False) else "imported"


@import_app.command("supplies-catalog")
def import_supplies_catalog(
    path: Annotated[Path, typer.Argument(help="YAML (or JSON) catalog of supply items and rules")],
    municipality: Annotated[str, typer.Option(help="Municipality code whose residents get it")],
) -> None:
    """Import a municipality's supplies catalog (replaces its previous one; all or nothing)."""
    from .supplies import service as supplies_service
    from .supplies.catalog import MAX_CATALOG_BYTES, SupplyCatalogRefused

    report, done = _import_municipal_file(
        path,
        MAX_CATALOG_BYTES,
        SupplyCatalogRefused,
        lambda session, data: supplies_service.import_catalog(
            session, municipality_code=municipality, data=data, source_name=str(path)
        ),
    )
    typer.echo(
        f"{done}: {report.items} supply items for {report.municipality_code} ({report.mode})"
    )


@import_app.command("life-events")
def import_life_events(
    path: Annotated[
        Path, typer.Argument(help="YAML (or JSON) life events with questions and procedures")
    ],
    municipality: Annotated[str, typer.Option(help="Municipality code the life events are of")],
) -> None:
    """Import a municipality's life events (replaces its previous ones; all or nothing)."""
    from .lifeevents import service as lifeevents_service
    from .lifeevents.definition import MAX_FILE_BYTES, LifeEventsRefused

    report, done = _import_municipal_file(
        path,
        MAX_FILE_BYTES,
        LifeEventsRefused,
        lambda session, data: lifeevents_service.import_life_events(
            session, municipality_code=municipality, data=data, source_name=str(path)
        ),
    )
    typer.echo(f"{done}: {report.events} life events for {report.municipality_code}")


@import_app.command("services")
def import_services(
    path: Annotated[Path, typer.Argument(help="YAML catalog of portal services")],
) -> None:
    """Import portal services (created or updated by code); a bad file is refused whole."""
    from .portal import service as portal_service
    from .portal.catalog import MAX_FILE_BYTES, ServiceCatalogRefused

    report, done = _import_municipal_file(
        path,
        MAX_FILE_BYTES,
        ServiceCatalogRefused,
        lambda session, data: portal_service.import_services(
            session, data=data, source_name=str(path)
        ),
    )
    typer.echo(f"{done}: {report.created} new and {report.updated} updated portal services")


@import_app.command("application-forms")
def import_application_forms(
    path: Annotated[Path, typer.Argument(help="YAML (or JSON) forms and bundles")],
    municipality: Annotated[str, typer.Option(help="Municipality code that owns the forms")],
) -> None:
    """Import a municipality's application forms and bundles (一括申請; all or nothing)."""
    from .applications import service as applications_service
    from .applications.forms import MAX_DOCUMENT_BYTES, FormsRefused

    report, done = _import_municipal_file(
        path,
        MAX_DOCUMENT_BYTES,
        FormsRefused,
        lambda session, data: applications_service.import_forms(
            session, municipality_code=municipality, data=data, source_name=str(path)
        ),
    )
    typer.echo(
        f"{done}: {report.forms} forms and {report.bundles} bundles for {report.municipality_code}"
    )


@import_app.command("hazards")
def import_hazards(
    paths: Annotated[list[Path], typer.Argument(help="GeoJSON files of (Multi)Polygon zones")],
    hazard_type: Annotated[
        str, typer.Option("--type", help="flood, inland_flood, landslide, tsunami, ...")
    ],
    rank_property: Annotated[
        str | None, typer.Option(help="Property holding the rank (e.g. landslide 1/2)")
    ] = None,
    depth_property: Annotated[
        str | None, typer.Option(help="Property holding the depth in metres (flood types)")
    ] = None,
    name_property: Annotated[str | None, typer.Option(help="Property holding the name")] = None,
    source: Annotated[
        str | None, typer.Option(help="Source label of the zones (default: the file name)")
    ] = None,
    municipality: Annotated[str | None, typer.Option(help="Municipality code of the zones")] = None,
    replace_source: Annotated[
        bool, typer.Option("--replace-source", help="Replace zones imported from the same source")
    ] = False,
) -> None:
    """Import hazard zones (validated, repaired where possible) in one transaction."""
    import time

    from .hazards import service as hazard_service
    from .observability.multiprocess import metered_import

    files = _expand_paths(paths)
    started = time.perf_counter()
    with metered_import(get_settings(), "hazards") as metered:
        report = _run_in_session(
            lambda session: hazard_service.import_hazard_files(
                session,
                files,
                hazard_type=hazard_type,
                rank_property=rank_property,
                depth_property=depth_property,
                name_property=name_property,
                source=source,
                municipality_code=municipality,
                replace_source=replace_source,
            )
        )
        metered.count(zones=report.zones)
    elapsed = time.perf_counter() - started
    _echo_notices(report.repairs + report.notices)
    typer.echo(
        f"imported {report.zones} {hazard_type} zones from {report.files} files in "
        f"{elapsed:.2f} s; repaired {report.repaired} features; replaced {report.replaced} zones"
    )
    for demo in report.demo_replaced:
        typer.echo(
            f"replaced the {demo.count} demo hazard zones of {demo.municipality_name} "
            f"({demo.municipality_code}) with real ones: {demo.reason}"
        )


@import_app.command("roads")
def import_roads(
    path: Annotated[Path, typer.Argument(help="OpenStreetMap extract (.osm.pbf, or .osm XML)")],
    region: Annotated[
        str | None,
        typer.Option(
            help="Region name: written to <data dir>/roads/<region>.npz beside the other "
            "regions (default: walk-graph)"
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            help="Write the walk graph to this file instead (the server reads it "
            "only if it is in <data dir>/roads)"
        ),
    ] = None,
    all_components: Annotated[
        bool,
        typer.Option(
            "--all-components", help="Keep disconnected islands (default: largest network only)"
        ),
    ] = False,
) -> None:
    """Build the pedestrian walk graph of one region from OSM and install it for the server."""
    import time

    from .observability.multiprocess import metered_import
    from .routing import network
    from .routing.osm import import_walk_graph

    settings = get_settings()
    if region is not None and (output is not None or settings.road_graph_path is not None):
        _fail(
            "error: --region writes to <data dir>/roads; it cannot be combined with --output "
            "or with KIZUNA_ROAD_GRAPH_PATH (which pins the server to one file)"
        )
    try:
        target = (
            output
            or settings.road_graph_path
            or network.region_path(settings, region or network.DEFAULT_REGION)
        )
    except ValueError as exc:
        _fail(f"error: {exc}")
    if not path.is_file():
        _fail(f"error: {path}: no such file")
    started = time.perf_counter()
    with metered_import(settings, "roads") as metered:
        try:
            graph, report = import_walk_graph(path, largest_component=not all_components)
        except RuntimeError as exc:  # libosmium: not OSM data, truncated, unsupported compression
            _fail(f"error: {path}: cannot read OpenStreetMap data: {exc}")
        if graph.edge_count == 0:
            _fail(f"error: {path}: no walkable ways found; nothing written")
        built = time.perf_counter() - started
        installed = _installed_path(settings, target)
        # One store for before and after: regions that do not change are loaded once.
        store = network.RoadNetworkStore()
        before = store.load(settings) if installed else None
        target.parent.mkdir(parents=True, exist_ok=True)
        graph.save(target)  # atomic: a running server switches to it on its next request
        metered.count(nodes=graph.node_count, edges=graph.edge_count)
    name = f" (region {target.name.removesuffix(network.GRAPH_SUFFIX)})" if installed else ""
    typer.echo(
        f"imported walk graph: {graph.node_count} nodes, {graph.edge_count} edges, "
        f"{graph.total_length_m / 1000:.1f} km of ways in {built:.2f} s -> {target}{name}"
    )
    _echo_import_report(report.as_metadata())
    if before is None:
        typer.echo(
            "the server does not read this file: it reads <data dir>/roads/*.npz "
            f"({network.roads_dir(settings)}) or KIZUNA_ROAD_GRAPH_PATH"
        )
        return
    _report_coverage_change(settings, before, store.load(settings), changed=target)


def _bbox_text(bbox: list[float] | tuple[float, ...] | None) -> str:
    if not bbox:
        return "unknown"
    min_lon, min_lat, max_lon, max_lat = bbox
    return f"lon {min_lon:.4f}..{max_lon:.4f}, lat {min_lat:.4f}..{max_lat:.4f}"


def _echo_import_report(report: dict[str, Any], indent: str = "") -> None:
    """What the tag policy kept and left out (also stored in the graph file)."""
    from .routing import policy

    typer.echo(f"{indent}walkable area: {_bbox_text(report.get('walkable_bbox'))}")
    if report.get("file_bbox"):
        typer.echo(f"{indent}the file's bounding box: {_bbox_text(report['file_bbox'])}")
    typer.echo(
        f"{indent}islands dropped: {report.get('islands_dropped', 0)} "
        f"({report.get('islands_km', 0.0):.2f} km; --all-components keeps them)"
    )
    excluded = report.get("excluded") or {}
    descriptions = dict(policy.rule_descriptions())
    if excluded:
        typer.echo(f"{indent}ways left out by the tag policy:")
        for code, (ways, km) in excluded.items():
            typer.echo(f"{indent}  {code}: {ways} ways, {km:.2f} km — {descriptions.get(code, '')}")
    flagged = report.get("flagged") or {}
    typer.echo(
        f"{indent}kept with flags: {flagged.get('steps', 0)} step edges, "
        f"{flagged.get('escalator', 0)} escalator edges, {flagged.get('elevator', 0)} elevator "
        f"edges, {flagged.get('off_street_level', 0)} off street level; "
        f"{report.get('ticket_gates', 0)} ticket gates (closed unless opened for an event), "
        f"{report.get('not_step_free_nodes', 0)} kerbs and barriers not step-free"
    )
    if report.get("conditional_ways"):
        unparsed = report.get("unparsed_conditions", 0)
        ignored = f"; {unparsed} conditions that are not times ignored" if unparsed else ""
        typer.echo(
            f"{indent}{report['conditional_ways']} ways open or closed by the hour "
            f"(access:conditional){ignored}"
        )


def _installed_path(settings: Settings, target: Path) -> bool:
    """Whether the server reads a graph written to ``target``."""
    from .routing import network

    if settings.road_graph_path is not None:
        return target.resolve() == settings.road_graph_path.expanduser().resolve()
    return (
        target.name.endswith(network.GRAPH_SUFFIX)
        and target.resolve().parent == network.roads_dir(settings).resolve()
    )


def _stored_points(settings: Settings) -> StoredPoints | None:
    """The served municipalities' shelters and places, or None (said) if unreadable."""
    from sqlalchemy.exc import SQLAlchemyError

    from .db.session import Database
    from .routing import service as routing_service

    async def main() -> StoredPoints:
        await _prepare_database(settings, demo=False)
        database = Database.from_url(settings.resolved_database_url)
        try:
            async with database.session() as session:
                return await routing_service.stored_points(session)
        finally:
            await database.dispose()

    try:
        return asyncio.run(main())
    except (OSError, SQLAlchemyError) as exc:
        _warn(f"warning: cannot check which shelters and places the graphs reach: {exc}")
        return None


def _reach(points: StoredPoints, networks: RoadNetworks) -> str:
    reached = networks.reaches(points.lon, points.lat)
    return (
        f"{points.count('shelter', reached)} of {points.count('shelter')} shelters and "
        f"{points.count('place', reached)} of {points.count('place')} places"
    )


def _report_coverage_change(
    settings: Settings, before: RoadNetworks, after: RoadNetworks, *, changed: Path
) -> None:
    """Say which stored shelters and places routes reach now, and warn about any lost."""
    from .routing import network

    if after.is_demo:
        typer.echo("no walk graph left: development routes on the demo network of central 会津若松")
    else:
        names = ", ".join(r.name for r in after.regions) or "none"
        typer.echo(f"regions served: {names} (in {changed.parent})")
    for problem in after.broken:
        _warn(f"warning: cannot load {problem}")
    if before.is_demo and not after.is_demo and settings.is_development:
        _warn(
            "warning: development no longer routes on the demo network of central 会津若松: "
            "it is used only while no walk graph is installed"
        )
    points = _stored_points(settings)
    if points is None:
        return
    if not len(points.kinds):
        typer.echo("no shelters or places are stored yet: no coverage to check")
        return
    changed_region = next((r for r in after.regions if r.path == changed), None)
    if changed_region is not None:
        alone = network.RoadNetworks([changed_region])
        typer.echo(
            f"region {changed_region.name} reaches {_reach(points, alone)} "
            "of the served municipalities"
        )
    typer.echo(
        f"all regions together reach {_reach(points, after)} (before: {_reach(points, before)})"
    )
    lost = before.reaches(points.lon, points.lat) & ~after.reaches(points.lon, points.lat)
    if not lost.any():
        return
    _warn(
        f"warning: {points.count('shelter', lost)} shelters and {points.count('place', lost)} "
        "places that routes reached before are outside every walk graph now: routes from or "
        "to them answer OUTSIDE_ROUTING_AREA"
    )
    for code, shelters, places in points.by_municipality(lost)[:10]:
        where = (
            f"{code} {points.municipality_names.get(code, '')}".strip()
            if code
            else "not located in a municipality"
        )
        _warn(f"  {where}: {shelters} shelters, {places} places")
    _warn(f"to see what each region reaches: {_command()} roads list")
    if changed_region is not None and settings.road_graph_path is None:
        _warn(
            f"to go back: {_command()} roads remove {changed_region.name} (with no graph "
            "left, development routes on the demo network again), or import the earlier "
            f"extract again with --region {changed_region.name}"
        )


def _echo_road_state(settings: Settings) -> None:
    """One line on what evacuation routes walk on (for `serve`)."""
    from .routing import network

    graphs = network.installed_graphs(settings)
    if graphs:
        typer.echo("walk graphs: " + ", ".join(f"{name} ({path})" for name, path in graphs))
    elif settings.is_development:
        typer.echo(
            "walk graphs: none installed; routes use the demo network of central 会津若松 "
            f"({_command()} import roads FILE --region NAME installs one)"
        )
    else:
        _warn("warning: no walk graph installed: evacuationRoute answers ROUTING_UNAVAILABLE")


@roads_app.command("list")
def roads_list() -> None:
    """List the installed walk graphs (regions) and what each reaches."""
    from .routing import network

    settings = get_settings()
    networks = network.load_networks(settings)
    for problem in networks.broken:
        _warn(f"warning: cannot load {problem}")
    if not networks.regions:
        typer.echo(f"no walk graph installed in {network.roads_dir(settings)}")
        _echo_road_state(settings)
        return
    points = _stored_points(settings)
    for region in networks.regions:
        graph = region.engine.graph
        min_lon, min_lat, max_lon, max_lat = graph.bbox
        where = str(region.path) if region.path else "built in; used until a graph is installed"
        typer.echo(
            f"{region.name}: {graph.node_count} nodes, {graph.edge_count} edges, "
            f"{graph.total_length_m / 1000:.1f} km, lon {min_lon:.4f}..{max_lon:.4f}, "
            f"lat {min_lat:.4f}..{max_lat:.4f} ({where})"
        )
        imported = graph.metadata.get("import")
        if imported:
            _echo_import_report(imported, indent="  ")
        if points is not None and len(points.kinds):
            alone = network.RoadNetworks([region])
            typer.echo(f"  reaches {_reach(points, alone)} of the served municipalities")
    if points is not None and len(points.kinds) and len(networks.regions) > 1:
        typer.echo(f"all regions together reach {_reach(points, networks)}")


@roads_app.command("remove")
def roads_remove(
    region: Annotated[str, typer.Argument(help="Region name (see roads list)")],
) -> None:
    """Remove a region's walk graph; a running server stops using it on its next request."""
    from .routing import network

    settings = get_settings()
    if settings.road_graph_path is not None:
        _fail("error: KIZUNA_ROAD_GRAPH_PATH pins the server to one file; unset it to use regions")
    installed = dict(network.installed_graphs(settings))
    if region not in installed:
        known = ", ".join(installed) or "none"
        _fail(f"error: no region {region!r} in {network.roads_dir(settings)} (installed: {known})")
    store = network.RoadNetworkStore()
    before = store.load(settings)
    installed[region].unlink()
    typer.echo(f"removed region {region} ({installed[region]})")
    _report_coverage_change(settings, before, store.load(settings), changed=installed[region])


def _ingest_files(paths: list[Path], expect: str) -> None:
    """Ingest each document on its own (deliveries are independent); exit 1 if any is refused."""
    from .alerts.drafts import AlertSource
    from .alerts.ingest import ingest_document
    from .db.session import Database, RequestDatabase
    from .errors import DomainError

    settings = get_settings()
    files = _expand_paths(paths)

    async def main() -> int:
        await _prepare_database(settings, demo=False)
        database = Database.from_url(settings.resolved_database_url)
        refused = 0
        try:
            async with _broadcasting(settings):
                for path in files:
                    try:
                        # One byte over the cap is enough for the size check to refuse it.
                        with path.open("rb") as handle:
                            data = handle.read(settings.alert_max_document_bytes + 1)
                    except OSError as exc:
                        typer.secho(f"{path}: cannot read: {exc.strerror}", err=True, fg="red")
                        refused += 1
                        continue
                    db = RequestDatabase(database.new_session())
                    try:
                        report = await ingest_document(
                            db, settings, data, path.name, via="cli", expect=AlertSource(expect)
                        )
                    except DomainError as exc:
                        typer.secho(f"{path}: refused: {exc.message}", err=True, fg="red")
                        refused += 1
                        continue
                    finally:
                        await db.close()
                    for draft, outcome in report.outcomes:
                        state = "duplicate (ignored)" if outcome.duplicate else draft.action.value
                        typer.echo(
                            f"{path.name}: {draft.kind.value} {draft.title_ja or ''} "
                            f"[{draft.status.value}] {state}; areas {len(draft.areas)}; "
                            f"{outcome.concerned_residents} resident(s) concerned"
                        )
        finally:
            await database.dispose()
        return refused

    refused = asyncio.run(main())
    if refused:
        _fail(f"error: {refused} of {len(files)} document(s) refused")


_FILES_ARGUMENT = typer.Argument(help="XML files (quoted globs are expanded)")


@ingest_app.command("jma")
def ingest_jma(paths: Annotated[list[Path], _FILES_ARGUMENT]) -> None:
    """JMA disaster XML telegrams (気象庁防災情報XML)."""
    _ingest_files(paths, "jma")


@ingest_app.command("cap")
def ingest_cap(paths: Annotated[list[Path], _FILES_ARGUMENT]) -> None:
    """OASIS CAP 1.2 messages (bare or in an EDXL-DE envelope)."""
    _ingest_files(paths, "cap")


@ingest_app.command("l-alert")
def ingest_l_alert(paths: Annotated[list[Path], _FILES_ARGUMENT]) -> None:
    """L-Alert (公共情報コモンズ) PCXML evacuation information (EDXL-DE, bare or in SOAP)."""
    _ingest_files(paths, "l_alert")


def _broadcasting(settings: Settings) -> AbstractAsyncContextManager[object]:
    """Live-update signals of what the command commits reach the viewers of every server
    (through Redis when KIZUNA_REDIS_URL is set), sent before the command exits."""
    from . import live

    return live.broadcasting(
        settings.redis_url, channel_prefix=settings.redis_channel_prefix, listen=False
    )


def _run_in_session(fn):
    """Run ``fn(session)`` in one committed transaction; domain errors exit with code 1."""
    from .db.session import Database
    from .errors import DomainError

    settings = get_settings()

    async def main():
        await _prepare_database(settings, demo=False)
        database = Database.from_url(settings.resolved_database_url)
        try:
            async with _broadcasting(settings), database.session() as session:
                return await fn(session)
        finally:
            await database.dispose()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        _fail(f"error: {exc.message}")
    except OSError as exc:
        _fail(f"error: {exc}")


def _safe_redis_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)  # without the user and password
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


if __name__ == "__main__":
    app()
