"""Locate the third-party test data folder (../shared/data beside the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path | None:
    """The shared data folder, from KIZUNA_SHARED_DATA or ../shared/data; None when absent."""
    configured = os.environ.get("KIZUNA_SHARED_DATA")
    candidate = Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


def require_shared(*relative: str) -> Path:
    """Path to a file in the shared data folder, or skip the test with the reason."""
    root = shared_data_dir()
    if root is None:
        pytest.skip("third-party data folder ../shared/data is absent (set KIZUNA_SHARED_DATA)")
    path = root.joinpath(*relative)
    if not path.exists():
        pytest.skip(f"shared data file {path} is absent")
    return path
