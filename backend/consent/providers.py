"""What consent asks of the domains, filled in by them at app assembly.

Consent depends on no domain. It owns the catalog, grants, requests, enforcement and the
access log; the domains tell it, through this registry:

* relationships — "which of these subjects is this viewer family / community leader / city
  staff / supporter ... of, right now?" (batched: one call per relationship and read);
* item values — "the values of these items of these subjects" (batched per provider);
* subjects — "which subject id has this regional-ID subject?";
* persons — "which resident is this named person?" (a family member the resident picked);
* legal exceptions — "for which of these subjects does a law let these recipients read these
  items without consent, right now?" (the register given to supporters while a disaster is
  declared). Every such read is logged with the exception's code, like any other read.

A data item without a value provider, or a relationship without a provider, cannot be
consented to: the catalog marks it unavailable until a capability registers one.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..principal import Viewer

# (session, viewer, subject ids) -> the subject ids the viewer holds the relationship towards.
RelationshipProvider = Callable[
    [AsyncSession, Viewer, Sequence[uuid.UUID]], Awaitable[set[uuid.UUID]]
]
# (session, {subject id: items wanted}, today) -> {subject id: {item: value}}.
ValueProvider = Callable[
    [AsyncSession, Mapping[uuid.UUID, frozenset[str]], date],
    Awaitable[dict[uuid.UUID, dict[str, Any]]],
]
# (session, subject ids) -> the subject ids a legal exception applies to right now.
ExceptionScope = Callable[[AsyncSession, Sequence[uuid.UUID]], Awaitable[set[uuid.UUID]]]
# (session, regional-ID subject) -> subject id, or None for an unknown subject.
SubjectResolver = Callable[[AsyncSession, str], Awaitable[uuid.UUID | None]]
# (session, the resident naming someone, the id they sent) -> that person's subject id, or None.
PersonResolver = Callable[[AsyncSession, uuid.UUID, str], Awaitable[uuid.UUID | None]]


@dataclass(frozen=True, slots=True)
class Relationship:
    """A relationship a viewer can hold towards a subject, and who provides it."""

    code: str
    label_ja: str
    label_en: str
    provider: RelationshipProvider


@dataclass(frozen=True, slots=True)
class LegalException:
    """A legal basis letting viewers who hold one of ``relationships`` read ``items`` of a
    purpose without the subject's consent, for the subjects ``applies_to`` names right now."""

    code: str
    purpose: str
    items: tuple[str, ...]
    relationships: tuple[str, ...]
    applies_to: ExceptionScope
    label_ja: str
    label_en: str

    @property
    def reason(self) -> str:
        """How a read under this exception is named in the access log."""
        return f"law:{self.code}"


class ProviderConflict(RuntimeError):
    """Two domains registered the same item or relationship (an assembly bug)."""


