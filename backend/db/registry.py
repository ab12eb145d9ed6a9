"""Imports every model module so Base.metadata is complete (Alembic, tests)."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "backend.db.versions",
    "backend.municipalities.models",
    "backend.auth.models",
    "backend.residents.models",
    "backend.family.models",
    "backend.communities.models",
    "backend.consent.models",
    "backend.shelters.models",
    "backend.hazards.models",
    "backend.routing.models",
    "backend.push.models",
    "backend.alerts.jma_areas",
    "backend.alerts.models",
    "backend.safety.models",
    "backend.plans.models",
    "backend.dangerspots.models",
    "backend.supplies.models",
    "backend.lifeevents.models",
    "backend.portal.models",
    "backend.applications.models",
)


def import_all_models() -> None:
    """Register all tables on Base.metadata."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
