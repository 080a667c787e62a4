"""Write districts, streets, communities and grids, each checked against its parent."""
from __future__ import annotations

import shapely
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gridmap import codes as gcodes
from gridmap.errors import ImportFailed, InvalidCode
from gridmap.geo import gauss_kruger_epsg
from gridmap.ingest.recipe import Recipe
from gridmap.ingest.report import ImportReport
from gridmap.models import CodeRegistryEntry, Community, District, Grid, Street


def _multi(geometry) -> str:
    return shapely.to_wkt(shapely.multipolygons(shapely.get_parts(geometry)))


def write_hierarchy(session: Session, recipe: Recipe, frame, attrs,
                    report: ImportReport) -> None:
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
