"""Import facilities from points (OSM .osm/.pbf, GeoPackage, GeoJSON…) through a recipe.

Read → classify by the recipe's rules → check the CRS (the ingest checks: a file without CRS
needs one, every point must land in China as CGCS2000) → upsert by ``(source, source id)``:
a record seen before keeps its facility and ID (its point and name are updated), a new one
gets a new ID from the serial counter. All in the caller's transaction: all or nothing. The
district's lock makes two imports into one district run one after the other.

Records that do not become facilities are counted with their reason: no rule matches (most
OSM points are not facilities), not a point, no id, an id given twice in the file, a retired
facility (never revived by an import), or a stored facility of another class (kept as it is:
its ID carries its class).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from gridmap.audit import record
from gridmap.errors import ImportFailed
from gridmap.facilities.grids import assign_facility_grids
from gridmap.facilities.recipe import FacilityRecipe
from gridmap.facilities.serials import issue_ids
from gridmap.geo import STORAGE_SRID
from gridmap.i18n import msg
from gridmap.ingest import osm
from gridmap.ingest.normalise import assign_crs, to_storage_crs
from gridmap.locks import lock_district
from gridmap.models import District
from gridmap.models.facility import ComponentClass, Facility

OSM_LAYER = "points"
#: Columns of the records :func:`store_records` takes (beside their point geometry).
SOURCE_ID, NAME, CLASS = "_source_id", "_name", "_class"


@dataclass
class FacilityImport:
    """What an import did: per class, new / updated / unchanged; skipped by reason."""

    source: str
    read: int = 0
    new: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    outside_grids: int = 0
    moved: list[str] = field(default_factory=list)  # IDs whose point changed

    def lines(self, names: dict[str, str] | None = None) -> list[str]:
        """The report: a total line, one line per class, one per reason of skipping."""
        names = names or {}
        out = [str(msg("{source}: {read} records, {new} new facilities, {updated} updated, "
                       "{unchanged} unchanged, {skipped} skipped, {outside} outside every grid",
                       source=self.source, read=self.read, new=sum(self.new.values()),
                       updated=sum(self.updated.values()),
                       unchanged=sum(self.unchanged.values()),
                       skipped=sum(self.skipped.values()), outside=self.outside_grids))]
        for code in sorted(set(self.new) | set(self.updated) | set(self.unchanged)):
            out.append(str(msg("  {code} {name}: {new} new, {updated} updated, {unchanged} "
                               "unchanged", code=code, name=names.get(code, ""),
                               new=self.new[code], updated=self.updated[code],
                               unchanged=self.unchanged[code])))
        for reason, count in sorted(self.skipped.items()):
            out.append(str(msg("  skipped {count}: {reason}", count=count, reason=reason)))
        return out


@dataclass(frozen=True)
class _CrsCheck:
    """What the ingest's CRS checks (:mod:`gridmap.ingest.normalise`) read of a recipe."""

    source: Path
    crs: str | int | None
    fields: dict


def _first_line(exc: BaseException) -> str:
    text_ = str(exc).strip()
    return text_.splitlines()[0] if text_ else type(exc).__name__


