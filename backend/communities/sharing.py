"""What communities provide to consent: the community-leader relationship."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from ..consent.providers import ConsentProviders
from ..principal import Viewer
from . import repository


async def led_by(
    session: AsyncSession, viewer: Viewer, subject_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Subjects who are members of a community the viewer leads."""
    if viewer.resident_id is None:
        return set()
    return await repository.led_member_ids(session, viewer.resident_id, list(subject_ids))


def register(providers: ConsentProviders) -> None:
    """Tell consent what communities provide."""
    providers.add_relationship(
        "community",
        led_by,
        label_ja="町内会・自主防災組織の役員",
        label_en="Town-association leaders",
    )
