"""The process's walk networks: one imported graph file per region, or the demo network.

`kizuna import roads FILE --region NAME` writes `<data dir>/roads/<NAME>.npz`; every `.npz`
there is one region (`walk-graph` when no region is named), and a route is planned on the
region whose graph reaches both its ends. `KIZUNA_ROAD_GRAPH_PATH` pins the server to one
file instead. With no graph installed, development and test route on the synthetic demo
network of central Aizu-Wakamatsu and production answers ROUTING_UNAVAILABLE.

Building a RoutingEngine costs tens of milliseconds on a city graph (KD-tree, STRtree, CSR
layout), so each process keeps the engines of the files it loaded and reloads only a file
that changed (imports replace files atomically). The check is one directory scan and one
``stat`` per region per request; loading happens in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..config import Environment, Settings
from .demo import build_demo_graph
from .engine import RoutingEngine, Snap
from .errors import OutsideGraphArea, PointOffNetwork, RoutingError, RoutingUnavailable
from .graph import WalkGraph

log = logging.getLogger("kizuna.routing")

GRAPH_SUFFIX = ".npz"
# The region `kizuna import roads FILE` writes when no --region is given (the file name
# servers read before regions existed).
DEFAULT_REGION = "walk-graph"
# Region names become file names: lower-case ASCII, digits, '-' and '_'.
REGION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
DEMO_REGION = "demo"

Stamp = tuple[int, int]
# (region, file, modification stamp); plain strings: the check runs on every request.
GraphFile = tuple[str, str, Stamp]


def roads_dir(settings: Settings) -> Path:
    """Where `kizuna import roads` writes regional graphs and the server reads them."""
    return settings.data_dir / "roads"


def region_path(settings: Settings, region: str) -> Path:
    """The graph file of a region (the name must match REGION_NAME)."""
    if not REGION_NAME.match(region):
        raise ValueError(
            f"invalid region name {region!r}: use lower-case letters, digits, '-' and '_' "
            "(at most 63, starting with a letter or digit)"
        )
    return roads_dir(settings) / f"{region}{GRAPH_SUFFIX}"


def installed_graphs(settings: Settings) -> list[tuple[str, Path]]:
    """(region, file) of every graph the server reads, by region name."""
    return [(name, Path(path)) for name, path, _ in _scan(settings)]


def graph_stamps(settings: Settings) -> tuple[GraphFile, ...]:
    """(region, file, modification stamp) of the installed graphs: what the loaded networks
    depend on (empty: the demo network). Read it before the networks, as a cache key."""
    return _scan(settings)


def _scan(settings: Settings) -> tuple[GraphFile, ...]:
    """(region, file, modification stamp) of the installed graphs: one directory scan."""
    if settings.road_graph_path is not None:
        pinned = settings.road_graph_path.expanduser()
        stamp = _stamp(pinned)
        return ((pinned.stem, str(pinned), stamp),) if stamp is not None else ()
    found: list[GraphFile] = []
    try:
        with os.scandir(roads_dir(settings)) as entries:
            for entry in entries:
                if not entry.name.endswith(GRAPH_SUFFIX) or entry.name.startswith("."):
                    continue
                try:
                    stat = entry.stat()
                except OSError:  # removed while scanning
                    continue
                name = entry.name.removesuffix(GRAPH_SUFFIX)
                found.append((name, entry.path, (stat.st_mtime_ns, stat.st_size)))
    except OSError:  # no roads directory yet
        return ()
    return tuple(sorted(found))


@dataclass(frozen=True, slots=True)
class Region:
    """One walk graph and the name it is served under."""

    name: str
    engine: RoutingEngine
    path: Path | None = None  # None: the built-in demo network


class RoadNetworks:
    """The regional walk graphs of one moment; a route is planned on one of them."""

    def __init__(self, regions: Sequence[Region], broken: Sequence[str] = ()) -> None:
        self.regions = tuple(regions)
        # Why files that are installed could not be loaded: said instead of "outside the area".
        self.broken = tuple(broken)

    @property
    def is_demo(self) -> bool:
        """True when routing runs on the demo network (no graph installed)."""
        return any(region.path is None for region in self.regions)

    def covering(
        self, point: tuple[float, float], field: str, among: Sequence[Region] | None = None
    ) -> list[tuple[Region, Snap]]:
        """The regions (of ``among``, default all) whose graph reaches a (lon, lat) point,
        with its snap there; a typed error for ``field`` when none does."""
        found: list[tuple[Region, Snap]] = []
        errors: list[RoutingError] = []
        for region in self.regions if among is None else among:
            try:
                found.append((region, region.engine.snap(point)))
            except RoutingError as exc:
                errors.append(exc)
        if found:
            return found
        if self.broken:
            raise RoutingUnavailable(
                "a walk graph file cannot be loaded: " + "; ".join(self.broken),
                "道路網のファイルを読み込めないため、この地点の経路案内を利用できません",
            )
        error = _closest_miss(errors) if errors else OutsideGraphArea(*point)
        error.field = field
        raise error

    def reaches(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
        """Which (lon, lat) points some region's graph reaches (within the snap distance)."""
        reached = np.zeros(np.shape(lon), dtype=bool)
        for region in self.regions:
            reached |= region.engine.reaches(lon, lat)
        return reached


