"""hardening: sign_in_throttle (wrong-password limits shared by every replica) and sign_in_ticket
(one-time proofs exchanged for the login cookie)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 15:20:00

Written by hand in the style of 0001 (plain SQL types, named constraints). Share links need no
change: a link row already holds exactly one token digest, and regenerating now replaces it.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('sign_in_throttle',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('window_started_at', UTC_DATETIME, nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lockouts', sa.Integer(), nullable=False),
    sa.Column('locked_until', UTC_DATETIME, nullable=True),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sign_in_throttle'))
    )
    op.create_table('sign_in_ticket',
    sa.Column('ticket_sha256', sa.String(length=64), nullable=False),
    sa.Column('expires_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('ticket_sha256', name=op.f('pk_sign_in_ticket'))
    )
    with op.batch_alter_table('sign_in_ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_ticket_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sign_in_ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_ticket_expires_at'))

    op.drop_table('sign_in_ticket')
    op.drop_table('sign_in_throttle')
