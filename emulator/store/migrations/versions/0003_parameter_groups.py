"""DB parameter groups and their values; each instance records the parameters its server runs with (and
ParameterApplyStatus is worked out from them instead of being kept), and the hour its logs cover."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "parameter_groups",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("family", sa.String, nullable=False),
        sa.Column("description", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "group_parameters",
        sa.Column("group_name", sa.String, primary_key=True),
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("value", sa.String, nullable=False),
        sa.Column("method", sa.String, nullable=False),
    )
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("server_parameters", sa.JSON, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("server_parameter_group", sa.String))
        batch.add_column(sa.Column("parameter_failures", sa.JSON, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("logs_rotated_at", sa.DateTime))
        batch.drop_column("parameter_apply_status")
    # Until now only default groups existed, and a server that ran had its group's (default) values.
    op.execute("UPDATE instances SET server_parameter_group = parameter_group WHERE observed <> 'none'")
