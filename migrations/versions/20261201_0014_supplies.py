"""supplies: municipalities' catalogs, residents' supply profiles and ticked items

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 12:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('supply_catalogs',
    sa.Column('municipality_code', sa.String(length=5), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('source_name', sa.String(length=255), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_code'], ['municipalities.code'], name=op.f('fk_supply_catalogs_municipality_code_municipalities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('municipality_code', name=op.f('pk_supply_catalogs'))
    )
    op.create_table('supply_catalog_items',
    sa.Column('municipality_code', sa.String(length=5), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name_ja', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('unit_ja', sa.String(length=20), nullable=False),
    sa.Column('unit_en', sa.String(length=20), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['municipality_code'], ['supply_catalogs.municipality_code'], name=op.f('fk_supply_catalog_items_municipality_code_supply_catalogs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('municipality_code', 'code', name=op.f('pk_supply_catalog_items'))
    )
    op.create_table('supply_profiles',
    sa.Column('resident_id', sa.Uuid(), nullable=False),
    sa.Column('pets', sa.JSON(), nullable=False),
    sa.Column('regular_medication', sa.Boolean(), nullable=False),
    sa.Column('dietary_needs', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_supply_profiles_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resident_id', name=op.f('pk_supply_profiles'))
    )
    op.create_table('supply_ticks',
    sa.Column('resident_id', sa.Uuid(), nullable=False),
    sa.Column('list_kind', sa.String(length=16), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('ticked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_supply_ticks_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resident_id', 'list_kind', 'item_code', name=op.f('pk_supply_ticks'))
    )


def downgrade() -> None:
    op.drop_table('supply_ticks')
    op.drop_table('supply_profiles')
    op.drop_table('supply_catalog_items')
    op.drop_table('supply_catalogs')
