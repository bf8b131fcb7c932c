"""captions: a video's timed-text tracks, from its upload or added by its owner

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'captions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('video_id', sa.String(length=32), nullable=False),
        sa.Column('source', sa.String(length=8), nullable=False),
        sa.Column('language', sa.String(length=35), nullable=False),
        sa.Column('label', sa.String(length=100), nullable=False),
        sa.Column('track', sa.Integer(), nullable=True),
        sa.Column('default', sa.Boolean(), nullable=False),
        sa.Column('forced', sa.Boolean(), nullable=False),
        sa.Column('cues', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['video_id'], ['videos.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('captions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_captions_video_id'), ['video_id'], unique=False)


def downgrade():
    with op.batch_alter_table('captions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_captions_video_id'))
    op.drop_table('captions')