def _closest_miss(errors: Sequence[RoutingError]) -> RoutingError:
    """Off a network beats outside every area: the nearest miss says the most."""
    off = [e for e in errors if isinstance(e, PointOffNetwork)]
    return min(off, key=lambda e: e.distance_m) if off else errors[0]


class Limits(NamedTuple):
    """The settings every engine is built with (a change rebuilds the engines)."""

    max_snap_m: float
    max_incline_pct: float

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits the settings ask for."""
        return cls(settings.route_max_snap_m, settings.route_step_free_max_incline_pct)


def load_region(name: str, path: Path, limits: Limits) -> Region:
    """A region from its graph file; ValueError says why a file is not a usable graph."""
    try:
        graph = WalkGraph.load(path)
        engine = RoutingEngine(
            graph, max_snap_m=limits.max_snap_m, max_incline_pct=limits.max_incline_pct
        )
    except KeyError as exc:  # an .npz without one of the arrays
        raise ValueError(f"not a walk graph file (no {exc} array)") from exc
    except (OSError, EOFError, zipfile.BadZipFile) as exc:  # unreadable, empty, truncated
        raise ValueError(f"cannot read the file: {exc or type(exc).__name__}") from exc
    log.info("loaded walk graph %s: %d nodes, %d edges", path, graph.node_count, graph.edge_count)
    return Region(name, engine, path)


def demo_region(limits: Limits) -> Region:
    """The synthetic demo network of central Aizu-Wakamatsu."""
    engine = RoutingEngine(
        build_demo_graph(), max_snap_m=limits.max_snap_m, max_incline_pct=limits.max_incline_pct
    )
    return Region(DEMO_REGION, engine)


def load_networks(settings: Settings) -> RoadNetworks:
    """Every installed graph, loaded now (for commands; the server uses the store below)."""
    return RoadNetworkStore().load(settings)


@dataclass(frozen=True, slots=True)
class _Loaded:
    stamps: tuple[GraphFile, ...]
    networks: RoadNetworks


class RoadNetworkStore:
    """Loads the installed walk graphs once and reloads a file when it changes."""

    def __init__(self) -> None:
        # A thread lock (held in the loading worker thread): one load at a time, and usable
        # from any event loop (the CLI and the server run their own).
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, Limits], _Loaded] = {}
        self._demo: dict[Limits, Region] = {}

    async def get(self, settings: Settings) -> RoadNetworks:
        """The walk networks for these settings; RoutingUnavailable when there are none."""
        key, stamps = self._state(settings)
        if not stamps and settings.environment is Environment.PRODUCTION:
            raise RoutingUnavailable(
                "evacuation routing is not set up on this server (no walk graph imported)",
                "このサーバーには道路網が取り込まれていないため経路案内を利用できません",
            )
        loaded = self._loaded.get(key)
        if loaded is not None and loaded.stamps == stamps:
            return loaded.networks
        return await asyncio.to_thread(self._reload, settings, key, stamps)

    def load(self, settings: Settings) -> RoadNetworks:
        """The same, synchronously, for commands: no regions in production without a graph."""
        key, stamps = self._state(settings)
        if not stamps and settings.environment is Environment.PRODUCTION:
            return RoadNetworks([])
        return self._reload(settings, key, stamps)

    def _state(self, settings: Settings) -> tuple[tuple[str, Limits], tuple[GraphFile, ...]]:
        source = settings.road_graph_path or roads_dir(settings)
        return (str(source.expanduser()), Limits.of(settings)), _scan(settings)

    def _reload(
        self,
        settings: Settings,
        key: tuple[str, Limits],
        stamps: tuple[GraphFile, ...],
    ) -> RoadNetworks:
        limits = Limits.of(settings)
        with self._lock:
            previous = self._loaded.get(key)
            if previous is not None and previous.stamps == stamps:
                return previous.networks
            if not stamps:
                demo = self._demo.get(limits)
                if demo is None:
                    log.info("no walk graph installed; using the demo network")
                    demo = self._demo[limits] = demo_region(limits)
                networks = RoadNetworks([demo])
            else:
                networks = self._load_files(stamps, previous, limits)
            self._loaded[key] = _Loaded(stamps, networks)
            return networks

    @staticmethod
    def _load_files(
        stamps: tuple[GraphFile, ...], previous: _Loaded | None, limits: Limits
    ) -> RoadNetworks:
        # Unchanged files keep their engines: only a new or replaced region is loaded.
        kept: dict[tuple[str, Stamp], Region] = {}
        if previous is not None:
            by_path = {str(r.path): r for r in previous.networks.regions if r.path is not None}
            kept = {
                (path, stamp): by_path[path]
                for _, path, stamp in previous.stamps
                if path in by_path
            }
        regions: list[Region] = []
        broken: list[str] = []
        for name, path, stamp in stamps:
            reused = kept.get((path, stamp))
            if reused is not None:
                regions.append(reused)
                continue
            try:
                regions.append(load_region(name, Path(path), limits))
            except ValueError as exc:
                # A broken file must not take the other regions down: log it, and say so
                # when a route needed it.
                log.error("cannot load walk graph %s: %s", path, exc)
                broken.append(f"{Path(path).name}: {exc}")
        return RoadNetworks(regions, broken)

    def clear(self) -> None:
        """Forget loaded engines (tests that swap files)."""
        self._loaded.clear()


def _stamp(path: Path) -> Stamp | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    if not S_ISREG(stat.st_mode):
        return None
    return stat.st_mtime_ns, stat.st_size


road_networks = RoadNetworkStore()
