"""Declarative base and the geometry column type shared by every table."""
from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from gridmap.geo import STORAGE_SRID

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def area_geometry() -> Geometry:
    """A (multi)polygon column in CGCS2000 with a GiST index."""
    return Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=True)
