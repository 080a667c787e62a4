"""Write context layers — roads and water — of one district from its own imported data.

Like buildings, a road or water feature's identity is ``(source, source_id)`` (the source names
who issued the ids: ``osm``, a survey, an agency; without ``source_name`` the ids are the
district's own, ``district-<code>``). Before anything is written, under the district's lock:

- every feature must reach the district (intersect its boundary widened by the containment
  tolerance): a file of another district imported here by mistake is refused, naming the
  first stray feature and where it lies;
- an id already stored for another district is refused (a road does not move between
  districts).

Then one upsert per layer writes what changed — an unchanged re-import writes nothing — and
the report counts what was inserted and updated. Features of the source that are stored but
absent from the file are kept (an import never deletes) and counted in a note.

OSM flags (``bridge``, ``tunnel``) arrive as ``yes``/``1``/``1.0``/``viaduct`` or empty;
:func:`osm_flag` reads them the way OSM means them.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.errors import ImportFailed
from gridmap.i18n import msg
from gridmap.ingest.recipe import Recipe
from gridmap.ingest.report import ImportReport
from gridmap.locks import lock_district
from gridmap.models import District

CONTEXT_LAYERS = {"roads": "road", "water": "water"}
"""Import layer → table."""

_FALSE_WORDS = {"", "no", "false", "none", "null", "nan"}


def osm_flag(value: Any) -> bool:
    """An OSM yes/no tag as a boolean.

    Parameters
    ----------
    value
        The tag as read from a file: text, a number, a boolean, ``None`` or NaN.

    Returns
    -------
    bool
        False for missing, empty, ``no``, ``false`` and zero (``0``, ``0.0``, as a number or
        as text); true for any other value (``yes``, ``1``, ``viaduct``, ``building_passage``).
    """
    if value is None:
        return False
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Real):
        return not math.isnan(value) and value != 0
    word = str(value).strip().lower()
    if word in _FALSE_WORDS:
        return False
    try:
        return float(word) != 0
    except ValueError:
        return True


def _texts(attrs: pd.DataFrame, name: str) -> list[str | None]:
    if name not in attrs:
        return [None] * len(attrs)
    return [None if pd.isna(v) else str(v) for v in attrs[name]]


def _levels(recipe: Recipe, attrs: pd.DataFrame) -> list[int]:
    """OSM ``layer`` (−5 … 5) as integers; a value that is not a whole number is refused."""
    if "layer" not in attrs:
        return [0] * len(attrs)
    out = []
    for row, value in enumerate(attrs["layer"]):
        if pd.isna(value):
            out.append(0)
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not number.is_integer() or not -10 <= number <= 10:
            raise ImportFailed(msg("{name} feature {feature} (source_id={source_id}): layer "
                                   "{layer!r} is not a level; expected a whole number from -10 "
                                   "to 10", name=recipe.source.name, feature=row + 1,
                                   source_id=attrs['source_id'].iloc[row], layer=value))
        out.append(int(number))
    return out


def _rows(recipe: Recipe, frame, attrs: pd.DataFrame) -> dict[str, list]:
    """The bound arrays of one import: geometries as EWKB, attributes as plain values."""
    geoms = shapely.set_srid(frame.geometry.values, 4490)
    rows = {"source_id": _texts(attrs, "source_id"), "name": _texts(attrs, "name"),
            "kind": [k or ("road" if recipe.layer == "roads" else "water")
                     for k in _texts(attrs, "kind")],
            "wkb": list(shapely.to_wkb(geoms, include_srid=True))}
    if recipe.layer == "roads":
        for flag in ("bridge", "tunnel"):
            rows[flag] = ([osm_flag(v) for v in attrs[flag]] if flag in attrs
                          else [False] * len(attrs))
        rows["layer"] = _levels(recipe, attrs)
    return rows


_STAGED = """
    select v.row, v.source_id, v.name, left(v.kind, 32) as kind, {extra_select}
           ST_GeomFromEWKB(v.wkb) as geom
    from unnest(cast(:source_id as text[]), cast(:name as text[]), cast(:kind as text[]),
                {extra_arrays} cast(:wkb as bytea[])) with ordinality
         as v(source_id, name, kind, {extra_names} wkb, row)
