"""Load the demo district (Wuhan Optics Valley) from ``data/`` and the recipes in ``import/``.

Idempotent: the hierarchy and buildings are upserted, grids of a community are drawn and
coded only when the community has none, and the assignment writes only what changed;
roads and water are upserted (an unchanged re-run writes nothing); the walking network is
built from the roads (rebuilt only when they changed).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyogrio
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridmap.config import REPO_ROOT
from gridmap.divisions import load_divisions
from gridmap.errors import ImportFailed
from gridmap.facilities.taxonomy import load_components
from gridmap.i18n import msg
from gridmap.grid.assign import assign_district
from gridmap.grid.redraw import GridFeature, apply_grids
from gridmap.incidents.taxonomy import load_taxonomy
from gridmap.ingest import import_recipe, load_recipe
from gridmap.locks import lock_district
from gridmap.models import Grid
from gridmap.progress import NoProgress, Progress
from gridmap.routing.sources import ways_from_roads
from gridmap.routing.store import import_network

DEMO_DISTRICT = "420111"
RECIPES = REPO_ROOT / "import"
PLAN = REPO_ROOT / "data" / "wuhan_guanggu" / "demo_plan.gpkg"
# The official communities of the demo district, so its community codes are checked too.
DEMO_COMMUNITIES = REPO_ROOT / "data" / "reference" / "communities_420111.csv"
CONTEXT_RECIPES = ("demo_roads.yaml", "demo_water.yaml")
TAXONOMY = REPO_ROOT / "data" / "taxonomy"


def _load_grids(session: Session, plan: Path) -> int:
    """Draw the plan's grids in each community that has none, through the one redraw path
    (codes issued west→east, north→south; audit rows). A community already drawn — perhaps
    redrawn since by a planner — is left alone."""
    grids = pyogrio.read_dataframe(plan, layer="grids")
    if grids.crs is None or grids.crs.to_epsg() != 4490:
        raise ImportFailed(msg("demo plan {name}: grids must be in EPSG:4490, found {crs}",
                               name=plan.name, crs=grids.crs))
    names = grids["name"] if "name" in grids else pd.Series([None] * len(grids))
    drawn = set(session.execute(select(Grid.community_code).distinct().where(
        Grid.community_code.in_(grids["community_code"].unique().tolist()),
        Grid.valid_to.is_(None))).scalars())
    features = []
    for community_code, rows in grids.groupby("community_code"):
        if community_code in drawn:
            continue
        features += [GridFeature(community_code=str(community_code), kind=str(kind), geom=geom,
                                 name=None if pd.isna(name) else str(name),
                                 label=f"{plan.name} grid {row + 1}")
                     for row, kind, name, geom in zip(rows.index, rows["kind"],
                                                      names[rows.index], rows.geometry.values)]
    if not features:
        return 0
    changes = apply_grids(session, features, replace=True, note="demo plan")
    return len(changes.inserted)


def load_demo(session: Session, *, progress: Progress | None = None) -> list[str]:
    """Load or refresh the demo district; returns one line per step (``progress`` hears of
    each)."""
    progress = progress or NoProgress()
    if not PLAN.exists():
        raise ImportFailed(msg("demo plan {plan} is missing", plan=PLAN))
    lock_district(session, DEMO_DISTRICT)  # two `gridmap demo` at once run one after the other
    progress.stage(msg("official divisions"))
    lines = load_divisions(session, communities=DEMO_COMMUNITIES,
                           district=DEMO_DISTRICT).lines()
    for layer in ("districts", "streets", "communities"):
        lines.append(import_recipe(session, load_recipe(RECIPES / f"demo_{layer}.yaml"),
                                   progress=progress)
                     .summary())
    progress.stage(msg("grids of the demo plan"))
    issued = _load_grids(session, PLAN)
    lines.append(f"grids: {issued} codes issued" if issued else "grids: already drawn")
    lines.append(import_recipe(session, load_recipe(RECIPES / "wuhan_buildings.yaml"),
                                   progress=progress).summary())
    progress.stage(msg("assigning buildings to grids"))
    stats = assign_district(session, DEMO_DISTRICT)
    lines.append(f"assignment: {stats['assigned']} of {stats['buildings']} buildings in a grid, "
                 f"{stats['changed']} changed")
    for context in CONTEXT_RECIPES:  # roads and water, drawn under the grids
        lines.append(import_recipe(session, load_recipe(RECIPES / context),
                                   progress=progress).summary())
    progress.stage(msg("walking network"))
    report = import_network(session, DEMO_DISTRICT, ways_from_roads(session, DEMO_DISTRICT),
                            built_from=f"road:{DEMO_DISTRICT}")
    lines.append(report.lines(limit=0)[0])
    progress.stage(msg("event classes and departments"))
    counts = load_taxonomy(session, TAXONOMY)
    lines.append(f"taxonomy: {counts['event_classes']} event classes, "
                 f"{counts['departments']} departments, {counts['changed']} changed")
    components = load_components(session, TAXONOMY) or {"component_classes": 0, "changed": 0}
    lines.append(f"components: {components['component_classes']} component classes, "
                 f"{components['changed']} changed")
    return lines
