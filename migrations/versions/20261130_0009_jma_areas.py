"""alerts: the JMA forecast areas (予報区) and the municipalities each covers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('jma_area_municipalities',
    sa.Column('scheme', sa.String(length=16), nullable=False),
    sa.Column('area_code', sa.String(length=7), nullable=False),
    sa.Column('municipality_code', sa.String(length=5), nullable=False),
    sa.Column('area_name_ja', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('scheme', 'area_code', 'municipality_code', name=op.f('pk_jma_area_municipalities'))
    )


def downgrade() -> None:
    op.drop_table('jma_area_municipalities')
