"""the currency an editor set for a stored source

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 10:00:00

Adds `data_source.declared_currency` (an ISO code, null when the editor set none): the currency of a
source's money when its files do not say it, applied to its rows when they are loaded, so a newer export
of the source keeps it. A new nullable column: nothing that exists is changed.

The table agrees with models/tables.py (tests/db/test_migrations.py compares them on SQLite and
PostgreSQL).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('data_source', schema=None) as batch_op:
        batch_op.add_column(sa.Column('declared_currency', sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('data_source', schema=None) as batch_op:
        batch_op.drop_column('declared_currency')
