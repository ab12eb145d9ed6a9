"""Typed check-in errors: why a shelter did not take someone in (the app offers another)."""

from __future__ import annotations

from ..errors import DomainError, ErrorCode


class ShelterClosed(DomainError):
    """The shelter is not open: nobody is checked in until its managers open it."""

    code = ErrorCode.SHELTER_CLOSED

    def __init__(self, name: str, *, field: str) -> None:
        super().__init__(
            f"{name} is not open", f"{name}は開設されていないため受付できません", field=field
        )


class ShelterFull(DomainError):
    """The shelter is full: residents are sent elsewhere, its reception may still record."""

    code = ErrorCode.SHELTER_FULL

    def __init__(self, name: str, *, field: str) -> None:
        super().__init__(
            f"{name} is full; choose another shelter or ask its reception",
            f"{name}は満員です。別の避難所を選ぶか、避難所の受付にご相談ください",
            field=field,
        )
