"""Write districts, streets, communities and grids, then check what the import touched.

Geometries are written as WKB, every coordinate as the file gives it. After writing (before
the caller commits) the validator's own predicates run on each district touched — valid
geometry, each unit inside its parent and its parent around its children, no overlap between
siblings, codes of the district's profile — with the one containment tolerance of the
settings; any violation that names a feature of this import rejects the whole import. Grids go
through :func:`gridmap.grid.redraw.apply_grids` (a changed shape retires the old code and
issues a new one, with lineage), and buildings are reassigned and totals refreshed in the same
transaction.
"""
from __future__ import annotations

import pandas as pd
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap import codes as gcodes, reference
from gridmap.errors import ImportFailed, InvalidCode, ValidationFailed
from gridmap.i18n import joined, msg
from gridmap.geo import gauss_kruger_epsg, storage_ewkb
from gridmap.grid.assign import assign_district
from gridmap.grid.redraw import GridFeature, apply_grids
from gridmap.grid.validate import significant_area, violations_touching
from gridmap.ingest.recipe import Recipe
from gridmap.ingest.report import ImportReport
from gridmap.locks import lock_districts
from gridmap.models import Community, District, Street

# layer → (noun, model, code digits, parent model)
_AREA_LEVELS = {
    "districts": ("district", District, 6, None),
    "streets": ("street", Street, 9, District),
    "communities": ("community", Community, 12, Street),
}
_SHOWN = 5  # violations listed in the message; the count says how many more


def _label(recipe: Recipe, row: int, code: str | None) -> str:
    return f"{recipe.source.name} feature {row + 1}" + (f" (code {code})" if code else "")


def _text(attrs: pd.DataFrame, column: str, row: int) -> str | None:
    if column not in attrs:
        return None
    value = attrs[column].iloc[row]
    return None if pd.isna(value) else str(value)


def _reject_violations(violations, labels: dict[str, str]) -> None:
    """Raise one message listing the violations, the imported features' own ones first."""
    if not violations:
        return
    violations = sorted(violations, key=lambda v: v.codes[0] not in labels if v.codes else True)
    lines = []
    for v in violations[:_SHOWN]:
        where = next((labels[c] for c in v.codes if c in labels), None)
        lines.append(msg("{feature}: {detail}", feature=where, detail=v.detail) if where
                     else v.detail)
    if len(violations) > _SHOWN:
        raise ImportFailed(msg("{violations} (and {count} more)", violations=joined(lines),
                               count=len(violations) - _SHOWN))
    raise ImportFailed(joined(lines))


def _write_areas(session: Session, recipe: Recipe, frame, attrs, report: ImportReport,
                 options: dict) -> None:
    noun, model, digits, parent = _AREA_LEVELS[recipe.layer]
    codes = [str(c) for c in attrs["code"]]
    labels = {code: _label(recipe, row, code) for row, code in enumerate(codes)}
    names = [_text(attrs, "name", row) for row in range(len(codes))]
    for row, code in enumerate(codes):
        try:
            gcodes.check_division_code(code, noun)
            # official codes and names (gridmap.reference): refuses unofficial codes, fills
            # empty names, warns about names that differ from the official ones
            official = reference.check_official(session, noun, code, names[row],
                                                unofficial=recipe.unofficial)
        except InvalidCode as exc:
            raise ImportFailed(msg("{feature}: {detail}", feature=labels[code],
                                   detail=exc.detail)) from None
        names[row] = official.name
        report.warnings.extend(official.warnings)
    lock_districts(session, {c[:6] for c in codes})
    touched: list[str] = []
    for row, (code, geom) in enumerate(zip(codes, frame.geometry.values)):
        if parent is not None and session.get(parent, code[:digits - 3]) is None:
            raise ImportFailed(msg("{feature}: {level} {code} is not loaded",
                                   feature=labels[code], level=parent.__tablename__,
                                   code=code[:digits - 3]))
        name = names[row]
        obj = session.get(model, code)
        if obj is not None and obj.name == name and shapely.equals(to_shape(obj.geom), geom):
            continue  # unchanged: write nothing
        if obj is None:
            extra = ({"district_code": code[:6]} if model is Street
                     else {"street_code": code[:9]} if model is Community
                     else {"projected_epsg": gauss_kruger_epsg(geom.centroid.x)})
            obj = model(code=code, **extra)
            session.add(obj)
            report.inserted += 1
        else:
            report.updated += 1
        obj.name, obj.geom = name, storage_ewkb(geom)
        touched.append(code)
    session.flush()
    if not touched:
        return
    if model is District:
        _check_district_overlaps(session, touched, labels, options)
    violations = []
    for district in sorted({c[:6] for c in touched}):
        violations += violations_touching(session, district, touched, **options)
    _reject_violations(violations, labels)


def _check_district_overlaps(session: Session, touched: list[str], labels: dict[str, str],
                             options: dict) -> None:
    """Districts are siblings too: a district may not cover another one's ground."""
    rows = session.execute(text("""
        select a.code as a, b.code as b, a.projected_epsg as epsg,
               ST_AsBinary(ST_Transform(ST_Intersection(a.geom, b.geom), a.projected_epsg))
                 as shared
        from district a join district b on a.code < b.code and ST_Intersects(a.geom, b.geom)
        where a.code = any(:codes) or b.code = any(:codes)"""), {"codes": touched}).all()
    for row in rows:
        shared = shapely.from_wkb(row.shared)
        if significant_area(shared, tolerance_m=options["tolerance_m"],
                            min_area_m2=options["min_area_m2"]):
            mine = row.a if row.a in labels else row.b
            other = row.b if mine == row.a else row.a
            raise ImportFailed(msg("{feature}: overlaps district {other} by {area:.1f} m²; "
                                   "districts may not overlap", feature=labels[mine], other=other,
                                   area=shared.area))


