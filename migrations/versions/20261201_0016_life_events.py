"""life events: municipalities' imported life events (questionnaires and procedures)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 12:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('life_event_sets',
    sa.Column('municipality_code', sa.String(length=5), nullable=False),
    sa.Column('source_name', sa.String(length=255), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_code'], ['municipalities.code'], name=op.f('fk_life_event_sets_municipality_code_municipalities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('municipality_code', name=op.f('pk_life_event_sets'))
    )
    op.create_table('life_events',
    sa.Column('municipality_code', sa.String(length=5), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name_ja', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('description_ja', sa.Text(), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['municipality_code'], ['life_event_sets.municipality_code'], name=op.f('fk_life_events_municipality_code_life_event_sets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('municipality_code', 'code', name=op.f('pk_life_events'))
    )


def downgrade() -> None:
    op.drop_table('life_events')
    op.drop_table('life_event_sets')
