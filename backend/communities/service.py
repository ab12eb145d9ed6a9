"""Communities: staff create them and name leaders; residents join and leave."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import service as auth_service
from ..auth.principal import Principal
from ..errors import Checker, Conflict, NotFound
from ..municipalities import service as municipality_service
from ..residents import repository as residents_repository
from ..residents.models import Resident
from . import repository
from .models import Community, CommunityKind, CommunityMembership, CommunityRole


async def create_community(
    session: AsyncSession,
    actor: Principal,
    *,
    municipality_code: str,
    name: str,
    kind: CommunityKind,
) -> Community:
    """Create a town association or disaster organisation (city staff of that municipality)."""
    municipality = await municipality_service.get_municipality(session, municipality_code)
    auth_service.require_role(actor, municipality.code, *auth_service.STAFF_ROLES)
    checker = Checker()
    cleaned = name.strip()
    if not 1 <= len(cleaned) <= 100:
        checker.add("name", "name must be 1-100 characters", "名称は1〜100文字です")
    checker.raise_if_any()
    existing = [c for c in await repository.of_municipality(session, municipality.code)]
    if any(c.name == cleaned for c in existing):
        raise Conflict(
            "a community with this name exists", "同じ名称の団体があります", field="name"
        )
    community = Community(
        id=uuid.uuid4(), municipality_code=municipality.code, name=cleaned, kind=kind.value
    )
    session.add(community)
    await session.flush()
    return community


async def list_communities(session: AsyncSession, municipality_code: str) -> list[Community]:
    """Communities of a municipality (public: residents pick theirs)."""
    municipality = await municipality_service.get_municipality(session, municipality_code)
    return await repository.of_municipality(session, municipality.code)


async def get_community(session: AsyncSession, community_id: uuid.UUID) -> Community:
    """A community by id, or NotFound."""
    community = await repository.get(session, community_id)
    if community is None:
        raise NotFound("community", "町内会・自主防災組織", field="communityId")
    return community


async def join(session: AsyncSession, resident: Resident, *, community_id: uuid.UUID) -> Community:
    """The resident joins a community as a member (joining shares nothing by itself)."""
    community = await get_community(session, community_id)
    if await repository.membership(session, community.id, resident.id) is not None:
        raise Conflict("already a member", "すでにメンバーです", field="communityId")
    session.add(CommunityMembership(community_id=community.id, resident_id=resident.id))
    await session.flush()
    return community


async def leave(session: AsyncSession, resident: Resident, *, community_id: uuid.UUID) -> None:
    """The resident leaves a community."""
    membership = await repository.membership(session, community_id, resident.id)
    if membership is None:
        raise NotFound("community", "町内会・自主防災組織", field="communityId")
    await session.delete(membership)
    await session.flush()


async def set_leader(
    session: AsyncSession,
    actor: Principal,
    *,
    community_id: uuid.UUID,
    subject: str,
    leader: bool = True,
) -> CommunityMembership:
    """City staff name (or unname) a member as leader of the community."""
    community = await get_community(session, community_id)
    auth_service.require_role(actor, community.municipality_code, *auth_service.STAFF_ROLES)
    resident = await residents_repository.by_subject(session, subject)
    membership = (
        await repository.membership(session, community.id, resident.id) if resident else None
    )
    if membership is None:
        raise NotFound("community member", "町内会・自主防災組織のメンバー", field="subject")
    membership.role = (CommunityRole.LEADER if leader else CommunityRole.MEMBER).value
    await session.flush()
    return membership


async def my_communities(session: AsyncSession, resident: Resident) -> list[tuple[Community, str]]:
    """The resident's communities and their role in each."""
    return await repository.communities_of(session, resident.id)


async def require_leader(
    session: AsyncSession, resident: Resident, community_id: uuid.UUID
) -> Community:
    """The community, if the resident leads it; otherwise NotFound (no existence leak)."""
    membership = await repository.membership(session, community_id, resident.id)
    if membership is None or membership.role != CommunityRole.LEADER.value:
        raise NotFound("community", "町内会・自主防災組織", field="communityId")
    return await get_community(session, community_id)


async def member_residents(session: AsyncSession, community_id: uuid.UUID) -> list[Resident]:
    """The member records of a community (callers filter through consent before showing)."""
    ids = await repository.member_ids(session, community_id)
    return await residents_repository.get_many(session, ids) if ids else []


async def member_count(session: AsyncSession, community_id: uuid.UUID) -> int:
    """How many residents belong to the community."""
    return await repository.member_count(session, community_id)


async def led_member_ids(
    session: AsyncSession, leader_id: uuid.UUID, candidate_ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Which candidates are members of a community the resident leads."""
    if not candidate_ids:
        return set()
    return await repository.led_member_ids(session, leader_id, candidate_ids)