def read_points(path: Path, recipe: FacilityRecipe, *, crs: str | None = None,
                source_layer: str | None = None, source_id: str | None = None
                ) -> gpd.GeoDataFrame:
    """The file's records with the recipe's tag columns, ``_source_id`` and ``_name``, in
    EPSG:4490 (options override the recipe's ``crs``, ``source_layer`` and ``source_id``)."""
    if not path.exists():
        raise ImportFailed(msg("source file {path} does not exist", path=path))
    layer = source_layer or recipe.source_layer
    is_osm = osm.is_osm(path)
    try:
        if is_osm:
            frame = pyogrio.read_dataframe(path, layer=layer or OSM_LAYER)
            frame, _ = osm.expand_tags(frame, recipe.tag_keys())
            frame = osm.add_ids(frame, layer or OSM_LAYER)
        else:
            if layer is None and len(pyogrio.list_layers(path)) > 1:
                names = ", ".join(str(n) for n in pyogrio.list_layers(path)[:, 0])
                raise ImportFailed(msg("{name} holds several layers ({items}); say which with "
                                       "--source-layer", name=path.name, items=names))
            frame = pyogrio.read_dataframe(path, layer=layer)
    except (DataSourceError, DataLayerError) as exc:
        raise ImportFailed(msg("cannot read {name}: {error}", name=path.name,
                               error=_first_line(exc))) from None
    id_column = source_id or recipe.source_id or (osm.ID_COLUMN if is_osm else None)
    if id_column is None or id_column not in frame.columns:
        raise ImportFailed(msg("{name}: id column {column!r} is missing (source_id: in the "
                               "recipe or --source-id); the file has {items}", name=path.name,
                               column=id_column,
                               items=", ".join(c for c in frame.columns if c != "geometry")))
    frame[SOURCE_ID] = frame[id_column].map(
        lambda v: None if pd.isna(v) else str(v).removesuffix(".0").strip() or None)
    frame[NAME] = frame[recipe.name] if recipe.name in frame.columns else None
    check = _CrsCheck(path, crs or recipe.crs, {"source_id": SOURCE_ID})
    frame = assign_crs(frame, check)
    # Records without a point stay (and are counted as skipped); the rest are checked and
    # brought to CGCS2000 by the ingest's rules.
    present = (frame.geometry.notna() & ~frame.geometry.is_empty).to_numpy()
    geoms = np.full(len(frame), None, dtype=object)
    if present.any():
        geoms[present] = to_storage_crs(frame[present], check).geometry.to_numpy()
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=STORAGE_SRID))


def classify(frame: pd.DataFrame, recipe: FacilityRecipe) -> pd.Series:
    """The class of each record by the first rule that matches (None: no rule)."""
    result = pd.Series(None, index=frame.index, dtype="object")
    for rule in recipe.rules:
        hit = pd.Series(True, index=frame.index)
        for key, values in rule.when:
            column = frame[key] if key in frame.columns else pd.Series(None, index=frame.index)
            hit &= column.notna() if values is None else column.astype(str).isin(values)
        result = result.where(result.notna() | ~hit, rule.class_code)
    return result


def import_facilities(session: Session, path: Path | str, recipe: FacilityRecipe, *,
                      district: str, crs: str | None = None, source_layer: str | None = None,
                      source_id: str | None = None) -> FacilityImport:
    """Import the points of ``path`` into ``district`` (see the module docstring); the caller
    commits.

    Raises
    ------
    ImportFailed
        Missing or unreadable file, no CRS, points outside China, an unknown district, a
        recipe naming classes that are not loaded.
    """
    path = Path(path)
    if session.get(District, district) is None:
        raise ImportFailed(msg("district {code!r} is not loaded", code=district))
    loaded = set(session.execute(select(ComponentClass.code)).scalars())
    missing = sorted({r.class_code for r in recipe.rules} - loaded)
    if missing:
        raise ImportFailed(msg("recipe {path} names classes {codes} that are not loaded "
                               "(gridmap taxonomy load)", path=recipe.path.name,
                               codes=", ".join(missing)))
    frame = read_points(path, recipe, crs=crs, source_layer=source_layer, source_id=source_id)
    frame[CLASS] = classify(frame, recipe)
    return store_records(session, frame, source=recipe.source_name, district=district,
                         label=path.name)


def store_records(session: Session, frame: gpd.GeoDataFrame, *, source: str, district: str,
                  label: str) -> FacilityImport:
    """Upsert records (columns :data:`SOURCE_ID`, :data:`NAME`, :data:`CLASS`, points in
    EPSG:4490) of ``source`` as facilities of ``district``; ``label`` names them in the
    report and the audit trail."""
    classes = {c.code: c for c in session.execute(select(ComponentClass)).scalars()}
    report = FacilityImport(source=label, read=len(frame))
    frame = _drop(frame, report)
    lock_district(session, district)
    stored = _stored(session, source, frame[SOURCE_ID].tolist())
    known = frame[SOURCE_ID].isin(stored.index)
    _update(session, frame[known], stored, report)
    new = _insert(session, frame[~known].copy(), source, district, classes, report)
    assign_facility_grids(session, new + report.moved)
    if len(frame):
        report.outside_grids = session.execute(text(
            "select count(*) from facility where source = :s and source_id = any(:ids) "
            "and grid_id is null and in_use"),
            {"s": source, "ids": frame[SOURCE_ID].tolist()}).scalar()
    record(session, action="facility.import", table="facility", key=label,
           after={"district": district, "source": source, "new": dict(report.new),
                  "updated": dict(report.updated), "skipped": dict(report.skipped)})
    return report


