"""Family groups: create, invite with a short code, accept, leave, remove, promote."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Settings
from ..consent import service as consent_service
from ..db.base import utcnow
from ..errors import Checker, Conflict, Expired, LimitExceeded, NotFound, NotPermitted
from ..principal import RequestMeta, ResidentRef
from ..text import clean_text
from . import repository
from .models import FamilyGroup, FamilyInvitation, FamilyMembership, MemberRole
from .sharing import FAMILY

# Crockford-style alphabet without 0/O, 1/I/L: codes are read aloud and typed by hand.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # ~49 bits: not guessable within an invitation's lifetime
QR_PREFIX = "kizuna://family/join?code="


def new_invitation_code() -> str:
    """A random invitation code from the unambiguous alphabet."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str) -> str:
    """The stored form of a typed or scanned code: upper case, no separators or QR prefix."""
    raw = raw.strip()
    if raw.startswith(QR_PREFIX):
        raw = raw[len(QR_PREFIX) :]
    return "".join(ch for ch in raw.upper() if ch not in "- \u3000")[:32]


def display_code(code: str) -> str:
    """The code in two groups of five, as shown in the app."""
    return f"{code[:5]}-{code[5:]}"


async def list_groups(session: AsyncSession, resident_id: uuid.UUID) -> list[FamilyGroup]:
    """The family groups the resident belongs to."""
    return await repository.groups_of(session, resident_id)


async def get_group(
    session: AsyncSession, resident: ResidentRef, group_id: uuid.UUID
) -> FamilyGroup:
    """A group the resident belongs to; any other group is NotFound."""
    if await repository.membership(session, group_id, resident.id) is None:
        raise NotFound("family group", "家族グループ", field="groupId")
    group = await session.get(FamilyGroup, group_id)
    if group is None:
        raise NotFound("family group", "家族グループ", field="groupId")
    return group


async def members_of_groups(
    session: AsyncSession, group_ids: list[uuid.UUID]
) -> list[FamilyMembership]:
    """Memberships of several groups (loader batch); callers pass groups the viewer is in."""
    return await repository.members_of_groups(session, group_ids)


async def share_a_group(session: AsyncSession, resident_id: uuid.UUID, other_id: uuid.UUID) -> bool:
    """Whether two residents belong to at least one common family group."""
    return other_id in await repository.co_member_ids(session, resident_id, [other_id])


async def member_resident_id(
    session: AsyncSession, resident_id: uuid.UUID, *, membership_id: uuid.UUID
) -> uuid.UUID | None:
    """The resident behind a membership of a group the resident belongs to (else None)."""
    return await repository.member_resident_id(session, membership_id, resident_id)


def _clean_name(name: str) -> str:
    checker = Checker()
    cleaned = clean_text(
        checker, "name", name, label_ja="家族グループ名", max_length=100, required=True
    )
    checker.raise_if_any()
    assert cleaned is not None
    return cleaned


async def create_group(
    session: AsyncSession, settings: Settings, resident: ResidentRef, *, name: str
) -> FamilyGroup:
    """Create a family group with the resident as its owner."""
    cleaned = _clean_name(name)
    if (
        await repository.count_groups_of(session, resident.id)
        >= settings.max_family_groups_per_resident
    ):
        raise LimitExceeded(
            f"at most {settings.max_family_groups_per_resident} family groups per resident",
            f"参加できる家族グループは{settings.max_family_groups_per_resident}件までです",
        )
    group = FamilyGroup(id=uuid.uuid4(), name=cleaned, created_by_id=resident.id)
    session.add(group)
    session.add(
        FamilyMembership(group_id=group.id, resident_id=resident.id, role=MemberRole.OWNER.value)
    )
    await session.flush()
    return group


async def _owner_membership(
    session: AsyncSession, resident: ResidentRef, group_id: uuid.UUID
) -> FamilyMembership:
    membership = await repository.membership(session, group_id, resident.id)
    if membership is None:
        raise NotFound("family group", "家族グループ", field="groupId")
    if membership.role != MemberRole.OWNER.value:
        raise NotPermitted(
            "only an owner of the family group may do this",
            "家族グループの管理者のみが行えます",
        )
    return membership


async def create_invitation(
    session: AsyncSession,
    settings: Settings,
    resident: ResidentRef,
    *,
    group_id: uuid.UUID,
    expires_in_hours: int | None = None,
) -> FamilyInvitation:
    """A single-use invitation code for the group (owners only)."""
    hours = (
        settings.family_invitation_default_hours if expires_in_hours is None else expires_in_hours
    )
    if not 1 <= hours <= settings.family_invitation_max_hours:
        checker = Checker()
        checker.add(
            "expiresInHours",
            f"expiresInHours must be between 1 and {settings.family_invitation_max_hours}",
            f"有効期限は1〜{settings.family_invitation_max_hours}時間です",
        )
        checker.raise_if_any()
    await _owner_membership(session, resident, group_id)
    invitation = FamilyInvitation(
        group_id=group_id,
        code=new_invitation_code(),
        created_by_id=resident.id,
        expires_at=utcnow() + timedelta(hours=hours),
    )
    session.add(invitation)
    await session.flush()
    return invitation


