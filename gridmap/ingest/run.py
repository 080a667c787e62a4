"""Run an import recipe: read → validate → normalise CRS → upsert, in the caller's transaction.

Nothing is written until every feature passed every check; a failure raises
:class:`~gridmap.errors.ImportFailed` naming the feature and the reason, and the caller's
rollback leaves the database as it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gridmap import codes as gcodes
from gridmap.errors import ImportFailed, InvalidCode
from gridmap.geo import gauss_kruger_epsg
from gridmap.grid.assign import assign_district
from gridmap.ingest.households import derive_households
from gridmap.ingest.normalise import (assign_crs, metric_crs, polygons_only,
                                      require_geometry, to_storage_crs)
from gridmap.ingest.read import read_source
from gridmap.ingest.recipe import REQUIRED_FIELDS, Recipe
from gridmap.models import CodeRegistryEntry, Community, District, Grid, Street


@dataclass
class ImportReport:
    layer: str
    source: str
    features: int = 0
    inserted: int = 0
    updated: int = 0
    repaired: int = 0
    assignment: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        text_ = (f"{self.source} → {self.layer}: {self.features} features, {self.inserted} "
                 f"new, {self.updated} updated, {self.repaired} repaired")
        if self.assignment:
            text_ += (f"; {self.assignment['assigned']} of {self.assignment['buildings']} "
                      f"buildings in a grid")
        return text_


def _attributes(frame: gpd.GeoDataFrame, recipe: Recipe) -> pd.DataFrame:
    """Target fields from source fields (mapping, defaults), checking required ones."""
    out = pd.DataFrame(index=frame.index)
    for target, source in recipe.fields.items():
        if source not in frame.columns:
            raise ImportFailed(f"{recipe.source.name}: field {source!r} (mapped to {target}) "
                               f"is missing; the source has "
                               f"{', '.join(c for c in frame.columns if c != 'geometry')}")
        out[target] = frame[source]
    for target, value in recipe.defaults.items():
        out[target] = out[target].fillna(value) if target in out else value
    for required in REQUIRED_FIELDS[recipe.layer]:
        if required not in out:
            raise ImportFailed(f"recipe for {recipe.layer} must map field {required!r}")
        empty = out[required].isna().to_numpy().nonzero()[0]
        if empty.size:
            raise ImportFailed(f"{recipe.source.name} feature {empty[0] + 1}: {required} is "
                               f"empty")
    for key in ("source_id", "code"):
        if key in out:
            out[key] = out[key].map(_as_text)
            dup = out[key][out[key].duplicated()]
            if len(dup):
                raise ImportFailed(f"{recipe.source.name}: {key} {dup.iloc[0]!r} appears "
                                   f"more than once")
    return out


def _as_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def prepare(recipe: Recipe) -> tuple[gpd.GeoDataFrame, pd.DataFrame, int]:
    """Read and check a source without touching the database.

    Returns the features in EPSG:4490, their target attributes and how many were repaired.
    """
    frame = assign_crs(read_source(recipe), recipe)
    if len(frame) == 0:
        raise ImportFailed(f"{recipe.source.name} holds no features")
    require_geometry(frame, recipe)
    frame = to_storage_crs(frame, recipe)
    before = ~shapely.is_valid(frame.geometry.values)
    frame = polygons_only(frame, recipe)
    attrs = _attributes(frame, recipe)
    if recipe.layer == "buildings" and recipe.households is not None:
        derived = derive_households(frame, frame.geometry.to_crs(metric_crs(frame)),
                                    recipe.households)
        for column in derived:
            attrs[column] = attrs[column].fillna(derived[column]) if column in attrs \
                else derived[column]
    return frame, attrs, int(before.sum())


_UPSERT_BUILDINGS = text("""
    insert into building (district_code, source, source_id, name, use, households, floors,
                          address, footprint)
    select :district, :source, v.source_id, v.name, coalesce(v.use, 'other'),
           coalesce(v.households, 0), v.floors, v.address,
           ST_Multi(ST_GeomFromWKB(v.wkb, 4490))
    from unnest(cast(:source_id as text[]), cast(:name as text[]), cast(:use as text[]),
                cast(:households as integer[]), cast(:floors as integer[]),
                cast(:address as text[]), cast(:wkb as bytea[]))
         as v(source_id, name, use, households, floors, address, wkb)
    on conflict (source, source_id) do update
       set name = excluded.name, use = excluded.use, households = excluded.households,
           floors = excluded.floors, address = excluded.address,
           footprint = excluded.footprint, district_code = excluded.district_code
       where (building.name, building.use, building.households, building.floors,
              building.address, building.district_code)
             is distinct from (excluded.name, excluded.use, excluded.households,
                               excluded.floors, excluded.address, excluded.district_code)
          or not ST_Equals(building.footprint, excluded.footprint)
    returning (xmax = 0) as inserted
