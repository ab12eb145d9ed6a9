"""safety: disaster events, safety answers (history and the latest that counts), shared positions

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 22:05:06.641000+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('disaster_events',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('hazard_type', sa.String(length=32), nullable=True),
    sa.Column('area_geojson', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opened_by', sa.String(length=255), nullable=False),
    sa.Column('closed_by', sa.String(length=255), nullable=True),
    sa.Column('source_alert_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disaster_events')),
    sa.UniqueConstraint('source_alert_id', name=op.f('uq_disaster_events_source_alert_id'))
    )
    with op.batch_alter_table('disaster_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disaster_events_state'), ['state'], unique=False)

    op.create_table('disaster_event_municipalities',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('municipality_code', sa.String(length=5), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['disaster_events.id'], name=op.f('fk_disaster_event_municipalities_event_id_disaster_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['municipality_code'], ['municipalities.code'], name=op.f('fk_disaster_event_municipalities_municipality_code_municipalities'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('event_id', 'municipality_code', name=op.f('pk_disaster_event_municipalities'))
    )
    with op.batch_alter_table('disaster_event_municipalities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disaster_event_municipalities_municipality_code'), ['municipality_code'], unique=False)

    op.create_table('location_shares',
    sa.Column('resident_id', sa.Uuid(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('shared_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_location_shares_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('resident_id', name=op.f('pk_location_shares'))
    )
    with op.batch_alter_table('location_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_location_shares_expires_at'), ['expires_at'], unique=False)

    op.create_table('safety_answers',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('resident_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('shelter_id', sa.Uuid(), nullable=True),
    sa.Column('answered_by', sa.String(length=16), nullable=False),
    sa.Column('recorded_by', sa.String(length=255), nullable=False),
    sa.Column('legal_basis', sa.String(length=200), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['disaster_events.id'], name=op.f('fk_safety_answers_event_id_disaster_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_safety_answers_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shelter_id'], ['shelters.id'], name=op.f('fk_safety_answers_shelter_id_shelters'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_answers')),
    sa.UniqueConstraint('recorded_by', 'idempotency_key', name=op.f('uq_safety_answers_recorded_by_idempotency_key'))
    )
    with op.batch_alter_table('safety_answers', schema=None) as batch_op:
        batch_op.create_index('ix_safety_answers_event_resident', ['event_id', 'resident_id', 'answered_at'], unique=False)
        batch_op.create_index('ix_safety_answers_resident', ['resident_id'], unique=False)

    op.create_table('safety_latest',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('resident_id', sa.Uuid(), nullable=False),
    sa.Column('answer_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('municipality_code', sa.String(length=5), nullable=True),
    sa.Column('h3_res9', sa.BigInteger(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('shelter_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['answer_id'], ['safety_answers.id'], name=op.f('fk_safety_latest_answer_id_safety_answers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['disaster_events.id'], name=op.f('fk_safety_latest_event_id_disaster_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_safety_latest_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'resident_id', name=op.f('pk_safety_latest'))
    )
    with op.batch_alter_table('safety_latest', schema=None) as batch_op:
        batch_op.create_index('ix_safety_latest_event_municipality', ['event_id', 'municipality_code', 'status'], unique=False)
        batch_op.create_index('ix_safety_latest_event_status', ['event_id', 'status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('safety_latest', schema=None) as batch_op:
        batch_op.drop_index('ix_safety_latest_event_status')
        batch_op.drop_index('ix_safety_latest_event_municipality')

    op.drop_table('safety_latest')
    with op.batch_alter_table('safety_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_safety_answers_resident')
        batch_op.drop_index('ix_safety_answers_event_resident')

    op.drop_table('safety_answers')
    with op.batch_alter_table('location_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_location_shares_expires_at'))

    op.drop_table('location_shares')
    with op.batch_alter_table('disaster_event_municipalities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disaster_event_municipalities_municipality_code'))

    op.drop_table('disaster_event_municipalities')
    with op.batch_alter_table('disaster_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disaster_events_state'))

    op.drop_table('disaster_events')
