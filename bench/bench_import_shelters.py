"""Time parsing and merging every Fukushima GSI shelter file (both folders).

Run: .venv/bin/python bench/bench_import_shelters.py [--repeat N]
Uses ../shared/data/gsi-shelters (or $KIZUNA_SHARED_DATA/gsi-shelters); skips when absent.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.shelters.merge import merge_shelter_records_detailed  # noqa: E402
from backend.shelters.records import ShelterRecord  # noqa: E402
from backend.shelters.sources import parse_shelter_file  # noqa: E402
from tests.shared_data import shared_data_dir  # noqa: E402


def main() -> int:
    """Parse and merge all files ``--repeat`` times and print the best timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    root = shared_data_dir()
    folder = root / "gsi-shelters" if root else None
    if folder is None or not folder.is_dir():
        print("skipped: shared data folder with gsi-shelters/ is absent (set KIZUNA_SHARED_DATA)")
        return 0
    paths = sorted((folder / "emergency").glob("*.json")) + sorted(
        (folder / "evacuation").glob("*.json")
    )
    data_bytes = sum(p.stat().st_size for p in paths)

    best_parse = best_merge = float("inf")
    for _ in range(max(1, args.repeat)):
        started = time.perf_counter()
        records: list[ShelterRecord] = []
        notices: list[str] = []
        for path in paths:
            parsed = parse_shelter_file(path)
            records.extend(parsed.records)
            notices.extend(parsed.notices)
        parsed_at = time.perf_counter()
        result = merge_shelter_records_detailed(records)
        merged_at = time.perf_counter()
        best_parse = min(best_parse, parsed_at - started)
        best_merge = min(best_merge, merged_at - parsed_at)

    print(f"files            {len(paths)} ({data_bytes / 1e6:.2f} MB)")
    print(f"features         {len(records)}")
    print(f"notices          {len(notices)} (unavailable stubs)")
    print(f"merged records   {len(result.records)}")
    print(f"merge conflicts  {len(result.conflicts)}")
    print(f"parse seconds    {best_parse:.3f} (best of {args.repeat})")
    print(f"merge seconds    {best_merge:.3f}")
    print(f"total seconds    {best_parse + best_merge:.3f}")
    print(f"features/second  {len(records) / best_parse:,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