class ConsentProviders:
    """The registry; one per process, filled by ``backend.assembly.assemble``."""

    def __init__(self) -> None:
        self._relationships: dict[str, Relationship] = {}
        self._values: dict[str, ValueProvider] = {}
        self._persons: dict[str, PersonResolver] = {}
        self._subjects: SubjectResolver | None = None
        self._exceptions: dict[str, LegalException] = {}

    # --- registration (domains, at assembly) ------------------------------------------------

    def add_relationship(
        self, code: str, provider: RelationshipProvider, *, label_ja: str, label_en: str
    ) -> None:
        """Provide relationship ``code`` (e.g. ``family``) between viewers and subjects."""
        if code in self._relationships:
            raise ProviderConflict(f"relationship {code!r} is provided twice")
        self._relationships[code] = Relationship(code, label_ja, label_en, provider)

    def add_values(self, items: Iterable[str], provider: ValueProvider) -> None:
        """Provide the values of ``items`` (each item has exactly one provider)."""
        for item in items:
            if item in self._values:
                raise ProviderConflict(f"data item {item!r} is provided twice")
            self._values[item] = provider

    def set_subject_resolver(self, resolver: SubjectResolver) -> None:
        """Provide the look-up of subjects by their regional-ID subject."""
        self._subjects = resolver

    def add_person_resolver(self, relationship: str, resolver: PersonResolver) -> None:
        """Let residents name a person through ``relationship`` (e.g. a family member id)."""
        self._persons[relationship] = resolver

    def add_exception(self, exception: LegalException) -> None:
        """Provide a legal exception to consent (e.g. the disaster-time register)."""
        if exception.code in self._exceptions:
            raise ProviderConflict(f"legal exception {exception.code!r} is provided twice")
        self._exceptions[exception.code] = exception

    def clear(self) -> None:
        """Forget every provider (tests that assemble a different world)."""
        self._exceptions.clear()
        self._relationships.clear()
        self._values.clear()
        self._persons.clear()
        self._subjects = None

    # --- questions (consent) ----------------------------------------------------------------

    def has_values(self, item: str) -> bool:
        return item in self._values

    def has_relationship(self, code: str) -> bool:
        return code in self._relationships

    def relationships(self) -> list[Relationship]:
        """Every provided relationship, in registration order."""
        return list(self._relationships.values())

    def exceptions_for(self, purpose: str) -> list[LegalException]:
        """The legal exceptions that can open items of ``purpose`` without consent."""
        return [e for e in self._exceptions.values() if e.purpose == purpose]

    def exception(self, code: str) -> LegalException | None:
        return self._exceptions.get(code)

    def can_name_persons_through(self, relationship: str) -> bool:
        return relationship in self._persons

    async def links(
        self,
        session: AsyncSession,
        viewer: Viewer,
        subject_ids: Sequence[uuid.UUID],
        relationships: Iterable[str],
    ) -> dict[uuid.UUID, set[str]]:
        """For each subject, which of ``relationships`` the viewer holds towards it now."""
        result: dict[uuid.UUID, set[str]] = {s: set() for s in subject_ids}
        if not subject_ids:
            return result
        for code in dict.fromkeys(relationships):
            relationship = self._relationships.get(code)
            if relationship is None:
                continue
            for subject_id in await relationship.provider(session, viewer, subject_ids):
                if subject_id in result:
                    result[subject_id].add(code)
        return result

    async def values(
        self,
        session: AsyncSession,
        permitted: Mapping[uuid.UUID, Sequence[str]],
        today: date,
    ) -> dict[uuid.UUID, dict[str, Any]]:
        """Each subject's values of exactly its permitted items (None where none is kept)."""
        wanted: dict[ValueProvider, dict[uuid.UUID, set[str]]] = defaultdict(
            lambda: defaultdict(set)
        )
        for subject_id, items in permitted.items():
            for item in items:
                provider = self._values.get(item)
                if provider is not None:
                    wanted[provider][subject_id].add(item)
        found: dict[uuid.UUID, dict[str, Any]] = defaultdict(dict)
        for provider, by_subject in wanted.items():
            asked = {s: frozenset(items) for s, items in by_subject.items()}
            for subject_id, values in (await provider(session, asked, today)).items():
                found[subject_id].update(values)
        return {
            subject_id: {item: found[subject_id].get(item) for item in items}
            for subject_id, items in permitted.items()
        }

    async def subject_id(self, session: AsyncSession, subject: str) -> uuid.UUID | None:
        """The subject id of a regional-ID subject (None when unknown or nobody provides it)."""
        if self._subjects is None:
            return None
        return await self._subjects(session, subject)

    async def person_id(
        self, session: AsyncSession, relationship: str, resident_id: uuid.UUID, reference: str
    ) -> uuid.UUID | None:
        """The resident a resident names through ``relationship``, or None."""
        resolver = self._persons.get(relationship)
        return None if resolver is None else await resolver(session, resident_id, reference)


providers = ConsentProviders()
