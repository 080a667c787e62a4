"""walking network: walk_node / walk_edge per district, and one walk_network row describing
each district's graph (what it was built from, a digest of that input, its size)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 01:40:00

A district's rows are replaced in one transaction by `gridmap network import`; lengths are
metres in the district's Gauss–Krüger zone, geometries in EPSG:4490 like every stored layer.
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute('create sequence walk_id_seq')  # ids of walk_node and walk_edge, never reused
    op.create_table('walk_network',
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('built_from', sa.String(length=300), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('nodes', sa.Integer(), nullable=False),
    sa.Column('edges', sa.Integer(), nullable=False),
    sa.Column('components', sa.Integer(), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_walk_network_district_code_district')),
    sa.PrimaryKeyConstraint('district_code', name=op.f('pk_walk_network'))
    )
    op.create_geospatial_table('walk_node',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_walk_node_district_code_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_walk_node'))
    )
    op.create_index(op.f('ix_walk_node_district_code'), 'walk_node', ['district_code'], unique=False)
    op.create_geospatial_index('idx_walk_node_geom', 'walk_node', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('walk_edge',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('district_code', sa.String(length=6), nullable=False),
    sa.Column('source', sa.BigInteger(), nullable=False),
    sa.Column('target', sa.BigInteger(), nullable=False),
    sa.Column('length_m', sa.Float(), nullable=False),
    sa.Column('level', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('road_id', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='LINESTRING', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint('length_m >= 0', name=op.f('ck_walk_edge_length_not_negative')),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_walk_edge_district_code_district')),
    sa.ForeignKeyConstraint(['source'], ['walk_node.id'], name=op.f('fk_walk_edge_source_walk_node'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target'], ['walk_node.id'], name=op.f('fk_walk_edge_target_walk_node'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_walk_edge'))
    )
    op.create_index(op.f('ix_walk_edge_district_code'), 'walk_edge', ['district_code'], unique=False)
    op.create_index(op.f('ix_walk_edge_source'), 'walk_edge', ['source'], unique=False)
    op.create_index(op.f('ix_walk_edge_target'), 'walk_edge', ['target'], unique=False)
    op.create_geospatial_index('idx_walk_edge_geom', 'walk_edge', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})


def downgrade() -> None:
    op.drop_geospatial_index('idx_walk_edge_geom', table_name='walk_edge', postgresql_using='gist', column_name='geom')
    op.drop_index(op.f('ix_walk_edge_target'), table_name='walk_edge')
    op.drop_index(op.f('ix_walk_edge_source'), table_name='walk_edge')
    op.drop_index(op.f('ix_walk_edge_district_code'), table_name='walk_edge')
    op.drop_geospatial_table('walk_edge')
    op.drop_geospatial_index('idx_walk_node_geom', table_name='walk_node', postgresql_using='gist', column_name='geom')
    op.drop_index(op.f('ix_walk_node_district_code'), table_name='walk_node')
    op.drop_geospatial_table('walk_node')
    op.drop_table('walk_network')
    op.execute('drop sequence walk_id_seq')
