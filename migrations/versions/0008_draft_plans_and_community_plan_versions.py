"""draft plans and community plan versions

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 07:59:28

A draft plan holds a community's grids as proposed; a community's plan version counts the
changes of its active grids, so a draft made against an older version is refused at apply.
"""
from alembic import op
import sqlalchemy as sa
import geoalchemy2
from geoalchemy2 import Geometry

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('community_plan_version',
    sa.Column('community_code', sa.String(length=12), nullable=False),
    sa.Column('version', sa.Integer(), server_default='0', nullable=False),
    sa.Column('changed_by', sa.String(length=200), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_code'], ['community.code'], name=op.f('fk_community_plan_version_community_code_community')),
    sa.PrimaryKeyConstraint('community_code', name=op.f('pk_community_plan_version'))
    )
    op.create_table('plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_code', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='draft', nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('applied_by', sa.String(length=200), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.CheckConstraint("status in ('draft', 'applied', 'discarded')", name=op.f('ck_plan_status')),
    sa.ForeignKeyConstraint(['community_code'], ['community.code'], name=op.f('fk_plan_community_code_community')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan'))
    )
    op.create_index(op.f('ix_plan_community_code'), 'plan', ['community_code'], unique=False)
    op.create_geospatial_table('plan_grid',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("kind in ('residential', 'unit')", name=op.f('ck_plan_grid_kind')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_plan_grid_valid_geom')),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_grid_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_grid'))
    )
    op.create_geospatial_index('idx_plan_grid_geom', 'plan_grid', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_plan_grid_plan_id'), 'plan_grid', ['plan_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_plan_grid_plan_id'), table_name='plan_grid')
    op.drop_geospatial_index('idx_plan_grid_geom', table_name='plan_grid', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('plan_grid')
    op.drop_index(op.f('ix_plan_community_code'), table_name='plan')
    op.drop_table('plan')
    op.drop_table('community_plan_version')
