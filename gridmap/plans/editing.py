"""Editing a community's grids by hand: the edits of :mod:`gridmap.plans.edits` replayed on
the grids as stored — the community's current grids, or a draft's — previewed with the plan
comparison (:func:`gridmap.plans.compare.compare_grids`), and saved as a draft plan.

The editor sends the whole list of edits each time: replaying it on the stored shapes keeps
them at full precision (a browser only ever sees them rounded for display), and makes a preview
and a save of the same edits the same grids. The version of the community's grids the editor
started from travels with the edits: a preview or save against an older version is a 409 naming
who changed the grids and when, as for any draft.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.errors import InvalidInput, NotFound
from gridmap.i18n import msg
from gridmap.models import Plan
from gridmap.plans.compare import Comparison, compare_grids, draft_code
from gridmap.plans.drafts import (DraftGrid, _check_base_version, create_draft, discard_plan,
                                  draft_grids, get_plan)
from gridmap.plans.edits import Buildings, Edit, Layout, WorkingGrid, apply_edits

_DRAFT_NAME = re.compile(r"draft-[0-9]+\b")

#: Decimals of the shapes sent for display (about 1 cm, as the feature API).
DISPLAY_DECIMALS = 7


@dataclass
class EditPreview:
    """The grids after the edits, and what they would change."""

    community: str
    version: int
    layout: Layout
    comparison: Comparison
    bounds: tuple[int, int] = (250, 500)

    def load(self, kind: str, households: int) -> str | None:
        """A residential grid's households against the district's bounds, as the map's
        grids layer says it: under, within or over (None for a unit grid)."""
        if kind != "residential":
            return None
        low, high = self.bounds
        return "under" if households < low else "over" if households > high else "within"

    def as_dict(self) -> dict:
        """GeoJSON of the edited grids (each with its key, households and buildings) and the
        comparison, draft grids named by their keys."""
        names = {draft_code(n): g.key for n, g in enumerate(self.layout.grids, start=1)}
        features = []
        for grid, summary in zip(self.layout.grids, self.comparison.grids):
            shape = shapely.transform(grid.geom, lambda xy: np.round(xy, DISPLAY_DECIMALS))
            label = shapely.point_on_surface(grid.geom)
            features.append({
                "type": "Feature", "id": grid.key,
                "geometry": shapely.geometry.mapping(shape),
                "properties": {"key": grid.key, "kind": grid.kind, "name": grid.name,
                               "changed": grid.key.startswith("new-"),
                               "households": summary.households,
                               "load": self.load(grid.kind, summary.households),
                               "buildings": summary.buildings,
                               "polsby_popper": summary.polsby_popper,
                               "label_point": [round(label.x, DISPLAY_DECIMALS),
                                               round(label.y, DISPLAY_DECIMALS)]}})
        comparison = self.comparison.as_dict()
        for violation in comparison["violations"]:
            violation["codes"] = [names.get(c, c) for c in violation["codes"]]
            violation["detail"] = _DRAFT_NAME.sub(lambda m: names.get(m.group(0), m.group(0)),
                                                  violation["detail"])
        for grid, row in zip(self.layout.grids, comparison["grids"]):
            row["key"] = grid.key
        return {"community": self.community, "version": self.version,
                "bounds": list(self.bounds),
                "grids": {"type": "FeatureCollection", "features": features},
                "comparison": comparison}


def load_layout(session: Session, community_code: str, *,
                plan_id: int | None = None) -> tuple[Layout, int]:
    """The community's grids as the editor starts from them, with their version: the current
    grids (keyed by code), or draft ``plan_id``'s (keyed ``draft-N``, or by the code of the
    current grid of the very same shape)."""
    outline = session.execute(text("select ST_AsBinary(geom) from community where code = :c"),
                              {"c": community_code}).scalar()
    if outline is None:
        raise NotFound(msg("community {community} is not loaded", community=community_code))
    community = shapely.from_wkb(bytes(outline))
    from gridmap.plans.drafts import plan_version

    rows = session.execute(text(
        "select code, kind, name, ST_AsBinary(geom) from grid where community_code = :c "
        "and valid_to is null order by code"), {"c": community_code}).all()
    current = tuple(WorkingGrid(code, kind, shapely.from_wkb(bytes(wkb)), name)
                    for code, kind, name, wkb in rows)
    if plan_id is None:
        return Layout(community, current), plan_version(session, community_code).version
    plan = get_plan(session, plan_id)
    if plan.community_code != community_code or plan.status != "draft":
        raise InvalidInput(msg("plan {plan} is not a draft of community {community}",
                               plan=plan_id, community=community_code))
    # a draft grid of the very shape of a current grid is that grid (applying keeps its code)
    unchanged = {g.geom.wkb: g.key for g in current}
    grids = tuple(WorkingGrid(unchanged.get(geom.wkb, draft_code(g.position)), g.kind, geom,
                              g.name) for g, geom in draft_grids(session, plan_id))
    return Layout(community, grids), plan.base_version


def load_buildings(session: Session, community_code: str) -> Buildings:
    """The buildings whose representative point lies in the community."""
    rows = session.execute(text(
        "select b.id, ST_AsBinary(b.footprint), coalesce(b.households, 0) from building b "
        "join community c on c.code = :c "
        "and ST_Intersects(c.geom, ST_PointOnSurface(b.footprint)) order by b.id"),
        {"c": community_code}).all()
    return Buildings(np.array([r[0] for r in rows], dtype=np.int64),
                     np.array([shapely.from_wkb(bytes(r[1])) for r in rows], dtype=object),
                     np.array([r[2] for r in rows], dtype=np.int64))


def _edited(session: Session, community_code: str, edits: Sequence[Edit], *,
            base_version: int, plan_id: int | None) -> tuple[Layout, int]:
    if len(edits) > MAX_EDITS:
        raise InvalidInput(msg("{count} edits; expected at most {limit}", count=len(edits),
                               limit=MAX_EDITS))
    layout, version = load_layout(session, community_code, plan_id=plan_id)
    if plan_id is not None and base_version != version:
        raise InvalidInput(msg("base_version {base}: plan {plan} was drafted against version "
                               "{version}", base=base_version, plan=plan_id, version=version))
    _check_base_version(session, community_code, base_version)
    layout = apply_edits(layout, edits, load_buildings(session, community_code))
    return layout, version


#: Edits in one request: a session of hand edits, not a script.
MAX_EDITS = 200


def _pairs(layout: Layout) -> list[tuple[SimpleNamespace, BaseGeometry]]:
    return [(SimpleNamespace(position=n, kind=g.kind, name=g.name), g.geom)
            for n, g in enumerate(layout.grids, start=1)]


def preview_edits(session: Session, community_code: str, edits: Sequence[Edit], *,
                  base_version: int, plan_id: int | None = None) -> EditPreview:
    """The grids after ``edits`` and their comparison with the current grids; writes nothing.

    Raises
    ------
    Conflict
        The community's grids changed since version ``base_version``.
    InvalidInput
        An edit cannot be done (named by its number).
    """
    layout, version = _edited(session, community_code, edits, base_version=base_version,
                              plan_id=plan_id)
    bounds = session.execute(text("select min_households, max_households from district "
                                  "where code = :d"), {"d": community_code[:6]}).one()
    return EditPreview(community_code, version, layout,
                       compare_grids(session, community_code, _pairs(layout)),
                       (int(bounds[0]), int(bounds[1])))


def save_edits(session: Session, community_code: str, edits: Sequence[Edit], *,
               base_version: int, title: str, plan_id: int | None = None,
               tolerance_m: float = 0.5) -> Plan:
    """Keep the edited grids as a draft plan (in the caller's transaction). Edits of draft
    ``plan_id`` make a new draft that replaces it (the old one is discarded, so that one
    draft holds the edits)."""
    layout, _ = _edited(session, community_code, edits, base_version=base_version,
                        plan_id=plan_id)
    source = "map edits" if plan_id is None else f"map edits of plan {plan_id}"
    plan = create_draft(session, community_code,
                        [DraftGrid(g.kind, g.geom, g.name) for g in layout.grids],
                        title=title, source=source, base_version=base_version,
                        tolerance_m=tolerance_m)
    if plan_id is not None:
        discard_plan(session, plan_id)
    return plan
