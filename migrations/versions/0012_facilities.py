"""facilities: component classes, facilities with their 16-digit IDs, and the serial counters

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 10:00:00

The component taxonomy is data (data/taxonomy/components.csv, loaded by `gridmap taxonomy
load` and by the demo), not rows written here. facility_serial only grows: a serial once
issued is never issued again, so a retired facility's ID is never reused.
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('component_class',
    sa.Column('code', sa.String(length=4), nullable=False),
    sa.Column('major_zh', sa.String(length=50), nullable=False),
    sa.Column('major_en', sa.String(length=100), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('department_code', sa.String(length=32), nullable=False),
    sa.Column('inspection_days', sa.Integer(), nullable=False),
    sa.CheckConstraint("code ~ '^[0-9]{4}$'", name=op.f('ck_component_class_code')),
    sa.CheckConstraint('inspection_days > 0', name=op.f('ck_component_class_inspection_days')),
    sa.ForeignKeyConstraint(['department_code'], ['department.code'], name=op.f('fk_component_class_department_code_department')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_component_class'))
    )
    op.create_table('facility_serial',
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('class_code', sa.String(length=4), nullable=False),
    sa.Column('last_serial', sa.Integer(), nullable=False),
    sa.CheckConstraint('last_serial between 1 and 999999', name=op.f('ck_facility_serial_last_serial')),
    sa.PrimaryKeyConstraint('district_code', 'class_code', name=op.f('pk_facility_serial'))
    )
    op.create_geospatial_table('facility',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('class_code', sa.String(length=4), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('owner_department', sa.String(length=32), nullable=True),
    sa.Column('maintainer_department', sa.String(length=32), nullable=True),
    sa.Column('state', sa.String(length=16), server_default='intact', nullable=False),
    sa.Column('in_use', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('installed_on', sa.Date(), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('photo_sha256', sa.String(length=64), nullable=True),
    sa.Column('photo_media_type', sa.String(length=64), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.Column('source_id', sa.String(length=100), nullable=True),
    sa.CheckConstraint("id ~ '^[0-9]{16}$'", name=op.f('ck_facility_id')),
    sa.CheckConstraint("state in ('intact', 'damaged', 'missing', 'occupied')", name=op.f('ck_facility_state')),
    sa.CheckConstraint('in_use = (retired_at is null)', name=op.f('ck_facility_retired')),
    sa.CheckConstraint("photo_sha256 ~ '^[0-9a-f]{64}$'", name=op.f('ck_facility_photo_sha256')),
    sa.CheckConstraint('substr(id, 1, 6) = district_code and substr(id, 7, 4) = class_code', name=op.f('ck_facility_id_parts')),
    sa.ForeignKeyConstraint(['class_code'], ['component_class.code'], name=op.f('fk_facility_class_code_component_class')),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_facility_district_code_district')),
    sa.ForeignKeyConstraint(['grid_id'], ['grid.id'], name=op.f('fk_facility_grid_id_grid')),
    sa.ForeignKeyConstraint(['maintainer_department'], ['department.code'], name=op.f('fk_facility_maintainer_department_department')),
    sa.ForeignKeyConstraint(['owner_department'], ['department.code'], name=op.f('fk_facility_owner_department_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_facility')),
    sa.UniqueConstraint('source', 'source_id', name='facility_source_key')
    )
    op.create_geospatial_index('idx_facility_geom', 'facility', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_facility_class_code'), 'facility', ['class_code'], unique=False)
    op.create_index(op.f('ix_facility_district_code'), 'facility', ['district_code'], unique=False)
    op.create_index(op.f('ix_facility_grid_id'), 'facility', ['grid_id'], unique=False)
    op.create_index(op.f('ix_facility_state'), 'facility', ['state'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_facility_state'), table_name='facility')
    op.drop_index(op.f('ix_facility_grid_id'), table_name='facility')
    op.drop_index(op.f('ix_facility_district_code'), table_name='facility')
    op.drop_index(op.f('ix_facility_class_code'), table_name='facility')
    op.drop_geospatial_index('idx_facility_geom', table_name='facility', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('facility')
    op.drop_table('facility_serial')
    op.drop_table('component_class')