""")


def _column(attrs: pd.DataFrame, name: str, kind=str) -> list:
    if name not in attrs:
        return [None] * len(attrs)
    return [None if pd.isna(v) else kind(v) for v in attrs[name]]


def _write_buildings(session: Session, recipe: Recipe, frame, attrs, report) -> None:
    if session.get(District, recipe.district) is None:
        raise ImportFailed(f"district {recipe.district} is not loaded; load it first "
                           f"(gridmap demo, or import a districts layer)")
    rows = session.execute(_UPSERT_BUILDINGS, {
        "district": recipe.district, "source": recipe.source_name,
        "source_id": _column(attrs, "source_id"), "name": _column(attrs, "name"),
        "use": _column(attrs, "use"), "households": _column(attrs, "households", int),
        "floors": _column(attrs, "floors", int), "address": _column(attrs, "address"),
        "wkb": list(shapely.to_wkb(frame.geometry.values)),
    }).scalars().all()
    report.inserted = sum(1 for r in rows if r)
    report.updated = len(rows) - report.inserted
    report.assignment = assign_district(session, recipe.district)


def _multi(geometry) -> str:
    return shapely.to_wkt(shapely.multipolygons(shapely.get_parts(geometry)))


def _write_hierarchy(session: Session, recipe: Recipe, frame, attrs, report) -> None:
    for row, (code, geom) in enumerate(zip(attrs["code"], frame.geometry.values)):
        wkt = f"SRID=4490;{_multi(geom)}"
        name = attrs["name"].iloc[row] if "name" in attrs else None
        where = f"{recipe.source.name} feature {row + 1} (code {code})"
        try:
            obj, existed = _hierarchy_object(session, recipe.layer, code, name, wkt, geom,
                                             attrs, row)
        except InvalidCode as exc:
            raise ImportFailed(f"{where}: {exc.detail}") from None
        except LookupError as exc:
            raise ImportFailed(f"{where}: {exc.args[0]}") from None
        if obj is None:
            continue
        report.updated += existed
        report.inserted += not existed
        session.add(obj)
    session.flush()


# layer → (noun, model, code digits, parent model, parent key column); the parent's code is
# the child's code less its last three digits.
_AREA_LEVELS = {
    "districts": ("district", District, 6, None, None),
    "streets": ("street", Street, 9, District, "district_code"),
    "communities": ("community", Community, 12, Street, "street_code"),
}


_OUTSIDE_M2 = 1.0  # area outside the parent that makes a feature a violation


def _check_inside(session, parent, parent_code: str, wkt: str) -> None:
    """A child must lie inside its parent (DESIGN.md §1); raise naming the area outside."""
    outside = session.execute(text(
        f"select ST_Area(ST_Difference(ST_GeomFromEWKT(:wkt), p.geom)::geography) "
        f"from {parent.__tablename__} p where p.code = :code"),
        {"wkt": wkt, "code": parent_code}).scalar()
    if outside is not None and outside > _OUTSIDE_M2:
        raise LookupError(f"extends {outside:.1f} m² outside its parent "
                          f"{parent.__tablename__} {parent_code}")


def _area_object(session, layer, code, name, wkt, geom):
    noun, model, digits, parent, parent_key = _AREA_LEVELS[layer]
    if len(code) != digits or not code.isdigit():
        raise InvalidCode(f"{noun} code {code!r}: expected {digits} digits")
    if digits >= 9:
        gcodes.street_kind(code[6:9])
    if digits >= 12:
        gcodes.community_kind(code[9:12])
    if parent is not None:
        if session.get(parent, code[:digits - 3]) is None:
            raise LookupError(f"{parent.__tablename__} {code[:digits - 3]} is not loaded")
        _check_inside(session, parent, code[:digits - 3], wkt)
    obj = session.get(model, code)
    if obj is not None and obj.name == name and session.scalar(
            select(func.ST_Equals(model.geom, func.ST_GeomFromEWKT(wkt)))
            .where(model.code == code)):
        return None, True  # unchanged: write nothing
    existed = obj is not None
    if obj is None:
        extra = ({parent_key: code[:digits - 3]} if parent_key
                 else {"projected_epsg": gauss_kruger_epsg(geom.centroid.x)})
        obj = model(code=code, **extra)
    obj.name, obj.geom = name, wkt
    return obj, existed


def _hierarchy_object(session, layer, code, name, wkt, geom, attrs, row):
    if layer in _AREA_LEVELS:
        return _area_object(session, layer, code, name, wkt, geom)
    parts = gcodes.parse(code)
    if session.get(Community, parts.community_code) is None:
        raise LookupError(f"community {parts.community_code} is not loaded")
    _check_inside(session, Community, parts.community_code, wkt)
    entry = session.get(CodeRegistryEntry, code)
    if entry is not None and entry.status == "retired":
        raise LookupError(f"code {code} was retired; a retired code is never used again")
    if entry is None:
        session.add(CodeRegistryEntry(code=code, community_code=parts.community_code,
                                      sequence=parts.sequence, status="issued"))
    kind = str(attrs["kind"].iloc[row])
    if kind not in ("residential", "unit"):
        raise LookupError(f"kind {kind!r}: expected residential or unit")
    obj = session.execute(select(Grid).where(Grid.code == code)).scalar_one_or_none()
    existed = obj is not None
    obj = obj or Grid(code=code, district_code=parts.district, street_code=parts.street_code,
                      community_code=parts.community_code, sequence=parts.sequence)
    obj.kind, obj.name, obj.geom = kind, name, wkt
    return obj, existed


def import_recipe(session: Session, recipe: Recipe) -> ImportReport:
    """Import one recipe into the session's transaction (the caller commits)."""
    frame, attrs, repaired = prepare(recipe)
    report = ImportReport(layer=recipe.layer, source=recipe.source.name, features=len(frame),
                          repaired=repaired)
    if recipe.layer == "buildings":
        _write_buildings(session, recipe, frame, attrs, report)
    else:
        _write_hierarchy(session, recipe, frame, attrs, report)
    return report
