"""web sessions kept in the database: signing out ends a session everywhere

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 08:40:00

A signed cookie alone cannot be revoked: a copy taken before sign-out would stay valid. Each
sign-in now creates a row here (the cookie carries a random token, the row its SHA-256); the row
is checked on every request, deleted at sign-out, and has an absolute end.
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_session',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_web_session_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_web_session'))
    )
    op.create_index(op.f('ix_web_session_person_id'), 'web_session', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_web_session_person_id'), table_name='web_session')
    op.drop_table('web_session')
