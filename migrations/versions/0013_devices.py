"""devices: the registry, telemetry (stored once per message id), rejected-message counters,
alarm episodes (one open per device and alarm type); incident steps may be notes

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 23:10:00

Device types and the alarm → event class mapping are data (data/taxonomy/device_types.csv,
device_alarms.csv), read by gridmap.devices, not rows written here.
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_OLD_ACTIONS = ('report', 'register', 'reject', 'dispatch', 'defer', 'handle', 'resume',
                'verify', 'send_back', 'close')
_NEW_ACTIONS = ('report', 'note', 'register', 'reject', 'dispatch', 'defer', 'handle',
                'resume', 'verify', 'send_back', 'close')


def _step_actions(actions: tuple[str, ...]) -> None:
    op.drop_constraint(op.f('ck_incident_step_action'), 'incident_step', type_='check')
    op.create_check_constraint(op.f('ck_incident_step_action'), 'incident_step',
                               f"action in {actions!r}")


def upgrade() -> None:
    op.create_geospatial_table('device',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('moving', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='active', nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_state', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('battery', sa.Float(), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("id ~ '^[A-Za-z0-9._-]{1,64}$'", name=op.f('ck_device_id')),
    sa.CheckConstraint("status in ('active', 'retired')", name=op.f('ck_device_status')),
    sa.CheckConstraint('moving or location is not null', name=op.f('ck_device_fixed_location')),
    sa.ForeignKeyConstraint(['grid_id'], ['grid.id'], name=op.f('fk_device_grid_id_grid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device'))
    )
    op.create_geospatial_index('idx_device_location', 'device', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_device_grid_id'), 'device', ['grid_id'], unique=False)
    op.create_index(op.f('ix_device_type'), 'device', ['type'], unique=False)
    op.create_geospatial_table('device_telemetry',
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('event_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stored_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('readings', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('alarms', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_device_telemetry_device_id_device'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', 'message_id', name=op.f('pk_device_telemetry'))
    )
    op.create_table('device_rejected',
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('reason', name=op.f('pk_device_rejected'))
    )
    op.create_table('device_alarm',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('alarm_type', sa.String(length=32), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_device_alarm_device_id_device'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_device_alarm_incident_id_incident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_alarm'))
    )
    op.create_index('device_alarm_open', 'device_alarm', ['device_id', 'alarm_type'], unique=True, postgresql_where=sa.text('ended_at is null'))
    op.create_index(op.f('ix_device_alarm_device_id'), 'device_alarm', ['device_id'], unique=False)
    op.create_index(op.f('ix_device_alarm_incident_id'), 'device_alarm', ['incident_id'], unique=False)
    _step_actions(_NEW_ACTIONS)


def downgrade() -> None:
    op.execute("delete from incident_step where action = 'note'")
    _step_actions(_OLD_ACTIONS)
    op.drop_index(op.f('ix_device_alarm_incident_id'), table_name='device_alarm')
    op.drop_index(op.f('ix_device_alarm_device_id'), table_name='device_alarm')
    op.drop_index('device_alarm_open', table_name='device_alarm', postgresql_where=sa.text('ended_at is null'))
    op.drop_table('device_alarm')
    op.drop_table('device_rejected')
    op.drop_geospatial_table('device_telemetry')
    op.drop_index(op.f('ix_device_type'), table_name='device')
    op.drop_index(op.f('ix_device_grid_id'), table_name='device')
    op.drop_geospatial_index('idx_device_location', table_name='device', postgresql_using='gist', column_name='location')
    op.drop_geospatial_table('device')
