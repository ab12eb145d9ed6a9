"""Demo forms of 会津若松市: the 転入セット bundle, and the demo family's prefill consent."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from ..consent import service as consent_service
from ..principal import RequestMeta, ResidentRef
from . import service

DEMO_FORMS = Path(__file__).with_name("demo_forms.yaml")


async def seed_demo_applications(
    session: AsyncSession, residents: Mapping[str, ResidentRef], meta: RequestMeta
) -> None:
    """転入セット (住民異動届・児童手当・転校) for 07202; the demo family consents to prefill."""
    await service.import_forms(
        session,
        municipality_code="07202",
        data=DEMO_FORMS.read_bytes(),
        source_name=DEMO_FORMS.name,
    )
    for subject in ("demo-hanako", "demo-yuki"):
        if subject in residents:
            await consent_service.grant_bundle(
                session, residents[subject], bundle_code="application_prefill_basic", meta=meta
            )
