"""nationwide municipalities: served flag, prefecture name, designated city, optional kana/English

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 08:00:00+00:00

The rows themselves are synced from backend/municipalities/japan.csv at every start
(kizuna migrate / serve), including which ones are served.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_COLUMNS = ('name_kana', 'name_en')


def _set_nullable(column: str, nullable: bool) -> None:
    """Change a name column's nullability without rebuilding the table.

    On SQLite a batch rebuild drops and recreates ``municipalities``, which places, residents,
    shelters and role grants reference with foreign keys enforced: dropping it with rows that
    are referenced fails. SQLite (3.35+) adds, drops and renames columns natively instead.
    """
    if op.get_bind().dialect.name != 'sqlite':
        op.alter_column('municipalities', column, existing_type=sa.String(64), nullable=nullable)
        return
    spare = f'{column}_migrating'
    not_null = '' if nullable else " NOT NULL DEFAULT ''"
    op.execute(f'ALTER TABLE municipalities ADD COLUMN {spare} VARCHAR(64){not_null}')
    op.execute(f'UPDATE municipalities SET {spare} = {column}')
    op.execute(f'ALTER TABLE municipalities DROP COLUMN {column}')
    op.execute(f'ALTER TABLE municipalities RENAME COLUMN {spare} TO {column}')


def upgrade() -> None:
    op.add_column(
        'municipalities',
        sa.Column('prefecture_name_ja', sa.String(length=16), server_default='', nullable=False),
    )
    op.add_column(
        'municipalities', sa.Column('designated_city_code', sa.String(length=5), nullable=True)
    )
    op.add_column(
        'municipalities',
        sa.Column('served', sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    for column in NAME_COLUMNS:
        _set_nullable(column, True)


def downgrade() -> None:
    for column in NAME_COLUMNS:
        op.execute(f"UPDATE municipalities SET {column} = '' WHERE {column} IS NULL")
        _set_nullable(column, False)
    op.drop_column('municipalities', 'served')
    op.drop_column('municipalities', 'designated_city_code')
    op.drop_column('municipalities', 'prefecture_name_ja')
