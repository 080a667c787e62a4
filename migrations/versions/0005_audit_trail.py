"""audit trail: one append-only row per write

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 06:40:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# A trigger, not a grant: grants do not bind the table's owner or a superuser, a trigger does
# (short of dropping it, which is itself a schema change a migration would show).
_APPEND_ONLY = """
create function audit_event_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_event is append-only: % is refused', tg_op
        using errcode = 'insufficient_privilege';
end $$;
create trigger audit_event_no_update_or_delete before update or delete on audit_event
    for each row execute function audit_event_append_only();
create trigger audit_event_no_truncate before truncate on audit_event
    for each statement execute function audit_event_append_only();
"""


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('address', postgresql.INET(), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('table_name', sa.String(length=64), nullable=False),
    sa.Column('row_key', sa.String(length=200), nullable=True),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.CheckConstraint("actor_kind in ('person', 'api_key', 'cli', 'system')", name=op.f('ck_audit_event_actor_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    op.create_index(op.f('ix_audit_event_actor'), 'audit_event', ['actor'], unique=False)
    op.create_index(op.f('ix_audit_event_at'), 'audit_event', ['at'], unique=False)
    op.create_index(op.f('ix_audit_event_table_name'), 'audit_event', ['table_name'], unique=False)
    op.execute(_APPEND_ONLY)


def downgrade() -> None:
    op.execute("drop trigger audit_event_no_truncate on audit_event")
    op.execute("drop trigger audit_event_no_update_or_delete on audit_event")
    op.execute("drop function audit_event_append_only()")
    op.drop_index(op.f('ix_audit_event_table_name'), table_name='audit_event')
    op.drop_index(op.f('ix_audit_event_at'), table_name='audit_event')
    op.drop_index(op.f('ix_audit_event_actor'), table_name='audit_event')
    op.drop_table('audit_event')