def _drop(frame: gpd.GeoDataFrame, report: FacilityImport) -> gpd.GeoDataFrame:
    """Keep the records that can be facilities; count the others by reason."""
    reasons = [
        (frame[CLASS].isna(), msg("no rule of the recipe matches (not a facility)")),
        (~frame.geometry.notna() | (frame.geom_type != "Point"),
         msg("not a point (or no geometry)")),
        (frame[SOURCE_ID].isna(), msg("no id")),
    ]
    keep = pd.Series(True, index=frame.index)
    for mask, reason in reasons:
        dropped = keep & mask.to_numpy()
        if dropped.any():
            report.skipped[str(reason)] += int(dropped.sum())
        keep &= ~dropped
    frame = frame[keep]
    twice = frame[SOURCE_ID].duplicated(keep="first")
    if twice.any():
        report.skipped[str(msg("id given twice in the file (the first is kept)"))] += \
            int(twice.sum())
    return frame[~twice]


def _stored(session: Session, source: str, ids: list[str]) -> pd.DataFrame:
    rows = session.execute(text(
        "select source_id, id, class_code, in_use, name, ST_AsBinary(geom) as wkb "
        "from facility where source = :s and source_id = any(:ids)"),
        {"s": source, "ids": ids}).all()
    out = pd.DataFrame(rows, columns=["source_id", "id", "class_code", "in_use", "name", "wkb"])
    return out.set_index("source_id")


def _ewkb(geoms) -> np.ndarray:
    return shapely.to_wkb(shapely.set_srid(np.asarray(geoms), STORAGE_SRID), hex=True,
                          include_srid=True)


def _text_or_none(value) -> str | None:
    return None if value is None or pd.isna(value) else str(value)[:200]


def _update(session: Session, frame: gpd.GeoDataFrame, stored: pd.DataFrame,
            report: FacilityImport) -> None:
    if not len(frame):
        return
    old = stored.loc[frame[SOURCE_ID]]
    retired = ~old["in_use"].to_numpy(dtype=bool)
    other = old["class_code"].to_numpy() != frame[CLASS].to_numpy()
    if retired.any():
        report.skipped[str(msg("retired facility (an import never revives one)"))] += \
            int(retired.sum())
    other &= ~retired
    if other.any():
        report.skipped[str(msg("stored with another class (kept: its ID carries its class)"))] \
            += int(other.sum())
    live = ~retired & ~other
    frame, old = frame[live], old[live]
    moved = ~shapely.equals_exact(shapely.from_wkb(old["wkb"].map(bytes).to_numpy()),
                                  frame.geometry.to_numpy(), tolerance=0)
    names = [_text_or_none(v) for v in frame[NAME]]
    renamed = np.array([a != _text_or_none(b) for a, b in zip(names, old["name"])],
                       dtype=bool)
    changed = moved | renamed
    rows = [{"id": i, "geom": g, "name": n}
            for i, g, n, c in zip(old["id"], _ewkb(frame.geometry.to_numpy()), names, changed)
            if c]
    if rows:
        session.execute(update(Facility), rows)
    report.moved = [str(i) for i in old["id"].to_numpy()[moved]]
    for code, is_changed in zip(frame[CLASS], changed):
        (report.updated if is_changed else report.unchanged)[code] += 1


def _insert(session: Session, frame: gpd.GeoDataFrame, source: str, district: str,
            classes: dict[str, ComponentClass], report: FacilityImport) -> list[str]:
    """Insert the new records with IDs issued per class; return the IDs."""
    frame["_id"] = None
    for code, group in frame.groupby(CLASS, sort=True):
        frame.loc[group.index, "_id"] = issue_ids(session, district, code, len(group))
        report.new[code] += len(group)
    if not len(frame):
        return []
    rows = [{"id": i, "district_code": district, "class_code": c, "name": _text_or_none(n),
             "owner_department": classes[c].department_code,
             "maintainer_department": classes[c].department_code, "geom": g,
             "source": source, "source_id": s}
            for i, c, n, g, s in zip(frame["_id"], frame[CLASS], frame[NAME],
                                     _ewkb(frame.geometry.to_numpy()), frame[SOURCE_ID])]
    session.execute(Facility.__table__.insert(), rows)
    return list(frame["_id"])
