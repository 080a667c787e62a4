"""roads and water: context layers from the district's own data

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 05:10:00
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table('road',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('source', sa.String(length=50), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('bridge', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('tunnel', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('layer', sa.Integer(), server_default='0', nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTILINESTRING', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_road_district_code_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_road')),
    sa.UniqueConstraint('source', 'source_id', name='road_source_key')
    )
    op.create_geospatial_index('idx_road_geom', 'road', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_road_district_code'), 'road', ['district_code'], unique=False)
    op.create_geospatial_table('water',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('source', sa.String(length=50), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('geom', Geometry(geometry_type='GEOMETRY', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("GeometryType(geom) in ('MULTIPOLYGON', 'MULTILINESTRING')", name=op.f('ck_water_area_or_line')),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_water_district_code_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_water')),
    sa.UniqueConstraint('source', 'source_id', name='water_source_key')
    )
    op.create_geospatial_index('idx_water_geom', 'water', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_water_district_code'), 'water', ['district_code'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_water_district_code'), table_name='water')
    op.drop_geospatial_index('idx_water_geom', table_name='water', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('water')
    op.drop_index(op.f('ix_road_district_code'), table_name='road')
    op.drop_geospatial_index('idx_road_geom', table_name='road', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('road')
