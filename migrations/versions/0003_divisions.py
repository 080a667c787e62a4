"""division: the official divisions (NBS statistical division codes) and their names

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 06:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('division',
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('parent_code', sa.String(length=12), nullable=True),
    sa.CheckConstraint("(level = 'province') = (parent_code is null)", name=op.f('ck_division_parent')),
    sa.CheckConstraint("code ~ '^[0-9]+$' and length(code) = case level when 'province' then 2 when 'city' then 4 when 'district' then 6 when 'street' then 9 when 'community' then 12 end", name=op.f('ck_division_code_form')),
    sa.CheckConstraint("level in ('province', 'city', 'district', 'street', 'community')", name=op.f('ck_division_level')),
    sa.ForeignKeyConstraint(['parent_code'], ['division.code'], name=op.f('fk_division_parent_code_division')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_division'))
    )
    op.create_index(op.f('ix_division_parent_code'), 'division', ['parent_code'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_division_parent_code'), table_name='division')
    op.drop_table('division')
