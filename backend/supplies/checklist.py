"""Applying the catalog's rules to people: which items, how many for N days, and why."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from .catalog import ASSUMED_ADULT_AGE, Basis, Condition, Item


@dataclass(frozen=True, slots=True)
class Person:
    """What the rules may know of one person; an unshared person has nothing but existence."""

    age: int | None = None
    gender: str | None = None
    pets: tuple[tuple[str, int], ...] = ()
    medication: bool | None = None
    dietary: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Line:
    """One item of a checklist."""

    item: Item
    quantity: int
    reasons: tuple[tuple[str, str], ...]  # (ja, en) of each rule that applied
    persons: int  # people the item is for (0 for household-wide items)
    pets: int = 0


@dataclass(slots=True)
class _Sum:
    amount: float = 0.0
    reasons: dict[tuple[str, str], None] = field(default_factory=dict)
    persons: set[int] = field(default_factory=set)
    pets: int = 0


def _in_range(when: Condition, age: int | None) -> bool:
    age = ASSUMED_ADULT_AGE if age is None else age
    low_ok = when.age_min is None or age >= when.age_min
    return low_ok and (when.age_max is None or age <= when.age_max)


def _pet_count(when: Condition, person: Person) -> int:
    kinds = when.pets
    return sum(count for kind, count in person.pets if kinds is None or kind in kinds)


def applies(when: Condition, person: Person) -> bool:
    """Whether a rule's condition holds for the person (unknown facts never satisfy one)."""
    if not _in_range(when, person.age):
        return False
    if when.genders and person.gender not in when.genders:
        return False
    if when.pets is not None and _pet_count(when, person) == 0:
        return False
    if when.medication is not None and person.medication is not when.medication:
        return False
    if when.dietary and not when.dietary & person.dietary:
        return False
    return not when.not_dietary & person.dietary


def _amount(basis: Basis, quantity: float, days: int, people: int, pets: int) -> float:
    per_unit = {
        Basis.PERSON_DAY: people * days,
        Basis.PERSON: people,
        Basis.HOUSEHOLD: 1,
        Basis.HOUSEHOLD_DAY: days,
        Basis.PET_DAY: pets * days,
        Basis.PET: pets,
    }[basis]
    return quantity * per_unit


def build(items: Sequence[Item], people: Sequence[Person], days: int) -> list[Line]:
    """The checklist of these people for ``days`` days, in catalog order."""
    lines = []
    for item in items:
        total = _Sum()
        for rule in item.rules:
            matching = [n for n, p in enumerate(people) if applies(rule.when, p)]
            if not matching:
                continue
            pets = sum(_pet_count(rule.when, people[n]) for n in matching)
            amount = _amount(rule.basis, rule.quantity, days, len(matching), pets)
            if amount <= 0:
                continue
            total.amount += amount
            total.reasons[(rule.reason_ja, rule.reason_en)] = None
            if rule.basis in (Basis.PERSON_DAY, Basis.PERSON):
                total.persons.update(matching)
            total.pets = max(total.pets, pets)
        if total.amount > 0:
            # Whole units, rounded up (0.15 rolls a day for 3 days is one roll); the small
            # tolerance keeps 3 x 0.3 from becoming 1.0000000001 and so 2.
            lines.append(
                Line(
                    item=item,
                    quantity=max(1, math.ceil(total.amount - 1e-9)),
                    reasons=tuple(total.reasons),
                    persons=len(total.persons),
                    pets=total.pets,
                )
            )
    return lines
