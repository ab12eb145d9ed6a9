"""data stamps: a value moved by every write to shelters and hazard zones, for caches

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00+00:00

On SQLite, a later migration that rebuilds one of these tables in batch mode drops its
triggers with the old table: such a migration must create them again (STAMPED_TABLES below).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAMPED_TABLES = ("shelters", "hazard_zones")
# PostgreSQL: random() has 52 random bits since version 15 (48 before): plenty for a stamp.
_PG_FUNCTION = """
CREATE FUNCTION kizuna_restamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE data_versions SET stamp = (random() * 4503599627370496)::bigint
    WHERE name = TG_TABLE_NAME;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "data_versions",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_data_versions")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    random = "(random() * 4503599627370496)::bigint" if postgres else "random()"
    if postgres:
        op.execute(_PG_FUNCTION)
    for table in STAMPED_TABLES:
        op.execute(f"INSERT INTO data_versions (name, stamp) VALUES ('{table}', {random})")
        if postgres:
            # Statement level and BEFORE: the stamp row is locked before any row of the
            # table, so two writers always take their locks in the same order.
            op.execute(
                f"CREATE TRIGGER {table}_restamp BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION kizuna_restamp()"
            )
            continue
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_restamp_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN UPDATE data_versions SET stamp = random() WHERE name = '{table}'; END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in STAMPED_TABLES:
        if postgres:
            op.execute(f"DROP TRIGGER {table}_restamp ON {table}")
        else:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_restamp_{event}")
    if postgres:
        op.execute("DROP FUNCTION kizuna_restamp()")
    op.drop_table("data_versions")
