"""grid hierarchy, buildings, code registry

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 12:55:34.023021
"""
from alembic import op
import sqlalchemy as sa
import geoalchemy2
from geoalchemy2 import Geometry

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table('district',
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('projected_epsg', sa.Integer(), nullable=False),
    sa.Column('code_profile', sa.String(length=16), nullable=False),
    sa.Column('min_households', sa.Integer(), nullable=False),
    sa.Column('max_households', sa.Integer(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint('min_households > 0 and max_households >= min_households', name=op.f('ck_district_household_bounds')),
    sa.CheckConstraint('projected_epsg between 4534 and 4554', name=op.f('ck_district_gk_zone')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_district'))
    )
    op.create_geospatial_index('idx_district_geom', 'district', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('street',
    sa.Column('code', sa.String(length=9), nullable=False),
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_street_district_code_district')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_street'))
    )
    op.create_geospatial_index('idx_street_geom', 'street', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_street_district_code'), 'street', ['district_code'], unique=False)
    op.create_geospatial_table('community',
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('street_code', sa.String(length=9), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.ForeignKeyConstraint(['street_code'], ['street.code'], name=op.f('fk_community_street_code_street')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_community'))
    )
    op.create_geospatial_index('idx_community_geom', 'community', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_community_street_code'), 'community', ['street_code'], unique=False)
    op.create_table('code_registry',
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('community_code', sa.String(length=12), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.CheckConstraint("status in ('issued', 'retired')", name=op.f('ck_code_registry_status')),
    sa.ForeignKeyConstraint(['community_code'], ['community.code'], name=op.f('fk_code_registry_community_code_community')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_code_registry'))
    )
    op.create_index(op.f('ix_code_registry_community_code'), 'code_registry', ['community_code'], unique=False)
    op.create_geospatial_table('grid',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('street_code', sa.String(length=9), nullable=False),
    sa.Column('community_code', sa.String(length=12), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('households', sa.Integer(), server_default='0', nullable=False),
    sa.Column('building_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("kind in ('residential', 'unit')", name=op.f('ck_grid_kind')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_grid_valid_geom')),
    sa.ForeignKeyConstraint(['community_code'], ['community.code'], name=op.f('fk_grid_community_code_community')),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_grid_district_code_district')),
    sa.ForeignKeyConstraint(['street_code'], ['street.code'], name=op.f('fk_grid_street_code_street')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid')),
    sa.UniqueConstraint('code', name=op.f('uq_grid_code'))
    )
    op.create_geospatial_index('idx_grid_geom', 'grid', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_grid_community_code'), 'grid', ['community_code'], unique=False)
    op.create_index(op.f('ix_grid_district_code'), 'grid', ['district_code'], unique=False)
    op.create_index(op.f('ix_grid_street_code'), 'grid', ['street_code'], unique=False)
    op.create_geospatial_table('building',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('source', sa.String(length=50), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('use', sa.String(length=32), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('floors', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('footprint', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint('ST_IsValid(footprint)', name=op.f('ck_building_valid_footprint')),
    sa.CheckConstraint('households >= 0', name=op.f('ck_building_households')),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_building_district_code_district')),
    sa.ForeignKeyConstraint(['grid_id'], ['grid.id'], name=op.f('fk_building_grid_id_grid'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_building')),
    sa.UniqueConstraint('source', 'source_id', name='source_key')
    )
    op.create_geospatial_index('idx_building_footprint', 'building', ['footprint'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_building_district_code'), 'building', ['district_code'], unique=False)
    op.create_index(op.f('ix_building_grid_id'), 'building', ['grid_id'], unique=False)
    op.create_table('grid_lineage',
    sa.Column('parent_code', sa.String(length=20), nullable=False),
    sa.Column('child_code', sa.String(length=20), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['child_code'], ['code_registry.code'], name=op.f('fk_grid_lineage_child_code_code_registry')),
    sa.ForeignKeyConstraint(['parent_code'], ['code_registry.code'], name=op.f('fk_grid_lineage_parent_code_code_registry')),
    sa.PrimaryKeyConstraint('parent_code', 'child_code', name=op.f('pk_grid_lineage'))
    )


def downgrade() -> None:
    op.drop_table('grid_lineage')
    op.drop_index(op.f('ix_building_grid_id'), table_name='building')
    op.drop_index(op.f('ix_building_district_code'), table_name='building')
    op.drop_geospatial_index('idx_building_footprint', table_name='building', postgresql_using='gist', column_name='footprint')
    op.drop_geospatial_table('building')
    op.drop_index(op.f('ix_grid_street_code'), table_name='grid')
    op.drop_index(op.f('ix_grid_district_code'), table_name='grid')
    op.drop_index(op.f('ix_grid_community_code'), table_name='grid')
    op.drop_geospatial_index('idx_grid_geom', table_name='grid', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('grid')
    op.drop_index(op.f('ix_code_registry_community_code'), table_name='code_registry')
    op.drop_table('code_registry')
    op.drop_index(op.f('ix_community_street_code'), table_name='community')
    op.drop_geospatial_index('idx_community_geom', table_name='community', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('community')
    op.drop_index(op.f('ix_street_district_code'), table_name='street')
    op.drop_geospatial_index('idx_street_geom', table_name='street', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('street')
    op.drop_geospatial_index('idx_district_geom', table_name='district', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('district')
