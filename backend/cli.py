"""The ``kizuna`` command: serve, migrate, seed-demo, dev-token, roles and imports."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from .config import Settings, get_settings

app = typer.Typer(help="Kizuna city OS backend.", no_args_is_help=True, add_completion=False)
import_app = typer.Typer(help="Import reference data from files.", no_args_is_help=True)
app.add_typer(import_app, name="import")


def _fail(message: str) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED)
    raise typer.Exit(code=1)


async def _prepare_database(settings: Settings, *, demo: bool) -> list[str]:
    """Migrate, sync municipalities and (when empty and asked) load the demo data."""
    from . import demo as demo_data
    from .assembly import assemble
    from .bootstrap import sync_reference_data
    from .db.migrate import upgrade
    from .db.session import Database

    assemble()
    database = Database.from_url(settings.resolved_database_url)
    try:
        await upgrade(database.engine)
        async with database.session() as session:
            await sync_reference_data(session)
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
    where = "GraphiQL" if settings.is_development else "GraphQL endpoint"
    typer.secho(f"{where}: http://{host}:{port}/graphql", fg=typer.colors.GREEN, bold=True)
    if settings.is_development:
        typer.echo("sign in for local development: kizuna dev-token demo-hanako")
    if workers == 1:
        from .app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)
        return
    # Route searches are CPU-bound Python: a burst of requests needs one process per core.
    # Each worker builds its own app (database pool, walk graph) from the same environment.
    uvicorn.run(
        "backend.app:create_worker_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
    )


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
    signer = DevSigner(
        settings.dev_signing_key_path,
        issuer=settings.dev_token_issuer,
        audience=settings.dev_token_audience,
    )
    token = signer.sign(
        subject,
        ttl=timedelta(hours=hours or settings.dev_token_ttl_hours),
        roles=grants,
        client_id=client,
        client_id_claim=settings.oidc_client_id_claim,
        roles_claim=settings.oidc_roles_claim,
        extra={"name": name} if name else None,
    )
    typer.echo(token)


@app.command("grant-role")
def grant_role(
    subject: Annotated[str, typer.Argument(help="The person's subject at the identity provider")],
    role: Annotated[str, typer.Argument(help="city_staff, city_admin, shelter_manager, ...")],
    municipality: Annotated[str, typer.Option(help="Municipality code, e.g. 07202")],
) -> None:
    """Grant a staff role in one municipality."""
    from .auth import service as auth_service

    async def run(session):  # type: ignore[no-untyped-def]
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

    async def run(session):  # type: ignore[no-untyped-def]
        return await auth_service.revoke_role(
            session, None, subject=subject, role=role, municipality_code=municipality
        )

    revoked = _run_in_session(run)
    typer.echo("revoked" if revoked else "no such grant")


@app.command("roles")
def roles(subject: Annotated[str, typer.Argument()]) -> None:
    """List the staff roles granted to a subject."""
    from .auth import service as auth_service

    async def run(session):  # type: ignore[no-untyped-def]
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

    async def run(session):  # type: ignore[no-untyped-def]
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

    async def run(session):  # type: ignore[no-untyped-def]
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
    """Import municipality boundary polygons so homes are located in their municipality."""
    from .municipalities import service as municipality_service
    from .observability.multiprocess import metered_import

    async def run(session):  # type: ignore[no-untyped-def]
        imported = []
        for path in paths:
            municipality = await municipality_service.import_boundary(session, path, code=code)
            imported.append(f"{municipality.code} {municipality.name_ja}")
        return imported

    with metered_import(get_settings(), "boundaries") as metered:
        lines = _run_in_session(run)
        metered.count(municipalities=len(lines))
    for line in lines:
        typer.echo(f"imported boundary of {line}")


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
        metered.count(rows=report.rows, shelters=report.records)
    elapsed = time.perf_counter() - started
    _echo_notices(report.notices)
    typer.echo(
        f"imported {report.records} shelters ({report.rows} GSI rows from {report.files} files, "
        f"{report.municipalities} municipalities) in {elapsed:.2f} s: {report.inserted} new, "
        f"{report.updated} updated, {report.unchanged} unchanged, "
        f"{report.merged_away} merged into others"
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
    _echo_notices(report.repairs)
    typer.echo(
        f"imported {report.zones} {hazard_type} zones from {report.files} files in "
        f"{elapsed:.2f} s; repaired {report.repaired} features; replaced {report.replaced} zones"
    )


@import_app.command("roads")
def import_roads(
    path: Annotated[Path, typer.Argument(help="OpenStreetMap extract (.osm.pbf)")],
    output: Annotated[
        Path | None,
        typer.Option(help="Where to write the walk graph (default: the server's road graph file)"),
    ] = None,
    all_components: Annotated[
        bool,
        typer.Option(
            "--all-components", help="Keep disconnected islands (default: largest network only)"
        ),
    ] = False,
) -> None:
    """Build the pedestrian walk graph from OSM with pyosmium and store it for the server."""
    import time

    from .observability.multiprocess import metered_import
    from .routing.osm import build_walk_graph_from_pbf

    settings = get_settings()
    target = output or settings.road_graph_file
    if not path.is_file():
        _fail(f"error: {path}: no such file")
    started = time.perf_counter()
    with metered_import(settings, "roads") as metered:
        try:
            graph = build_walk_graph_from_pbf(path, largest_component=not all_components)
        except RuntimeError as exc:  # libosmium: not a PBF, truncated, unsupported compression
            _fail(f"error: {path}: cannot read OpenStreetMap data: {exc}")
        if graph.edge_count == 0:
            _fail(f"error: {path}: no walkable ways found; nothing written")
        built = time.perf_counter() - started
        target.parent.mkdir(parents=True, exist_ok=True)
        graph.save(target)  # atomic: a running server switches to it on its next request
        metered.count(nodes=graph.node_count, edges=graph.edge_count)
    min_lon, min_lat, max_lon, max_lat = graph.bbox
    typer.echo(
        f"imported walk graph: {graph.node_count} nodes, {graph.edge_count} edges, "
        f"{graph.total_length_m / 1000:.1f} km of ways in {built:.2f} s -> {target}"
    )
    typer.echo(f"covers lon {min_lon:.4f}..{max_lon:.4f}, lat {min_lat:.4f}..{max_lat:.4f}")


def _run_in_session(fn):  # type: ignore[no-untyped-def]
    """Run ``fn(session)`` in one committed transaction; domain errors exit with code 1."""
    from .db.session import Database
    from .errors import DomainError

    settings = get_settings()

    async def main():  # type: ignore[no-untyped-def]
        await _prepare_database(settings, demo=False)
        database = Database.from_url(settings.resolved_database_url)
        try:
            async with database.session() as session:
                return await fn(session)
        finally:
            await database.dispose()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        _fail(f"error: {exc.message}")
    except OSError as exc:
        _fail(f"error: {exc}")


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


if __name__ == "__main__":
    app()
