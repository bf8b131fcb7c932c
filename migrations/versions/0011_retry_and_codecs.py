"""a failed video may be converted again when its failure was not the file's (its turn counted from then); the source's codecs

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('videos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retryable', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('requeued_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('video_codec', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('audio_codec', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('videos', schema=None) as batch_op:
        batch_op.drop_column('audio_codec')
        batch_op.drop_column('video_codec')
        batch_op.drop_column('requeued_at')
        batch_op.drop_column('retryable')
