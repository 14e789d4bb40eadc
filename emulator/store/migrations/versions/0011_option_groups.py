"""Option groups: the groups users made (a default one per engine and major version is implicit), the group
each instance and snapshot names (none: its engine's default), and the options an instance's server was last
configured with, against which its membership is in-sync or pending-apply."""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.create_table(
        "option_groups",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("engine", sa.String, nullable=False),
        sa.Column("major", sa.String, nullable=False),
        sa.Column("description", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("options", sa.JSON, nullable=False, server_default="{}"),
        sa.Column("source", sa.String),
    )
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("option_group", sa.String, index=True))
        batch.add_column(sa.Column("server_options", sa.JSON, nullable=False, server_default="{}"))
    with op.batch_alter_table("snapshots") as batch:
        batch.add_column(sa.Column("option_group", sa.String))


def downgrade() -> None:
    with op.batch_alter_table("snapshots") as batch:
        batch.drop_column("option_group")
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("server_options")
        batch.drop_column("option_group")
    op.drop_table("option_groups")
