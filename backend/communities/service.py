"""Communities: staff create them and name leaders; residents join and leave; leaders' roster."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import service as auth_service
from ..consent import enforcement
from ..errors import Checker, Conflict, NotFound
from ..municipalities import service as municipality_service
from ..principal import Principal, RequestMeta, ResidentRef, Viewer
from ..residents import service as residents_service
from ..text import clean_text
from . import repository
from .models import Community, CommunityKind, CommunityMembership, CommunityRole

COMMUNITY_PURPOSE = "community_safety"


def _not_found(field: str = "communityId") -> NotFound:
    return NotFound("community", "町内会・自主防災組織", field=field)


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
    cleaned = clean_text(checker, "name", name, label_ja="名称", max_length=100, required=True)
    checker.raise_if_any()
    assert cleaned is not None
    if await repository.named(session, municipality.code, cleaned) is not None:
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
        raise _not_found()
    return community


async def join(
    session: AsyncSession, resident: ResidentRef, *, community_id: uuid.UUID
) -> Community:
    """The resident joins a community as a member (joining shares nothing by itself)."""
    community = await get_community(session, community_id)
    if await repository.membership(session, community.id, resident.id) is not None:
        raise Conflict("already a member", "すでにメンバーです", field="communityId")
    session.add(CommunityMembership(community_id=community.id, resident_id=resident.id))
    await session.flush()
    return community


async def leave(session: AsyncSession, resident: ResidentRef, *, community_id: uuid.UUID) -> None:
    """The resident leaves a community; its leaders stop seeing them at once."""
    membership = await repository.membership(session, community_id, resident.id)
    if membership is None:
        raise _not_found()
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
    resident_id = await residents_service.resident_id_by_subject(session, subject)
    membership = (
        await repository.membership(session, community.id, resident_id) if resident_id else None
    )
    if membership is None:
        raise NotFound("community member", "町内会・自主防災組織のメンバー", field="subject")
    membership.role = (CommunityRole.LEADER if leader else CommunityRole.MEMBER).value
    await session.flush()
    return membership


async def my_communities(
    session: AsyncSession, resident: ResidentRef
) -> list[tuple[Community, str]]:
    """The resident's communities and their role in each."""
    return await repository.communities_of(session, resident.id)


@dataclass(frozen=True, slots=True)
class Roster:
    """A leader's view: how many members, and the data of those who consented."""

    community: Community
    member_count: int
    purpose_code: str
    consented: list[enforcement.PersonalData]


async def roster(
    session: AsyncSession,
    viewer: Viewer,
    *,
    community_id: uuid.UUID,
    purpose_code: str = COMMUNITY_PURPOSE,
    meta: RequestMeta,
) -> Roster:
    """For a leader of the community: member count and every consented member's data.

    Anyone else gets NotFound (a community's members are not public). Each member's data is
    read through consent, which logs the read in the member's access log.
    """
    community, member_ids = await members_for_leader(session, viewer, community_id=community_id)
    others = [m for m in member_ids if m != viewer.resident_id]
    results = await enforcement.read_many(
        session, viewer, others, purpose_code=purpose_code, items=None, meta=meta
    )
    return Roster(
        community=community,
        member_count=len(member_ids),
        purpose_code=purpose_code,
        consented=[results[m] for m in others if m in results],
    )


async def members_for_leader(
    session: AsyncSession, viewer: Viewer, *, community_id: uuid.UUID
) -> tuple[Community, list[uuid.UUID]]:
    """The community and all its member ids, for one of its leaders; NotFound to anyone else."""
    if viewer.resident_id is None:
        raise _not_found()
    membership = await repository.membership(session, community_id, viewer.resident_id)
    if membership is None or membership.role != CommunityRole.LEADER.value:
        raise _not_found()
    community = await get_community(session, community_id)
    return community, await repository.member_ids(session, community.id)


async def community_ids_of(session: AsyncSession, resident_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """The communities any of these residents belong to (whom an update concerns)."""
    return await repository.community_ids_of(session, resident_ids) if resident_ids else set()


async def member_ids_of(
    session: AsyncSession, community_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Member ids of several communities (a staff tally; not personal data on its own)."""
    return await repository.member_ids_of(session, community_ids) if community_ids else {}


async def leads(session: AsyncSession, resident_id: uuid.UUID, community_id: uuid.UUID) -> bool:
    """Whether the resident leads the community now (one look-up: a live view's check)."""
    membership = await repository.membership(session, community_id, resident_id)
    return membership is not None and membership.role == CommunityRole.LEADER.value
