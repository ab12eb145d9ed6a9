"""Where the processes of one installation pool their Prometheus metrics: the workers of
`kizuna serve --workers N`, and `kizuna import ...` runs on the same data directory.

prometheus-client chooses in-memory or file-backed values when it is first imported, so
this module must not import it (nor anything that does).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings
    from .metrics import ImportCounts

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def share_metrics_directory(settings: Settings, *, fresh: bool) -> Path | None:
    """Meter this process (and the workers it starts) into ``<data_dir>/metrics``.

    It must run before anything imports prometheus_client; afterwards it does nothing and
    returns None. ``fresh`` (the server at start-up) removes what earlier processes left
    there. A directory given in PROMETHEUS_MULTIPROC_DIR is used as is and never cleaned.
    """
    if "prometheus_client" in sys.modules:
        return None
    given = os.environ.get(MULTIPROCESS_ENV)
    directory = Path(given) if given else settings.data_dir / "metrics"
    directory.mkdir(parents=True, exist_ok=True)
    if fresh and not given:
        for stale in directory.glob("*.db"):
            stale.unlink(missing_ok=True)
    os.environ[MULTIPROCESS_ENV] = str(directory.resolve())
    return directory


@contextmanager
def metered_import(settings: Settings, source: str) -> Iterator[ImportCounts]:
    """Time an import run of the CLI into the server's metrics (same data directory)."""
    share_metrics_directory(settings, fresh=False)
    from .metrics import record_import  # only now: see the module docstring

    with record_import(source) as counts:
        yield counts
