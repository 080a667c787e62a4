"""``gridmap export LAYER`` and ``gridmap export package``: files for other agencies' GIS.

The command line is the local operator: it reads with the full scope. The layers come from
the layer registry (``layers/``), loaded here, at the composition root, so that the core
(:mod:`gridmap.export`) stays free of it.
"""
from __future__ import annotations

from pathlib import Path

import click

from gridmap.cli_context import Context
from gridmap.cli_help import argument, command, option
from gridmap.errors import InvalidInput
from gridmap.i18n import msg
from gridmap.progress import TerminalProgress

#: A file suffix → the format it implies when --format is not given.
SUFFIX_FORMATS = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".zip": "shp",
                  ".shp": "shp", ".kml": "kml", ".csv": "csv", ".fgb": "fgb"}


def operator_scope():
    """The scope of whoever runs the command: everything (they have the database)."""
    from gridmap.audit import current_actor
    from gridmap.auth.scope import Scope

    return Scope(f"cli:{current_actor().name}", "administrator", None, None, None, True)


def _format_of(output: Path, given: str | None) -> str:
    if given:
        return given
    found = SUFFIX_FORMATS.get(output.suffix.lower())
    if found is None:
        from gridmap.export import WRITERS

        raise InvalidInput(msg("cannot tell the format of {path} by its suffix: give --format "
                               "({items})", path=output.name, items=', '.join(WRITERS)))
    return found


@command("export")
@argument("layer")
@option("-o", "--output", required=True, type=click.Path(path_type=Path),
        help="File to write (a Shapefile is one .zip).")
@option("--format", "format_", metavar="FORMAT",
        help="geojson, gpkg, shp, kml, csv or fgb (default: by the output's suffix).")
@option("--crs", help="EPSG:4326, EPSG:4490, EPSG:3857 or EPSG:4534…EPSG:4554 (default: "
                      "EPSG:4326 for GeoJSON and KML, EPSG:4490 otherwise).")
@option("--community", help="Only this community (12 digits).")
@option("--street", help="Only this street (9 digits).")
@option("--district", help="Only this district (6 digits); required for package.")
@option("--bbox", help="Only what crosses minlon,minlat,maxlon,maxlat (CGCS2000).")
@option("--overwrite", is_flag=True, help="Replace an existing output file.")
@click.pass_obj
def export(ctx: Context, layer: str, output: Path, format_: str | None, crs: str | None,
           community: str | None, street: str | None, district: str | None,
           bbox: str | None, overwrite: bool) -> None:
    """Export LAYER (a layer name, see `gridmap export --help`) to a file, or with LAYER
    ``package`` the whole --district as one GeoPackage. Coordinates are x = longitude/easting,
    y = latitude/northing in every format and CRS."""
    from gridmap.export import Selection, export_layer
    from gridmap.export.package import export_package
    from layers import LayerQuery, get_layer, load_layers

    layers = load_layers()
    scope = operator_scope()
    if layer == "package":
        if not district or community or street or bbox:
            raise InvalidInput(msg("export package: give --district CODE (and no other "
                                   "filter)"))
        if format_ not in (None, "gpkg"):
            raise InvalidInput(msg("export package: format {value!r}; a package is a gpkg",
                                   value=format_))
        selection = Selection.of(district=district)
        with TerminalProgress() as progress, ctx.session() as session:
            selection.check(session, scope)
            sources = [item.export_source(scope, selection) for item in layers.values()
                       if scope.allows_collection(item.name)]
            counts = export_package(session, district, sources, output, crs=crs,
                                    overwrite=overwrite, progress=progress)
        click.echo(str(msg("{path}: {count} tables ({items})", path=output, count=len(counts),
                           items=', '.join(f'{k} {v}' for k, v in counts.items()))))
        return
    chosen = get_layer(layers, layer)  # NotFound lists the known layers
    selection = Selection.of(community=community, street=street, district=district,
                             bbox=LayerQuery.parse_bbox(bbox))
    fmt = _format_of(output, format_)
    with TerminalProgress() as progress, ctx.session() as session:
        selection.check(session, scope)
        result = export_layer(session, chosen.export_source(scope, selection), output,
                              format=fmt, crs=crs, overwrite=overwrite, progress=progress)
    click.echo(str(msg("{path}: {count} features of {layer} as {format} in {crs} "
                       "(x = longitude/easting, y = latitude/northing)", path=result.path,
                       count=result.count, layer=layer, format=result.format,
                       crs=result.crs.name)))
