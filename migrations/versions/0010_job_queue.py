"""job queue: procrastinate's tables and functions, and the progress of gridmap's jobs

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 09:05:00

procrastinate's schema is the one of the procrastinate installed (pinned in setup.cfg): a new
procrastinate version that changes its schema needs a migration applying its delta files.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_PROCRASTINATE_TABLES = ("procrastinate_events", "procrastinate_periodic_defers",
                         "procrastinate_jobs", "procrastinate_workers",
                         "procrastinate_version")


def upgrade() -> None:
    from procrastinate.schema import SchemaManager

    # Straight to the driver without parameters: the schema's own '%' are not placeholders.
    with op.get_bind().connection.dbapi_connection.cursor() as cursor:
        cursor.execute(SchemaManager.get_schema())
    op.create_table('job_progress',
    sa.Column('job_id', sa.BigInteger(), nullable=False),
    sa.Column('task', sa.String(length=100), nullable=False),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('arguments', postgresql.JSONB(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('stage', sa.Text(), nullable=True),
    sa.Column('done', sa.Integer(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('result', postgresql.JSONB(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status in ('queued', 'running', 'succeeded', 'failed')", name=op.f('ck_job_progress_status')),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_job_progress'))
    )


def downgrade() -> None:
    op.drop_table('job_progress')
    cursor = op.get_bind().connection.dbapi_connection.cursor()
    for table in _PROCRASTINATE_TABLES:
        cursor.execute(f"drop table if exists {table} cascade")
    # procrastinate's functions and types, by their prefix ('%' is no placeholder here)
    cursor.execute("""
        do $$ declare r record; begin
            for r in select p.oid::regprocedure as f from pg_proc p
                     join pg_namespace n on n.oid = p.pronamespace
                     where n.nspname = 'public' and p.proname like 'procrastinate%' loop
                execute 'drop function if exists ' || r.f || ' cascade';
            end loop;
            for r in select t.typname from pg_type t join pg_namespace n on n.oid = t.typnamespace
                     where n.nspname = 'public' and t.typname like 'procrastinate%'
                     and t.typtype in ('e', 'c') loop
                execute 'drop type if exists ' || quote_ident(r.typname) || ' cascade';
            end loop;
        end $$""")
