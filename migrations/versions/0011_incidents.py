"""incidents: event classes, departments, the dispatch matrix, incidents, their steps and attachments; dispatcher and handler roles, handlers' departments

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 20:46:50

The event taxonomy and the departments are data (data/taxonomy/, loaded by
`gridmap taxonomy load` and by the demo), not rows written here.
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_OLD_ROLES = ('grid_worker', 'community_admin', 'planner', 'administrator')
_NEW_ROLES = ('grid_worker', 'community_admin', 'planner', 'dispatcher', 'handler',
              'administrator')


def _roles(roles: tuple[str, ...]) -> None:
    """The person table's role constraint admitting ``roles``."""
    op.drop_constraint(op.f('ck_person_role'), 'person', type_='check')
    op.create_check_constraint(op.f('ck_person_role'), 'person', f"role in {roles!r}")


def upgrade() -> None:
    op.create_table('department',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_department'))
    )
    op.create_table('event_class',
    sa.Column('code', sa.String(length=4), nullable=False),
    sa.Column('major_zh', sa.String(length=50), nullable=False),
    sa.Column('major_en', sa.String(length=100), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('time_limit_hours', sa.Float(), nullable=False),
    sa.Column('department_code', sa.String(length=32), nullable=False),
    sa.CheckConstraint("code ~ '^[0-9]{4}$'", name=op.f('ck_event_class_code')),
    sa.CheckConstraint('time_limit_hours > 0', name=op.f('ck_event_class_time_limit')),
    sa.ForeignKeyConstraint(['department_code'], ['department.code'], name=op.f('fk_event_class_department_code_department')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_event_class'))
    )
    op.create_table('dispatch_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('class_pattern', sa.String(length=4), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=False),
    sa.Column('department_code', sa.String(length=32), nullable=False),
    sa.CheckConstraint("area_code ~ '^([*]|[0-9]{6}|[0-9]{9}|[0-9]{12})$'", name=op.f('ck_dispatch_rule_area_code')),
    sa.CheckConstraint("class_pattern ~ '^([*]|[0-9]{2}|[0-9]{4})$'", name=op.f('ck_dispatch_rule_class_pattern')),
    sa.ForeignKeyConstraint(['department_code'], ['department.code'], name=op.f('fk_dispatch_rule_department_code_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_rule')),
    sa.UniqueConstraint('class_pattern', 'area_code', name='dispatch_rule_key')
    )
    op.create_geospatial_table('incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('class_code', sa.String(length=4), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('district_code', sa.String(length=6), nullable=True),
    sa.Column('reported_grid_id', sa.Integer(), nullable=True),
    sa.Column('department_code', sa.String(length=32), nullable=True),
    sa.Column('reported_by', sa.String(length=200), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('time_left', sa.Interval(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("stage in ('reported', 'registered', 'dispatched', 'handled', 'verified', 'closed', 'rejected', 'deferred')", name=op.f('ck_incident_stage')),
    sa.CheckConstraint('length(description) between 1 and 2000', name=op.f('ck_incident_description')),
    sa.ForeignKeyConstraint(['class_code'], ['event_class.code'], name=op.f('fk_incident_class_code_event_class')),
    sa.ForeignKeyConstraint(['department_code'], ['department.code'], name=op.f('fk_incident_department_code_department')),
    sa.ForeignKeyConstraint(['district_code'], ['district.code'], name=op.f('fk_incident_district_code_district')),
    sa.ForeignKeyConstraint(['reported_grid_id'], ['grid.id'], name=op.f('fk_incident_reported_grid_id_grid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident'))
    )
    op.create_geospatial_index('idx_incident_location', 'incident', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_incident_class_code'), 'incident', ['class_code'], unique=False)
    op.create_index(op.f('ix_incident_deadline'), 'incident', ['deadline'], unique=False)
    op.create_index(op.f('ix_incident_district_code'), 'incident', ['district_code'], unique=False)
    op.create_index(op.f('ix_incident_reported_grid_id'), 'incident', ['reported_grid_id'], unique=False)
    op.create_index(op.f('ix_incident_stage'), 'incident', ['stage'], unique=False)
    op.create_table('incident_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('from_stage', sa.String(length=16), nullable=True),
    sa.Column('to_stage', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.CheckConstraint("action in ('report', 'register', 'reject', 'dispatch', 'defer', 'handle', 'resume', 'verify', 'send_back', 'close')", name=op.f('ck_incident_step_action')),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_step_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_step'))
    )
    op.create_index(op.f('ix_incident_step_incident_id'), 'incident_step', ['incident_id'], unique=False)
    op.create_table('incident_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('media_type', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('uploaded_by', sa.String(length=200), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f('ck_incident_attachment_sha256')),
    sa.CheckConstraint('size > 0', name=op.f('ck_incident_attachment_size')),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_attachment_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_attachment'))
    )
    op.create_index(op.f('ix_incident_attachment_incident_id'), 'incident_attachment', ['incident_id'], unique=False)
    _roles(_NEW_ROLES)
    op.add_column('person', sa.Column('department_code', sa.String(length=32), nullable=True))
    op.create_foreign_key(op.f('fk_person_department_code_department'), 'person', 'department',
                          ['department_code'], ['code'])
    op.create_check_constraint(op.f('ck_person_department_role'), 'person',
                               "department_code is null or role = 'handler'")


def downgrade() -> None:
    # People of the two new roles cannot stay: the old constraint does not admit them.
    op.drop_constraint(op.f('ck_person_department_role'), 'person', type_='check')
    op.drop_constraint(op.f('fk_person_department_code_department'), 'person',
                       type_='foreignkey')
    op.drop_column('person', 'department_code')
    op.execute("delete from person where role in ('dispatcher', 'handler')")
    _roles(_OLD_ROLES)
    op.drop_index(op.f('ix_incident_attachment_incident_id'), table_name='incident_attachment')
    op.drop_table('incident_attachment')
    op.drop_index(op.f('ix_incident_step_incident_id'), table_name='incident_step')
    op.drop_table('incident_step')
    op.drop_index(op.f('ix_incident_stage'), table_name='incident')
    op.drop_index(op.f('ix_incident_reported_grid_id'), table_name='incident')
    op.drop_index(op.f('ix_incident_district_code'), table_name='incident')
    op.drop_index(op.f('ix_incident_deadline'), table_name='incident')
    op.drop_index(op.f('ix_incident_class_code'), table_name='incident')
    op.drop_geospatial_index('idx_incident_location', table_name='incident', postgresql_using='gist', column_name='location')
    op.drop_geospatial_table('incident')
    op.drop_table('dispatch_rule')
    op.drop_table('event_class')
    op.drop_table('department')
