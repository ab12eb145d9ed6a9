"""shelters: check-in stays (at most one current stay per resident) and posted needs

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 09:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('shelter_needs',
    sa.Column('shelter_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text_ja', sa.String(length=500), nullable=False),
    sa.Column('text_en', sa.String(length=500), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('posted_by', sa.String(length=255), nullable=False),
    sa.Column('updated_by', sa.String(length=255), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shelter_id'], ['shelters.id'], name=op.f('fk_shelter_needs_shelter_id_shelters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shelter_needs'))
    )
    with op.batch_alter_table('shelter_needs', schema=None) as batch_op:
        batch_op.create_index('ix_shelter_needs_shelter_state', ['shelter_id', 'state'], unique=False)

    op.create_table('shelter_stays',
    sa.Column('shelter_id', sa.Uuid(), nullable=False),
    sa.Column('resident_id', sa.Uuid(), nullable=True),
    sa.Column('label', sa.String(length=100), nullable=True),
    sa.Column('party_size', sa.Integer(), nullable=False),
    sa.Column('how', sa.String(length=16), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=255), nullable=False),
    sa.Column('checked_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_out_by', sa.String(length=255), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_shelter_stays_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shelter_id'], ['shelters.id'], name=op.f('fk_shelter_stays_shelter_id_shelters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shelter_stays'))
    )
    with op.batch_alter_table('shelter_stays', schema=None) as batch_op:
        batch_op.create_index('ix_shelter_stays_current', ['shelter_id', 'checked_in_at', 'id'], unique=False, sqlite_where=sa.text('checked_out_at IS NULL'), postgresql_where=sa.text('checked_out_at IS NULL'))
        batch_op.create_index(batch_op.f('ix_shelter_stays_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shelter_stays_shelter_id'), ['shelter_id'], unique=False)
        batch_op.create_index('uq_shelter_stays_one_current', ['resident_id'], unique=True, sqlite_where=sa.text('checked_out_at IS NULL'), postgresql_where=sa.text('checked_out_at IS NULL'))



def downgrade() -> None:
    with op.batch_alter_table('shelter_stays', schema=None) as batch_op:
        batch_op.drop_index('uq_shelter_stays_one_current', sqlite_where=sa.text('checked_out_at IS NULL'), postgresql_where=sa.text('checked_out_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_shelter_stays_shelter_id'))
        batch_op.drop_index(batch_op.f('ix_shelter_stays_resident_id'))
        batch_op.drop_index('ix_shelter_stays_current', sqlite_where=sa.text('checked_out_at IS NULL'), postgresql_where=sa.text('checked_out_at IS NULL'))

    op.drop_table('shelter_stays')
    with op.batch_alter_table('shelter_needs', schema=None) as batch_op:
        batch_op.drop_index('ix_shelter_needs_shelter_state')

    op.drop_table('shelter_needs')
