"""Storage autoscaling: the most an instance's storage may grow to (MaxAllocatedStorage; none: it does not)."""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("max_allocated_storage", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("max_allocated_storage")
