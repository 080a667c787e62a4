"""stored GeoJSON: each building's footprint as RFC 7946 GeoJSON text (building.footprint_geojson),
written once when the footprint is, read by every features page in CRS84

Snap-rounding a footprint (``ST_ReducePrecision``) was most of the cost of a page of buildings
(OGC API – Features items, the web map's features). The expression is
:func:`layers.sql.geojson_geometry`'s for CRS84 with 7 decimals, written out here so that the
migration stays as it was run; ``tests/webapp/test_geojson.py`` checks the two give the same
text.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 07:00:00
"""
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

_CLEANED = ("ST_ForcePolygonCCW(ST_RemoveRepeatedPoints(ST_ReducePrecision(footprint, 1e-7)))")
_GEOJSON = (f"ST_AsGeoJSON(case when starts_with(ST_GeometryType(footprint), 'ST_Multi') "
            f"then ST_Multi({_CLEANED}) else {_CLEANED} end, 7, 0)")


def upgrade() -> None:
    op.execute(f"alter table building add column footprint_geojson text "
               f"generated always as ({_GEOJSON}) stored")


def downgrade() -> None:
    op.execute("alter table building drop column footprint_geojson")
