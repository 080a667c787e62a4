"""code registry: one code per community and sequence number

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 05:35:00
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_unique_constraint('code_registry_sequence_key', 'code_registry',
                                ['community_code', 'sequence'])


def downgrade() -> None:
    op.drop_constraint('code_registry_sequence_key', 'code_registry', type_='unique')
