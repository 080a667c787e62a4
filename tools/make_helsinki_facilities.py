"""Write tests/data/helsinki/: a small real subset of Helsinki's street furniture.

Reads the team's Helsinki extract (Helsinki.osm.pbf, central Helsinki, © OpenStreetMap
contributors, ODbL 1.0) and its derived GeoPackage (layer pois_points), given as arguments,
and writes:

- ``helsinki_facilities.osm``: OSM XML of the chosen nodes with all their tags — every fire
  hydrant and surveillance camera, every 20th street lamp, and the first few traffic signals,
  bus stops, waste baskets, benches and manholes, plus a few points that are no facility
  (restaurants, cafés) so that an import has something to skip;
- ``helsinki_pois_subset.gpkg``: the same kind of subset of pois_points (columns id, amenity,
  emergency, highway, man_made, name; EPSG:4326).

Usage: python tools/make_helsinki_facilities.py Helsinki.osm.pbf helsinki_center_derived.gpkg
"""
from __future__ import annotations

import sys
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pandas as pd
import pyogrio

from gridmap.ingest.osm import parse_other_tags

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "helsinki"
OWN_COLUMNS = ("name", "barrier", "highway", "ref", "address", "is_in", "place", "man_made")


def _tags(row) -> dict[str, str]:
    tags = {c: row[c] for c in OWN_COLUMNS if isinstance(row.get(c), str)}
    if isinstance(row.get("other_tags"), str):
        tags.update({k: v for k, v in parse_other_tags(row["other_tags"]).items() if v})
    return tags


def _chosen_nodes(pbf: Path) -> list[tuple[int, float, float, dict[str, str]]]:
    frame = pyogrio.read_dataframe(pbf, layer="points")
    rows = [(int(r.osm_id), r.geometry.x, r.geometry.y, _tags(r._asdict()))
            for r in frame.itertuples()]
    picks: list = []

    def take(test, every=1, first=None):
        found = [r for r in rows if test(r[3])]
        picks.extend(found[::every][:first])

    take(lambda t: t.get("emergency") == "fire_hydrant")
    take(lambda t: t.get("man_made") == "surveillance", every=4)
    take(lambda t: t.get("highway") == "street_lamp", every=20)
    take(lambda t: t.get("highway") == "traffic_signals", first=8)
    take(lambda t: t.get("highway") == "bus_stop", first=6)
    take(lambda t: t.get("amenity") == "waste_basket", first=6)
    take(lambda t: t.get("amenity") == "bench", first=6)
    take(lambda t: t.get("man_made") == "manhole", first=6)
    take(lambda t: t.get("amenity") in ("restaurant", "cafe"), first=5)
    return sorted({p[0]: p for p in picks}.values())


def write_osm(nodes, path: Path) -> None:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<osm version="0.6" generator="gridmap tools/make_helsinki_facilities.py">',
             '  <!-- © OpenStreetMap contributors, ODbL 1.0 -->']
    for node_id, lon, lat, tags in nodes:
        lines.append(f'  <node id="{node_id}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">')
        lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in sorted(tags.items())]
        lines.append("  </node>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_gpkg(derived: Path, path: Path) -> None:
    frame = pyogrio.read_dataframe(derived, layer="pois_points")
    parts = [frame[frame.emergency == "fire_hydrant"],
             frame[frame.man_made == "surveillance"].iloc[::10],
             frame[frame.highway == "street_lamp"].iloc[::40],
             frame[frame.amenity == "bench"].iloc[:8],
             frame[frame.amenity == "waste_basket"].iloc[:8],
             frame[frame.amenity == "restaurant"].iloc[:4]]
    subset = pd.concat(parts).drop_duplicates("id")
    pyogrio.write_dataframe(subset, path, layer="pois_points")


if __name__ == "__main__":
    pbf, derived = map(Path, sys.argv[1:3])
    OUT.mkdir(parents=True, exist_ok=True)
    write_osm(_chosen_nodes(pbf), OUT / "helsinki_facilities.osm")
    write_gpkg(derived, OUT / "helsinki_pois_subset.gpkg")
