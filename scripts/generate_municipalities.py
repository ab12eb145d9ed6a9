"""Generate backend/municipalities/japan.csv: every municipality of Japan, with kana where known.

Sources (see the README's "Data and attribution"):
* the national code table ``gsi-shelters/code-to-city.json`` (総務省 全国地方公共団体コード as
  JSON by motohasystem/jp-shelter-api): codes, prefectures, names, 政令市 wards included;
* JMA's city table ``jma-areas/citycode.csv`` (tmiyachi/jma-gis): the reading (``cityname_kn``)
  of every municipality that JMA forecasts for (政令市 as a whole, not per ward);
* the 59 municipalities of Fukushima, whose kana and English names were written by hand and
  are kept as they are (below).

English names exist only for those 59: a romanisation guessed from kanji would be wrong for
some names (大和町 is たいわちょう in Miyagi), and one made from kana would still need a person
to decide spellings such as Koriyama/Kooriyama. Elsewhere the column is empty (null in the
database) and clients show the Japanese name. Kana is empty where no source gives it (the wards
of designated cities, the six villages of the Northern Territories).

Run from the repository root (shared data beside it, as for the tests):
    .venv/bin/python scripts/generate_municipalities.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

from backend.municipalities.reference import with_check_digit

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT = REPO_ROOT / "backend" / "municipalities" / "japan.csv"
COLUMNS = (
    "code",
    "prefecture_code",
    "prefecture_name_ja",
    "name_ja",
    "name_kana",
    "name_en",
    "designated_city_code",
)

# Hand-written readings and English names of Fukushima's 59 municipalities (kept as written).
FUKUSHIMA_NAMES: dict[str, tuple[str, str]] = {
    "07201": ("ふくしまし", "Fukushima"),
    "07202": ("あいづわかまつし", "Aizuwakamatsu"),
    "07203": ("こおりやまし", "Koriyama"),
    "07204": ("いわきし", "Iwaki"),
    "07205": ("しらかわし", "Shirakawa"),
    "07207": ("すかがわし", "Sukagawa"),
    "07208": ("きたかたし", "Kitakata"),
    "07209": ("そうまし", "Soma"),
    "07210": ("にほんまつし", "Nihonmatsu"),
    "07211": ("たむらし", "Tamura"),
    "07212": ("みなみそうまし", "Minamisoma"),
    "07213": ("だてし", "Date"),
    "07214": ("もとみやし", "Motomiya"),
    "07301": ("こおりまち", "Koori"),
    "07303": ("くにみまち", "Kunimi"),
    "07308": ("かわまたまち", "Kawamata"),
    "07322": ("おおたまむら", "Otama"),
    "07342": ("かがみいしまち", "Kagamiishi"),
    "07344": ("てんえいむら", "Ten-ei"),
    "07362": ("しもごうまち", "Shimogo"),
    "07364": ("ひのえまたむら", "Hinoemata"),
    "07367": ("ただみまち", "Tadami"),
    "07368": ("みなみあいづまち", "Minamiaizu"),
    "07402": ("きたしおばらむら", "Kitashiobara"),
    "07405": ("にしあいづまち", "Nishiaizu"),
    "07407": ("ばんだいまち", "Bandai"),
    "07408": ("いなわしろまち", "Inawashiro"),
    "07421": ("あいづばんげまち", "Aizubange"),
    "07422": ("ゆがわむら", "Yugawa"),
    "07423": ("やないづまち", "Yanaizu"),
    "07444": ("みしままち", "Mishima"),
    "07445": ("かねやままち", "Kaneyama"),
    "07446": ("しょうわむら", "Showa"),
    "07447": ("あいづみさとまち", "Aizumisato"),
    "07461": ("にしごうむら", "Nishigo"),
    "07464": ("いずみざきむら", "Izumizaki"),
    "07465": ("なかじまむら", "Nakajima"),
    "07466": ("やぶきまち", "Yabuki"),
    "07481": ("たなぐらまち", "Tanagura"),
    "07482": ("やまつりまち", "Yamatsuri"),
    "07483": ("はなわまち", "Hanawa"),
    "07484": ("さめがわむら", "Samegawa"),
    "07501": ("いしかわまち", "Ishikawa"),
    "07502": ("たまかわむら", "Tamakawa"),
    "07503": ("ひらたむら", "Hirata"),
    "07504": ("あさかわまち", "Asakawa"),
    "07505": ("ふるどのまち", "Furudono"),
    "07521": ("みはるまち", "Miharu"),
    "07522": ("おのまち", "Ono"),
    "07541": ("ひろのまち", "Hirono"),
    "07542": ("ならはまち", "Naraha"),
    "07543": ("とみおかまち", "Tomioka"),
    "07544": ("かわうちむら", "Kawauchi"),
    "07545": ("おおくままち", "Okuma"),
    "07546": ("ふたばまち", "Futaba"),
    "07547": ("なみえまち", "Namie"),
    "07548": ("かつらおむら", "Katsurao"),
    "07561": ("しんちまち", "Shinchi"),
    "07564": ("いいたてむら", "Iitate"),
}

# Readings no source here gives in a usable form (JMA splits 対馬市 into 上対馬/下対馬 and
# 西海市 into areas whose names share more than the municipality's), written by hand.
HAND_WRITTEN_KANA = {"42209": "つしまし", "42212": "さいかいし"}

# Readings of the suffix a municipality's name ends with, to cut a shared kana prefix back to
# the municipality itself (釧路市釧路 / 釧路市阿寒 -> くしろし).
SUFFIX_READINGS = {"市": ("し",), "町": ("まち", "ちょう"), "村": ("むら", "そん"), "区": ("く",)}


def common_prefix(values: list[str]) -> str:
    """The longest common beginning of the strings."""
    first, last = min(values), max(values)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def reading(name: str, rows: list[tuple[str, str]]) -> str | None:
    """The kana of ``name`` from JMA rows (name, kana) of the same 5-digit code, if certain."""
    for row_name, kana in rows:
        if row_name == name:
            return kana
    if not rows:
        return None
    if len(rows) == 1:
        # One area for the whole municipality, written with a variant character (檮原町/梼原町).
        return rows[0][1]
    endings = SUFFIX_READINGS.get(name[-1], ())
    if all(row_name.startswith(name) for row_name, _ in rows):
        # A municipality JMA splits into areas (仙台市東部 / 仙台市西部): its reading is a prefix
        # of every area's reading that ends with the suffix's reading, and the areas' readings
        # after it share a beginning exactly when their names after it do.
        names_share = bool(common_prefix([row_name[len(name) :] for row_name, _ in rows]))
        cuts = {
            i + len(e)
            for e in endings
            for i in range(len(rows[0][1]))
            if rows[0][1].startswith(e, i)
            and all(kana.startswith(rows[0][1][: i + len(e)]) for _, kana in rows)
            and bool(common_prefix([kana[i + len(e) :] for _, kana in rows])) == names_share
        }
        return rows[0][1][: cuts.pop()] if len(cuts) == 1 else None
    stem = name[:-1]
    for row_name, kana in rows:
        if row_name == stem and len(endings) == 1:
            # Areas named without the suffix (松本 / 乗鞍上高地 for 松本市).
            return kana + endings[0]
    return None


def designated_city(name: str, by_name: dict[str, str]) -> str | None:
    """The code of the designated city (政令市) a ward is named after: 仙台市青葉区 -> 仙台市."""
    if not name.endswith("区"):
        return None
    prefixes = [name[: i + 1] for i, ch in enumerate(name[:-1]) if ch == "市"]
    return next((by_name[p] for p in prefixes if p in by_name), None)


def generate(data: Path) -> tuple[list[dict[str, str]], list[str]]:
    """Rows of japan.csv and notes about what could not be filled."""
    table = json.loads((data / "gsi-shelters" / "code-to-city.json").read_text(encoding="utf-8"))
    jma: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with (data / "jma-areas" / "citycode.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            jma[row["citycode"][:5]].append((row["cityname"], row["cityname_kn"]))
    rows: list[dict[str, str]] = []
    notes: list[str] = []
    for prefecture_code, prefecture in sorted(table.items()):
        cities = {c["code"][:5]: c for c in prefecture["cities"].values() if c["cityName"]}
        by_name = {c["cityName"]: code for code, c in cities.items()}
        wards_of: dict[str, list[str]] = defaultdict(list)
        for code, city in cities.items():
            if with_check_digit(city["code"][:5]) != city["code"] or code[:2] != prefecture_code:
                raise SystemExit(f"bad code in the national table: {city}")
            wards_of[designated_city(city["cityName"], by_name) or ""].append(code)
        for code, city in sorted(cities.items()):
            name = city["cityName"]
            kana = reading(name, jma.get(code, []))
            if kana is None and code in wards_of:
                # JMA may list a designated city by ward only (広島市中区, 広島市東区, ...).
                kana = reading(name, [row for ward in wards_of[code] for row in jma[ward]])
            if kana is not None and all(row[0] != name for row in jma.get(code, [])):
                notes.append(f"{code} {name}: reading {kana} derived from JMA areas (review)")
            kana = HAND_WRITTEN_KANA.get(code, kana)
            name_en = ""
            if code in FUKUSHIMA_NAMES:
                hand_kana, name_en = FUKUSHIMA_NAMES[code]
                if kana and kana != hand_kana:
                    notes.append(f"{code} {name}: kept hand-written {hand_kana}, JMA has {kana}")
                kana = hand_kana
            if kana is None:
                notes.append(f"{code} {prefecture['name']}{name}: no kana in the JMA table")
            rows.append(
                {
                    "code": code,
                    "prefecture_code": prefecture_code,
                    "prefecture_name_ja": prefecture["name"],
                    "name_ja": name,
                    "name_kana": kana or "",
                    "name_en": name_en,
                    "designated_city_code": designated_city(name, by_name) or "",
                }
            )
    missing = set(FUKUSHIMA_NAMES) - {row["code"] for row in rows}
    if missing:
        raise SystemExit(f"hand-written municipalities missing from the national table: {missing}")
    return rows, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--verbose", action="store_true", help="list derived and missing kana")
    args = parser.parse_args()
    rows, notes = generate(args.data)
    with args.output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    wards = sum(1 for row in rows if row["designated_city_code"])
    print(f"wrote {len(rows)} municipalities ({wards} wards of designated cities) to {args.output}")
    print(f"{len(notes)} notes (--verbose lists them)", file=sys.stderr)
    for note in notes if args.verbose else []:
        print(f"  {note}", file=sys.stderr)


if __name__ == "__main__":
    main()
