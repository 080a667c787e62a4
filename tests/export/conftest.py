"""Helpers of the export tests: the operator's scope, reading an export back with GDAL."""
from __future__ import annotations

from pathlib import Path

import pyogrio
import pytest

from gridmap.auth.scope import Scope
from layers import load_layers

ADMIN = Scope("cli:test", "administrator", None, None, None, True)
#: Fields GDAL's KML reader renames (KML's own id attribute and <name> element take theirs).
KML_NAMES = {"id": "id2", "name": "Name"}


@pytest.fixture(scope="session")
def layers():
    return load_layers()


def gdal_path(path: Path, fmt: str, layer: str) -> str:
    """What GDAL opens for an export: the .shp inside a Shapefile zip."""
    return f"/vsizip/{path}/{layer}.shp" if fmt == "shp" else str(path)


def read_back(path: Path, fmt: str, layer: str):
    """The export as a GeoDataFrame with the layer's own field names."""
    frame = pyogrio.read_dataframe(gdal_path(path, fmt, layer))
    if fmt == "kml":
        # KML's own feature id takes the column ``id``; ours is read back as ``id2``
        frame = frame.drop(columns=["id"]).rename(columns={v: k for k, v in KML_NAMES.items()})
    return frame
