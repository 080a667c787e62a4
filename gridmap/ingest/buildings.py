"""Write buildings: staged by COPY, checked in PostGIS, labelled with their grid, upserted.

A building's identity is ``(source, source_id)``: the source names who issued the ids (``osm``,
a survey, an agency), never a file name. Without ``source_name`` the ids are the district's own
(``district-<code>``), so two files of two districts never overwrite each other. Before
anything is written, within the caller's transaction and under the district's lock:

- every footprint must lie in the district (its representative point inside the district's
  boundary, widened by the containment tolerance) — or, when the recipe says
  ``outside_district: assign``, in another loaded district, where it is then written;
- an id that exists already may not move to another district, nor move its footprint far
  (its new footprint more than :data:`MAX_MOVE_M` from the old one) unless the recipe allows
  moves — such a change is a different building reusing an id;
- a footprint that largely overlaps another (:data:`~gridmap.grid.overlaps.DUPLICATE_SHARE`
  of the smaller), in the file or already stored under another key, is a duplicate: the
  recipe's ``duplicates`` policy says refuse (default), skip or keep.

Then each building gets its grid (in memory: a buildings import changes no grid), the upserts
of each district write what changed (chunk by chunk, labelled while the chunk before is
written: :mod:`gridmap.ingest.staging`), and the districts' totals are refreshed.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.errors import ImportFailed
from gridmap.geo import project_stored, transformer
from gridmap.grid.assign import grid_labeller, refresh_grid_totals
from gridmap.grid.overlaps import DUPLICATE_SHARE, overlapping_pairs
from gridmap.i18n import msg
from gridmap.ingest.recipe import Recipe
from gridmap.ingest.report import ImportReport
from gridmap.ingest.staging import stage_buildings, write_staged
from gridmap.ingest.values import feature_label
from gridmap.locks import lock_district, lock_districts
from gridmap.models import District
from gridmap.progress import NoProgress, Progress

MAX_MOVE_M = 50.0
"""A re-imported building whose new footprint lies farther than this from its old one is a
different building reusing an id (unless the recipe allows moves)."""

_SHOWN = 3
DUPLICATE_POLICIES = ("refuse", "skip", "keep")


def source_name(recipe: Recipe) -> str:
    """The ids' issuer: the recipe's ``source_name``, else the district's own ids."""
    return recipe.source_name or f"district-{recipe.district}"


def _outside(district: District, frame, tolerance_m: float) -> np.ndarray:
    """Rows whose representative point lies outside the district (widened by the tolerance),
    and the points (lon, lat) of every row."""
    epsg = district.projected_epsg
    area = shapely.buffer(project_stored([to_shape(district.geom)], epsg)[0], tolerance_m)
    points = shapely.get_coordinates(shapely.point_on_surface(frame.geometry.values))
    x, y = transformer(4490, epsg).transform(points[:, 0], points[:, 1])
    shapely.prepare(area)
    return np.nonzero(~shapely.contains_xy(area, x, y))[0], points


_CONTAINING = text("""
    select (select d.code from district d
            where ST_Intersects(d.geom, ST_SetSRID(ST_MakePoint(v.x, v.y), 4490))
            order by d.code limit 1) as code
    from unnest(cast(:xs as float8[]), cast(:ys as float8[])) with ordinality as v(x, y, i)
    order by v.i
""")


def _districts_of(session: Session, recipe: Recipe, district: District, frame, attrs,
                  tolerance_m: float) -> dict[str, np.ndarray]:
    """Rows by the district they are written to: all in the recipe's district; or, when the
    recipe says ``outside_district: assign``, those outside it in the loaded district that
    holds them. Anything else is refused, naming the first feature and where it lies."""
    outside, points = _outside(district, frame, tolerance_m)
    if outside.size == 0:
        return {district.code: np.arange(len(frame))}
    found = [r.code for r in session.execute(_CONTAINING, {
        "xs": points[outside, 0].tolist(), "ys": points[outside, 1].tolist()})]
    lost = [row for row, code in zip(outside, found) if code is None]
    if recipe.outside_district != "assign" or lost:
        row = int(lost[0] if recipe.outside_district == "assign" else outside[0])
        lon, lat = points[row]
        elsewhere = found[list(outside).index(row)]
        hint = msg(", in district {code}", code=elsewhere) if elsewhere \
            else msg(", in no loaded district")
        count = len(lost) if recipe.outside_district == "assign" else outside.size
        advice = msg("Load the district that holds them first") \
            if recipe.outside_district == "assign" else \
            msg("Import them into the district that holds them, or set outside_district: "
                "assign (--outside-district assign)")
        where = msg("district {code} {name} and every loaded district", code=district.code,
                    name=district.name) if lost \
            else msg("district {code} {name}", code=district.code, name=district.name)
        raise ImportFailed(msg("{source}: {count} of {total} buildings lie outside {where}; "
                               "first {feature} at {lon:.6f}, {lat:.6f}{hint}. {advice}",
                               source=recipe.source.name, count=count, total=len(frame),
                               where=where, feature=feature_label(attrs, row), lon=lon,
                               lat=lat, hint=hint, advice=advice))
    codes = np.full(len(frame), district.code, dtype=object)
    codes[outside] = found
    return {code: np.nonzero(codes == code)[0] for code in sorted(set(codes))}


