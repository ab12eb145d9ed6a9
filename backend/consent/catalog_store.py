"""The stored catalog: seeding, admin additions, look-ups and what can be consented to now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import Checker
from . import catalog, repository
from .catalog import DIRECT_RECIPIENTS
from .models import Bundle, DataItem, Purpose
from .providers import Relationship, providers


async def sync_catalog(session: AsyncSession) -> None:
    """Insert or update the seeded items, purposes and bundles."""
    await _upsert_catalog(session, catalog.DATA_ITEMS, catalog.PURPOSES, catalog.BUNDLES)


async def _upsert_catalog(
    session: AsyncSession,
    items: Sequence[catalog.DataItemDef],
    purposes: Sequence[catalog.PurposeDef],
    bundles: Sequence[catalog.BundleDef],
    *,
    first_sort_order: int = 0,
) -> None:
    await repository.upsert_catalog(
        session,
        [
            {
                "code": item.code,
                "label_ja": item.label_ja,
                "label_en": item.label_en,
                "sensitive": item.sensitive,
                "sort_order": first_sort_order + index,
            }
            for index, item in enumerate(items)
        ],
        [
            {
                "code": p.code,
                "label_ja": p.label_ja,
                "label_en": p.label_en,
                "description_ja": p.description_ja,
                "description_en": p.description_en,
                "items": list(p.items),
                "recipients": list(p.recipients),
                "text_version": p.text_version,
                "sort_order": first_sort_order + index,
            }
            for index, p in enumerate(purposes)
        ],
        [
            {
                "code": b.code,
                "purpose_code": b.purpose,
                "label_ja": b.label_ja,
                "label_en": b.label_en,
                "description_ja": b.description_ja,
                "description_en": b.description_en,
                "flows": [
                    {"recipient_role": f.recipient_role, "items": list(f.items)} for f in b.flows
                ],
                "text_version": b.text_version,
            }
            for b in bundles
        ],
    )


async def import_catalog(session: AsyncSession, document: Any) -> tuple[int, int, int]:
    """Add admin-defined items, purposes and bundles (a JSON document); all or nothing."""
    existing_items = {i.code for i in await repository.data_items(session)}
    existing_purposes = {p.code: p for p in await repository.purposes(session)}
    items, purposes, bundles = catalog.parse_catalog_document(
        document,
        known_items=existing_items,
        known_purposes={
            code: (tuple(p.items), tuple(p.recipients)) for code, p in existing_purposes.items()
        },
    )
    await _upsert_catalog(session, items, purposes, bundles, first_sort_order=1000)
    return len(items), len(purposes), len(bundles)


async def get_purpose(session: AsyncSession, code: str, *, field_name: str = "purpose") -> Purpose:
    """A purpose of the catalog, or a validation error naming the field."""
    purpose = await repository.purpose(session, code)
    if purpose is None:
        checker = Checker()
        checker.add(field_name, f"unknown purpose {code!r}", "指定された利用目的はありません")
        checker.raise_if_any()
    assert purpose is not None
    return purpose


def check_items(checker: Checker, purpose: Purpose, items: Sequence[str]) -> list[str]:
    """The distinct requested items, recording items outside the purpose as problems."""
    unique = list(dict.fromkeys(items))
    if not unique:
        checker.add("items", "choose at least one data item", "項目を1つ以上選んでください")
    outside = [i for i in unique if i not in purpose.items]
    if outside:
        checker.add(
            "items",
            f"items {', '.join(outside)} are not part of purpose {purpose.code}",
            f"選んだ項目のうち{len(outside)}件は利用目的「{purpose.label_ja}」の対象外です",
        )
    return unique


def unavailable_items(items: Sequence[str]) -> list[str]:
    """The items nothing can provide yet (no capability registered a value provider)."""
    return [i for i in items if not providers.has_values(i)]


def recipient_available(recipient: str) -> bool:
    """Whether data can reach this recipient: a provided relationship, a client or a person."""
    return recipient in DIRECT_RECIPIENTS or providers.has_relationship(recipient)


@dataclass(frozen=True, slots=True)
class CatalogView:
    """The catalog as residents see it, with what can be consented to now."""

    items: list[DataItem]
    purposes: list[Purpose]
    bundles: list[Bundle]
    relationships: list[Relationship]

    def item_available(self, code: str) -> bool:
        return providers.has_values(code)

    def bundle_available(self, bundle: Bundle) -> bool:
        """Every flow reaches a provided relationship with items that have values."""
        return all(
            recipient_available(flow["recipient_role"]) and not unavailable_items(flow["items"])
            for flow in bundle.flows
        )


async def catalog_view(session: AsyncSession) -> CatalogView:
    """Items, purposes, bundles and relationships, for the consent screens."""
    return CatalogView(
        items=await repository.data_items(session),
        purposes=await repository.purposes(session),
        bundles=await repository.bundles(session),
        relationships=providers.relationships(),
    )