def _grid_features(session: Session, recipe: Recipe, frame, attrs) -> list[GridFeature]:
    geoms = frame.geometry.values
    codes = [_text(attrs, "code", row) for row in range(len(frame))]
    communities = [_text(attrs, "community_code", row) for row in range(len(frame))]
    for row, code in enumerate(codes):
        if code is None:
            continue
        try:
            parts = gcodes.parse(code)
        except InvalidCode as exc:
            raise ImportFailed(msg("{recipe}: {detail}{session}",
                                   recipe=_label(recipe, row, code), detail=exc.detail,
                                   session=_profile_hint(session, code))) from None
        if communities[row] and communities[row] != parts.community_code:
            raise ImportFailed(msg("{recipe}: code {code} belongs to community "
                                   "{community_code}, the file says {given}",
                                   recipe=_label(recipe, row, code), code=code,
                                   community_code=parts.community_code, given=communities[row]))
        communities[row] = parts.community_code
    missing = [row for row, c in enumerate(communities) if c is None]
    if missing:
        found = _containing_communities(session, geoms[missing])
        for row, community in zip(missing, found):
            if community is None:
                raise ImportFailed(msg("{recipe} lies in no loaded community; load the "
                                       "communities first or give community_code",
                                       recipe=_label(recipe, row, None)))
            communities[row] = community
    kinds = (attrs["kind"].astype("string").fillna("residential") if "kind" in attrs
             else pd.Series(["residential"] * len(frame), dtype="string"))
    out = []
    for row, geom in enumerate(geoms):
        kind = str(kinds.iloc[row])
        if kind not in ("residential", "unit"):
            raise ImportFailed(msg("{recipe}: kind {kind!r}: expected residential or unit",
                                   recipe=_label(recipe, row, codes[row]), kind=kind))
        if session.get(Community, communities[row]) is None:
            raise ImportFailed(msg("{recipe}: community {community} is not loaded",
                                   recipe=_label(recipe, row, codes[row]),
                                   community=communities[row]))
        out.append(GridFeature(community_code=communities[row], kind=kind, geom=geom,
                               code=codes[row], name=_text(attrs, "name", row),
                               label=_label(recipe, row, codes[row])))
    return out


def _profile_hint(session: Session, code: str) -> str:
    """When a code's length is another profile's, the district it names and its profile: a
    20-digit code in a 15-digit district otherwise reads as a bad service-object prefix."""
    for district, profile in session.execute(text("select code, code_profile from district")):
        length = gcodes.PROFILES[profile].length
        if len(code) != length and district in (code[:6], code[6:12]):
            return (f"; district {district} uses profile {profile} ({length} digits), this code "
                    f"has {len(code)}")
    return ""


def _containing_communities(session: Session, geoms) -> list[str | None]:
    """The community holding each geometry's representative point (``None`` when none)."""
    points = shapely.to_wkb(shapely.point_on_surface(geoms))
    rows = session.execute(text("""
        select v.i, (select c.code from community c
                     where ST_Intersects(c.geom, ST_SetSRID(ST_GeomFromWKB(v.wkb), 4490))
                     order by c.code limit 1) as code
        from unnest(cast(:wkb as bytea[])) with ordinality as v(wkb, i) order by v.i"""),
        {"wkb": list(points)}).all()
    return [r.code for r in rows]


def _write_grids(session: Session, recipe: Recipe, frame, attrs, report: ImportReport,
                 options: dict) -> None:
    features = _grid_features(session, recipe, frame, attrs)
    districts = {f.community_code[:6] for f in features}
    lock_districts(session, districts)
    try:
        changes = apply_grids(session, features, replace="code" not in recipe.fields,
                              note=f"import {recipe.source.name}",
                              known_districts=options.get("known_districts"))
    except ValidationFailed as exc:
        raise ImportFailed(exc.detail) from None
    report.inserted = len(changes.inserted) - len(changes.redrawn)
    report.updated = len(changes.updated) + len(changes.redrawn)
    report.retired = len(changes.retired)
    report.notes += [f"grid {old} redrawn as {new}" for old, new in changes.redrawn]
    if not changes.changed:
        return
    labels = {f.code: f.label for f in features if f.code}
    labels.update({new: labels.get(old, new) for old, new in changes.redrawn})
    issued = [c for c in changes.inserted if c not in labels]
    labels.update({c: f"new grid {c}" for c in issued})
    violations = []
    for district in sorted(districts):
        violations += violations_touching(session, district, changes.touched, **options)
    _reject_violations(violations, labels)
    for district in sorted(districts):
        report.assignment = assign_district(session, district)


def write_hierarchy(session: Session, recipe: Recipe, frame, attrs, report: ImportReport,
                    *, tolerance_m: float, min_area_m2: float,
                    known_districts=None) -> None:
    """Write one hierarchy layer; raise :class:`ImportFailed` (nothing kept) on any problem."""
    options = {"tolerance_m": tolerance_m, "min_area_m2": min_area_m2,
               "known_districts": known_districts}
    if recipe.layer == "grids":
        _write_grids(session, recipe, frame, attrs, report, options)
    else:
        _write_areas(session, recipe, frame, attrs, report, options)

