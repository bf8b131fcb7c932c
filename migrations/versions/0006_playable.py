"""a video is playable (its HLS stream published) before it is ready

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 13:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('videos', schema=None) as batch_op:
        # videos converted before streaming have MP4 downloads only: not playable as a stream
        batch_op.add_column(sa.Column('playable', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('videos', schema=None) as batch_op:
        batch_op.drop_column('playable')
