"""danger spots reported by residents, and their audiences

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 01:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('danger_spots',
    sa.Column('municipality_code', sa.String(length=5), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('geometry_geojson', sa.Text(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('min_lon', sa.Float(), nullable=False),
    sa.Column('min_lat', sa.Float(), nullable=False),
    sa.Column('max_lon', sa.Float(), nullable=False),
    sa.Column('max_lat', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('moderated_by', sa.String(length=255), nullable=True),
    sa.Column('moderated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('merged_into_id', sa.Uuid(), nullable=True),
    sa.Column('photo_name', sa.String(length=100), nullable=True),
    sa.Column('photo_type', sa.String(length=32), nullable=True),
    sa.Column('photo_bytes', sa.Integer(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['residents.id'], name=op.f('fk_danger_spots_author_id_residents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['disaster_events.id'], name=op.f('fk_danger_spots_event_id_disaster_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['danger_spots.id'], name=op.f('fk_danger_spots_merged_into_id_danger_spots'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_code'], ['municipalities.code'], name=op.f('fk_danger_spots_municipality_code_municipalities'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_danger_spots'))
    )
    with op.batch_alter_table('danger_spots', schema=None) as batch_op:
        batch_op.create_index('ix_danger_spots_author_created', ['author_id', 'created_at'], unique=False)
        batch_op.create_index('ix_danger_spots_bbox', ['min_lat', 'max_lat', 'min_lon', 'max_lon'], unique=False)
        batch_op.create_index('ix_danger_spots_queue', ['municipality_code', 'status', 'created_at'], unique=False)
        batch_op.create_index('ix_danger_spots_status_expires', ['status', 'expires_at'], unique=False)

    op.create_table('danger_spot_audiences',
    sa.Column('spot_id', sa.Uuid(), nullable=False),
    sa.Column('group_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['spot_id'], ['danger_spots.id'], name=op.f('fk_danger_spot_audiences_spot_id_danger_spots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('spot_id', 'group_id', name=op.f('pk_danger_spot_audiences'))
    )
    with op.batch_alter_table('danger_spot_audiences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_danger_spot_audiences_group_id'), ['group_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('danger_spot_audiences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_danger_spot_audiences_group_id'))

    op.drop_table('danger_spot_audiences')
    with op.batch_alter_table('danger_spots', schema=None) as batch_op:
        batch_op.drop_index('ix_danger_spots_status_expires')
        batch_op.drop_index('ix_danger_spots_queue')
        batch_op.drop_index('ix_danger_spots_bbox')
        batch_op.drop_index('ix_danger_spots_author_created')

    op.drop_table('danger_spots')
