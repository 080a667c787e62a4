"""A draft plan as a GeoPackage, for editing in desktop GIS (QGIS) and importing back.

One layer, ``grids``, of multipolygons in EPSG:4490 (CGCS2000; the GeoPackage stores x =
longitude, y = latitude, as every GeoPackage does), registered in ``gpkg_spatial_ref_sys``
under its EPSG code. Per grid: ``position`` (the draft grid's number), ``kind`` and ``name``
(what :func:`gridmap.plans.drafts.draft_from_file` reads back), ``code`` (text: the current
grid's code when the draft grid is that grid unchanged, so applying keeps it; empty for a grid
that will get a new code), ``community`` (text), ``households`` and ``buildings`` (the
comparison's count for the grid as drawn) and ``polsby_popper``. Codes are text so that no
program reads a 15- or 20-digit code as a number and loses digits or leading zeros.

The layer's metadata names the community, the plan and the version of the community's grids
the plan was drawn from; importing the file back as a draft of the same community takes that
version (unless one is given), so an edit made while someone else changed the grids is
refused (409) rather than undoing their change.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.errors import InvalidInput
from gridmap.geo import STORAGE_SRID
from gridmap.i18n import msg
from gridmap.plans.compare import Comparison, compare_plan
from gridmap.plans.drafts import draft_grids, get_plan

#: The layer written, and the keys of its metadata (GDAL keeps them in gpkg_metadata; a
#: key holds no colon, which GDAL would read as the end of the name).
LAYER = "grids"
META_COMMUNITY = "gridmap_community"
META_PLAN = "gridmap_plan"
META_BASE_VERSION = "gridmap_base_version"


@dataclass(frozen=True)
class ExportedFileInfo:
    """What a file exported by :func:`export_plan` says about its origin."""

    community_code: str
    plan_id: int
    base_version: int


def _as_multi(geom: BaseGeometry) -> BaseGeometry:
    """One geometry type for the whole layer (QGIS edits a layer of one type)."""
    return shapely.MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom


def _unchanged_codes(session: Session, community_code: str,
                     shapes: list[BaseGeometry]) -> list[str | None]:
    """Per draft grid, the code of the active grid of the same shape (it keeps its code when
    the plan is applied), else None."""
    rows = session.execute(text("select code, ST_AsBinary(geom) from grid where "
                                "community_code = :c and valid_to is null order by code"),
                           {"c": community_code}).all()
    current = [(code, shapely.from_wkb(bytes(wkb))) for code, wkb in rows]
    found: list[str | None] = []
    taken: set[str] = set()
    for shape in shapes:
        match = next((code for code, geom in current
                      if code not in taken and shapely.equals(geom, shape)), None)
        if match is not None:
            taken.add(match)
        found.append(match)
    return found


def export_plan(session: Session, plan_id: int, path: Path) -> Comparison:
    """Write plan ``plan_id`` to the GeoPackage ``path`` (replaced if it exists).

    Returns
    -------
    Comparison
        The plan's comparison, whose per-grid figures the file carries.

    Raises
    ------
    NotFound
        No such plan.
    """
    import geopandas as gpd
    import pyogrio

    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        raise InvalidInput(msg("{path}: expected a file name ending in .gpkg (a GeoPackage)",
                               path=path))
    if not path.parent.is_dir():
        raise InvalidInput(msg("{path}: no such folder {folder}", path=path,
                               folder=path.parent))
    plan = get_plan(session, plan_id)
    stored = draft_grids(session, plan_id)
    comparison = compare_plan(session, plan)
    figures = {g.position: g for g in comparison.grids}
    shapes = [geom for _, geom in stored]
    codes = _unchanged_codes(session, plan.community_code, shapes)
    frame = gpd.GeoDataFrame(
        {"position": [g.position for g, _ in stored],
         "kind": [g.kind for g, _ in stored],
         "name": [g.name for g, _ in stored],
         "code": codes,
         "community": plan.community_code,
         "households": [figures[g.position].households for g, _ in stored],
         "buildings": [figures[g.position].buildings for g, _ in stored],
         "polsby_popper": [figures[g.position].polsby_popper for g, _ in stored]},
        geometry=[_as_multi(geom) for geom in shapes], crs=f"EPSG:{STORAGE_SRID}")
    frame = frame.astype({"position": "int32", "kind": "string", "name": "string",
                          "code": "string", "community": "string", "households": "int32",
                          "buildings": "int32", "polsby_popper": "float64"})
    try:
        if path.exists():
            path.unlink()
        pyogrio.write_dataframe(
            frame, path, layer=LAYER, driver="GPKG", geometry_type="MultiPolygon",
            layer_metadata={META_COMMUNITY: plan.community_code, META_PLAN: str(plan.id),
                            META_BASE_VERSION: str(plan.base_version)},
            # the layer's title and description as QGIS shows them
            layer_options={"IDENTIFIER": f"plan {plan.id} {plan.community_code}",
                           "DESCRIPTION": plan.title})
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InvalidInput(msg("{path}: cannot write the GeoPackage ({reason})", path=path,
                               reason=str(exc).splitlines()[0] if str(exc) else
                               type(exc).__name__)) from None
    return comparison


def exported_file_info(path: Path) -> ExportedFileInfo | None:
    """The origin :func:`export_plan` recorded in ``path``, or None for any other file (or
    one whose metadata was lost or mangled on the way)."""
    import pyogrio

    try:
        meta = pyogrio.read_info(path, layer=LAYER).get("layer_metadata") or {}
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
        return None
    try:
        return ExportedFileInfo(str(meta[META_COMMUNITY]), int(meta[META_PLAN]),
                                int(meta[META_BASE_VERSION]))
    except (KeyError, ValueError, TypeError):
        return None
