"""Validity of a district's hierarchy: small predicates run by one validator.

Each check takes a :class:`Snapshot` (GeoDataFrames in the district's projected CRS) and returns
:class:`Violation` objects naming the codes involved, what is wrong (area in m² or households)
and where (a lon/lat point in CGCS2000). :data:`CHECKS` is the registry the validator runs.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Collection

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap import codes as gcodes
from gridmap.geo import STORAGE_SRID, transformer
from gridmap.i18n import Message, msg, render
from gridmap.grid.assign import assign_buildings_to_grids
from gridmap.grid.overlaps import DUPLICATE_SHARE, overlapping_pairs
from gridmap.grid.frames import (load_buildings, load_communities, load_district, load_grids,
                                 load_streets, projected_epsg)


@dataclass(frozen=True)
class Violation:
    check: str
    codes: tuple[str, ...]
    detail: str | Message  # a lazy message: the reader's language where it is shown
    location: tuple[float, float] | None = None  # lon, lat in EPSG:4490

    def as_dict(self) -> dict:
        """The violation as JSON data, its detail in the locale in force (the request's in
        the web app, the environment's in the CLI)."""
        data = asdict(self)
        data["detail"] = render(self.detail)
        data["codes"] = list(self.codes)
        data["location"] = list(self.location) if self.location else None
        return data


@dataclass
class Snapshot:
    """What the checks look at; every geometry in the projected CRS ``epsg``."""

    epsg: int
    district: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    min_households: int = 250
    max_households: int = 500
    tolerance_m: float = 0.5
    min_area_m2: float = 1.0
    profile: str = "gbt30428"
    known_districts: Collection[str] | None = None
    _labels: np.ndarray | None = field(default=None, repr=False)

    def where(self, geometry: BaseGeometry) -> tuple[float, float] | None:
        """A lon/lat point on ``geometry`` for the report."""
        if geometry is None or geometry.is_empty:
            return None
        point = geometry.representative_point()
        lon, lat = transformer(self.epsg, STORAGE_SRID).transform(point.x, point.y)
        return (round(lon, 7), round(lat, 7))

    def building_labels(self) -> np.ndarray:
        """Grid index (row of ``grids``) each building falls in by the assignment rule."""
        if self._labels is None:
            self._labels = assign_buildings_to_grids(self.buildings.geometry.values,
                                                     self.grids.geometry.values)
        return self._labels


def significant_area(geom: BaseGeometry, *, tolerance_m: float, min_area_m2: float) -> bool:
    """Larger than the reporting area and wider than the tolerance (projected CRS): a sliver
    a few millimetres wide (left by coordinate precision along a shared edge) is not a gap, an
    overlap or a part outside the parent. The one rule for the validator and the import."""
    return geom.area > min_area_m2 and not shapely.buffer(geom, -tolerance_m / 2).is_empty


def _significant(snap: Snapshot, geom: BaseGeometry) -> bool:
    return significant_area(geom, tolerance_m=snap.tolerance_m, min_area_m2=snap.min_area_m2)


# -- the levels of the hierarchy, child → parent ---------------------------------------------

#: The levels' names as the details show them (lazy: rendered in the reader's language).
_NAME = {"district": msg("district"), "street": msg("street"), "community": msg("community"),
         "grid": msg("grid")}
_PLURAL = {"grid": msg("grids"), "community": msg("communities"), "street": msg("streets")}


def _levels(snap: Snapshot) -> list[tuple[str, gpd.GeoDataFrame, str, gpd.GeoDataFrame, str]]:
    """(level name, children, parent key column, parents, parent code column)."""
    return [
        ("grid", snap.grids, "community_code", snap.communities, "code"),
        ("community", snap.communities, "street_code", snap.streets, "code"),
        ("street", snap.streets, "district_code", snap.district, "code"),
    ]


def check_valid_geometry(snap: Snapshot) -> list[Violation]:
    out = []
    for level, frame in (("district", snap.district), ("street", snap.streets),
                         ("community", snap.communities), ("grid", snap.grids)):
        geoms = frame.geometry.values
        bad = ~shapely.is_valid(geoms)
        for row in np.nonzero(bad)[0]:
            reason = shapely.is_valid_reason(geoms[row])
            out.append(Violation("valid_geometry", (frame["code"].iloc[row],),
                                 msg("{level} geometry is invalid: {reason}",
                                     level=_NAME[level], reason=reason),
                                 snap.where(shapely.make_valid(geoms[row]))))
    return out


def check_within_parent(snap: Snapshot) -> list[Violation]:
    out = []
    for level, children, key, parents, _ in _levels(snap):
        by_code = dict(zip(parents["code"], shapely.buffer(parents.geometry.values,
                                                           snap.tolerance_m)))
        allowed = np.array([by_code.get(c) for c in children[key]], dtype=object)
        known = ~shapely.is_missing(allowed)
        geoms = children.geometry.values
        outside = np.full(len(geoms), None, dtype=object)
        outside[known] = shapely.difference(geoms[known], allowed[known])
        for row, (code, parent_code) in enumerate(zip(children["code"], children[key])):
            if not known[row]:
                out.append(Violation("within_parent", (code, parent_code),
                                     msg("{level} {code} names parent {parent}, which is not "
                                         "loaded", level=_NAME[level], code=code,
                                         parent=parent_code), snap.where(geoms[row])))
            elif _significant(snap, outside[row]):
                out.append(Violation("within_parent", (code, parent_code),
                                     msg("{level} {code} extends {area:.1f} m² outside its "
                                         "parent {parent} (tolerance {tolerance} m)",
                                         level=_NAME[level], code=code,
                                         area=outside[row].area, parent=parent_code,
                                         tolerance=snap.tolerance_m),
                                     snap.where(outside[row])))
    return out


def check_no_overlap(snap: Snapshot) -> list[Violation]:
    out = []
    for level, children, key, _, _ in _levels(snap):
        geoms = children.geometry.values
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        keep = (left < right) & (children[key].values[left] == children[key].values[right])
        for a, b in zip(left[keep], right[keep]):
            shared = shapely.intersection(geoms[a], geoms[b])
            if _significant(snap, shared):
                codes = (children["code"].iloc[a], children["code"].iloc[b])
                out.append(Violation("no_overlap", codes,
                                     msg("{levels} {first} and {second} overlap by "
                                         "{area:.1f} m²", levels=_PLURAL[level],
                                         first=codes[0], second=codes[1], area=shared.area),
                                     snap.where(shared)))
    return out


def check_no_gap(snap: Snapshot) -> list[Violation]:
    out = []
    for level, children, key, parents, _ in _levels(snap):
        for parent_code, parent in zip(parents["code"], parents.geometry.values):
            mine = children.geometry.values[children[key].values == parent_code]
            covered = shapely.union_all(mine) if len(mine) else shapely.Polygon()
            gap = shapely.difference(parent, covered)
            for part in shapely.get_parts(gap):
                if _significant(snap, part):
                    out.append(Violation("no_gap", (parent_code,),
                                         msg("{area:.1f} m² of {parent} is covered by no "
                                             "{level}", area=part.area, parent=parent_code,
                                             level=_NAME[level]), snap.where(part)))
    return out


def check_building_in_one_grid(snap: Snapshot) -> list[Violation]:
    out = []
    labels = snap.building_labels()
    grid_ids = snap.grids["id"].to_numpy()
    codes_by_id = dict(zip(snap.grids["id"], snap.grids["code"]))
    expected = np.where(labels >= 0, grid_ids[np.maximum(labels, 0)], -1)
    stored = snap.buildings["grid_id"].fillna(-1).astype(int).to_numpy()
    for row in np.nonzero((expected == -1) | (expected != stored))[0]:
        building = snap.buildings.iloc[row]
        ident = msg("building {id} ({name})", id=building["source_id"],
                    name=building["name"]) if isinstance(building["name"], str) \
            else msg("building {id}", id=building["source_id"])
        geom = building.geometry
        if expected[row] == -1:
            out.append(Violation("building_in_one_grid", (),
                                 msg("{building} lies in no active grid", building=ident),
                                 snap.where(geom)))
        else:
            now = codes_by_id.get(stored[row], msg("none"))
            out.append(Violation("building_in_one_grid", (codes_by_id[expected[row]],),
                                 msg("{building} is recorded in grid {recorded} but lies in "
                                     "grid {actual}; re-run the assignment", building=ident,
                                     recorded=now, actual=codes_by_id[expected[row]]),
                                 snap.where(geom)))
    return out


def check_buildings_overlap(snap: Snapshot) -> list[Violation]:
    """Two building footprints covering largely the same ground are one building counted
    twice (imported under two sources, or an OSM ``building:part`` kept as a building)."""
    out = []
    pairs = overlapping_pairs(snap.buildings.geometry.values)
    ids = snap.buildings["source_id"].to_numpy()
    sources = (snap.buildings["source"].to_numpy() if "source" in snap.buildings
               else np.full(len(ids), ""))
    geoms = snap.buildings.geometry.values
    for a, b, share in zip(pairs.left, pairs.right, pairs.share):
        out.append(Violation("buildings_overlap", (),
                             msg("buildings {first} and {second} overlap by {share:.0%} of "
                                 "the smaller footprint (more than {limit:.0%} is one building "
                                 "counted twice)", first=f"{sources[a]}:{ids[a]}",
                                 second=f"{sources[b]}:{ids[b]}", share=share,
                                 limit=DUPLICATE_SHARE),
                             snap.where(shapely.intersection(geoms[a], geoms[b]))))
    return out


def check_household_bounds(snap: Snapshot) -> list[Violation]:
    out = []
    totals = snap.buildings.groupby("grid_id")["households"].sum()
    for grid in snap.grids.itertuples():
        if grid.kind != "residential":
            continue
        total = int(totals.get(grid.id, 0))
        if not snap.min_households <= total <= snap.max_households:
            out.append(Violation("household_bounds", (grid.code,),
                                 msg("residential grid {code} holds {total} households; "
                                     "expected {low}–{high}", code=grid.code, total=total,
                                     low=snap.min_households, high=snap.max_households),
                                 snap.where(grid.geometry)))
        if total != grid.households:
            out.append(Violation("household_bounds", (grid.code,),
                                 msg("grid {code} records {recorded} households but its "
                                     "buildings hold {total}; refresh the totals",
                                     code=grid.code, recorded=grid.households, total=total),
                                 snap.where(grid.geometry)))
    return out


def check_codes(snap: Snapshot) -> list[Violation]:
    out = []
    counts = snap.grids["code"].value_counts()
    for code in counts[counts > 1].index:
        out.append(Violation("codes", (code,), msg("code {code} is used by {count} grids",
                                                    code=code, count=int(counts[code]))))
    for grid in snap.grids.itertuples():
        try:
            parts = gcodes.parse(grid.code, snap.profile, known_districts=snap.known_districts)
        except gcodes.InvalidCode as exc:
            out.append(Violation("codes", (grid.code,), exc.detail, snap.where(grid.geometry)))
            continue
        if parts.community_code != grid.community_code or parts.sequence != grid.sequence:
            out.append(Violation("codes", (grid.code,),
                                 msg("code {code} says community {community} sequence "
                                     "{sequence}; the grid is in {actual_community} with "
                                     "sequence {actual_sequence}", code=grid.code,
                                     community=parts.community_code, sequence=parts.sequence,
                                     actual_community=grid.community_code,
                                     actual_sequence=grid.sequence),
                                 snap.where(grid.geometry)))
    return out


def sequence_row_height(geoms: np.ndarray) -> float:
    """Row height for west→east, north→south numbering: the typical grid's size."""
    return max(50.0, float(np.median(np.sqrt(shapely.area(geoms))))) if len(geoms) else 50.0


def check_sequence_order(snap: Snapshot) -> list[Violation]:
    """Grids issued together in a community are numbered west→east, then north→south."""
    out = []
    grids = snap.grids
    for (community, _), batch in grids.groupby(["community_code", "valid_from"]):
        if len(batch) < 2:
            continue
        points = shapely.point_on_surface(batch.geometry.values)
        order = gcodes.spatial_sequence_order(
            shapely.get_x(points), shapely.get_y(points),
            row_height=sequence_row_height(batch.geometry.values))
        expected = batch["code"].to_numpy()[order]
        actual = batch.sort_values("sequence")["code"].to_numpy()
        if list(expected) != list(actual):
            out.append(Violation("sequence_order", tuple(actual),
                                 msg("grids of community {community} are numbered {actual}; "
                                     "west→east, north→south order is {expected}",
                                     community=community, actual=", ".join(actual),
                                     expected=", ".join(expected))))
    return out


CHECKS: dict[str, Callable[[Snapshot], list[Violation]]] = {
    "valid_geometry": check_valid_geometry,
    "within_parent": check_within_parent,
    "no_overlap": check_no_overlap,
    "no_gap": check_no_gap,
    "building_in_one_grid": check_building_in_one_grid,
    "buildings_overlap": check_buildings_overlap,
    "household_bounds": check_household_bounds,
    "codes": check_codes,
    "sequence_order": check_sequence_order,
}


def run_checks(snap: Snapshot, checks: Collection[str] | None = None) -> list[Violation]:
    """Run the named checks (all by default) and return every violation, in check order."""
    names = list(CHECKS) if checks is None else list(checks)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise KeyError(f"unknown checks {unknown}; known: {', '.join(CHECKS)}")
    violations: list[Violation] = []
    for name in names:
        violations.extend(CHECKS[name](snap))
    return violations


def load_snapshot(session: Session, district_code: str, *, tolerance_m: float = 0.5,
                  min_area_m2: float = 1.0,
                  known_districts: Collection[str] | None = None,
                  with_buildings: bool = True) -> Snapshot:
    """Read a district's hierarchy (and buildings, unless ``with_buildings`` is false) from
    PostGIS into a :class:`Snapshot`."""
    epsg = projected_epsg(session, district_code)
    row = session.execute(text("select min_households, max_households, code_profile "
                               "from district where code = :c"), {"c": district_code}).one()
    kw = dict(district_code=district_code, epsg=epsg)
    return Snapshot(epsg=epsg, district=load_district(session, **kw),
                    streets=load_streets(session, **kw),
                    communities=load_communities(session, **kw),
                    grids=load_grids(session, **kw),
                    buildings=(load_buildings(session, **kw) if with_buildings
                               else _no_buildings(epsg)),
                    min_households=row.min_households, max_households=row.max_households,
                    tolerance_m=tolerance_m, min_area_m2=min_area_m2, profile=row.code_profile,
                    known_districts=known_districts)


def _no_buildings(epsg: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [], "source": [], "source_id": [], "name": [],
                             "households": [], "grid_id": []}, geometry=[], crs=epsg)


HIERARCHY_CHECKS = ("valid_geometry", "within_parent", "no_overlap", "codes")
"""The checks an import of districts, streets, communities or grids must pass for every
feature it touches (gaps are allowed while a hierarchy is being loaded piece by piece)."""


def violations_touching(session: Session, district_code: str, touched: Collection[str], *,
                        checks: Collection[str] = HIERARCHY_CHECKS,
                        **options) -> list[Violation]:
    """Violations of ``checks`` in one district that name any of the ``touched`` codes.

    The import runs this after writing (before commit): the same predicates and the same
    tolerance as ``gridmap validate``, so what an import accepts the validator accepts.
    """
    touched = set(touched)
    snap = load_snapshot(session, district_code, with_buildings=False, **options)
    return [v for v in run_checks(snap, checks) if touched.intersection(v.codes)]


def validate_district(session: Session, district_code: str, **options) -> list[Violation]:
    return run_checks(load_snapshot(session, district_code, **options))


def violations_frame(violations: list[Violation]) -> pd.DataFrame:
    return pd.DataFrame([v.as_dict() for v in violations],
                        columns=["check", "codes", "detail", "location"])
