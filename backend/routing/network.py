"""The process's walk network: the imported graph file, or the demo network outside production.

Building a RoutingEngine costs tens of milliseconds on a city graph (KD-tree, STRtree, CSR
layout), so each process keeps the engine of the file it loaded and only reloads when the
file changes (a new `kizuna import roads` replaces it atomically). The check is one ``stat``
per request; loading happens in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

from ..config import Environment, Settings
from .demo import build_demo_graph
from .engine import RoutingEngine
from .errors import RoutingUnavailable
from .graph import WalkGraph

log = logging.getLogger("kizuna.routing")


class RoadNetworkStore:
    """Loads the configured walk graph once and reloads it when the file changes."""

    def __init__(self) -> None:
        # A thread lock (held in the loading worker thread): one load at a time, and usable
        # from any event loop (the CLI and the server run their own).
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, float], tuple[tuple[int, int] | None, RoutingEngine]] = {}

    async def get(self, settings: Settings) -> RoutingEngine:
        """The engine for these settings; RoutingUnavailable when there is none."""
        path = settings.road_graph_file.expanduser().resolve()
        key = (str(path), settings.route_max_snap_m)
        stamp = _stamp(path)
        cached = self._cache.get(key)
        if stamp is None and settings.environment is Environment.PRODUCTION:
            raise RoutingUnavailable(
                "evacuation routing is not set up on this server (no walk graph imported)",
                "このサーバーには道路網が取り込まれていないため経路案内を利用できません",
            )
        if cached is not None and cached[0] == stamp:
            return cached[1]
        return await asyncio.to_thread(self._load, key, path, stamp, settings.route_max_snap_m)

    def _load(
        self,
        key: tuple[str, float],
        path: Path,
        stamp: tuple[int, int] | None,
        max_snap_m: float,
    ) -> RoutingEngine:
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached[0] == stamp:
                return cached[1]
            engine = _load(path, stamp, max_snap_m)
            self._cache[key] = (stamp, engine)
            return engine

    def clear(self) -> None:
        """Forget loaded engines (tests that swap files)."""
        self._cache.clear()


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _load(path: Path, stamp: tuple[int, int] | None, max_snap_m: float) -> RoutingEngine:
    if stamp is None:
        log.info("no walk graph at %s; using the demo network", path)
        return RoutingEngine(build_demo_graph(), max_snap_m=max_snap_m)
    try:
        graph = WalkGraph.load(path)
        engine = RoutingEngine(graph, max_snap_m=max_snap_m)
    except (OSError, ValueError, KeyError) as exc:
        # A broken file must not take the service down: say so in the log and per request.
        log.error("cannot load walk graph %s: %s", path, exc)
        raise RoutingUnavailable(
            f"the walk graph file cannot be loaded: {exc}",
            "道路網のファイルを読み込めないため経路案内を利用できません",
        ) from exc
    log.info("loaded walk graph %s: %d nodes, %d edges", path, graph.node_count, graph.edge_count)
    return engine


road_networks = RoadNetworkStore()
