"""web sessions: the shared signing key, and a person's language

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 08:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Generated once by the first server process that needs it and read by every other, so
    # sessions signed by one gunicorn worker (or host) verify in all of them.
    op.create_table('server_secret',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=256), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_server_secret'))
    )
    op.add_column('person', sa.Column('locale', sa.String(length=16), nullable=True))
    # A visitor who has not signed in yet (a refused login) is an actor too.
    op.execute("alter table audit_event drop constraint ck_audit_event_actor_kind")
    op.execute("alter table audit_event add constraint ck_audit_event_actor_kind check "
               "(actor_kind in ('person', 'api_key', 'cli', 'system', 'anonymous'))")


def downgrade() -> None:
    # Rows by anonymous visitors stay (the trail is append-only): the old rule is not restored
    # over them, it is restored with NOT VALID so that only new rows are checked.
    op.execute("alter table audit_event drop constraint ck_audit_event_actor_kind")
    op.execute("alter table audit_event add constraint ck_audit_event_actor_kind check "
               "(actor_kind in ('person', 'api_key', 'cli', 'system')) not valid")
    op.drop_column('person', 'locale')
    op.drop_table('server_secret')