async def accept_invitation(
    session: AsyncSession, settings: Settings, resident: ResidentRef, *, code: str
) -> FamilyGroup:
    """Join the group of a valid, unused, unexpired invitation."""
    invitation = await repository.invitation_by_code(session, normalize_code(code))
    if invitation is None:
        raise NotFound("invitation", "招待コード", field="code")
    if invitation.accepted_at is not None:
        raise Conflict(
            "this invitation has already been used", "この招待コードは使用済みです", field="code"
        )
    if invitation.expires_at <= utcnow():
        raise Expired(
            "this invitation has expired", "この招待コードは有効期限切れです", field="code"
        )
    group = await repository.lock_group(session, invitation.group_id)
    if group is None:
        raise NotFound("invitation", "招待コード", field="code")
    if await repository.membership(session, group.id, resident.id) is not None:
        raise Conflict(
            "you are already a member of this family group",
            "すでにこの家族グループのメンバーです",
            field="code",
        )
    if await repository.count_members(session, group.id) >= settings.max_family_members:
        raise LimitExceeded(
            f"a family group has at most {settings.max_family_members} members",
            f"家族グループのメンバーは{settings.max_family_members}人までです",
        )
    if (
        await repository.count_groups_of(session, resident.id)
        >= settings.max_family_groups_per_resident
    ):
        raise LimitExceeded(
            f"at most {settings.max_family_groups_per_resident} family groups per resident",
            f"参加できる家族グループは{settings.max_family_groups_per_resident}件までです",
        )
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = resident.id
    session.add(
        FamilyMembership(group_id=group.id, resident_id=resident.id, role=MemberRole.MEMBER.value)
    )
    await session.flush()
    return group


async def _end_sharing_with(
    session: AsyncSession, resident_id: uuid.UUID, others: list[uuid.UUID], meta: RequestMeta
) -> None:
    """Consents naming a former family member end when no family group links them any more."""
    still = await repository.co_member_ids(session, resident_id, others)
    gone = [other for other in others if other not in still and other != resident_id]
    pairs = [(resident_id, other) for other in gone] + [(other, resident_id) for other in gone]
    await consent_service.end_person_grants(session, relationship=FAMILY, pairs=pairs, meta=meta)


async def leave_group(
    session: AsyncSession, resident: ResidentRef, *, group_id: uuid.UUID, meta: RequestMeta
) -> None:
    """Leave a group; the last owner must promote someone first, a last member dissolves it.

    Consents the resident gave to a member by name, or received by name, end with it.
    """
    group = await repository.lock_group(session, group_id)
    membership = await repository.membership(session, group_id, resident.id) if group else None
    if group is None or membership is None:
        raise NotFound("family group", "家族グループ", field="groupId")
    members = await repository.count_members(session, group_id)
    if members == 1:
        await repository.delete_group(session, group_id)
        await session.flush()
        return
    if (
        membership.role == MemberRole.OWNER.value
        and await repository.count_owners(session, group_id) == 1
    ):
        raise Conflict(
            "you are the last owner: make another member an owner before leaving",
            "最後の管理者です。退出する前に他のメンバーを管理者にしてください",
            field="groupId",
        )
    await session.delete(membership)
    await session.flush()
    others = [m.resident_id for m in await repository.members_of_groups(session, [group_id])]
    await _end_sharing_with(session, resident.id, others, meta)


async def remove_member(
    session: AsyncSession,
    resident: ResidentRef,
    *,
    group_id: uuid.UUID,
    membership_id: uuid.UUID,
    meta: RequestMeta,
) -> None:
    """An owner removes another (non-owner) member; consents naming them by name end."""
    await repository.lock_group(session, group_id)
    own = await _owner_membership(session, resident, group_id)
    target = await repository.membership_by_id(session, group_id, membership_id)
    if target is None:
        raise NotFound("family member", "家族のメンバー", field="memberId")
    if target.id == own.id:
        raise Conflict(
            "use leaveFamilyGroup to leave",
            "自分を外すには家族グループから退出してください",
            field="memberId",
        )
    if target.role == MemberRole.OWNER.value:
        raise NotPermitted(
            "an owner cannot be removed by another owner",
            "管理者は他の管理者から削除できません",
            field="memberId",
        )
    await session.delete(target)
    await session.flush()
    others = [m.resident_id for m in await repository.members_of_groups(session, [group_id])]
    await _end_sharing_with(session, target.resident_id, [*others, resident.id], meta)


async def promote_member(
    session: AsyncSession, resident: ResidentRef, *, group_id: uuid.UUID, membership_id: uuid.UUID
) -> FamilyMembership:
    """An owner makes another member an owner too."""
    await _owner_membership(session, resident, group_id)
    target = await repository.membership_by_id(session, group_id, membership_id)
    if target is None:
        raise NotFound("family member", "家族のメンバー", field="memberId")
    target.role = MemberRole.OWNER.value
    await session.flush()
    return target


async def group_ids_of(session: AsyncSession, resident_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """The family groups any of these residents belong to (whom an update concerns)."""
    return await repository.group_ids_of(session, resident_ids) if resident_ids else set()
