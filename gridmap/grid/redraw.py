"""Changing the active grids of a community: the one path every redraw goes through.

An active grid's shape is never edited in place. A changed shape retires the old code
(never issued again), issues a new one through the registry (west→east, north→south among the
grids issued together), records lineage (which old grid each new grid came from, by shared
area) and closes the old row (``valid_to``), all in the caller's transaction. The caller then
reassigns buildings and refreshes totals (:func:`gridmap.grid.assign.assign_district`), so
nothing is stale at commit. Grids whose shape, kind and name are unchanged are left alone: an
identical re-import writes nothing.

Two ways to say what the community should hold:

- by code (``GridFeature.code`` set): the grid with that code gets this shape, kind and name;
  grids of the community not named stay as they are;
- without codes: the features are the community's whole new plan; an active grid whose shape
  equals a feature keeps its code, every other active grid is retired and every other feature
  gets a new code (``replace=True``).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gridmap import codes as gcodes
from gridmap.audit import current_actor, record
from gridmap.devices.registry import refresh_device_grids
from gridmap.errors import InvalidCode, ValidationFailed
from gridmap.i18n import msg
from gridmap.geo import project_stored, storage_ewkb
from gridmap.models import CodeRegistryEntry, District, Grid, Person, PersonScope
from gridmap.registry import issue_codes, retire_codes
from gridmap.facilities.grids import refresh_facility_grids

_LINEAGE_SHARE = 0.01
"""A new grid descends from an old one when it covers more than this share of the old one."""


@dataclass(frozen=True)
class GridFeature:
    """One grid as a plan or a file gives it; ``geom`` in EPSG:4490."""

    community_code: str
    kind: str
    geom: BaseGeometry
    code: str | None = None
    name: str | None = None
    label: str = ""  # where the feature came from, for messages ("one.gpkg feature 3")


@dataclass
class GridChanges:
    """What :func:`apply_grids` did, by code."""

    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # kind or name only
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    redrawn: list[tuple[str, str]] = field(default_factory=list)  # (old code, new code)
    lineage: list[tuple[str, str]] = field(default_factory=list)  # (parent, child)

    @property
    def touched(self) -> set[str]:
        return set(self.inserted) | set(self.updated) | {new for _, new in self.redrawn}

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.retired)


def _project(geoms: Sequence[BaseGeometry], epsg: int) -> np.ndarray:
    return project_stored(geoms, epsg)


def _active_grids(session: Session, community_code: str) -> list[Grid]:
    return list(session.execute(select(Grid).where(Grid.community_code == community_code,
                                                   Grid.valid_to.is_(None))
                                .order_by(Grid.code).with_for_update()).scalars())


def _shape(grid: Grid) -> BaseGeometry:
    return to_shape(grid.geom)


def _check_code(feature: GridFeature, district: District,
                known_districts) -> gcodes.GridCode:
    try:
        parts = gcodes.parse(feature.code, district.code_profile,
                             known_districts=known_districts)
    except InvalidCode as exc:
        raise ValidationFailed(msg("{label}: {detail} (district {code} uses profile "
                                   "{code_profile})", label=feature.label, detail=exc.detail,
                                   code=district.code, code_profile=district.code_profile)) \
            from None
    if parts.community_code != feature.community_code:
        raise ValidationFailed(msg("{label}: code {code} belongs to community {community_code}, "
                                   "not {given}", label=feature.label,
                                   code=feature.code, community_code=parts.community_code,
                                   given=feature.community_code))
    return parts


def apply_grids(session: Session, features: Sequence[GridFeature], *, replace: bool,
                note: str, known_districts=None) -> GridChanges:
    """Make the active grids of the features' communities what ``features`` say.

    Parameters
    ----------
    features
        Grids with their community; with ``code`` (update by code) or without (new plan).
    replace
        ``True``: each community named by a feature holds exactly ``features`` afterwards
        (active grids matched by no feature are retired). ``False``: only the codes given
        change.
    note
        Recorded with every code issued (e.g. the file imported).

    Raises
    ------
    ValidationFailed
        A code of the wrong profile or community, a retired code, a code given twice.
    """
    changes = GridChanges()
    by_community: dict[str, list[GridFeature]] = defaultdict(list)
    for feature in features:
        by_community[feature.community_code].append(feature)
    for community_code in sorted(by_community):
        _apply_community(session, community_code, by_community[community_code], replace,
                         note, known_districts, changes)
        refresh_facility_grids(session, community_code)
    session.flush()
    return changes


def _apply_community(session: Session, community_code: str, features: list[GridFeature],
                     replace: bool, note: str, known_districts, changes: GridChanges) -> None:
    district = session.get(District, community_code[:6])
    before = (len(changes.inserted), len(changes.updated), len(changes.retired))
    active = _active_grids(session, community_code)
    by_code = {g.code: g for g in active}
    shapes = {g.code: _shape(g) for g in active}
    kept: set[str] = set()
    to_issue: list[tuple[GridFeature, str | None]] = []  # (feature, old code it redraws)
    for feature in features:
        match = None
        if feature.code is not None:
            _check_code(feature, district, known_districts)
            if feature.code in kept:
                raise ValidationFailed(msg("{label}: code {code} is given twice",
                                           label=feature.label, code=feature.code))
            match = by_code.get(feature.code)
            if match is None:
                _register_given_code(session, feature, changes)
                continue
        else:
            match = next((g for g in active if g.code not in kept
                          and shapely.equals(shapes[g.code], feature.geom)), None)
            if match is None:
                to_issue.append((feature, None))
                continue
        kept.add(match.code)
        if shapely.equals(shapes[match.code], feature.geom):
            if (match.kind, match.name) == (feature.kind, feature.name or match.name):
                changes.unchanged.append(match.code)
            else:
                before = {"kind": match.kind, "name": match.name}
                match.kind, match.name = feature.kind, feature.name or match.name
                record(session, action="update", table="grid", key=match.code, before=before,
                       after={"kind": match.kind, "name": match.name})
                changes.updated.append(match.code)
        else:
            to_issue.append((feature, match.code))
    retiring = [g for g in active if g.code in {old for _, old in to_issue if old}
                or (replace and g.code not in kept)]
    _issue_and_retire(session, community_code, district, to_issue, retiring, shapes, note,
                      changes)
    if (len(changes.inserted), len(changes.updated), len(changes.retired)) != before:
        _bump_plan_version(session, community_code)
        refresh_device_grids(session, community_code)


def _scopes_follow(session: Session, pairs: Sequence[tuple[str, str]]) -> None:
    """A grid worker whose grid is redrawn reaches the grids that replaced it (every grid
    that descends from it), so no one is left reaching a retired code."""
    successors: dict[str, list[str]] = defaultdict(list)
    for old, new in pairs:
        successors[old].append(new)
    if not successors:
        return
    rows = session.execute(select(PersonScope, Person.login).join(Person)
                           .where(PersonScope.level == "grid",
                                  PersonScope.code.in_(list(successors)))).all()
    for scope, login in rows:
        new = successors[scope.code]
        for code in new:
            session.execute(insert(PersonScope).values(person_id=scope.person_id, level="grid",
                                                       code=code)
                            .on_conflict_do_nothing(constraint="person_level_code"))
        record(session, action="follow_redraw", table="person_scope", key=login,
               before={"grid": scope.code}, after={"grids": new})
        session.delete(scope)
    session.flush()


def _bump_plan_version(session: Session, community_code: str) -> None:
    """The community's grids changed: one more version, and who changed them when (what a
    planner applying a draft made against the older version is told)."""
    actor = current_actor()
    session.execute(text(
        "insert into community_plan_version as v (community_code, version, changed_by, "
        "changed_at) values (:c, 1, :who, now()) on conflict (community_code) do update "
        "set version = v.version + 1, changed_by = :who, changed_at = now()"),
        {"c": community_code, "who": f"{actor.kind}:{actor.name}"})


def _register_given_code(session: Session, feature: GridFeature, changes: GridChanges) -> None:
    """A code the file gives that no active grid holds: new unless it was ever retired."""
    entry = session.get(CodeRegistryEntry, feature.code)
    if entry is not None and entry.status == "retired":
        raise ValidationFailed(msg("{label}: code {code} was retired; a retired code is never "
                                   "used again", label=feature.label, code=feature.code))
    parts = gcodes.parse(feature.code)
    if entry is None:
        session.add(CodeRegistryEntry(code=feature.code, community_code=feature.community_code,
                                      sequence=parts.sequence, status="issued"))
    record(session, action="insert", table="grid", key=feature.code,
           after={"code": feature.code, "kind": feature.kind, "name": feature.name,
                  "community_code": feature.community_code})
    session.add(Grid(code=feature.code, district_code=parts.district,
                     street_code=parts.street_code, community_code=feature.community_code,
                     sequence=parts.sequence, kind=feature.kind, name=feature.name,
                     geom=storage_ewkb(feature.geom)))
    changes.inserted.append(feature.code)


def _issue_and_retire(session: Session, community_code: str, district: District,
                      to_issue: list[tuple[GridFeature, str | None]], retiring: list[Grid],
                      shapes: dict[str, BaseGeometry], note: str,
                      changes: GridChanges) -> None:
    if not to_issue and not retiring:
        return
    from gridmap.grid.validate import sequence_row_height

    new_geoms = _project([f.geom for f, _ in to_issue], district.projected_epsg)
    codes = (issue_codes(session, community_code, new_geoms,
                         row_height=sequence_row_height(new_geoms), note=note)
             if to_issue else [])
    # The moment of the change: the clock now, under the district's lock every caller holds,
    # not now() (the start of the transaction). A transaction that waited for the lock
    # behind another's change would otherwise date its own change before that one and leave
    # a grid retired before it was issued; and two changes in one transaction would share
    # one instant, so the first one's grids would never have held any place.
    now = session.execute(text("select clock_timestamp()")).scalar() \
        or dt.datetime.now(dt.timezone.utc)
    now = max([now, *(g.valid_from for g in retiring if g.valid_from is not None)])
    for (feature, old), code in zip(to_issue, codes):
        parts = gcodes.parse(code)
        session.add(Grid(code=code, district_code=parts.district, street_code=parts.street_code,
                         community_code=community_code, sequence=parts.sequence,
                         kind=feature.kind, name=feature.name, geom=storage_ewkb(feature.geom),
                         valid_from=now))
        changes.inserted.append(code)
        if old is not None:
            changes.redrawn.append((old, code))
    old_geoms = _project([shapes[g.code] for g in retiring], district.projected_epsg)
    pairs: set[tuple[str, str]] = {(old, new) for (_, old), new in zip(to_issue, codes) if old}
    if len(retiring) and len(codes):
        tree = shapely.STRtree(new_geoms)
        left, right = tree.query(old_geoms, predicate="intersects")
        shared = shapely.area(shapely.intersection(old_geoms[left], new_geoms[right]))
        share = shared / np.maximum(shapely.area(old_geoms[left]), 1e-9)
        pairs |= {(retiring[a].code, codes[b])
                  for a, b, s in zip(left, right, share) if s > _LINEAGE_SHARE}
    for grid in retiring:
        grid.valid_to = now
        changes.retired.append(grid.code)
    session.flush()
    retire_codes(session, [g.code for g in retiring], lineage=sorted(pairs), at=now)
    changes.lineage.extend(sorted(pairs))
    _scopes_follow(session, sorted(pairs))
    for grid in retiring:
        record(session, action="retire", table="grid", key=grid.code,
               before={"code": grid.code, "kind": grid.kind, "name": grid.name},
               after={"successors": sorted(c for p, c in pairs if p == grid.code)})
    for (feature, old), code in zip(to_issue, codes):
        record(session, action="insert", table="grid", key=code,
               after={"code": code, "kind": feature.kind, "name": feature.name,
                      "community_code": community_code, "redraws": old})
