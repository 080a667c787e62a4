"""Run an import recipe: read → validate → normalise CRS → upsert, in the caller's transaction.

Nothing is written until every feature passed every check; a failure raises
:class:`~gridmap.errors.ImportFailed` naming the feature and the reason, and the caller's
rollback leaves the database as it was.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from gridmap.ingest.buildings import write_buildings
from gridmap.ingest.hierarchy import write_hierarchy
from gridmap.ingest.prepare import prepare
from gridmap.ingest.recipe import Recipe
from gridmap.ingest.report import ImportReport


def import_recipe(session: Session, recipe: Recipe) -> ImportReport:
    """Import one recipe into the session's transaction (the caller commits)."""
    frame, attrs, repaired = prepare(recipe)
    report = ImportReport(layer=recipe.layer, source=recipe.source.name, features=len(frame),
                          repaired=repaired)
    if recipe.layer == "buildings":
        write_buildings(session, recipe, frame, attrs, report)
    else:
        write_hierarchy(session, recipe, frame, attrs, report)
    return report