"""
_ROAD_EXTRA = ("v.bridge, v.tunnel, v.layer,",
               "cast(:bridge as boolean[]), cast(:tunnel as boolean[]), cast(:layer as integer[]),",
               "bridge, tunnel, layer,")


def _staged(layer: str) -> str:
    extra = _ROAD_EXTRA if layer == "roads" else ("", "", "")
    return _STAGED.format(extra_select=extra[0], extra_arrays=extra[1], extra_names=extra[2])


def _check(session: Session, recipe: Recipe, table: str, source: str, staged: str,
           params: dict, tolerance_m: float) -> None:
    stray = session.execute(text(f"""
        with staged as ({staged})
        select count(*) over () as n, s.row, s.source_id,
               ST_X(ST_PointOnSurface(s.geom)) as lon, ST_Y(ST_PointOnSurface(s.geom)) as lat
        from staged s, district d
        where d.code = :district
          and not ST_DWithin(s.geom::geography, d.geom::geography, :tolerance)
        order by s.row limit 1"""), {**params, "tolerance": tolerance_m}).first()
    if stray is not None:
        raise ImportFailed(msg("{name}: {n} of {count} features lie outside district "
                               "{district}; first feature {row} (source_id={source_id}) at "
                               "{lon:.6f}, {lat:.6f}. Import them into the district that holds "
                               "them, or leave them out (where: in the recipe)",
                               name=recipe.source.name, n=stray.n, count=len(params['wkb']),
                               district=recipe.district, row=stray.row,
                               source_id=stray.source_id, lon=stray.lon, lat=stray.lat))
    moved = session.execute(text(f"""
        with staged as ({staged})
        select count(*) over () as n, s.row, s.source_id, t.district_code
        from staged s join {table} t on t.source = :source and t.source_id = s.source_id
        where t.district_code <> :district
        order by s.row limit 1"""), params).first()
    if moved is not None:
        raise ImportFailed(msg("{name}: {n} feature(s) reuse ids of district {district_code}; "
                               "first feature {row} (source_id={source_id}) is {table} "
                               "{source}:{source_id} there. Give this file's issuer with "
                               "--source-name", name=recipe.source.name, n=moved.n,
                               district_code=moved.district_code, row=moved.row,
                               source_id=moved.source_id, table=table, source=source))


def _upsert(layer: str, table: str, staged: str) -> str:
    columns = ["name", "kind"] + (["bridge", "tunnel", "layer"] if layer == "roads" else [])
    names = ", ".join(columns)
    return f"""
        with staged as ({staged}), written as (
            insert into {table} (district_code, source, source_id, {names}, geom)
            select :district, :source, s.source_id, {", ".join(f"s.{c}" for c in columns)},
                   s.geom
            from staged s
            on conflict (source, source_id) do update
               set {", ".join(f"{c} = excluded.{c}" for c in columns)}, geom = excluded.geom
               where ({", ".join(f"{table}.{c}" for c in columns)})
                     is distinct from ({", ".join(f"excluded.{c}" for c in columns)})
                  or not ST_Equals({table}.geom, excluded.geom)
            returning (xmax = 0) as inserted)
        select count(*) filter (where inserted) as inserted,
               count(*) filter (where not inserted) as updated,
               (select count(*) from {table} t where t.source = :source
                  and t.district_code = :district
                  and t.source_id <> all(cast(:source_id as text[]))) as absent
        from written
    """


def write_context(session: Session, recipe: Recipe, frame, attrs, report: ImportReport, *,
                  tolerance_m: float) -> None:
    """Check and write the roads or water of one district (see the module doc).

    Parameters
    ----------
    session
        The caller's session; nothing is committed here.
    recipe
        The import recipe (layer ``roads`` or ``water``, with its district).
    frame
        Features in EPSG:4490, already checked by ``lines_only``/``areas_or_lines``.
    attrs
        Their target attributes (``source_id``, ``kind``, ``name`` …), row for row.
    report
        Filled with the counts of inserted and updated rows and any notes.
    tolerance_m
        How far (metres) outside the district a feature may lie and still reach it.

    Raises
    ------
    ImportFailed
        The district is not loaded, a feature lies outside it, or an id belongs to another
        district.
    """
    table = CONTEXT_LAYERS[recipe.layer]
    lock_district(session, recipe.district)
    if session.get(District, recipe.district) is None:
        raise ImportFailed(msg("district {district} is not loaded; load it first (gridmap demo, "
                               "or import a districts layer)", district=recipe.district))
    source = recipe.source_name or f"district-{recipe.district}"
    params = {**_rows(recipe, frame, attrs), "district": recipe.district, "source": source}
    staged = _staged(recipe.layer)
    _check(session, recipe, table, source, staged, params, tolerance_m)
    counts = session.execute(text(_upsert(recipe.layer, table, staged)), params).one()
    report.inserted, report.updated = int(counts.inserted), int(counts.updated)
    if counts.absent:
        report.notes.append(msg("{count} {table} feature(s) of {source} in district "
                                "{district} are not in this file; kept", count=counts.absent,
                                table=table, source=source, district=recipe.district))
