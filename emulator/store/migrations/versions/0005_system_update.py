"""Each pending maintenance action has its own opt-in (ApplyPendingMaintenanceAction's choice), now that a
guest can wait for a `system-update` beside a `db-upgrade`: one column each, so that opting in to one never
rewrites the other. And, for a deleted instance's retained automated backups, the retention period they
expire by and the time they restore up to."""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.alter_column("maintenance_opt_in", new_column_name="upgrade_opt_in", existing_type=sa.String)
        batch.add_column(sa.Column("system_update_opt_in", sa.String))
    with op.batch_alter_table("snapshots") as batch:
        batch.add_column(sa.Column("retention", sa.Integer))
        batch.add_column(sa.Column("retained_until", sa.DateTime))

