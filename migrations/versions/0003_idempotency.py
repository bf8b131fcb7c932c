"""videos.idempotency_key: a client's retry of an upload returns the same video

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('videos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=128), nullable=True))
        batch_op.create_unique_constraint('uq_videos_user_id_idempotency_key', ['user_id', 'idempotency_key'])


def downgrade():
    with op.batch_alter_table('videos', schema=None) as batch_op:
        batch_op.drop_constraint('uq_videos_user_id_idempotency_key', type_='unique')
        batch_op.drop_column('idempotency_key')
