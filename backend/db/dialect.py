"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, Table, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

T = TypeVar("T")
# Values per IN (...) list: well under SQLite's and asyncpg's 32,766 bind parameters.
IN_CHUNK = 900


def chunked(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """``values`` in lists of at most ``size``: for IN (...) lists and multi-row statements."""
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def one_of(session: AsyncSession, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``column = ANY(array)``: one parameter instead of
    one per value, which asyncpg and the planner handle 3-6 times faster for 1,000 ids."""
    if session.get_bind().dialect.name == "postgresql":
        array = bindparam(None, list(values), type_=postgresql.ARRAY(column.type))
        return column == any_(array)
    return column.in_(values)


async def insert_ignoring_conflicts(
    session: AsyncSession,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    index_elements: list[str],
) -> None:
    """INSERT ... ON CONFLICT DO NOTHING, so concurrent first inserts never fail."""
    if not rows:
        return
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = module.insert(table).values(list(rows))
    await session.execute(statement.on_conflict_do_nothing(index_elements=index_elements))


async def insert_new(
    session: AsyncSession,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    index_elements: list[str],
    returning: str,
) -> list[Any]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING ``returning``: its values for the new rows.

    Run with executemany like ``upsert`` (insertmanyvalues batches it under the driver's
    parameter limit); rows that conflicted return nothing.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return await _insert_new_unnest(session, table, rows, index_elements, returning)
    statement = (
        sqlite.insert(table)
        .on_conflict_do_nothing(index_elements=index_elements)
        .returning(table.c[returning])
    )
    return list((await session.execute(statement, list(rows))).scalars())


async def _insert_new_unnest(
    session: AsyncSession,
    table: Table,
    rows: Sequence[dict[str, Any]],
    index_elements: list[str],
    returning: str,
) -> list[Any]:
    """PostgreSQL: the rows as one array per column, inserted with one ``unnest``.

    SQLAlchemy renders a multi-row VALUES clause at ~15 us per value (150 ms for 1,000 inbox
    rows of ten columns); asyncpg encodes whole arrays in C. Values go through each column
    type's bind processing first (UTC timestamps, JSON), as SQLAlchemy would do.
    """
    connection = await session.connection()
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    columns = [column for column in table.columns if column.name in rows[0]]
    arrays: list[list[Any]] = []
    casts: list[str] = []
    for index, column in enumerate(columns, start=1):
        process = column.type._cached_bind_processor(dialect)
        values = [row[column.name] for row in rows]
        arrays.append([process(v) for v in values] if process else values)
        casts.append(f"${index}::{column.type.compile(dialect=dialect)}[]")
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in columns)}) "
        f"SELECT * FROM unnest({', '.join(casts)}) "
        f"ON CONFLICT ({', '.join(quote(c) for c in index_elements)}) DO NOTHING "
        f"RETURNING {quote(returning)}"
    )
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    return [record[0] for record in await driver.fetch(sql, *arrays)]


async def upsert(
    session: AsyncSession,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    index_elements: list[str],
    update_columns: list[str],
) -> None:
    """INSERT ... ON CONFLICT DO UPDATE of ``update_columns``, for one row or thousands.

    One cached single-row statement run with executemany: rendering a multi-row VALUES
    clause costs SQLAlchemy ~15 us per value on every call, while executemany reuses the
    compiled statement and lets the driver batch (insertmanyvalues keeps each batch under
    the driver's parameter limit).
    """
    if not rows:
        return
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = module.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=index_elements,
        set_={name: statement.excluded[name] for name in update_columns},
    )
    await session.execute(statement, list(rows))


def table_of(model: type[DeclarativeBase]) -> Table:
    """The Table of a mapped class (``__table__`` is typed as any FromClause)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


async def fetch_freshly_planned(
    session: AsyncSession, statement: Select[*tuple[Any, ...]]
) -> Sequence[Sequence[Any]]:
    """The rows of a SELECT whose best plan depends on its parameters (large arrays).

    On PostgreSQL the statement is compiled by SQLAlchemy and prepared afresh by asyncpg on
    the session's connection, so it is planned for these values every time: drivers cache
    prepared statements, and after five runs PostgreSQL may switch a cached one to a generic
    plan, which cannot hash ``col <> ALL($n)``: 6 s instead of 0.3 s over 559k places.
    Values come back as asyncpg gives them and parameters go as given (no SQLAlchemy type
    processing): for UUID, text, number columns and parameters of ints, strings, lists.
    """
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        return (await connection.execute(statement)).all()
    compiled = statement.compile(dialect=connection.dialect)
    params = compiled.construct_params()
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    prepared = await driver.prepare(compiled.string)
    return await prepared.fetch(*(params[name] for name in compiled.positiontup or ()))
