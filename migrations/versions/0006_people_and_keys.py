"""people, their scopes, and API keys

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 06:45:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('disabled', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role in ('grid_worker', 'community_admin', 'planner', 'administrator')", name=op.f('ck_person_role')),
    sa.CheckConstraint('failed_attempts >= 0', name=op.f('ck_person_failed_attempts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('login', name=op.f('uq_person_login'))
    )
    op.create_table('person_scope',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.CheckConstraint("level in ('district', 'street', 'community', 'grid')", name=op.f('ck_person_scope_level')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_scope_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_scope')),
    sa.UniqueConstraint('person_id', 'level', 'code', name='person_level_code')
    )
    op.create_index(op.f('ix_person_scope_person_id'), 'person_scope', ['person_id'], unique=False)
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency', sa.String(length=200), nullable=False),
    sa.Column('collections', postgresql.ARRAY(sa.Text()), nullable=True),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('collections is null or cardinality(collections) > 0', name=op.f('ck_api_key_collections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_key_key_hash'))
    )


def downgrade() -> None:
    op.drop_table('api_key')
    op.drop_index(op.f('ix_person_scope_person_id'), table_name='person_scope')
    op.drop_table('person_scope')
    op.drop_table('person')
