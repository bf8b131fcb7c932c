"""content check: the blocklist of perceptual hashes, and why videos were rejected

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('blocklist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('source', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('blocklist_hashes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['blocklist_entries.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('entry_id', 'hash')
    )
    with op.batch_alter_table('blocklist_hashes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blocklist_hashes_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_blocklist_hashes_hash'), ['hash'], unique=False)

    op.create_table('content_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('video_id', sa.String(length=32), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.Column('frame_hash', sa.String(length=64), nullable=False),
    sa.Column('distance', sa.Integer(), nullable=False),
    sa.Column('at_seconds', sa.Double(), nullable=False),
    sa.Column('mirrored', sa.Boolean(), nullable=False),
    sa.Column('matched_at', sa.DateTime(), nullable=False),
    sa.Column('released_at', sa.DateTime(), nullable=True),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['video_id'], ['videos.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['blocklist_entries.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['released_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('content_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_content_matches_video_id'), ['video_id'], unique=False)


def downgrade():
    with op.batch_alter_table('content_matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_content_matches_video_id'))
    op.drop_table('content_matches')
    with op.batch_alter_table('blocklist_hashes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blocklist_hashes_hash'))
        batch_op.drop_index(batch_op.f('ix_blocklist_hashes_entry_id'))
    op.drop_table('blocklist_hashes')
    op.drop_table('blocklist_entries')