def _within_file_duplicates(recipe: Recipe, frame, attrs, report: ImportReport) -> np.ndarray:
    """Rows to drop (policy ``skip``), after refusing (``refuse``) duplicates in the file."""
    pairs = overlapping_pairs(frame.geometry.values)
    if len(pairs) == 0:
        return np.zeros(0, dtype=np.int64)
    first = msg("{first} and {second} overlap by {share:.0%}",
                first=feature_label(attrs, int(pairs.left[0])),
                second=feature_label(attrs, int(pairs.right[0])), share=pairs.share[0])
    if recipe.duplicates == "refuse":
        raise ImportFailed(msg("{source}: {count} pair(s) of footprints in the file are the "
                               "same building (overlap over {limit:.0%} of the smaller); first "
                               "{first}. Fix the file, or set duplicates: skip (keeps the "
                               "first of each) or keep", source=recipe.source.name,
                               count=len(pairs), limit=DUPLICATE_SHARE, first=first))
    report.notes.append(msg("{count} pair(s) of overlapping footprints in the file "
                            "({policy}); first {first}", count=len(pairs),
                            policy=recipe.duplicates, first=first))
    return np.unique(pairs.right) if recipe.duplicates == "skip" else np.zeros(0, np.int64)


def _stage(session: Session, frame, attrs, keep: np.ndarray, progress: Progress) -> None:
    """Stage the rows ``keep`` as ``import_building`` (:mod:`gridmap.ingest.staging`)."""
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cur:
        stage_buildings(cur, attrs, frame.geometry.values, keep, progress)


_MOVED = text("""
    select t.row, t.source_id, b.district_code,
           ST_Distance(b.footprint::geography, t.footprint::geography) as moved_m
    from import_building t
    join building b on b.source = :source and b.source_id = t.source_id
    where b.district_code <> :district
       or (not :allow_move
           and not ST_DWithin(b.footprint::geography, t.footprint::geography, :max_move))
    order by t.row
""")


def _check_identity(session: Session, recipe: Recipe, source: str) -> None:
    rows = session.execute(_MOVED, {"source": source, "district": recipe.district,
                                    "allow_move": bool(recipe.allow_move),
                                    "max_move": MAX_MOVE_M}).all()
    if not rows:
        return
    first = rows[0]
    feature = msg("feature {number} ({key}={value})", number=first.row + 1, key="source_id",
                  value=first.source_id)
    if first.district_code != recipe.district:
        why = msg("{feature} is building {building} of district {district} already; a "
                  "building does not move between districts", feature=feature,
                  building=f"{source}:{first.source_id}", district=first.district_code)
    else:
        why = msg("{feature} would move building {building} {distance:.0f} m away from its "
                  "stored footprint", feature=feature, building=f"{source}:{first.source_id}",
                  distance=first.moved_m)
    raise ImportFailed(msg("{source}: {count} feature(s) reuse ids of other buildings; "
                           "{problem}. If these are other buildings, give their issuer with "
                           "--source-name; if they really moved, set allow_move: true",
                           source=recipe.source.name, count=len(rows), problem=why))


_DUPLICATES = text("""
    select t.row, t.source_id, b.source as other_source, b.source_id as other_id,
           ST_Area(ST_Intersection(b.footprint, t.footprint))
             / nullif(least(ST_Area(b.footprint), ST_Area(t.footprint)), 0) as share
    from import_building t
    join building b on ST_Intersects(b.footprint, t.footprint)
                   and not (b.source = :source and b.source_id = t.source_id)
    where ST_Area(ST_Intersection(b.footprint, t.footprint))
            > :share * least(ST_Area(b.footprint), ST_Area(t.footprint))
    order by t.row
""")


