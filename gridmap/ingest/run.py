"""Run an import recipe: read → validate → normalise CRS → upsert, in the caller's transaction.

Nothing is written until every feature passed every check; a failure raises
:class:`~gridmap.errors.ImportFailed` naming the feature and the reason, and the caller's
rollback leaves the database as it was. Every import takes the lock of the districts it
writes (:mod:`gridmap.locks`), so concurrent imports run one after the other.
"""
from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy.orm import Session

from gridmap import codes as gcodes
from gridmap.audit import record
from gridmap.config import load_settings
from gridmap.i18n import msg
from gridmap.ingest.buildings import write_buildings
from gridmap.ingest.context import CONTEXT_LAYERS, write_context
from gridmap.ingest.hierarchy import write_hierarchy
from gridmap.ingest.prepare import prepare
from gridmap.ingest.recipe import Recipe
from gridmap.ingest.report import ImportReport
from gridmap.progress import NoProgress, Progress


def _known_districts(settings: Mapping[str, Any]) -> set[str]:
    """The official county-level codes (``data/reference/districts.csv``)."""
    return set(gcodes.load_district_table(gcodes.district_table_path(settings["data_dir"])))


def import_recipe(session: Session, recipe: Recipe, *,
                  settings: Mapping[str, Any] | None = None,
                  progress: Progress | None = None) -> ImportReport:
    """Import one recipe into the session's transaction (the caller commits).

    ``settings`` (default: :func:`gridmap.config.load_settings`) give the containment
    tolerance and the smallest reported area, shared with ``gridmap validate``; ``progress``
    hears of each stage.
    """
    settings = settings or load_settings()
    progress = progress or NoProgress()
    progress.stage(msg("reading {name}", name=recipe.source.name))
    frame, attrs, repaired = prepare(recipe)
    report = ImportReport(layer=recipe.layer, source=recipe.source.name, features=len(frame),
                          repaired=repaired, notes=list(frame.attrs.get("notes", [])))
    # Writes are checked after they are made (with the validator's own predicates), so they
    # run in a savepoint: a rejected import leaves even the caller's transaction as it was.
    with session.begin_nested():
        if recipe.layer == "buildings":
            write_buildings(session, recipe, frame, attrs, report,
                            tolerance_m=settings["containment_tolerance_m"],
                            progress=progress)
        elif recipe.layer in CONTEXT_LAYERS:
            progress.stage(msg("writing and checking {layer}", layer=recipe.layer))
            write_context(session, recipe, frame, attrs, report,
                          tolerance_m=settings["containment_tolerance_m"])
        else:
            progress.stage(msg("writing and checking {layer}", layer=recipe.layer))
            write_hierarchy(session, recipe, frame, attrs, report,
                            tolerance_m=settings["containment_tolerance_m"],
                            min_area_m2=settings["gap_tolerance_m2"],
                            known_districts=_known_districts(settings))
        if report.inserted or report.updated or report.retired:  # a write, not a no-op
            record(session, action="import", table=recipe.layer, key=recipe.source.name,
                   after={"source": str(recipe.source), "district": recipe.district,
                          "features": report.features, "inserted": report.inserted,
                          "updated": report.updated, "retired": report.retired,
                          "skipped": report.skipped, "repaired": report.repaired})
    return report
