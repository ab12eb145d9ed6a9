"""consent: purpose text versions, named persons' relationship, requests by subject

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 17:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consent_purposes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("text_version", sa.String(length=32), server_default="1", nullable=False)
        )
    with op.batch_alter_table("consent_grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipient_relationship", sa.String(length=32)))
    # Every named person so far was a family member picked by the resident.
    op.execute(
        "UPDATE consent_grants SET recipient_relationship = 'family' "
        "WHERE recipient_kind = 'person'"
    )
    with op.batch_alter_table("consent_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=255), nullable=True))
    op.execute(
        "UPDATE consent_requests SET subject = "
        "(SELECT residents.subject FROM residents WHERE residents.id = consent_requests.resident_id)"
    )
    with op.batch_alter_table("consent_requests", schema=None) as batch_op:
        batch_op.alter_column("subject", existing_type=sa.String(length=255), nullable=False)
        batch_op.alter_column("resident_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.create_index(batch_op.f("ix_consent_requests_subject"), ["subject"], unique=False)


def downgrade() -> None:
    # Requests still waiting for someone who never signed in cannot be kept without a subject.
    op.execute("DELETE FROM consent_requests WHERE resident_id IS NULL")
    with op.batch_alter_table("consent_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_requests_subject"))
        batch_op.alter_column("resident_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("subject")
    with op.batch_alter_table("consent_grants", schema=None) as batch_op:
        batch_op.drop_column("recipient_relationship")
    with op.batch_alter_table("consent_purposes", schema=None) as batch_op:
        batch_op.drop_column("text_version")
