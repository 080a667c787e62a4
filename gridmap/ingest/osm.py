"""OpenStreetMap sources (.osm, .pbf) as GDAL's OSM driver reads them.

GDAL gives a few tags their own columns and packs every other tag into ``other_tags``, a
string in PostgreSQL's hstore text format: ``"key"=>"value"`` pairs separated by commas, with
``"`` and ``\\`` escaped by a backslash inside the quotes. :func:`expand_tags` turns the tags an
import uses into columns, so ``building:levels``, ``height`` or ``addr:housenumber`` can be
mapped like any column.

Identity: a closed way read as an area carries its id in ``osm_way_id``, a multipolygon
relation in ``osm_id`` (node and way layers use ``osm_id``). Way 123 and relation 123 are
different objects, so the id column :data:`ID_COLUMN` prefixes the type — ``w123``, ``r123``
(``n…`` for nodes) — and is unique across all of them. It is the default ``source_id`` of
an OSM buildings import, whose default source name is ``osm``.

Buildings: only areas with a ``building`` tag other than ``no`` are buildings;
``building:part`` areas (a tower's storeys over its podium, a roof) lie over their building
and would count it twice, so they are left out.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from gridmap.i18n import msg

SUFFIXES = (".osm", ".pbf")
SOURCE_NAME = "osm"
ID_COLUMN = "osm_element"
ADDRESS_COLUMN = "osm_address"
TAGS_COLUMN = "other_tags"
DEFAULT_FIELDS = {"source_id": ID_COLUMN, "name": "name", "address": ADDRESS_COLUMN}
# Tags every OSM read turns into columns when present, on top of the columns an import uses.
STANDARD_TAGS = ("building:part", "building:levels", "height", "addr:street",
                 "addr:housenumber")
# GDAL's own filter for the buildings it reads: constant text, never built from input.
BUILDINGS_WHERE = "building IS NOT NULL AND building <> 'no'"
# Element type of each layer of the OSM driver, for the id prefix.
_LAYER_TYPES = {"points": "n", "lines": "w", "multilinestrings": "r", "other_relations": "r"}

_QUOTED = r'"((?:[^"\\]|\\.)*)"'
PAIR = re.compile(_QUOTED + r"\s*=>\s*(?:" + _QUOTED + r"|(NULL))\s*(?:,\s*|$)", re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def is_osm(path: Path) -> bool:
    """Whether ``path`` is an OpenStreetMap file by its suffix (``.osm``, ``.osm.pbf``)."""
    return Path(path).suffix.lower() in SUFFIXES


def _unescape(text: str) -> str:
    return _ESCAPE.sub(r"\1", text)


def parse_other_tags(text: str) -> dict[str, str | None]:
    """The tags of one hstore-formatted ``other_tags`` string.

    Raises
    ------
    ValueError
        When ``text`` is not a sequence of ``"key"=>"value"`` pairs.
    """
    tags: dict[str, str | None] = {}
    position = 0
    text = text.strip()
    while position < len(text):
        match = PAIR.match(text, position)
        if match is None:
            raise ValueError(f"not hstore text at character {position + 1}: "
                             f"{text[position:position + 30]!r}")
        key, value, null = match.groups()
        tags[_unescape(key)] = None if null else _unescape(value)
        position = match.end()
    return tags


def format_other_tags(tags: dict[str, str | None]) -> str:
    """The hstore text of ``tags``, as GDAL writes it (the inverse of parse_other_tags)."""
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return ",".join(f"{quote(k)}=>{'NULL' if v is None else quote(v)}" for k, v in tags.items())


def tag_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Every tag in ``other_tags`` as rows ``(feature index, key, value)``, unescaped."""
    if TAGS_COLUMN not in frame.columns:
        return pd.DataFrame({"row": [], "key": [], "value": []})
    found = frame[TAGS_COLUMN].dropna().astype(str).str.extractall(PAIR)
    found = found.reset_index(level="match", drop=True)
    return pd.DataFrame({"row": found.index.to_numpy(),
                         "key": found[0].str.replace(_ESCAPE, r"\1", regex=True).to_numpy(),
                         "value": found[1].str.replace(_ESCAPE, r"\1", regex=True).to_numpy()})


def expand_tags(frame: pd.DataFrame, wanted: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` with a column for each wanted tag present, and every tag key (by frequency).

    A tag whose key is already a column (GDAL's own columns) is not duplicated.
    """
    table = tag_table(frame)
    keys = table["key"].value_counts().index.tolist()
    take = [k for k in dict.fromkeys([*wanted, *STANDARD_TAGS])
            if k in set(keys) and k not in frame.columns]
    if take:
        chosen = table[table["key"].isin(take)].drop_duplicates(["row", "key"], keep="last")
        columns = chosen.pivot(index="row", columns="key", values="value")
        frame = frame.join(columns.reindex(columns=take))
    return frame, keys


def add_ids(frame: pd.DataFrame, layer: str) -> pd.DataFrame:
    """Add :data:`ID_COLUMN`: ``w<way id>``/``r<relation id>`` (``n…`` for nodes)."""
    def text(name: str) -> pd.Series:
        if name not in frame.columns:
            return pd.Series(pd.NA, index=frame.index, dtype="object")
        return frame[name].map(lambda v: None if pd.isna(v) else str(v).removesuffix(".0"))

    if layer == "multipolygons":
        way, relation = text("osm_way_id"), text("osm_id")
        ids = np.where(way.notna(), "w" + way.fillna(""),
                       np.where(relation.notna(), "r" + relation.fillna(""), None))
    else:
        own = text("osm_id")
        ids = np.where(own.notna(), _LAYER_TYPES.get(layer, "") + own.fillna(""), None)
    return frame.assign(**{ID_COLUMN: pd.Series(ids, index=frame.index, dtype="object")})


def add_address(frame: pd.DataFrame) -> pd.DataFrame:
    """Add :data:`ADDRESS_COLUMN`: ``addr:street`` and ``addr:housenumber``, space-separated."""
    parts = [frame[c].fillna("").astype(str).str.strip() if c in frame.columns
             else pd.Series("", index=frame.index) for c in ("addr:street", "addr:housenumber")]
    address = (parts[0] + " " + parts[1]).str.strip()
    return frame.assign(**{ADDRESS_COLUMN: address.where(address != "", None)})


def buildings_only(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Drop ``building:part`` areas (and, defensively, anything without a building tag)."""
    building = frame["building"] if "building" in frame.columns else pd.Series(
        None, index=frame.index, dtype="object")
    part = frame["building:part"] if "building:part" in frame.columns else pd.Series(
        None, index=frame.index, dtype="object")
    keep = building.notna() & building.ne("no") & (part.isna() | part.eq("no"))
    return frame[keep.to_numpy()], int((~keep).sum())


def id_hint(column: str) -> str:
    """What to map instead when an OSM id column is missing or empty."""
    return msg("in OSM data a way's id is in osm_way_id and a relation's in osm_id, so "
               "{column} alone does not identify every feature; the default source_id "
               "{default} (w<way id>, r<relation id>) does: leave source_id unmapped",
               column=column, default=ID_COLUMN)
