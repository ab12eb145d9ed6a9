"""portal: service catalog and residents' service usage

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 13:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('portal_services',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('owner_code', sa.String(length=5), nullable=False),
    sa.Column('name_ja', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('description_ja', sa.Text(), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('provider_kind', sa.String(length=16), nullable=False),
    sa.Column('provider_client_id', sa.String(length=255), nullable=True),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('municipality_codes', sa.JSON(), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('consent_purpose', sa.String(length=64), nullable=True),
    sa.Column('min_acr', sa.String(length=16), nullable=True),
    sa.Column('available_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('available_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=255), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_services')),
    sa.UniqueConstraint('code', name=op.f('uq_portal_services_code'))
    )
    op.create_index(op.f('ix_portal_services_owner_code'), 'portal_services', ['owner_code'], unique=False)
    op.create_index(op.f('ix_portal_services_updated_at'), 'portal_services', ['updated_at'], unique=False)
    op.create_table('portal_service_usage',
    sa.Column('service_id', sa.Uuid(), nullable=False),
    sa.Column('resident_id', sa.Uuid(), nullable=False),
    sa.Column('owner_code', sa.String(length=5), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_portal_service_usage_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['portal_services.id'], name=op.f('fk_portal_service_usage_service_id_portal_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_service_usage'))
    )
    op.create_index('ix_portal_service_usage_owner_opened', 'portal_service_usage', ['owner_code', 'opened_at'], unique=False)
    op.create_index('ix_portal_service_usage_resident_opened', 'portal_service_usage', ['resident_id', 'opened_at'], unique=False)
    op.create_index('ix_portal_service_usage_service', 'portal_service_usage', ['service_id'], unique=False)


def downgrade() -> None:
    op.drop_table('portal_service_usage')
    op.drop_index(op.f('ix_portal_services_updated_at'), table_name='portal_services')
    op.drop_index(op.f('ix_portal_services_owner_code'), table_name='portal_services')
    op.drop_table('portal_services')
