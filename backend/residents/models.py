"""Resident profile and saved places (with H3 cells for area look-ups)."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db.base import Base, Timestamps, UUIDPrimaryKey
from ..db.constraints import describe_unique


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNSPECIFIED = "unspecified"


class Language(StrEnum):
    JA = "ja"
    EN = "en"


class PlaceKind(StrEnum):
    HOME = "home"
    WORKPLACE = "workplace"
    SCHOOL = "school"
    CHILD_SCHOOL = "child_school"


class Resident(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "residents"

    subject: Mapped[str] = mapped_column(String(255), unique=True)
    issuer: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(100))
    family_name: Mapped[str | None] = mapped_column(String(100))
    given_name: Mapped[str | None] = mapped_column(String(100))
    family_name_kana: Mapped[str | None] = mapped_column(String(100))
    given_name_kana: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(16), default=Gender.UNSPECIFIED.value)
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(255))
    preferred_language: Mapped[str] = mapped_column(String(2), default=Language.JA.value)
    home_municipality_code: Mapped[str | None] = mapped_column(
        ForeignKey("municipalities.code", ondelete="RESTRICT"), index=True
    )
    # True when the resident chose the municipality; False when derived from the home place.
    municipality_chosen: Mapped[bool] = mapped_column(Boolean, default=False)

    places: Mapped[list[Place]] = relationship(
        back_populates="resident", lazy="raise_on_sql", cascade="all, delete-orphan"
    )


class Place(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "places"

    resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(255))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    municipality_code: Mapped[str | None] = mapped_column(
        ForeignKey("municipalities.code", ondelete="RESTRICT"), index=True
    )
    # H3 cells at three resolutions (see Settings.place_h3_resolutions) for area queries.
    h3_res7: Mapped[int] = mapped_column(BigInteger, index=True)
    h3_res9: Mapped[int] = mapped_column(BigInteger, index=True)
    h3_res11: Mapped[int] = mapped_column(BigInteger, index=True)

    resident: Mapped[Resident] = relationship(back_populates="places", lazy="raise_on_sql")

    __table_args__ = (
        # At most one home per resident.
        Index(
            "uq_places_one_home",
            "resident_id",
            unique=True,
            sqlite_where=text("kind = 'home'"),
            postgresql_where=text("kind = 'home'"),
        ),
    )


describe_unique(
    "uq_places_one_home",
    field="kind",
    message="a home place exists already; update it instead",
    message_ja="自宅はすでに登録されています。登録済みの自宅を変更してください",
)