def _stored_duplicates(session: Session, recipe: Recipe, source: str,
                       report: ImportReport) -> None:
    rows = session.execute(_DUPLICATES, {"source": source, "share": DUPLICATE_SHARE}).all()
    if not rows:
        return
    first = rows[0]
    shown = msg("{feature} covers {share:.0%} of building {building}",
                feature=msg("feature {number} ({key}={value})", number=first.row + 1,
                            key="source_id", value=first.source_id),
                share=first.share, building=f"{first.other_source}:{first.other_id}")
    count = len({r.row for r in rows})
    if recipe.duplicates == "refuse":
        raise ImportFailed(msg("{source}: {count} footprint(s) duplicate buildings already "
                               "stored under another source or id; first {first}. Set "
                               "duplicates: skip to leave them out, or keep to add them anyway",
                               source=recipe.source.name, count=count, first=shown))
    if recipe.duplicates == "skip":
        session.execute(text("delete from import_building where row = any(:rows)"),
                        {"rows": sorted({r.row for r in rows})})
        report.skipped += count
    report.notes.append(msg("{count} footprint(s) duplicate stored buildings ({policy}); "
                            "first {first}", count=count, policy=recipe.duplicates,
                            first=shown))


def _assignment_counts(session: Session, district: str, *, changed: int) -> dict[str, int]:
    total, assigned = session.execute(text(
        "select count(*), count(grid_id) from building where district_code = :d"),
        {"d": district}).one()
    return {"buildings": total, "assigned": assigned, "unassigned": total - assigned,
            "changed": changed}


def write_buildings(session: Session, recipe: Recipe, frame, attrs, report: ImportReport, *,
                    tolerance_m: float, progress: Progress | None = None) -> None:
    """Check and write buildings, each into its district, then label them (module doc)."""
    if recipe.duplicates not in DUPLICATE_POLICIES:
        raise ImportFailed(msg("duplicates {value!r}: expected one of {expected}",
                               value=recipe.duplicates, expected=", ".join(DUPLICATE_POLICIES)))
    if recipe.outside_district not in ("refuse", "assign"):
        raise ImportFailed(msg("outside_district {value!r}: expected refuse or assign",
                               value=recipe.outside_district))
    lock_district(session, recipe.district)
    district = session.get(District, recipe.district)
    if district is None:
        raise ImportFailed(msg("district {code} is not loaded; load it first (gridmap demo, "
                               "or import a districts layer)", code=recipe.district))
    progress = progress or NoProgress()
    source = source_name(recipe)  # one issuer of ids, whichever district a building is in
    progress.stage(msg("checking footprints"))
    groups = _districts_of(session, recipe, district, frame, attrs, tolerance_m)
    lock_districts(session, groups)
    totals: dict[str, int] = {}
    for code, rows in groups.items():
        if code != recipe.district:
            report.notes.append(msg("{count} building(s) lie in district {code}, not "
                                    "{expected}: written there (outside_district: assign)",
                                    count=rows.size, code=code, expected=recipe.district))
        whole = rows.size == len(frame)
        part = (frame, attrs) if whole else (frame.iloc[rows].reset_index(drop=True),
                                             attrs.iloc[rows].reset_index(drop=True))
        counts = _write_district(session, replace(recipe, district=code), source, *part,
                                 report, progress)
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    report.assignment = totals


def _write_district(session: Session, recipe: Recipe, source: str, frame, attrs,
                    report: ImportReport, progress: Progress) -> dict[str, int]:
    """Write the buildings of one district (all inside it); return its assignment counts."""
    dropped = _within_file_duplicates(recipe, frame, attrs, report)
    keep = np.setdiff1d(np.arange(len(frame)), dropped)
    report.skipped += int(dropped.size)
    progress.stage(msg("staging"), total=int(keep.size))
    _stage(session, frame, attrs, keep, progress)
    progress.stage(msg("checking ids, labelling grids, writing"),
                   total=int(keep.size))

    def checks() -> None:
        _check_identity(session, recipe, source)
        _stored_duplicates(session, recipe, source, report)

    # The district's grids do not change in a buildings import, so only the file's buildings
    # need a grid: labelled in memory and written with them (no second pass), each chunk
    # while the one before is written (gridmap.ingest.staging).
    inserted, updated = write_staged(
        session, district=recipe.district, source=source, footprints=frame.geometry.values,
        keep=keep, checks=checks, label=grid_labeller(session, recipe.district),
        progress=progress)
    report.inserted += inserted
    report.updated += updated
    progress.stage(msg("refreshing totals"))
    refresh_grid_totals(session, district_code=recipe.district)
    return _assignment_counts(session, recipe.district,
                              changed=inserted + updated)
