"""inspection routes: each community's service station and working day (route_station), the
visits grid workers record (route_visit), the last plan made per grid (route_plan)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 04:00:00
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table('route_station',
    sa.Column('community_code', sa.String(length=12), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('day_minutes', sa.Integer(), nullable=True),
    sa.Column('day_start', sa.Time(), nullable=True),
    sa.Column('building_days', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('day_minutes is null or day_minutes between 10 and 1440', name=op.f('ck_route_station_day_minutes')),
    sa.CheckConstraint('building_days is null or building_days between 1 and 366', name=op.f('ck_route_station_building_days')),
    sa.ForeignKeyConstraint(['community_code'], ['community.code'], name=op.f('fk_route_station_community_code_community')),
    sa.PrimaryKeyConstraint('community_code', name=op.f('pk_route_station'))
    )
    op.create_geospatial_table('route_visit',
    sa.Column('id', sa.BigInteger(), sa.Identity(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('stop', sa.String(length=40), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('position', Geometry(geometry_type='POINT', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('visited_by', sa.String(length=200), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('accuracy_m is null or accuracy_m >= 0', name=op.f('ck_route_visit_accuracy_m')),
    sa.ForeignKeyConstraint(['grid_id'], ['grid.id'], name=op.f('fk_route_visit_grid_id_grid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_route_visit')),
    sa.UniqueConstraint('client_id', name=op.f('uq_route_visit_client_id'))
    )
    op.create_index(op.f('ix_route_visit_grid_id'), 'route_visit', ['grid_id'], unique=False)
    op.create_index('ix_route_visit_stop_done_at', 'route_visit', ['stop', 'done_at'], unique=False)
    op.create_table('route_plan',
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('days', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('planned_by', sa.String(length=200), nullable=False),
    sa.Column('planned_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grid.id'], name=op.f('fk_route_plan_grid_id_grid')),
    sa.PrimaryKeyConstraint('grid_id', name=op.f('pk_route_plan'))
    )


def downgrade() -> None:
    op.drop_table('route_plan')
    op.drop_index('ix_route_visit_stop_done_at', table_name='route_visit')
    op.drop_index(op.f('ix_route_visit_grid_id'), table_name='route_visit')
    op.drop_geospatial_table('route_visit')
    op.drop_geospatial_table('route_station')
