"""The district package: one GeoPackage holding a whole district for the city platform.

Every layer of the registry (cut to the district), and as attribute (non-spatial) tables the
code registry and the grid lineage of the district's communities, and the taxonomies present
in the database when it runs. Taxonomies are found, not listed: every table without a
geometry column named ``department`` or ending in ``_class``, ``_type``, ``_kind`` or
``_category`` (``event_class`` and ``department`` today; a facility or device taxonomy the
day its migration lands).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap import codes as gcodes
from gridmap.errors import InvalidInput, NotFound
from gridmap.export.crs import ExportCrs, parse_export_crs
from gridmap.export.run import atomic_folder, check_target, write_source
from gridmap.export.source import ExportSource
from gridmap.export.writers import get_writer
from gridmap.i18n import msg
from gridmap.progress import NoProgress, Progress

TAXONOMY = re.compile(r"^(department|[a-z0-9_]+_(class|type|kind|category))$")


def taxonomy_tables(session: Session) -> list[str]:
    """The taxonomy tables of the database (see the module docstring), by name."""
    names = session.execute(text(
        "select c.table_name from information_schema.tables c "
        "where c.table_schema = current_schema() and c.table_type = 'BASE TABLE' "
        "and not exists (select 1 from geometry_columns g where g.f_table_schema = "
        "c.table_schema and g.f_table_name = c.table_name) order by 1")).scalars()
    return [n for n in names if TAXONOMY.match(n)]


def attribute_sources(session: Session, district: str) -> list[ExportSource]:
    """The code registry and lineage of ``district``, and every taxonomy table."""
    like = {"district": district}
    sources = [
        ExportSource("code_registry", None, None,
                     "select t.* from code_registry t "
                     "where starts_with(t.community_code, :district) order by t.code", like),
        ExportSource("grid_lineage", None, None,
                     "select t.* from grid_lineage t where exists (select 1 from code_registry "
                     "r where r.code in (t.parent_code, t.child_code) and "
                     "starts_with(r.community_code, :district)) "
                     "order by t.parent_code, t.child_code", like),
    ]
    for name in taxonomy_tables(session):
        # the name is one the database listed and TAXONOMY admitted: a plain identifier
        sources.append(ExportSource(name, None, None, f"select t.* from {name} t order by 1"))
    return sources


def export_package(session: Session, district: str, layer_sources: Iterable[ExportSource],
                   path: Path | str, *, crs: str | int | None = None, overwrite: bool = False,
                   progress: Progress | None = None,
                   chunk_rows: int = 5_000) -> dict[str, int]:
    """Write the district package (see the module docstring) to ``path`` (a .gpkg).

    ``layer_sources`` are the layers cut to the district for the caller's scope (the caller
    builds them from the layer registry). Returns the count of every table written.
    """
    gcodes.check_division_code(district, "district")
    if not session.execute(text("select 1 from district where code = :c"),
                           {"c": district}).scalar():
        raise NotFound(msg("district {code} is not loaded", code=district))
    target = Path(path)
    if target.suffix.lower() != ".gpkg":
        raise InvalidInput(msg("package {path}: expected a .gpkg file name", path=target))
    writer = get_writer("gpkg")
    export_crs: ExportCrs = parse_export_crs(crs, default=writer.default_srid)
    check_target(target, overwrite=overwrite)
    progress = progress or NoProgress()
    counts: dict[str, int] = {}
    with atomic_folder(target) as folder:
        written = None
        for source in [*layer_sources, *attribute_sources(session, district)]:
            written, count = write_source(session, source, writer, export_crs, folder,
                                          "package", progress=progress,
                                          chunk_rows=chunk_rows, append=written is not None)
            counts[source.name] = count
        os.replace(written, target)
    return counts
